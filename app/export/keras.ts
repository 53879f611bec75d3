// `strata export --format keras`: a runnable tf.keras / Keras 3 script. model.py defines the
// model as the model was defined (a Sequential list or a Functional graph; a subclassed model
// as the Functional graph its call() traces to), each layer with its Keras config as keyword
// arguments, then compile() with the model's settings and fit() with an optional
// tf.distribute.MirroredStrategy; weights.npz holds the weights, set layer by layer.
import { InputLayer, Model, ValueError, losses, type Layer } from '../model/index.ts';
import { formatNpz } from '../data/npz.ts';
import { STRATA_VERSION } from '../version.ts';
import { compileSettings, type CompileSettings, type FitSettings } from './compile_settings.ts';
import { IdentifierPool, pyKeywords, pyLiteral, pythonSource } from './python.ts';
import type { ExportedFiles } from './pytorch.ts';

interface LayerEntry {
  class_name: string;
  config: Record<string, unknown>;
  name?: string;
  inbound_nodes?: [string, number, number, unknown][][];
}

/** Keys Keras fills in by itself, left out when they hold these values (or null, for every key). */
const DEFAULTS: Record<string, unknown> = { trainable: true, dtype: 'float32', data_format: 'channels_last', mask_zero: false };

/** Keras's string names for initializers without arguments. */
function initializerExpression(value: { class_name: string; config: Record<string, unknown> }): string {
  const config = Object.fromEntries(Object.entries(value.config).filter(([, v]) => v !== null));
  if (Object.keys(config).length === 0) return pyLiteral(value.class_name.replace(/(.)([A-Z][a-z]+)/g, '$1_$2').replace(/([a-z])([A-Z])/g, '$1_$2').toLowerCase());
  return `keras.initializers.${value.class_name}(${pyKeywords(Object.entries(config)).join(', ')})`;
}

const isInitializer = (key: string, value: unknown): value is { class_name: string; config: Record<string, unknown> } =>
  key.endsWith('_initializer') && typeof value === 'object' && value !== null && 'class_name' in value;

/** The keyword arguments of a layer's constructor: its config less what Keras fills in itself; the name last. */
function layerArguments(className: string, config: Record<string, unknown>): string {
  const args: string[] = [];
  for (const [key, value] of Object.entries(config)) {
    if (key === 'name' || key === 'batch_input_shape' || value === null || DEFAULTS[key] === value) continue;
    if (key === 'input_length' || (key === 'groups' && className === 'DepthwiseConv2D')) continue; // fixed by the input; not a Keras 3 argument
    args.push(isInitializer(key, value) ? `${key}=${initializerExpression(value)}` : `${key}=${pyLiteral(value, true)}`);
  }
  args.push(`name=${pyLiteral(config.name)}`);
  return args.join(', ');
}

function inputCall(config: Record<string, unknown>, named: boolean): string {
  const shape = config.batch_input_shape as (number | null)[];
  const keywords = pyKeywords([['shape', shape.slice(1)], ['batch_size', shape[0], null], ['dtype', config.dtype, 'float32'], ...(named ? ([['name', config.name]] as [string, unknown][]) : [])]);
  return `keras.Input(${keywords.join(', ')})`;
}

function sequentialBody(name: string, entries: LayerEntry[]): string[] {
  const [first, ...rest] = entries;
  if (first?.class_name !== 'InputLayer') throw new ValueError(`${name}: a Sequential model needs its input shape to be exported; give the first layer an inputShape`);
  return [
    '    return keras.Sequential([',
    `        ${inputCall(first.config, false)},`,
    ...rest.map((entry) => `        layers.${entry.class_name}(${layerArguments(entry.class_name, entry.config)}),`),
    `    ], name=${pyLiteral(name)})`,
  ];
}

function functionalBody(name: string, config: { layers: LayerEntry[]; input_layers: [string, number, number][]; output_layers: [string, number, number][] }): string[] {
  const variables = new IdentifierPool(['keras', 'layers', 'tf', 'np']);
  const outputOf = new Map<string, string>(); // "layer[node]" -> variable
  const lines: string[] = [];
  for (const entry of config.layers) {
    const layerName = entry.config.name as string;
    if (entry.class_name === 'InputLayer') {
      const variable = variables.take(layerName);
      outputOf.set(`${layerName}[0]`, variable);
      lines.push(`    ${variable} = ${inputCall(entry.config, true)}`);
      continue;
    }
    const constructor = `layers.${entry.class_name}(${layerArguments(entry.class_name, entry.config)})`;
    const nodes = entry.inbound_nodes ?? [];
    const shared = nodes.length > 1 ? variables.take(`${layerName}_layer`) : null;
    if (shared) lines.push(`    ${shared} = ${constructor}`);
    nodes.forEach((node, i) => {
      const inputs = node.map(([source, nodeIndex]) => outputOf.get(`${source}[${nodeIndex}]`)!);
      const variable = variables.take(layerName);
      outputOf.set(`${layerName}[${i}]`, variable);
      lines.push(`    ${variable} = ${shared ?? constructor}(${inputs.length === 1 ? inputs[0] : `[${inputs.join(', ')}]`})`);
    });
  }
  const refs = (list: [string, number, number][]) => list.map(([layer, node]) => outputOf.get(`${layer}[${node}]`)!);
  const list = (names: string[]) => (names.length === 1 ? names[0]! : `[${names.join(', ')}]`);
  lines.push(`    return keras.Model(inputs=${list(refs(config.input_layers))}, outputs=${list(refs(config.output_layers))}, name=${pyLiteral(name)})`);
  return lines;
}

function optimizerExpression({ class_name: className, config }: CompileSettings['optimizer']): string {
  const { learning_rate: rate, ...rest } = config;
  const schedule = rate as { class_name?: string; config?: Record<string, unknown> };
  const learningRate = typeof rate === 'number' ? pyLiteral(rate) : `keras.optimizers.schedules.${schedule.class_name}(${pyKeywords(Object.entries(schedule.config ?? {}).filter(([k]) => k !== 'name')).join(', ')})`;
  return `keras.optimizers.${className}(${[`learning_rate=${learningRate}`, ...pyKeywords(Object.entries(rest))].join(', ')})`;
}

function compileBody(settings: CompileSettings): string[] {
  const lossOf = (spec: CompileSettings['losses'][number]): string => {
    const loss = losses.serializeLoss({ kind: spec.loss as never, fromLogits: spec.from_logits });
    return typeof loss === 'string' ? pyLiteral(loss) : `keras.losses.${loss.class_name}(from_logits=True)`;
  };
  const several = settings.losses.length > 1;
  const lines = [
    '    model.compile(',
    `        optimizer=${optimizerExpression(settings.optimizer)},`,
    `        loss=${several ? `[${settings.losses.map(lossOf).join(', ')}]` : lossOf(settings.losses[0]!)},`,
  ];
  if (several && settings.losses.some((spec) => spec.weight !== 1)) lines.push(`        loss_weights=${pyLiteral(settings.losses.map((spec) => spec.weight))},`);
  const accurate = settings.losses.filter((spec) => spec.accuracy);
  if (accurate.length > 0) lines.push(several ? `        metrics={${accurate.map((spec) => `${pyLiteral(spec.output)}: ['accuracy']`).join(', ')}},` : "        metrics=['accuracy'],");
  lines.push('    )');
  return lines;
}

/** The weights as "<layer>/<weight>" arrays, and each layer's weight names in Keras's order. */
function weightArrays(model: Model): { arrays: Parameters<typeof formatNpz>[0]; names: Record<string, string[]> } {
  const arrays: Parameters<typeof formatNpz>[0] = {};
  const names: Record<string, string[]> = {};
  for (const layer of model.layers) {
    if (layer.weights.length === 0) continue;
    names[layer.name] = layer.weights.map((w) => w.name);
    for (const w of layer.weights) arrays[`${layer.name}/${w.name}`] = { dtype: 'float32', shape: [...w.shape], data: w.value };
  }
  return { arrays, names };
}

function refuseNestedModels(model: Model): void {
  const nested = model.layers.find((layer: Layer) => layer instanceof Model);
  if (nested) throw new ValueError(`${nested.name}: the Keras export writes models of layers; ${nested.name} is a model inside ${model.name}, which it cannot write yet (the PyTorch export inlines it)`, { layer: nested.name });
}

export function exportKeras(model: Model, source: string, fit: FitSettings = {}): { files: ExportedFiles } {
  refuseNestedModels(model);
  const json = JSON.parse(model.toJSON()) as { class_name: string; config: { name: string; layers: LayerEntry[]; input_layers: [string, number, number][]; output_layers: [string, number, number][] } };
  const settings = compileSettings(model, fit);
  const { arrays, names } = weightArrays(model);
  const inputs = model.inputs.map((t) => [t.sourceLayer.name, (t.sourceLayer as InputLayer).dtype]);
  const body = json.class_name === 'Sequential' ? sequentialBody(json.config.name, json.config.layers) : functionalBody(json.config.name, json.config);
  const script = [
    `"""${model.name}: exported by Strata ${STRATA_VERSION} from ${source.replace(/\\/g, '/').replace(/"""/g, '')} as a tf.keras / Keras 3 script.`,
    '',
    '    python model.py --data train.npz --epochs 10              # x and y (or x_train and y_train)',
    '    python model.py --x x.npy --y y.npy --strategy mirrored   # every local GPU: tf.distribute.MirroredStrategy',
    '',
    "The model starts from the weights Strata saved in weights.npz (--fresh: its layers' initializers)",
    "and trains with its compile() settings; the trained model is saved as a .keras file.",
    '"""',
    'import argparse',
    'import os',
    '',
    'import numpy as np',
    'import tensorflow as tf',
    'from tensorflow import keras',
    'from tensorflow.keras import layers',
    '',
    'from arrays import load_arrays, model_input',
    '',
    "WEIGHTS_FILE = os.path.join(os.path.dirname(os.path.abspath(__file__)), 'weights.npz')",
    '# (name, dtype) of each input, and the outputs, in the model\'s order',
    `INPUTS = ${pyLiteral(inputs, true)}`,
    `OUTPUTS = ${pyLiteral(model.outputs.map((t) => t.sourceLayer.name))}`,
    "# each layer's weights in Keras's order",
    `WEIGHTS = ${pyLiteral(names)}`,
    `BATCH_SIZE = ${settings.batchSize}`,
    `EPOCHS = ${settings.epochs}`,
    '',
    '',
    'def build_model():',
    ...body,
    '',
    '',
    'def compile_model(model):',
    `    """The model's compile() settings${settings.assumed ? " (it had none: those `strata train` picks, Adam and the loss its output implies)" : ''}."""`,
    ...compileBody(settings),
  ].join('\n');
  return { files: { 'model.py': `${script}\n${pythonSource('keras_main.py')}`, 'arrays.py': pythonSource('arrays.py'), 'weights.npz': formatNpz(arrays) } };
}
