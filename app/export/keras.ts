// `strata export --format keras`: a runnable tf.keras / Keras 3 script. model.py defines the
// model as the model was defined (a Sequential list or a Functional graph; a subclassed model
// as the Functional graph its call() traces to), each layer with its Keras config as keyword
// arguments, then compile() with the model's settings and fit() with an optional
// tf.distribute.MirroredStrategy; weights.npz holds the weights, set layer by layer.
import { InputLayer, Model, ValueError, losses, metrics, type KerasMetric, type Layer, type LayerWeight } from '../model/index.ts';
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

/**
 * Config keys that are no constructor argument in Keras 3 (or change nothing), left out: tf.keras
 * 2.x's time_major (false) and the recurrent layers' implementation mode, and the shapes tf.keras
 * 2.x's MultiHeadAttention records from its first call.
 */
const NOT_ARGUMENTS: Record<string, (value: unknown) => boolean> = {
  time_major: (value) => value === false,
  implementation: () => true,
  query_shape: () => true,
  key_shape: () => true,
  value_shape: () => true,
};

/** A layer serialized inside another's config (Bidirectional's layer and backward_layer). */
const isLayerConfig = (key: string, value: unknown): value is LayerEntry =>
  (key === 'layer' || key === 'backward_layer') && typeof value === 'object' && value !== null && 'class_name' in value;

/** The keyword arguments of a layer's constructor: its config less what Keras fills in itself; the name last. */
function layerArguments(className: string, config: Record<string, unknown>): string {
  const args: string[] = [];
  for (const [key, value] of Object.entries(config)) {
    if (key === 'name' || key === 'batch_input_shape' || value === null || DEFAULTS[key] === value || NOT_ARGUMENTS[key]?.(value)) continue;
    if (key === 'input_length' || (key === 'groups' && className === 'DepthwiseConv2D')) continue; // fixed by the input; not a Keras 3 argument
    if (isLayerConfig(key, value)) args.push(`${key}=layers.${value.class_name}(${layerArguments(value.class_name, value.config)})`);
    else args.push(isInitializer(key, value) ? `${key}=${initializerExpression(value)}` : `${key}=${pyLiteral(value, true)}`);
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

/** A tensor of the Keras JSON ([layer, node, tensor]) as a key of the script's variables. */
const tensorKey = ([layer, node, tensor]: readonly unknown[]) => `${layer}[${node}][${tensor ?? 0}]`;
const isTensorRef = (value: unknown): value is [string, number, number] => Array.isArray(value) && value.length === 3 && typeof value[0] === 'string';

/** A call's inputs and arguments: the positional tensors, then Keras's call kwargs (MultiHeadAttention's value and key, use_causal_mask, ...). */
function callArguments(node: [string, number, number, unknown][], outputOf: Map<string, string>): string {
  const inputs = node.map((ref) => outputOf.get(tensorKey(ref))!);
  const kwargs = Object.entries((node[0]?.[3] ?? {}) as Record<string, unknown>).map(([key, value]) => `${key}=${isTensorRef(value) ? outputOf.get(tensorKey(value)) : pyLiteral(value, true)}`);
  return [inputs.length === 1 ? inputs[0]! : `[${inputs.join(', ')}]`, ...kwargs].join(', ');
}

type ModelConfig = { name: string; layers: LayerEntry[]; input_layers: [string, number, number][]; output_layers: [string, number, number][] };

/**
 * The builder functions of a model and of the models inside it: build_model(), then one
 * build_<name>() per nested model, called where the model uses it as a layer.
 */
class Builders {
  private readonly names = new IdentifierPool(['build_model', 'compile_model', 'load_weights', 'parse_args', 'main', 'load_arrays', 'model_input']);
  private readonly taken = new Map<Model, string>();
  readonly functions: string[][] = [];

  take(model: Model, functionName?: string): string {
    let name = this.taken.get(model);
    if (name) return name;
    name = functionName ?? this.names.take(`build_${model.name}`);
    this.taken.set(model, name);
    const json = JSON.parse(model.toJSON()) as { class_name: string; config: ModelConfig };
    const body = json.class_name === 'Sequential' ? sequentialBody(json.config.name, json.config.layers) : functionalBody(model, json.config.name, json.config, this);
    this.functions.push([`def ${name}():`, ...body]);
    return name;
  }
}

function functionalBody(model: Model, name: string, config: ModelConfig, builders: Builders): string[] {
  const variables = new IdentifierPool(['keras', 'layers', 'tf', 'np']);
  const outputOf = new Map<string, string>(); // "layer[node][tensor]" -> variable
  const lines: string[] = [];
  for (const entry of config.layers) {
    const layerName = entry.config.name as string;
    if (entry.class_name === 'InputLayer') {
      const variable = variables.take(layerName);
      outputOf.set(`${layerName}[0][0]`, variable);
      lines.push(`    ${variable} = ${inputCall(entry.config, true)}`);
      continue;
    }
    const inner = model.getLayer(layerName);
    const constructor = inner instanceof Model ? `${builders.take(inner)}()` : `layers.${entry.class_name}(${layerArguments(entry.class_name, entry.config)})`;
    const nodes = entry.inbound_nodes ?? [];
    const shared = nodes.length > 1 ? variables.take(`${layerName}_layer`) : null;
    if (shared) lines.push(`    ${shared} = ${constructor}`);
    const outputCounts = model.nodesOf(inner).map((n) => n.outputs.length);
    nodes.forEach((node, i) => {
      const results = Array.from({ length: outputCounts[i] ?? 1 }, (_, k) => {
        const variable = variables.take(layerName);
        outputOf.set(`${layerName}[${i}][${k}]`, variable);
        return variable;
      });
      lines.push(`    ${results.join(', ')} = ${shared ?? constructor}(${callArguments(node, outputOf)})`);
    });
  }
  const refs = (list: [string, number, number][]) => list.map((ref) => outputOf.get(tensorKey(ref))!);
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

/** A metric as Keras takes it: its name, or a class (RootMeanSquaredError has no name string). */
function metricExpression(metric: KerasMetric): string {
  if (typeof metric === 'string') return pyLiteral(metric);
  const byDefault = metric.config.name === metrics.classMetricName(metric.class_name);
  return `keras.metrics.${metric.class_name}(${byDefault ? '' : `name=${pyLiteral(metric.config.name)}`})`;
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
  const metricsOf = (spec: CompileSettings['losses'][number]) => `[${spec.metrics.map(metricExpression).join(', ')}]`;
  const measured = settings.losses.filter((spec) => spec.metrics.length > 0);
  if (measured.length > 0) lines.push(several ? `        metrics={${measured.map((spec) => `${pyLiteral(spec.output)}: ${metricsOf(spec)}`).join(', ')}},` : `        metrics=${metricsOf(settings.losses[0]!)},`);
  lines.push('    )');
  return lines;
}

/** A layer's weights under their names in the .npz: a nested model's as "<inner layer>/<weight>", in its own order. */
function namedWeights(layer: Layer): { name: string; weight: LayerWeight }[] {
  if (!(layer instanceof Model)) return layer.weights.map((weight) => ({ name: weight.name, weight }));
  return layer.layers.flatMap((inner) => namedWeights(inner).map(({ name, weight }) => ({ name: `${inner.name}/${name}`, weight })));
}

/** The weights as "<layer>/<weight>" arrays, and each layer's weight names in Keras's order (set_weights's). */
function weightArrays(model: Model): { arrays: Parameters<typeof formatNpz>[0]; names: Record<string, string[]> } {
  const arrays: Parameters<typeof formatNpz>[0] = {};
  const names: Record<string, string[]> = {};
  for (const layer of model.layers) {
    const weights = namedWeights(layer);
    if (weights.length === 0) continue;
    names[layer.name] = weights.map((w) => w.name);
    for (const { name, weight } of weights) arrays[`${layer.name}/${name}`] = { dtype: 'float32', shape: [...weight.shape], data: weight.value };
  }
  return { arrays, names };
}

export function exportKeras(model: Model, source: string, fit: FitSettings = {}): { files: ExportedFiles } {
  const builders = new Builders();
  builders.take(model, 'build_model');
  const settings = compileSettings(model, fit);
  const { arrays, names } = weightArrays(model);
  const inputs = model.inputs.map((t) => [t.sourceLayer.name, (t.sourceLayer as InputLayer).dtype]);
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
    ...builders.functions.reverse().flatMap((lines) => ['', '', ...lines]),
    '',
    '',
    'def compile_model(model):',
    `    """The model's compile() settings${settings.assumed ? " (it had none: those `strata train` picks, Adam and the loss its output implies)" : ''}."""`,
    ...compileBody(settings),
  ].join('\n');
  return { files: { 'model.py': `${script}\n${pythonSource('keras_main.py')}`, 'arrays.py': pythonSource('arrays.py'), 'weights.npz': formatNpz(arrays) } };
}
