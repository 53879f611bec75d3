// Runs side by side: each run's settings as rows of words (what the Runs view's comparison
// table shows), and which rows differ between the runs compared.
import type { MetricSetting, RunRecord, TrainingSettings } from '../../../../app/contract/training.ts';
import { describeLearningRate } from './keras_settings.ts';

/** One setting of a run, as a row: its name and its value in words. */
export type SettingRow = [name: string, value: string];

function dataWords(data: TrainingSettings['data']): string {
  if (data.kind === 'fashion-mnist') return 'Fashion-MNIST';
  if (data.kind === 'arrays') return `${data.x}, ${data.y}`;
  if (data.kind === 'model-file') return `the data of ${data.file}`;
  return data.labelColumn === undefined ? data.path : `${data.path} (label ${data.labelColumn})`;
}

function validationWords(validation: TrainingSettings['fit']['validation']): string {
  return validation.kind === 'split' ? `validation_split ${validation.fraction}` : validation.kind === 'test' ? 'the test split' : 'none';
}

/** A run's settings as rows, in the order of compile(), fit(), callbacks, the engine. */
export function settingRows(run: RunRecord): SettingRow[] {
  const { settings } = run;
  const optimizer = settings.compile.optimizer;
  const callbacks = settings.fit.callbacks;
  const rows: SettingRow[] = [
    ['model version', `${run.model.name} ${run.model.version}`],
    ['data', dataWords(settings.data)],
    ['optimizer', optimizer.class_name],
    ['learning_rate', describeLearningRate(optimizer.config)],
    ...Object.entries(optimizer.config)
      .filter(([key]) => key !== 'learning_rate')
      .map(([key, value]): SettingRow => [key, String(value)]),
    ['loss', lossWords(settings.compile)],
    ['metrics', metricWords(settings.compile)],
    ['epochs', String(settings.fit.epochs)],
    ['batch_size', String(settings.fit.batchSize)],
    ['shuffle', String(settings.fit.shuffle)],
    ['validation', validationWords(settings.fit.validation)],
    ['seed', String(settings.fit.seed ?? 'random')],
    ['EarlyStopping', callbacks.earlyStopping ? `${callbacks.earlyStopping.monitor}, patience ${callbacks.earlyStopping.patience}${callbacks.earlyStopping.restoreBestWeights ? ', restore best' : ''}` : 'off'],
    ['ModelCheckpoint', callbacks.modelCheckpoint ? `${callbacks.modelCheckpoint.monitor}${callbacks.modelCheckpoint.saveBestOnly ? ', best only' : ', every epoch'}` : 'off'],
    ['ReduceLROnPlateau', callbacks.reduceLrOnPlateau ? `${callbacks.reduceLrOnPlateau.monitor}, factor ${callbacks.reduceLrOnPlateau.factor}, patience ${callbacks.reduceLrOnPlateau.patience}` : 'off'],
    ['device', settings.device],
    ['threads', String(settings.threads)],
  ];
  return rows;
}

/** The rows of every run, aligned by name (a row one run lacks shows "–"), each marked when the runs differ on it. */
export function compareSettings(runs: RunRecord[]): { name: string; values: string[]; differs: boolean }[] {
  const perRun = runs.map((run) => new Map(settingRows(run)));
  const names = [...new Set(runs.flatMap((run) => settingRows(run).map(([name]) => name)))];
  return names.map((name) => {
    const values = perRun.map((rows) => rows.get(name) ?? '–');
    return { name, values, differs: new Set(values).size > 1 };
  });
}

/** The metrics by the names they log under, or each output's: "mae, root_mean_squared_error", "p: accuracy; q: mae". */
function metricWords(compile: TrainingSettings['compile']): string {
  const names = (metrics: MetricSetting[]) => metrics.map((m) => (typeof m === 'string' ? m : m.config.name)).join(', ') || 'none';
  if (!compile.outputs) return names(compile.metrics);
  return compile.outputs.map((o) => `${o.output}: ${names(o.metrics ?? compile.metrics)}`).join('; ');
}

/** The loss, or each output's with its weight: "p: binary_crossentropy, q: mean_squared_error × 0.5". */
function lossWords(compile: TrainingSettings['compile']): string {
  const one = (loss: string, fromLogits: boolean) => `${loss}${fromLogits ? ' (from_logits)' : ''}`;
  if (!compile.outputs) return one(compile.loss, compile.fromLogits);
  return compile.outputs.map((o) => `${o.output}: ${one(o.loss, o.fromLogits)}${o.weight === 1 ? '' : ` × ${o.weight}`}`).join(', ');
}
