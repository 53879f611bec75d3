// The editor's live preview, in the engine process: one sample through the model, and every
// layer's output. The model is translated to ONNX with each top-level layer call's output
// exposed (translateModel's exposeLayerOutputs) and run by onnxruntime in inference mode
// (Dropout off, BatchNormalization's moving statistics), on one input: random data of the
// input's shape, a Fashion-MNIST test image, an image file, resized to the model's input
// as training data is (app/data/images.ts), or a sample of the data the model file exports.
import path from 'node:path';
import sharp from 'sharp';
import { PREVIEW_MAX_CHANNELS, type PreviewInput, type PreviewResult, type PreviewTensor } from '../contract/api.ts';
import { loadImages } from '../data/images.ts';
import { FASHION_MNIST_CLASS_NAMES, FASHION_MNIST_DIR, readIdx } from '../data/idx.ts';
import { type NdArray, sliceRows } from '../data/ndarray.ts';
import { Embedding, InputLayer, ShapeError, ValueError, formatShape, weightsGeneration, type Model } from '../model/index.ts';
import { RandomGenerator } from '../model/random.ts';
import { OnnxSession } from '../runtime/session.ts';
import { translateModel, type LayerOutput } from '../translate/to_onnx.ts';
import type { DataCache } from './data_cache.ts';
import { encodeModel } from '../onnx/schema.ts';

interface Prepared {
  model: Model;
  generation: number;
  session: OnnxSession;
  layerOutputs: LayerOutput[];
}

/** One sample: a value per model input, in model.inputs order. */
interface Sample {
  feeds: NdArray<'float32' | 'int32'>[];
  classNames: string[] | null;
  description: string;
}

export class Previewer {
  #prepared: Prepared | null = null;
  #fashionMnist: { images: NdArray; labels: NdArray } | null = null;
  readonly #data: DataCache;

  /** `data`: where a model file's data is loaded, shared with training. */
  constructor(data: DataCache) {
    this.#data = data;
  }

  /** `modelFile`: the file whose data() a 'model-data' input samples (the project's model file). */
  async run(model: Model, input: PreviewInput, modelFile?: string): Promise<PreviewResult> {
    const started = performance.now();
    const prepared = await this.#prepare(model);
    const sample = input.kind === 'model-data' ? await this.#modelDataSample(model, input.index, modelFile) : await this.#sample(model, input);
    const feeds = Object.fromEntries(prepared.session.inputs.map((spec, i) => [spec.name, sample.feeds[i]!]));
    const outputs = await prepared.session.run(feeds);
    return {
      inputs: model.inputs.map((t, i) => ({ layer: t.sourceLayer.name, tensor: previewTensor(sample.feeds[i]!) })),
      layers: prepared.layerOutputs.map(({ layer, call, output }) => ({ layer, call, className: model.getLayer(layer).className, tensor: previewTensor(outputs[output]!) })),
      classNames: sample.classNames,
      description: sample.description,
      ms: performance.now() - started,
    };
  }

  /** A session for the model, reused while the model and its weights stay the same. */
  async #prepare(model: Model): Promise<Prepared> {
    const generation = weightsGeneration(model);
    if (this.#prepared?.model === model && this.#prepared.generation === generation) return this.#prepared;
    const { proto, layerOutputs } = translateModel(model, { exposeLayerOutputs: true });
    const session = await OnnxSession.create(encodeModel(proto), { name: model.name });
    await this.#prepared?.session.release();
    this.#prepared = { model, generation, session, layerOutputs };
    return this.#prepared;
  }

  async #sample(model: Model, input: PreviewInput): Promise<Sample> {
    const shapes = model.inputs.map((t) => sampleShape(t.shape, t.sourceLayer.name));
    const seed = input.kind === 'random' ? input.seed : 1;
    const random = shapes.map((shape, i) => randomInput(model, i, shape, seed + i));
    if (input.kind === 'random') return { feeds: random, classNames: null, description: `random data (seed ${input.seed})` };
    const target = shapes.findIndex(isImageShape);
    if (target < 0) {
      const listed = model.inputs.map((t) => `${t.sourceLayer.name} ${formatShape(t.shape)}`).join(', ');
      throw new ShapeError(`the model's input (${listed}) does not take images: an image needs an input of shape (height, width, 1 or 3); preview it with random data`);
    }
    const [height, width, channels] = shapes[target]! as [number, number, 1 | 3];
    const others = model.inputs.length > 1 ? `; ${model.inputs.filter((_, i) => i !== target).map((t) => t.sourceLayer.name).join(', ')}: random data` : '';
    if (input.kind === 'image') {
      const image = await loadImages([input.path], { size: [height, width], channels });
      random[target] = image;
      return { feeds: random, classNames: null, description: `${path.basename(input.path)}${others}` };
    }
    const { images, labels } = this.#loadFashionMnist();
    const count = images.shape[0]!;
    if (!Number.isInteger(input.index) || input.index < 0 || input.index >= count) {
      throw new ValueError(`Fashion-MNIST has test images 0 to ${count - 1}, got ${input.index}`);
    }
    const pixels = (images.data as Uint8Array).subarray(input.index * 784, (input.index + 1) * 784);
    random[target] = await fitImage(pixels, 28, 28, height, width, channels);
    const label = FASHION_MNIST_CLASS_NAMES[Number(labels.data[input.index])]!;
    return { feeds: random, classNames: FASHION_MNIST_CLASS_NAMES, description: `Fashion-MNIST test image ${input.index}: ${label}${others}` };
  }

  /** Sample `index` of the model file's test split (its training split where it has none). */
  async #modelDataSample(model: Model, index: number, file: string | undefined): Promise<Sample> {
    if (!file) throw new ValueError("this model was not made from a model file that exports its data (export function data()); preview it with random data or an image");
    const data = await this.#data.load({ kind: 'model-file', file }, model);
    const [split, dataset] = data.test ? ['test', data.test] : ['training', data.train];
    if (!Number.isInteger(index) || index < 0 || index >= dataset.size) {
      throw new ValueError(`${path.basename(file)}'s ${split} data has samples 0 to ${dataset.size - 1}, got ${index}`);
    }
    if (dataset.x.length !== model.inputs.length) {
      throw new ShapeError(`${path.basename(file)}'s data has ${dataset.x.length} input array(s), the model ${model.inputs.length} input(s)`);
    }
    const feeds = dataset.x.map((array, i) => {
      const want = sampleShape(model.inputs[i]!.shape, model.inputs[i]!.sourceLayer.name);
      const have = array.shape.slice(1);
      if (have.join() !== want.join()) {
        throw new ShapeError(`${path.basename(file)}'s data: input ${model.inputs[i]!.sourceLayer.name} takes samples of shape ${formatShape([null, ...want])}, the data's are ${formatShape([null, ...have])}`);
      }
      return sliceRows(array, index, index + 1);
    });
    const labels = dataset.y[0];
    const label = dataset.classNames && labels?.dtype === 'int32' && labels.shape.length === 1 ? `: ${dataset.classNames[labels.data[index]!] ?? labels.data[index]}` : '';
    return { feeds, classNames: dataset.classNames ?? null, description: `${path.basename(file)}'s ${split} sample ${index}${label}` };
  }

  #loadFashionMnist(): { images: NdArray; labels: NdArray } {
    this.#fashionMnist ??= {
      images: readIdx(path.join(FASHION_MNIST_DIR, 't10k-images-idx3-ubyte.gz')),
      labels: readIdx(path.join(FASHION_MNIST_DIR, 't10k-labels-idx1-ubyte.gz')),
    };
    return this.#fashionMnist;
  }
}

/** An input's shape without the batch dimension; every dimension must be known to make a sample. */
function sampleShape(shape: (number | null)[], name: string): number[] {
  const rest = shape.slice(1);
  if (rest.some((d) => d === null)) throw new ShapeError(`input ${name} has shape ${formatShape(shape)}: the preview needs every dimension but the batch known`);
  return rest as number[];
}

function isImageShape(shape: number[]): boolean {
  return shape.length === 3 && (shape[2] === 1 || shape[2] === 3);
}

/** Uniform values in [0, 1), or for an int32 input token ids below every vocabulary it feeds. */
function randomInput(model: Model, index: number, shape: number[], seed: number): NdArray<'float32' | 'int32'> {
  const generator = new RandomGenerator(seed);
  const size = shape.reduce((a, b) => a * b, 1);
  const layer = model.inputs[index]!.sourceLayer as InputLayer;
  if (layer.dtype === 'int32') {
    const vocabulary = Math.min(...model.graph.nodes.filter((node) => node.layer instanceof Embedding && node.inputs.includes(model.inputs[index]!)).map((node) => (node.layer as Embedding).inputDim), 10);
    return { dtype: 'int32', shape: [1, ...shape], data: Int32Array.from({ length: size }, () => Math.floor(generator.uniform() * vocabulary)) };
  }
  return { dtype: 'float32', shape: [1, ...shape], data: Float32Array.from({ length: size }, () => generator.uniform()) };
}

/** 8-bit grayscale pixels as a float32 image of the model's input size and channels, in [0, 1]. */
async function fitImage(pixels: Uint8Array, height: number, width: number, toHeight: number, toWidth: number, channels: 1 | 3): Promise<NdArray<'float32'>> {
  let gray = pixels;
  if (toHeight !== height || toWidth !== width) {
    gray = await sharp(Buffer.from(pixels), { raw: { width, height, channels: 1 } })
      .resize(toWidth, toHeight, { fit: 'fill', kernel: 'linear' })
      // sharp writes sRGB (3 channels) unless told to keep one.
      .toColourspace('b-w')
      .raw()
      .toBuffer();
  }
  const data = new Float32Array(toHeight * toWidth * channels);
  for (let p = 0; p < toHeight * toWidth; p++) for (let c = 0; c < channels; c++) data[p * channels + c] = gray[p]! / 255;
  return { dtype: 'float32', shape: [1, toHeight, toWidth, channels], data };
}

/** One sample's tensor for the views: the batch dimension dropped, feature maps cut to PREVIEW_MAX_CHANNELS. */
export function previewTensor(array: NdArray): PreviewTensor {
  const shape = array.shape.slice(1);
  const source = Float32Array.from(array.data as ArrayLike<number>);
  const channels = shape.length === 3 ? shape[2]! : 1;
  let values = source;
  if (shape.length === 3 && channels > PREVIEW_MAX_CHANNELS) {
    const positions = shape[0]! * shape[1]!;
    values = new Float32Array(positions * PREVIEW_MAX_CHANNELS);
    for (let p = 0; p < positions; p++) values.set(source.subarray(p * channels, p * channels + PREVIEW_MAX_CHANNELS), p * PREVIEW_MAX_CHANNELS);
    shape[2] = PREVIEW_MAX_CHANNELS;
  }
  let min = Infinity;
  let max = -Infinity;
  for (const v of values) {
    if (v < min) min = v;
    if (v > max) max = v;
  }
  return { shape, data: new Uint8Array(values.buffer, values.byteOffset, values.byteLength), channels, min: Number.isFinite(min) ? min : 0, max: Number.isFinite(max) ? max : 0 };
}
