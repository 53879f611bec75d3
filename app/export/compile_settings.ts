// A model's compile() settings as the exported training scripts take them: Keras's optimizer
// config, one loss entry per output, the batch size and epochs. A model without compile()
// gets what `strata train` picks for it: Adam and the loss its output implies.
import type { KerasMetric, Model } from '../model/index.ts';
import { serializeMetric } from '../model/metrics.ts';
import { resolveCompile } from '../model/training.ts';
import { impliedLoss } from '../cli/commands/train.ts';

export interface LossSpec {
  output: string;
  /** Keras's loss name, e.g. "sparse_categorical_crossentropy". */
  loss: string;
  from_logits: boolean;
  weight: number;
  /** The output's metrics as compile() was given them ('accuracy', 'mae', {class_name: 'RootMeanSquaredError', ...}). */
  metrics: KerasMetric[];
  /** What the PyTorch script computes and prints for them: each metric's kind ("mean_absolute_error") and its log name ("mae"). */
  logged: { kind: string; name: string }[];
}

export interface CompileSettings {
  /** Keras's optimizer config: {class_name, config} (learning_rate a number or a schedule's config). */
  optimizer: { class_name: string; config: Record<string, unknown> };
  losses: LossSpec[];
  /** The metrics as a training_config writes them: a list (one output) or a map by output name. */
  metrics: KerasMetric[] | Record<string, KerasMetric[]>;
  batchSize: number;
  epochs: number;
  /** True when the model had no compile() and these are `strata train`'s defaults. */
  assumed: boolean;
}

export interface FitSettings {
  batchSize?: number;
  epochs?: number;
}

export function compileSettings(model: Model, fit: FitSettings = {}): CompileSettings {
  const compiled = model.compiled ?? resolveCompile(model, { optimizer: 'adam', loss: impliedLoss(model), metrics: ['accuracy'] });
  return {
    optimizer: { class_name: compiled.optimizer.className, config: compiled.optimizer.getConfig() },
    losses: compiled.losses.map((loss) => ({ output: loss.output, loss: loss.kind, from_logits: loss.fromLogits, weight: loss.weight, metrics: loss.metrics.map(serializeMetric), logged: loss.metrics.map(({ kind, name }) => ({ kind, name })) })),
    metrics: compiled.metrics,
    batchSize: fit.batchSize ?? 32,
    epochs: fit.epochs ?? 1,
    assumed: !model.compiled,
  };
}
