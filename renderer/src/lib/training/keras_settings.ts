// What the Train view's form offers, from the model API itself (pure TypeScript, the same code
// the engine process runs): Keras's optimizers with their default arguments, its learning-rate
// schedules, its losses, and a check of an optimizer config that gives the engine's own error.
import { losses, metrics, optimizers } from '../../../../app/model/index.ts';
import type { CompileSettings, FitSettings, MetricSetting } from '../../../../app/contract/training.ts';

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

/** An output's loss, metrics and name as the settings give them (one output: the run's own). */
function outputsOf(compile: CompileSettings): { output: string; loss: string; metrics: MetricSetting[] }[] {
  if (!compile.outputs) return [{ output: 'output', loss: compile.loss, metrics: compile.metrics }];
  return compile.outputs.map((o) => ({ output: o.output, loss: o.loss, metrics: o.metrics ?? compile.metrics }));
}

/** The name a metric logs under on an output with this loss (Keras's), or null where it logs nothing or does not fit. */
function metricLogName(metric: MetricSetting, output: string, loss: string): string | null {
  try {
    return metrics.resolveMetric(metric, output, losses.getLoss(loss).kind)?.name ?? null;
  } catch {
    return null;
  }
}

/**
 * The names a run logs with these settings, for callbacks' monitors: Keras's loss, each output's
 * metrics and their val_ twins; for several outputs each output's loss and metrics, by its name.
 */
export function loggedNames(compile: CompileSettings, fit: FitSettings): string[] {
  const outputs = outputsOf(compile);
  const several = outputs.length > 1;
  const names = ['loss'];
  for (const { output, loss, metrics: chosen } of outputs) {
    if (several) names.push(`${output}_loss`);
    for (const metric of chosen) {
      const name = metricLogName(metric, output, loss);
      if (name !== null) names.push(several ? `${output}_${name}` : name);
    }
  }
  return fit.validation.kind === 'none' ? names : [...names, ...names.map((name) => `val_${name}`)];
}

/** Keras's RootMeanSquaredError as a training_config spells it (Keras has no string for it). */
const RMSE: MetricSetting = { class_name: 'RootMeanSquaredError', config: { name: 'root_mean_squared_error' } };

/** The metrics the form offers: accuracy for a classifier's loss, the errors for any loss whose target is shaped as the output. */
export function metricChoices(loss: string): { label: string; metric: MetricSetting }[] {
  const all = [
    { label: 'accuracy', metric: 'accuracy' },
    { label: 'mae', metric: 'mae' },
    { label: 'mse', metric: 'mse' },
    { label: 'rmse', metric: RMSE },
  ];
  return all.filter(({ metric }) => metricLogName(metric, 'output', loss) !== null);
}

/** Whether two metric settings are the same metric ('mae', or the same class and name). */
export function sameMetric(a: MetricSetting, b: MetricSetting): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

/**
 * The metrics to keep when an output's loss changes: those that still fit it (a classifier's
 * accuracy logs nothing under mse, mae cannot read class ids), else the loss's default
 * (accuracy for a classifier, mae for regression).
 */
export function metricsForLoss(chosen: readonly MetricSetting[], loss: string): MetricSetting[] {
  const kept = chosen.filter((metric) => metricLogName(metric, 'output', loss) !== null);
  return kept.length > 0 ? kept : [metrics.defaultMetricFor(losses.getLoss(loss).kind)];
}

/** The chosen metrics with `metric` ticked on or off, in the order the form offers them. */
export function toggleMetric(chosen: readonly MetricSetting[], metric: MetricSetting, on: boolean, loss: string): MetricSetting[] {
  const rest = chosen.filter((m) => !sameMetric(m, metric));
  if (!on) return rest;
  const order = metricChoices(loss).map((c) => JSON.stringify(c.metric));
  return [...rest, metric].sort((a, b) => order.indexOf(JSON.stringify(a)) - order.indexOf(JSON.stringify(b)));
}
