// Model -> ONNX ModelProto (opset 17). Walks the model's layer graph in order, translating
// each layer call through LAYER_TABLE; nested models are inlined under their name. The
// graph's inputs and outputs keep Keras's shapes and layout (NHWC images, a symbolic batch
// dimension), so users feed the arrays they would give Keras. The model's Keras JSON and
// the map from Keras weights to initializers travel in metadata_props, so an exported file
// can be reopened as a trainable model.
import { InputLayer, Model, ValueError, type CallKwargs, type Layer, type LayerWeight, type SymbolicTensor } from '../model/index.ts';
import { encodeModel } from '../onnx/schema.ts';
import { makeGraph, makeModel, makeTensorValueInfo } from '../onnx/helper.ts';
import { DataType, type ModelProto } from '../onnx/schema.ts';
import { STRATA_VERSION } from '../version.ts';
import { GraphBuilder, type Value } from './graph_builder.ts';
import { onnxDims, toOnnxLayout, type OnnxLayout } from './kernel_layout.ts';
import { LAYER_TABLE, STRATA_DOMAIN, addStrataNode, type LayerCall } from './layer_table.ts';

export const OPSET = 17;

/** metadata_props keys written by Strata. */
export const METADATA_KERAS_JSON = 'strata.keras_json';
export const METADATA_WEIGHTS = 'strata.weights';

/** Where a Keras weight went: initializer name and, for Conv kernels, the layout it was stored in (kernel_layout.ts). */
export interface WeightLocation {
  /** Layer path inside nested models, e.g. "encoder/dense". */
  layer: string;
  weight: string;
  initializer: string;
  layout: OnnxLayout;
  /** The initializer's dims where they are not the layout's (a 'keras' weight stored reshaped, same values). */
  dims?: number[];
}

/** A top-level layer call's output, exposed as a graph output (translateModel's exposeLayerOutputs). */
export interface LayerOutput {
  layer: string;
  /** Which call of the layer in the model. */
  call: number;
  /** The graph output's name. */
  output: string;
}

class Translation {
  readonly b = new GraphBuilder();
  /** Told each top-level layer call's outputs as they are translated. */
  onCall: ((layer: Layer, outputs: Value[]) => void) | null = null;
  readonly weightLocations: WeightLocation[] = [];
  private readonly initializerOf = new Map<LayerWeight, string>();

  constructor(private readonly trainingOps: boolean) {}

  weight(path: string, weight: LayerWeight, layout: OnnxLayout = 'keras', dims?: number[]): string {
    const cached = this.initializerOf.get(weight);
    if (cached) return cached;
    const name = this.b.addInitializer(`${path}/${weight.name}`, dims ?? onnxDims(weight.shape, layout), toOnnxLayout(weight.value, weight.shape, layout));
    this.initializerOf.set(weight, name);
    this.weightLocations.push({ layer: path, weight: weight.name, initializer: name, layout, ...(dims ? { dims: [...dims] } : {}) });
    return name;
  }

  /** Translates `model`'s graph with its inputs bound to `inputs`; returns its output values. */
  translateGraph(model: Model, inputs: Value[], scope: string): Value[] {
    const values = new Map<SymbolicTensor, Value>();
    model.inputs.forEach((t, i) => values.set(t, inputs[i]!));
    for (const node of model.graph.nodes) {
      const layer = node.layer;
      if (layer instanceof InputLayer) continue;
      const nodeInputs = node.inputs.map((t) => {
        const value = values.get(t);
        if (!value) throw new ValueError(`${scope}${layer.name}: input ${t.name} was not computed before it`);
        return value;
      });
      const outputs = this.translateCall(layer, nodeInputs, node.kwargs, scope);
      node.outputs.forEach((t, i) => values.set(t, outputs[i]!));
      if (scope === '') this.onCall?.(layer, outputs);
    }
    return model.outputs.map((t) => values.get(t)!);
  }

  private translateCall(layer: Layer, inputs: Value[], kwargs: CallKwargs, scope: string): Value[] {
    const path = `${scope}${layer.name}`;
    if (layer instanceof Model) return this.translateGraph(layer, inputs, `${path}/`);
    const row = LAYER_TABLE[layer.className] as ((layer: Layer, call: LayerCall) => Value | Value[]) | undefined;
    if (!row) throw new ValueError(`${path}: no ONNX translation for layer class ${layer.className}`);
    // Keras's activity_regularizer: for the engine, an ActivityRegularization op on the layer's
    // output, which then carries the layer's name (the losses and the graph outputs use it).
    const regularizer = this.trainingOps ? (layer.weightRules?.activityRegularizer ?? null) : null;
    const call: LayerCall = {
      b: this.b,
      inputs,
      name: path,
      output: this.b.uniqueName(regularizer ? `${path}/unregularized` : path),
      kwargs,
      weight: (weight, layout, dims) => this.weight(path, weight, layout, dims),
      trainingOps: this.trainingOps,
    };
    const result = row(layer, call);
    if (Array.isArray(result)) return result;
    if (!regularizer) return [result];
    const attributes = { l1: { float: regularizer.l1 }, l2: { float: regularizer.l2 } };
    return [{ ...result, name: addStrataNode(this.b, 'ActivityRegularization', result.name, `${path}/ActivityRegularization`, attributes, this.b.uniqueName(path)) }];
  }
}

function valueInfoShape(shape: (number | null)[]): (number | string | null)[] {
  return shape.map((d, i) => (i === 0 && d === null ? 'batch' : d));
}

export interface ExportOptions {
  /** Defaults to the model's name. */
  graphName?: string;
  /** Also output every top-level layer call's (first) output, channels-last (the app's live preview). */
  exposeLayerOutputs?: boolean;
  /**
   * For the native engine: the layers that act only while training (GaussianNoise, ...) as
   * Strata's own ops (domain ai.strata), which only the engine runs; otherwise they are Identity.
   */
  trainingOps?: boolean;
}

/** Translates a built model into an ONNX ModelProto. */
export function modelToOnnx(model: Model, options: ExportOptions = {}): ModelProto {
  return translateModel(model, options).proto;
}

/** The ModelProto and where each Keras weight went (what the trainer syncs weights through). */
export function translateModel(model: Model, options: ExportOptions = {}): { proto: ModelProto; weights: WeightLocation[]; layerOutputs: LayerOutput[] } {
  const translation = new Translation(options.trainingOps ?? false);
  const { b } = translation;
  const layerOutputs: LayerOutput[] = [];
  const exposed: { value: Value; name: string }[] = [];
  if (options.exposeLayerOutputs) {
    const calls = new Map<Layer, number>();
    translation.onCall = (layer, outputs) => {
      const call = calls.get(layer) ?? 0;
      calls.set(layer, call + 1);
      // An Identity of its own: a value that is also a model output, or renamed later, keeps both names.
      const value = b.inLayout(outputs[0]!, 'keras');
      const name = b.addNode('Identity', [value.name], `strata_preview/${layer.name}/${call}`);
      exposed.push({ value, name });
      layerOutputs.push({ layer: layer.name, call, output: name });
    };
  }
  const graphInputs = model.inputs.map((t): Value => {
    const layer = t.sourceLayer as InputLayer;
    const elemType = layer.dtype === 'int32' ? DataType.INT32 : DataType.FLOAT;
    return { name: b.uniqueName(layer.name), shape: t.shape, layout: 'keras', elemType };
  });
  const results = translation.translateGraph(model, graphInputs, '');

  // Graph outputs are channels-last and named after their layers.
  const outputNames = new Set<string>();
  const graphOutputs = results.map((value, i) => {
    const keras = b.inLayout(value, 'keras');
    const wanted = model.outputs[i]!.sourceLayer.name;
    if (keras.name !== wanted && !outputNames.has(wanted) && !graphInputs.some((x) => x.name === wanted)) {
      const free = b.uniqueName(wanted) === wanted;
      if (free) b.renameTensor(keras.name, wanted);
      keras.name = free ? wanted : keras.name;
    }
    outputNames.add(keras.name);
    return makeTensorValueInfo(keras.name, keras.elemType, valueInfoShape(keras.shape));
  });

  const graph = makeGraph(
    b.nodes,
    options.graphName ?? model.name,
    graphInputs.map((x) => makeTensorValueInfo(x.name, x.elemType, valueInfoShape(x.shape))),
    [...graphOutputs, ...exposed.map(({ value, name }) => makeTensorValueInfo(name, value.elemType, valueInfoShape(value.shape)))],
    b.initializers,
  );
  const proto = makeModel(graph, {
    opsetImports: [{ domain: '', version: OPSET }, ...(translation.b.nodes.some((n) => n.domain === STRATA_DOMAIN) ? [{ domain: STRATA_DOMAIN, version: 1 }] : [])],
    producerName: 'strata',
    producerVersion: STRATA_VERSION,
    metadata: {
      [METADATA_KERAS_JSON]: model.toJSON(),
      [METADATA_WEIGHTS]: JSON.stringify(translation.weightLocations),
    },
  });
  return { proto, weights: translation.weightLocations, layerOutputs };
}

/** The bytes of an .onnx file for `model`. */
export function exportOnnx(model: Model, options: ExportOptions = {}): Uint8Array {
  return encodeModel(modelToOnnx(model, options));
}
