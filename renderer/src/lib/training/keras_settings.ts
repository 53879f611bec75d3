// What the Train view's form offers, from the model API itself (pure TypeScript, the same code
// the engine process runs): Keras's optimizers with their default arguments, its learning-rate
// schedules, its losses, and a check of an optimizer config that gives the engine's own error.
import { optimizers } from '../../../../app/model/index.ts';
import type { CompileSettings, FitSettings } from '../../../../app/contract/training.ts';

export const OPTIMIZER_CLASSES = ['SGD', 'Adam', 'AdamW', 'RMSprop'] as const;

export const SCHEDULE_CLASSES = ['ExponentialDecay', 'InverseTimeDecay', 'PiecewiseConstantDecay', 'CosineDecay'] as const;

export const LOSSES = ['sparse_categorical_crossentropy', 'categorical_crossentropy', 'binary_crossentropy', 'mean_squared_error', 'mean_absolute_error'] as const;

/** Keras's arguments of an optimizer class, with its defaults (snake_case), learning_rate first. */
export function optimizerDefaults(className: string): Record<string, unknown> {
  return optimizers.getOptimizer(className.toLowerCase()).getConfig();
}

/** A schedule's Keras config, starting from the constant rate `rate`; serialized as Keras nests it in learning_rate. */
export function scheduleDefaults(className: string, rate: number): Record<string, unknown> {
  const s = optimizers.schedules;
  const schedule =
    className === 'PiecewiseConstantDecay'
      ? new s.PiecewiseConstantDecay({ boundaries: [1000], values: [rate, rate / 10] })
      : className === 'CosineDecay'
        ? new s.CosineDecay({ initialLearningRate: rate, decaySteps: 1000 })
        : className === 'InverseTimeDecay'
          ? new s.InverseTimeDecay({ initialLearningRate: rate, decaySteps: 1000, decayRate: 0.5 })
          : new s.ExponentialDecay({ initialLearningRate: rate, decaySteps: 1000, decayRate: 0.9 });
  return s.serializeSchedule(schedule);
}

/** The optimizer config's error as the engine would report it, or null when it is valid. */
export function optimizerProblem(optimizer: CompileSettings['optimizer']): string | null {
  try {
    optimizers.optimizerFromConfig(optimizer.class_name, optimizer.config);
    return null;
  } catch (error) {
    return error instanceof Error ? error.message : String(error);
  }
}

/** The learning rate in words: "0.001", "ExponentialDecay from 0.01". */
export function describeLearningRate(config: Record<string, unknown>): string {
  const rate = config.learning_rate;
  if (typeof rate === 'number') return String(rate);
  const schedule = rate as { class_name?: string; config?: Record<string, unknown> } | undefined;
  const start = schedule?.config?.initial_learning_rate ?? (schedule?.config?.values as number[] | undefined)?.[0];
  return `${schedule?.class_name ?? '?'}${start !== undefined ? ` from ${String(start)}` : ''}`;
}

/**
 * The names a run logs with these settings, for callbacks' monitors: Keras's loss, accuracy and
 * their val_ twins; for several outputs also each output's loss and accuracy, by its name.
 */
export function loggedNames(compile: CompileSettings, fit: FitSettings): string[] {
  const outputs = compile.outputs ?? [{ output: '', loss: compile.loss }];
  const several = outputs.length > 1;
  const names = ['loss'];
  for (const { output, loss } of outputs) {
    if (several) names.push(`${output}_loss`);
    if (compile.metrics.length > 0 && loss.includes('crossentropy')) names.push(several ? `${output}_accuracy` : 'accuracy');
  }
  return fit.validation.kind === 'none' ? names : [...names, ...names.map((name) => `val_${name}`)];
}
