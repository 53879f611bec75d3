// The reference forward pass: Keras's inference-mode semantics written out plainly in
// TypeScript, in float64, as the oracle that the ONNX translation (run in onnxruntime-node)
// and the native engine are checked against. Kept for tests only.
//
// Conventions: channels last (images (N, H, W, C), sequences (N, steps, features)), row-major
// data, Keras's weight layouts (Dense kernel (in, units), Conv2D kernel (kh, kw, in, filters),
// Embedding (input_dim, output_dim)). Inference mode: Dropout is the identity and
// BatchNormalization uses moving_mean/moving_variance. "same" padding is TensorFlow's: the
// total padding max((ceil(n/s) - 1) * s + (k - 1) * d + 1 - n, 0), the smaller half before.
// Each op is a plain function with its shapes in a comment; nothing here is clever or fast.
import {
  Activation, ActivityRegularization, Add, Attention, Average, AveragePooling1D, AveragePooling2D, Bidirectional, GRU, LSTM, RecurrentLayer, BatchNormalization, Concatenate, Conv1D, Conv2D,
  Conv2DTranspose, Cropping2D, GlobalMaxPooling1D, Permute, RepeatVector, GlobalMaxPooling2D, MaxPooling1D, Dense, DepthwiseConv2D, Dropout, ELU, Embedding, Flatten,
  GaussianDropout, GaussianNoise, LayerNormalization, LeakyReLU, MultiHeadAttention, PReLU, ReLU, SeparableConv2D, Softmax, SpatialDropout2D, ZeroPadding2D,
  GlobalAveragePooling1D, GlobalAveragePooling2D, InputLayer, MaxPooling2D, Model, Multiply, Rescaling, Reshape,
  Normalization, RandomContrast, RandomFlip, RandomRotation, RandomTranslation, RandomZoom,
  CenterCrop, Resizing, UpSampling2D, Subtract, Maximum, Minimum, Dot,
  Cropping1D, SpatialDropout1D, TimeDistributed, UpSampling1D, ZeroPadding1D,
  type ActivationName, type CallKwargs, type Layer, type Shape, type SymbolicTensor,
} from '../../app/model/index.ts';
import { RandomGenerator } from '../../app/model/random.ts';
import { randomIntTensor, randomTensor, sizeOfShape, stridesOf, tensor, type RefTensor, type TensorLike } from './tensor.ts';

// ---------------------------------------------------------------------------------------
// Activations, as Keras 3 defines them (keras/src/activations/activations.py).

const SQRT_PI = Math.sqrt(Math.PI);

/**
 * erf(x) for |x| < 1 by the series 2/sqrt(pi) * exp(-x^2) * sum_n 2^n x^(2n+1) / (1*3*...*(2n+1)),
 * whose terms are all positive (no cancellation), so it is accurate to a few ulps.
 */
function erfSeries(x: number): number {
  const x2 = x * x;
  let term = x;
  let sum = x;
  for (let n = 0; n < 500; n++) {
    term *= (2 * x2) / (2 * n + 3);
    sum += term;
    if (Math.abs(term) <= 1e-17 * Math.abs(sum)) break;
  }
  return (2 / SQRT_PI) * Math.exp(-x2) * sum;
}

/**
 * erfc(x) for x >= 1 by the continued fraction
 * erfc(x) = exp(-x^2)/sqrt(pi) * 1/(x + (1/2)/(x + 1/(x + (3/2)/(x + 2/(x + ...))))),
 * evaluated bottom-up from depth 300 (at x = 1 it has converged to double precision by depth 200).
 */
function erfcContinuedFraction(x: number): number {
  let tail = x;
  for (let n = 300; n >= 1; n--) tail = x + n / 2 / tail;
  return Math.exp(-x * x) / SQRT_PI / tail;
}

/** The error function to double precision. */
export function erf(x: number): number {
  if (Number.isNaN(x)) return NaN;
  if (Math.abs(x) < 1) return erfSeries(x);
  return Math.sign(x) * (1 - erfcContinuedFraction(Math.abs(x)));
}

/** The complementary error function 1 - erf(x), without cancellation for large x. */
export function erfc(x: number): number {
  if (Number.isNaN(x)) return NaN;
  if (x >= 1) return erfcContinuedFraction(x);
  if (x <= -1) return 2 - erfcContinuedFraction(-x);
  return 1 - erfSeries(x);
}

/** Keras's gelu(approximate=False): x * Phi(x) = 0.5 * x * (1 + erf(x / sqrt(2))), as 0.5 * x * erfc(-x / sqrt(2)). */
export function gelu(x: number): number {
  return 0.5 * x * erfc(-x / Math.SQRT2);
}

/** sigmoid(x) = 1 / (1 + exp(-x)), written so that exp never overflows. */
export function sigmoid(x: number): number {
  if (x >= 0) return 1 / (1 + Math.exp(-x));
  const e = Math.exp(x);
  return e / (1 + e);
}

export const SELU_ALPHA = 1.6732632423543772;
export const SELU_SCALE = 1.0507009873554805;
/** Keras's activation "leaky_relu" uses keras.activations.leaky_relu's default negative_slope. */
export const LEAKY_RELU_SLOPE = 0.2;

/** The elementwise activations; softmax, which works on rows, is applied by applyActivation. */
export const ELEMENTWISE_ACTIVATIONS: Record<Exclude<ActivationName, 'softmax'>, (x: number) => number> = {
  linear: (x) => x,
  relu: (x) => (x > 0 ? x : 0),
  sigmoid,
  tanh: Math.tanh,
  elu: (x) => (x > 0 ? x : Math.expm1(x)),
  selu: (x) => SELU_SCALE * (x > 0 ? x : SELU_ALPHA * Math.expm1(x)),
  gelu,
  leaky_relu: (x) => (x >= 0 ? x : LEAKY_RELU_SLOPE * x),
  swish: (x) => x * sigmoid(x),
  softplus: (x) => (x > 0 ? x + Math.log1p(Math.exp(-x)) : Math.log1p(Math.exp(x))),
  hard_sigmoid: (x) => Math.min(1, Math.max(0, x / 6 + 0.5)),
  relu6: (x) => Math.min(6, Math.max(0, x)),
};

/** softmax along `axis` (default the last): exp(x - max) / sum(exp(x - max)) over each line along it. */
export function softmaxForward(x: RefTensor, axis = -1): RefTensor {
  const a = axis < 0 ? axis + x.shape.length : axis;
  const n = x.shape[a]!;
  const inner = x.shape.slice(a + 1).reduce((p, d) => p * d, 1);
  const out = tensor(x.shape);
  for (let start = 0; start < x.data.length; start += n * inner) {
    for (let j = 0; j < inner; j++) {
      const at = (k: number) => start + k * inner + j;
      let max = -Infinity;
      for (let k = 0; k < n; k++) max = Math.max(max, x.data[at(k)]!);
      let sum = 0;
      for (let k = 0; k < n; k++) sum += out.data[at(k)] = Math.exp(x.data[at(k)]! - max);
      for (let k = 0; k < n; k++) out.data[at(k)] /= sum;
    }
  }
  return out;
}

/**
 * keras.activations.relu(x, negative_slope, max_value, threshold): x above the threshold (0
 * at or below it), clipped to [0, max_value], minus negative_slope * max(threshold - x, 0).
 */
export function reluLayerValue(x: number, maxValue: number | null, negativeSlope: number, threshold: number): number {
  let y = x > threshold ? x : 0;
  if (maxValue !== null) y = Math.min(Math.max(y, 0), maxValue);
  return y - negativeSlope * Math.max(threshold - x, 0);
}

export function applyActivation(x: RefTensor, activation: ActivationName): RefTensor {
  if (activation === 'softmax') return softmaxForward(x);
  const f = ELEMENTWISE_ACTIVATIONS[activation];
  if (!f) throw new Error(`reference: unknown activation "${activation}"`);
  return { shape: [...x.shape], data: Float64Array.from(x.data, f) };
}

// ---------------------------------------------------------------------------------------
// Ops, one plain function each.

/** Keras/TensorFlow padding along one axis: output length and the padding before the first cell. */
export function paddingFor(n: number, kernel: number, stride: number, dilation: number, padding: 'valid' | 'same'): { out: number; before: number } {
  const span = (kernel - 1) * dilation + 1;
  if (padding === 'valid') return { out: Math.floor((n - span) / stride) + 1, before: 0 };
  const out = Math.ceil(n / stride);
  const total = Math.max((out - 1) * stride + span - n, 0);
  return { out, before: Math.floor(total / 2) };
}

/** x (..., in), kernel (in, units), bias (units) or null -> (..., units). */
export function denseForward(x: RefTensor, kernel: Float32Array, bias: Float32Array | null, units: number): RefTensor {
  const inDim = x.shape[x.shape.length - 1]!;
  if (kernel.length !== inDim * units) throw new Error(`reference dense: kernel has ${kernel.length} values, expected ${inDim} x ${units}`);
  const rows = x.data.length / inDim;
  const out = tensor([...x.shape.slice(0, -1), units]);
  for (let r = 0; r < rows; r++) {
    for (let u = 0; u < units; u++) {
      let acc = bias ? bias[u]! : 0;
      for (let i = 0; i < inDim; i++) acc += x.data[r * inDim + i]! * kernel[i * units + u]!;
      out.data[r * units + u] = acc;
    }
  }
  return out;
}

export interface Conv2DParams {
  kernelSize: [number, number];
  strides: [number, number];
  dilationRate: [number, number];
  padding: 'valid' | 'same';
  /** Keras's groups (default 1): filter f reads input channels (f / (F / groups)) * C / groups onwards. */
  groups?: number;
}

/** x (N, H, W, C), kernel (kh, kw, C / groups, F), bias (F) or null -> (N, OH, OW, F); padded cells are 0. */
export function conv2dForward(x: RefTensor, kernel: Float32Array, bias: Float32Array | null, filters: number, p: Conv2DParams): RefTensor {
  const [N, H, W, C] = x.shape as [number, number, number, number];
  const [kh, kw] = p.kernelSize;
  const [sh, sw] = p.strides;
  const [dh, dw] = p.dilationRate;
  const groups = p.groups ?? 1;
  const Cg = C / groups;
  if (kernel.length !== kh * kw * Cg * filters) throw new Error(`reference conv2d: kernel has ${kernel.length} values, expected ${kh}x${kw}x${Cg}x${filters}`);
  const rows = paddingFor(H, kh, sh, dh, p.padding);
  const cols = paddingFor(W, kw, sw, dw, p.padding);
  const out = tensor([N, rows.out, cols.out, filters]);
  for (let n = 0; n < N; n++) {
    for (let oy = 0; oy < rows.out; oy++) {
      for (let ox = 0; ox < cols.out; ox++) {
        for (let f = 0; f < filters; f++) {
          let acc = bias ? bias[f]! : 0;
          for (let ky = 0; ky < kh; ky++) {
            const iy = oy * sh - rows.before + ky * dh;
            if (iy < 0 || iy >= H) continue;
            for (let kx = 0; kx < kw; kx++) {
              const ix = ox * sw - cols.before + kx * dw;
              if (ix < 0 || ix >= W) continue;
              const first = Math.floor(f / (filters / groups)) * Cg;
              for (let c = 0; c < Cg; c++) {
                acc += x.data[((n * H + iy) * W + ix) * C + first + c]! * kernel[((ky * kw + kx) * Cg + c) * filters + f]!;
              }
            }
          }
          out.data[((n * rows.out + oy) * cols.out + ox) * filters + f] = acc;
        }
      }
    }
  }
  return out;
}

export interface Conv2DTransposeParams extends Conv2DParams {
  /** Keras's output_padding, or null for its default output lengths. */
  outputPadding: [number, number] | null;
}

/**
 * One axis of a transposed convolution: Keras's output length (deconv_output_length) and the
 * padding TensorFlow gives the convolution it transposes (from that length back to n): the
 * smaller half of max((n - 1) * s + span - length, 0) before the first cell, for "same".
 */
function transposedAxis(n: number, kernel: number, stride: number, dilation: number, padding: 'valid' | 'same', outputPadding: number | null): { out: number; before: number } {
  const span = (kernel - 1) * dilation + 1;
  let out: number;
  if (outputPadding === null) out = padding === 'valid' ? n * stride + Math.max(span - stride, 0) : n * stride;
  else out = (n - 1) * stride + span - 2 * (padding === 'same' ? Math.floor(span / 2) : 0) + outputPadding;
  const total = padding === 'same' ? Math.max((n - 1) * stride + span - out, 0) : 0;
  return { out, before: Math.floor(total / 2) };
}

/**
 * x (N, H, W, C), kernel (kh, kw, F, C), bias (F) or null -> (N, OH, OW, F): input pixel (y, x)
 * adds kernel[ky, kx, :, c] * x[..., c] at output row y * s - before + ky * d (and likewise
 * for columns), the transpose of conv2dForward's gather.
 */
export function conv2dTransposeForward(x: RefTensor, kernel: Float32Array, bias: Float32Array | null, filters: number, p: Conv2DTransposeParams): RefTensor {
  const [N, H, W, C] = x.shape as [number, number, number, number];
  const [kh, kw] = p.kernelSize;
  const [sh, sw] = p.strides;
  const [dh, dw] = p.dilationRate;
  if (kernel.length !== kh * kw * filters * C) throw new Error(`reference conv2d transpose: kernel has ${kernel.length} values, expected ${kh}x${kw}x${filters}x${C}`);
  const rows = transposedAxis(H, kh, sh, dh, p.padding, p.outputPadding?.[0] ?? null);
  const cols = transposedAxis(W, kw, sw, dw, p.padding, p.outputPadding?.[1] ?? null);
  const out = tensor([N, rows.out, cols.out, filters]);
  for (let n = 0; n < N; n++) {
    for (let iy = 0; iy < H; iy++) {
      for (let ix = 0; ix < W; ix++) {
        for (let ky = 0; ky < kh; ky++) {
          const oy = iy * sh - rows.before + ky * dh;
          if (oy < 0 || oy >= rows.out) continue;
          for (let kx = 0; kx < kw; kx++) {
            const ox = ix * sw - cols.before + kx * dw;
            if (ox < 0 || ox >= cols.out) continue;
            for (let f = 0; f < filters; f++) {
              let acc = 0;
              for (let c = 0; c < C; c++) acc += x.data[((n * H + iy) * W + ix) * C + c]! * kernel[((ky * kw + kx) * filters + f) * C + c]!;
              out.data[((n * rows.out + oy) * cols.out + ox) * filters + f] += acc;
            }
          }
        }
      }
    }
  }
  if (bias) for (let i = 0; i < out.data.length; i++) out.data[i] += bias[i % filters]!;
  return out;
}

/**
 * x (N, H, W, C), kernel (kh, kw, C, M), bias (C * M) or null -> (N, OH, OW, C * M): output
 * channel c * M + m is input channel c convolved with kernel[:, :, c, m] alone.
 */
export function depthwiseConv2dForward(x: RefTensor, kernel: Float32Array, bias: Float32Array | null, multiplier: number, p: Conv2DParams): RefTensor {
  const [N, H, W, C] = x.shape as [number, number, number, number];
  const [kh, kw] = p.kernelSize;
  const [sh, sw] = p.strides;
  const [dh, dw] = p.dilationRate;
  if (kernel.length !== kh * kw * C * multiplier) throw new Error(`reference depthwise conv2d: kernel has ${kernel.length} values, expected ${kh}x${kw}x${C}x${multiplier}`);
  const rows = paddingFor(H, kh, sh, dh, p.padding);
  const cols = paddingFor(W, kw, sw, dw, p.padding);
  const F = C * multiplier;
  const out = tensor([N, rows.out, cols.out, F]);
  for (let n = 0; n < N; n++) {
    for (let oy = 0; oy < rows.out; oy++) {
      for (let ox = 0; ox < cols.out; ox++) {
        for (let c = 0; c < C; c++) {
          for (let m = 0; m < multiplier; m++) {
            let acc = bias ? bias[c * multiplier + m]! : 0;
            for (let ky = 0; ky < kh; ky++) {
              const iy = oy * sh - rows.before + ky * dh;
              if (iy < 0 || iy >= H) continue;
              for (let kx = 0; kx < kw; kx++) {
                const ix = ox * sw - cols.before + kx * dw;
                if (ix < 0 || ix >= W) continue;
                acc += x.data[((n * H + iy) * W + ix) * C + c]! * kernel[((ky * kw + kx) * C + c) * multiplier + m]!;
              }
            }
            out.data[((n * rows.out + oy) * cols.out + ox) * F + c * multiplier + m] = acc;
          }
        }
      }
    }
  }
  return out;
}

/** x (N, H, W, C) -> (N, top + H + bottom, left + W + right, C), zeros around. */
export function zeroPadding2dForward(x: RefTensor, [[top, bottom], [left, right]]: [[number, number], [number, number]]): RefTensor {
  const [N, H, W, C] = x.shape as [number, number, number, number];
  const OH = top + H + bottom;
  const OW = left + W + right;
  const out = tensor([N, OH, OW, C]);
  for (let n = 0; n < N; n++)
    for (let y = 0; y < H; y++)
      for (let xx = 0; xx < W; xx++)
        for (let c = 0; c < C; c++) out.data[((n * OH + y + top) * OW + xx + left) * C + c] = x.data[((n * H + y) * W + xx) * C + c]!;
  return out;
}

/** x (N, H, W, C) -> (N, H - top - bottom, W - left - right, C): the middle kept. */
export function cropping2dForward(x: RefTensor, [[top, bottom], [left, right]]: [[number, number], [number, number]]): RefTensor {
  const [N, H, W, C] = x.shape as [number, number, number, number];
  const OH = H - top - bottom;
  const OW = W - left - right;
  const out = tensor([N, OH, OW, C]);
  for (let n = 0; n < N; n++)
    for (let y = 0; y < OH; y++)
      for (let xx = 0; xx < OW; xx++)
        for (let c = 0; c < C; c++) out.data[((n * OH + y) * OW + xx) * C + c] = x.data[((n * H + y + top) * W + xx + left) * C + c]!;
  return out;
}

/** x (N, d1, ..., dk) -> (N, d[dims[0]], ..., d[dims[k-1]]): axes after the batch reordered (1-based dims). */
export function permuteForward(x: RefTensor, dims: readonly number[]): RefTensor {
  const outShape = [x.shape[0]!, ...dims.map((d) => x.shape[d]!)];
  const out = tensor(outShape);
  const inStrides = stridesOf(x.shape);
  const perm = [0, ...dims];
  const index = new Array<number>(outShape.length).fill(0);
  for (let i = 0; i < out.data.length; i++) {
    let source = 0;
    for (let a = 0; a < outShape.length; a++) source += index[a]! * inStrides[perm[a]!]!;
    out.data[i] = x.data[source]!;
    for (let a = outShape.length - 1; a >= 0 && ++index[a]! === outShape[a]; a--) index[a] = 0;
  }
  return out;
}

/** x (N, F) -> (N, n, F): each row n times. */
export function repeatVectorForward(x: RefTensor, n: number): RefTensor {
  const [N, F] = x.shape as [number, number];
  const out = tensor([N, n, F]);
  for (let b = 0; b < N; b++) for (let r = 0; r < n; r++) for (let f = 0; f < F; f++) out.data[(b * n + r) * F + f] = x.data[b * F + f]!;
  return out;
}

/**
 * x (N, H, W, C) -> (N, OH, OW, C) as TensorFlow 2's tf.image.resize computes it (Keras 3's
 * ops.image.resize, antialias off; half_pixel_centers): bilinear samples (o + 0.5) * H / OH - 0.5
 * between floor and ceil of it, clamped into the image (tensorflow/core/kernels/image/
 * resize_bilinear_op.cc, compute_interpolation_weights); nearest takes min(floor((o + 0.5) *
 * H / OH), H - 1) (resize_nearest_neighbor_op.cc).
 */
export function resizeForward(x: RefTensor, OH: number, OW: number, interpolation: 'nearest' | 'bilinear'): RefTensor {
  const [N, H, W, C] = x.shape as [number, number, number, number];
  const taps = (o: number, from: number, to: number): [number, number, number] => {
    const scale = from / to;
    if (interpolation === 'nearest') {
      const i = Math.min(Math.floor((o + 0.5) * scale), from - 1);
      return [i, i, 0];
    }
    const at = (o + 0.5) * scale - 0.5;
    return [Math.max(Math.floor(at), 0), Math.min(Math.ceil(at), from - 1), at - Math.floor(at)];
  };
  const out = tensor([N, OH, OW, C]);
  const pixel = (n: number, y: number, xx: number, c: number) => x.data[((n * H + y) * W + xx) * C + c]!;
  for (let n = 0; n < N; n++)
    for (let oy = 0; oy < OH; oy++) {
      const [y0, y1, wy] = taps(oy, H, OH);
      for (let ox = 0; ox < OW; ox++) {
        const [x0, x1, wx] = taps(ox, W, OW);
        for (let c = 0; c < C; c++) {
          const top = pixel(n, y0, x0, c) + (pixel(n, y0, x1, c) - pixel(n, y0, x0, c)) * wx;
          const bottom = pixel(n, y1, x0, c) + (pixel(n, y1, x1, c) - pixel(n, y1, x0, c)) * wx;
          out.data[((n * OH + oy) * OW + ox) * C + c] = top + (bottom - top) * wy;
        }
      }
    }
  return out;
}

/** UpSampling2D's nearest: every row repeated size[0] times and every column size[1] times (ops.repeat). */
export function repeatForward(x: RefTensor, [sh, sw]: [number, number]): RefTensor {
  const [N, H, W, C] = x.shape as [number, number, number, number];
  const out = tensor([N, H * sh, W * sw, C]);
  for (let n = 0; n < N; n++)
    for (let y = 0; y < H * sh; y++)
      for (let xx = 0; xx < W * sw; xx++)
        for (let c = 0; c < C; c++) out.data[((n * H * sh + y) * W * sw + xx) * C + c] = x.data[((n * H + Math.floor(y / sh)) * W + Math.floor(xx / sw)) * C + c]!;
  return out;
}

function upSampling2dForward(layer: UpSampling2D, x: RefTensor): RefTensor {
  if (layer.interpolation === 'nearest') return repeatForward(x, layer.size);
  return resizeForward(x, x.shape[1]! * layer.size[0], x.shape[2]! * layer.size[1], 'bilinear');
}

export interface Pool2DParams {
  poolSize: [number, number];
  strides: [number, number];
  padding: 'valid' | 'same';
}

/**
 * x (N, H, W, C) -> (N, OH, OW, C). Padded cells take no part: max is over the window's
 * cells inside the image, and the average divides by their count (TensorFlow's behaviour).
 */
export function pool2dForward(x: RefTensor, mode: 'max' | 'average', p: Pool2DParams): RefTensor {
  const [N, H, W, C] = x.shape as [number, number, number, number];
  const [ph, pw] = p.poolSize;
  const [sh, sw] = p.strides;
  const rows = paddingFor(H, ph, sh, 1, p.padding);
  const cols = paddingFor(W, pw, sw, 1, p.padding);
  const out = tensor([N, rows.out, cols.out, C]);
  for (let n = 0; n < N; n++) {
    for (let oy = 0; oy < rows.out; oy++) {
      for (let ox = 0; ox < cols.out; ox++) {
        for (let c = 0; c < C; c++) {
          let max = -Infinity;
          let sum = 0;
          let count = 0;
          for (let ky = 0; ky < ph; ky++) {
            const iy = oy * sh - rows.before + ky;
            if (iy < 0 || iy >= H) continue;
            for (let kx = 0; kx < pw; kx++) {
              const ix = ox * sw - cols.before + kx;
              if (ix < 0 || ix >= W) continue;
              const v = x.data[((n * H + iy) * W + ix) * C + c]!;
              max = Math.max(max, v);
              sum += v;
              count++;
            }
          }
          out.data[((n * rows.out + oy) * cols.out + ox) * C + c] = mode === 'max' ? max : sum / count;
        }
      }
    }
  }
  return out;
}

/** x (N, d1, ..., dk, C) -> (N, C), or (N, 1, ..., 1, C) with keepdims: the mean or the max over d1..dk. */
export function globalPoolingForward(x: RefTensor, mode: 'max' | 'average', keepdims: boolean): RefTensor {
  const N = x.shape[0]!;
  const C = x.shape[x.shape.length - 1]!;
  const cells = sizeOfShape(x.shape.slice(1, -1));
  const outShape = keepdims ? [N, ...x.shape.slice(1, -1).map(() => 1), C] : [N, C];
  const out = tensor(outShape);
  for (let n = 0; n < N; n++) {
    for (let c = 0; c < C; c++) {
      let sum = 0;
      let max = -Infinity;
      for (let i = 0; i < cells; i++) {
        const v = x.data[(n * cells + i) * C + c]!;
        sum += v;
        max = Math.max(max, v);
      }
      out.data[n * C + c] = mode === 'max' ? max : sum / cells;
    }
  }
  return out;
}

/** x (N, L, C) as the image (N, 1, L, C), and back: Keras's 1-D ops are its 2-D ones at height 1. */
function asImage(x: RefTensor): RefTensor {
  return tensor([x.shape[0]!, 1, x.shape[1]!, x.shape[2]!], x.data);
}
function asSequence(x: RefTensor): RefTensor {
  return tensor([x.shape[0]!, x.shape[2]!, x.shape[3]!], x.data);
}

/** x (N, L, C) -> (N, L + before, C): zeros at the start (Conv1D's "causal" padding). */
export function padSequenceStart(x: RefTensor, before: number): RefTensor {
  const [N, L, C] = x.shape as [number, number, number];
  const out = tensor([N, L + before, C]);
  for (let n = 0; n < N; n++) for (let i = 0; i < L * C; i++) out.data[(n * (L + before) + before) * C + i] = x.data[n * L * C + i]!;
  return out;
}

/** x (N, L, C) -> (N, start + L + end, C), zero steps at both ends: ZeroPadding2D's columns of a height-1 image. */
export function zeroPadding1dForward(x: RefTensor, [start, end]: [number, number]): RefTensor {
  return asSequence(zeroPadding2dForward(asImage(x), [[0, 0], [start, end]]));
}

/** x (N, L, C) -> (N, L - start - end, C). */
export function cropping1dForward(x: RefTensor, [start, end]: [number, number]): RefTensor {
  return asSequence(cropping2dForward(asImage(x), [[0, 0], [start, end]]));
}

/** x (N, L, C) -> (N, L * size, C), each step repeated size times (ops.repeat along axis 1). */
export function upSampling1dForward(x: RefTensor, size: number): RefTensor {
  return asSequence(repeatForward(asImage(x), [1, size]));
}

/**
 * TimeDistributed as Keras 3 computes it: the wrapped layer called on each time step x[:, t]
 * (N, ...) on its own, the results stacked along axis 1: x (N, T, ...) -> (N, T, ...out).
 */
function timeDistributedForward(layer: TimeDistributed, x: RefTensor): RefTensor {
  const [N, T, ...step] = x.shape as number[];
  const stepSize = sizeOfShape(step);
  const outputs: RefTensor[] = [];
  for (let t = 0; t < T!; t++) {
    const frame = tensor([N!, ...step]);
    for (let n = 0; n < N!; n++) frame.data.set(x.data.subarray((n * T! + t) * stepSize, (n * T! + t + 1) * stepSize), n * stepSize);
    outputs.push(single(layer.layer, layerForward(layer.layer, [frame])));
  }
  const [, ...outStep] = outputs[0]!.shape;
  const outSize = sizeOfShape(outStep);
  const out = tensor([N!, T!, ...outStep]);
  outputs.forEach((y, t) => {
    for (let n = 0; n < N!; n++) out.data.set(y.data.subarray(n * outSize, (n + 1) * outSize), (n * T! + t) * outSize);
  });
  return out;
}

/**
 * x (N, L, C), kernel (k, C / groups, F) -> (N, OL, F). "causal" is the zeros Keras puts before
 * the sequence ((k - 1) * dilation of them), then "valid".
 */
export function conv1dForward(x: RefTensor, kernel: Float32Array, bias: Float32Array | null, filters: number, p: Conv1DParams): RefTensor {
  const causal = p.padding === 'causal';
  const padded = causal ? padSequenceStart(x, (p.kernelSize[0] - 1) * p.dilationRate[0]) : x;
  const params: Conv2DParams = { kernelSize: [1, p.kernelSize[0]], strides: [1, p.strides[0]], dilationRate: [1, p.dilationRate[0]], padding: p.padding === 'causal' ? 'valid' : p.padding, groups: p.groups };
  return asSequence(conv2dForward(asImage(padded), kernel, bias, filters, params));
}

export interface Conv1DParams {
  kernelSize: [number];
  strides: [number];
  dilationRate: [number];
  padding: 'valid' | 'same' | 'causal';
  groups: number;
}

/** ids (N, ...) holding integers as floats, table (inputDim, outputDim) -> (N, ..., outputDim). */
export function embeddingForward(ids: RefTensor, table: Float32Array, inputDim: number, outputDim: number): RefTensor {
  const out = tensor([...ids.shape, outputDim]);
  for (let i = 0; i < ids.data.length; i++) {
    // Keras casts the ids to int32, which truncates toward zero.
    const id = Math.trunc(ids.data[i]!);
    if (!(id >= 0 && id < inputDim)) throw new RangeError(`reference embedding: id ${ids.data[i]} at flat position ${i} is outside [0, ${inputDim})`);
    for (let j = 0; j < outputDim; j++) out.data[i * outputDim + j] = table[id * outputDim + j]!;
  }
  return out;
}

/** (N, ...) -> (N, ...target) with one -1 inferred; the data keeps its row-major order. */
export function reshapeForward(x: RefTensor, targetShape: readonly number[]): RefTensor {
  const N = x.shape[0]!;
  const perSample = sizeOfShape(x.shape.slice(1));
  const known = targetShape.filter((d) => d !== -1).reduce((a, b) => a * b, 1);
  const target = targetShape.map((d) => (d === -1 ? perSample / known : d));
  if (!target.every(Number.isInteger) || target.reduce((a, b) => a * b, 1) !== perSample) {
    throw new RangeError(`reference reshape: cannot reshape [${x.shape.join(', ')}] to (batch, ${targetShape.join(', ')})`);
  }
  return { shape: [N, ...target], data: Float64Array.from(x.data) };
}

/** (N, d1, d2, ...) -> (N, d1 * d2 * ...), row-major over (H, W, C) as Keras's channels-last Flatten. */
export function flattenForward(x: RefTensor): RefTensor {
  return { shape: [x.shape[0]!, sizeOfShape(x.shape.slice(1))], data: Float64Array.from(x.data) };
}

/** x (..., C): gamma * (x - moving_mean) / sqrt(moving_variance + epsilon) + beta, per channel. */
export function batchNormForward(
  x: RefTensor,
  gamma: Float32Array | null,
  beta: Float32Array | null,
  movingMean: Float32Array,
  movingVariance: Float32Array,
  epsilon: number,
): RefTensor {
  const C = x.shape[x.shape.length - 1]!;
  const out = tensor(x.shape);
  for (let i = 0; i < x.data.length; i++) {
    const c = i % C;
    const normalized = (x.data[i]! - movingMean[c]!) / Math.sqrt(movingVariance[c]! + epsilon);
    out.data[i] = (gamma ? gamma[c]! : 1) * normalized + (beta ? beta[c]! : 0);
  }
  return out;
}

/** x * scale + offset, elementwise. */
export function rescalingForward(x: RefTensor, scale: number, offset: number): RefTensor {
  return { shape: [...x.shape], data: Float64Array.from(x.data, (v) => v * scale + offset) };
}

/**
 * Keras's Normalization.call: (x - mean) / max(sqrt(variance), 1e-7), or inverted
 * mean + x * max(sqrt(variance), 1e-7), the statistics broadcast along the reduced axes.
 */
export function normalizationForward(x: RefTensor, layer: Normalization): RefTensor {
  const { mean, variance } = layer.statistics();
  const broadcast = layer.broadcastShape;
  const out = tensor(x.shape);
  for (let i = 0; i < x.data.length; i++) {
    // the statistics' index: x's coordinates along the kept axes (broadcast size > 1 or the only one)
    let rest = i, k = 0, stride = 1;
    for (let axis = x.shape.length - 1; axis >= 0; axis--) {
      const coordinate = rest % x.shape[axis]!;
      rest = Math.floor(rest / x.shape[axis]!);
      if (broadcast[axis] !== 1) {
        k += coordinate * stride;
        stride *= broadcast[axis]!;
      }
    }
    const deviation = Math.max(Math.sqrt(variance[k]!), 1e-7);
    out.data[i] = layer.invert ? mean[k]! + x.data[i]! * deviation : (x.data[i]! - mean[k]!) / deviation;
  }
  return out;
}

/** Inputs equal in every dimension but `axis` (negative counts from the end) -> joined along it. */
export function concatenateForward(xs: RefTensor[], axis: number): RefTensor {
  const rank = xs[0]!.shape.length;
  const a = axis < 0 ? rank + axis : axis;
  if (a < 0 || a >= rank) throw new RangeError(`reference concatenate: axis ${axis} is out of range for rank ${rank}`);
  for (const x of xs) {
    if (x.shape.length !== rank || x.shape.some((d, i) => i !== a && d !== xs[0]!.shape[i])) {
      throw new RangeError(`reference concatenate: shapes ${xs.map((t) => `[${t.shape.join(', ')}]`).join(', ')} differ off axis ${axis}`);
    }
  }
  const outer = sizeOfShape(xs[0]!.shape.slice(0, a));
  const chunks = xs.map((x) => sizeOfShape(x.shape.slice(a)));
  const shape = [...xs[0]!.shape];
  shape[a] = xs.reduce((n, x) => n + x.shape[a]!, 0);
  const out = tensor(shape);
  let k = 0;
  for (let o = 0; o < outer; o++) {
    xs.forEach((x, j) => {
      const chunk = chunks[j]!;
      for (let i = 0; i < chunk; i++) out.data[k++] = x.data[o * chunk + i]!;
    });
  }
  return out;
}

/** Elementwise sum of inputs of one rank; a dimension of size 1 broadcasts (Keras's merge rule). */
export function addForward(xs: RefTensor[]): RefTensor {
  return elementwiseForward(xs, 0, (a, b) => a + b);
}

/** Elementwise product, with addForward's broadcasting. */
export function multiplyForward(xs: RefTensor[]): RefTensor {
  return elementwiseForward(xs, 1, (a, b) => a * b);
}

/** Elementwise mean, with addForward's broadcasting. */
export function averageForward(xs: RefTensor[]): RefTensor {
  const sum = addForward(xs);
  return tensor(sum.shape, sum.data.map((v) => v / xs.length));
}

/** The first input minus the second, with addForward's broadcasting. */
export function subtractForward([a, b]: RefTensor[]): RefTensor {
  return addForward([a!, tensor(b!.shape, b!.data.map((v) => -v))]);
}

/** Elementwise maximum, with addForward's broadcasting. */
export function maximumForward(xs: RefTensor[]): RefTensor {
  return elementwiseForward(xs, -Infinity, Math.max);
}

/** Elementwise minimum, with addForward's broadcasting. */
export function minimumForward(xs: RefTensor[]): RefTensor {
  return elementwiseForward(xs, Infinity, Math.min);
}

/** Keras 3's L2 normalization along an axis (keras.ops.normalize, order 2): x * min(1 / sqrt(sum x^2), 1 / 1e-7). */
export function l2NormalizeForward(x: RefTensor, axis: number): RefTensor {
  const n = x.shape[axis]!;
  const step = stridesOf(x.shape)[axis]!;
  const out = tensor(x.shape);
  for (let i = 0; i < x.data.length; i++) {
    const start = i - (Math.floor(i / step) % n) * step;
    let squares = 0;
    for (let k = 0; k < n; k++) squares += x.data[start + k * step]! ** 2;
    out.data[i] = x.data[i]! * Math.min(1 / Math.sqrt(squares), 1e7);
  }
  return out;
}

/** The offsets, within one sample, of every coordinate of the axes past the batch but `axis`, in row-major order. */
function offsetsWithout(shape: readonly number[], axis: number): number[] {
  const strides = stridesOf(shape);
  let offsets = [0];
  for (let k = 1; k < shape.length; k++) {
    if (k === axis) continue;
    offsets = offsets.flatMap((o) => Array.from({ length: shape[k]! }, (_, i) => o + i * strides[k]!));
  }
  return offsets;
}

/**
 * Keras's Dot: x (N, ...) and y (N, ...) summed over x's axis a and y's axis b (both past the
 * batch); out (N, x's other axes..., y's other axes...), (N, 1) when that leaves only N.
 */
export function dotForward(x: RefTensor, y: RefTensor, [a, b]: [number, number], normalize: boolean): RefTensor {
  if (normalize) [x, y] = [l2NormalizeForward(x, a), l2NormalizeForward(y, b)];
  const xStrides = stridesOf(x.shape), yStrides = stridesOf(y.shape);
  const xOffsets = offsetsWithout(x.shape, a), yOffsets = offsetsWithout(y.shape, b);
  const N = x.shape[0]!, K = x.shape[a]!;
  const shape = [N, ...x.shape.filter((_, k) => k !== 0 && k !== a), ...y.shape.filter((_, k) => k !== 0 && k !== b)];
  const out = tensor(shape.length === 1 ? [N, 1] : shape);
  let o = 0;
  for (let n = 0; n < N; n++) {
    for (const xo of xOffsets) {
      for (const yo of yOffsets) {
        let sum = 0;
        for (let k = 0; k < K; k++) sum += x.data[n * xStrides[0]! + xo + k * xStrides[a]!]! * y.data[n * yStrides[0]! + yo + k * yStrides[b]!]!;
        out.data[o++] = sum;
      }
    }
  }
  return out;
}

function elementwiseForward(xs: RefTensor[], identity: number, combine: (a: number, b: number) => number): RefTensor {
  const rank = xs[0]!.shape.length;
  const shape = xs[0]!.shape.map((_, k) => Math.max(...xs.map((x) => x.shape[k]!)));
  for (const x of xs) {
    if (x.shape.length !== rank || x.shape.some((d, k) => d !== 1 && d !== shape[k])) {
      throw new RangeError(`reference add: shapes ${xs.map((t) => `[${t.shape.join(', ')}]`).join(', ')} do not broadcast`);
    }
  }
  const out = tensor(shape);
  out.data.fill(identity);
  const outStrides = stridesOf(shape);
  for (const x of xs) {
    const xStrides = stridesOf(x.shape);
    for (let i = 0; i < out.data.length; i++) {
      let offset = 0;
      for (let k = 0; k < rank; k++) {
        const coordinate = Math.floor(i / outStrides[k]!) % shape[k]!;
        if (x.shape[k] !== 1) offset += coordinate * xStrides[k]!;
      }
      out.data[i] = combine(out.data[i]!, x.data[offset]!);
    }
  }
  return out;
}

/**
 * Keras's PReLU, as its call computes it: relu(x) - alpha * relu(-x), alpha (alphaShape, the
 * input's shape past the batch with 1 along shared axes) broadcast over x (N, ...).
 */
export function preluForward(x: RefTensor, alpha: Float32Array, alphaShape: readonly number[]): RefTensor {
  const out = tensor(x.shape);
  const dims = x.shape.slice(1);
  const perRow = sizeOfShape(dims);
  for (let i = 0; i < x.data.length; i++) {
    // the element's coordinates past the batch, folded onto alpha's shape (0 along a shared axis)
    let rest = i % perRow, a = 0, stride = 1;
    for (let k = dims.length - 1; k >= 0; k--) {
      const c = rest % dims[k]!;
      rest = Math.floor(rest / dims[k]!);
      a += (alphaShape[k] === 1 ? 0 : c) * stride;
      stride *= alphaShape[k]!;
    }
    const v = x.data[i]!;
    out.data[i] = Math.max(v, 0) - alpha[a]! * Math.max(-v, 0);
  }
  return out;
}

/**
 * Keras's LayerNormalization of each sample over `axes` (positive, ascending): (x - mean) /
 * sqrt(variance + epsilon), the variance biased, times gamma plus beta, both shaped as the
 * normalized axes (null: absent).
 */
export function layerNormForward(x: RefTensor, axes: readonly number[], gamma: ArrayLike<number> | null, beta: ArrayLike<number> | null, epsilon: number): RefTensor {
  const strides = stridesOf(x.shape);
  const normalized = (i: number) => axes.includes(i);
  // a position's group (the other axes' coordinates) and its place among the normalized values
  const groupOf = (flat: number) => x.shape.map((d, k) => (normalized(k) ? 0 : Math.floor(flat / strides[k]!) % d)).join(',');
  const paramIndex = (flat: number) => axes.reduce((at, k) => at * x.shape[k]! + (Math.floor(flat / strides[k]!) % x.shape[k]!), 0);
  const groups = new Map<string, number[]>();
  for (let i = 0; i < x.data.length; i++) {
    const key = groupOf(i);
    const members = groups.get(key) ?? [];
    members.push(i);
    groups.set(key, members);
  }
  const out = tensor(x.shape);
  for (const members of groups.values()) {
    const mean = members.reduce((sum, i) => sum + x.data[i]!, 0) / members.length;
    const variance = members.reduce((sum, i) => sum + (x.data[i]! - mean) ** 2, 0) / members.length;
    for (const i of members) {
      const p = paramIndex(i);
      out.data[i] = ((x.data[i]! - mean) / Math.sqrt(variance + epsilon)) * (gamma ? gamma[p]! : 1) + (beta ? beta[p]! : 0);
    }
  }
  return out;
}

// ---------------------------------------------------------------------------------------
// Recurrent layers, as Keras's cells compute them (keras/src/layers/rnn/lstm.py, gru.py,
// simple_rnn.py): per step z = x W + h U + b with the gates in Keras's order.

export interface RecurrentParams {
  kind: 'lstm' | 'gru' | 'simple_rnn';
  units: number;
  activation: ActivationName;
  recurrentActivation: ActivationName;
  /** GRU only: the reset gate multiplies (h U_h + b_h) rather than h. */
  resetAfter: boolean;
  goBackwards: boolean;
  returnSequences: boolean;
}

/** x (n, steps) @ W (steps, cols) for one row vector: out[c] = sum_k v[k] W[k, c]. */
function rowTimesMatrix(v: ArrayLike<number>, w: Float32Array, cols: number): Float64Array {
  const out = new Float64Array(cols);
  for (let k = 0; k < v.length; k++) for (let c = 0; c < cols; c++) out[c]! += v[k]! * w[k * cols + c]!;
  return out;
}

/**
 * x (n, steps, features), kernel (features, g*units), recurrent (units, g*units), bias (g*units)
 * or GRU reset_after's (2, 3*units) -> [output, ...final states]: output (n, units) or, with
 * return_sequences, (n, steps, units) in processing order; states (n, units) each (LSTM h, c).
 */
export function recurrentForward(x: RefTensor, kernel: Float32Array, recurrent: Float32Array, bias: Float32Array | null, p: RecurrentParams): RefTensor[] {
  const [n, steps, features] = x.shape as [number, number, number];
  const u = p.units;
  const g = p.kind === 'lstm' ? 4 : p.kind === 'gru' ? 3 : 1;
  const act = ELEMENTWISE_ACTIVATIONS[p.activation as Exclude<ActivationName, 'softmax'>];
  const gate = ELEMENTWISE_ACTIVATIONS[p.recurrentActivation as Exclude<ActivationName, 'softmax'>];
  const inputBias = (j: number) => (bias ? bias[j]! : 0);
  const recurrentBias = (j: number) => (bias && p.kind === 'gru' && p.resetAfter ? bias[g * u + j]! : 0);
  const sequences = tensor([n, steps, u]);
  const hOut = tensor([n, u]);
  const cOut = tensor([n, u]);
  for (let b = 0; b < n; b++) {
    let h = new Float64Array(u);
    let c = new Float64Array(u);
    for (let s = 0; s < steps; s++) {
      const t = p.goBackwards ? steps - 1 - s : s;
      const xt = x.data.subarray((b * steps + t) * features, (b * steps + t + 1) * features);
      const xw = rowTimesMatrix(xt, kernel, g * u).map((v, j) => v + inputBias(j));
      const hu = rowTimesMatrix(h, recurrent, g * u).map((v, j) => v + recurrentBias(j));
      const next = new Float64Array(u);
      if (p.kind === 'lstm') {
        for (let j = 0; j < u; j++) {
          const i = gate(xw[j]! + hu[j]!);
          const f = gate(xw[u + j]! + hu[u + j]!);
          c[j] = f * c[j]! + i * act(xw[2 * u + j]! + hu[2 * u + j]!);
          next[j] = gate(xw[3 * u + j]! + hu[3 * u + j]!) * act(c[j]!);
        }
      } else if (p.kind === 'gru') {
        const z = Float64Array.from({ length: u }, (_, j) => gate(xw[j]! + hu[j]!));
        const r = Float64Array.from({ length: u }, (_, j) => gate(xw[u + j]! + hu[u + j]!));
        // reset_after: r * (h U_h + b_h); otherwise (r * h) U_h
        const candidateRecurrent = p.resetAfter
          ? Float64Array.from({ length: u }, (_, j) => r[j]! * hu[2 * u + j]!)
          : rowTimesMatrix(Float64Array.from(h, (v, j) => v * r[j]!), recurrent.filter((_, k) => k % (3 * u) >= 2 * u), u);
        for (let j = 0; j < u; j++) next[j] = z[j]! * h[j]! + (1 - z[j]!) * act(xw[2 * u + j]! + candidateRecurrent[j]!);
      } else {
        for (let j = 0; j < u; j++) next[j] = act(xw[j]! + hu[j]!);
      }
      h = next;
      sequences.data.set(h, (b * steps + s) * u);
    }
    hOut.data.set(h, b * u);
    cOut.data.set(c, b * u);
    c = new Float64Array(u);
  }
  const states = p.kind === 'lstm' ? [hOut, cOut] : [hOut];
  return [p.returnSequences ? sequences : tensor(hOut.shape, hOut.data), ...states];
}

/** A recurrent layer's call: its output, then its final states when return_state asks for them. */
function recurrentLayerForward(layer: RecurrentLayer, x: RefTensor): RefTensor[] {
  const kind = layer instanceof LSTM ? 'lstm' : layer instanceof GRU ? 'gru' : 'simple_rnn';
  const params: RecurrentParams = {
    kind, units: layer.units, activation: layer.activation, recurrentActivation: layer.recurrentActivation,
    resetAfter: layer instanceof GRU && layer.resetAfter, goBackwards: layer.goBackwards, returnSequences: layer.returnSequences,
  };
  const [output, ...states] = recurrentForward(x, weight(layer, 'kernel'), weight(layer, 'recurrent_kernel'), optionalWeight(layer, 'bias', layer.useBias), params);
  return layer.returnState ? [output!, ...states] : [output!];
}

/** Reverses a (n, steps, units) sequence in time. */
function reverseSteps(x: RefTensor): RefTensor {
  const [n, steps, u] = x.shape as [number, number, number];
  const out = tensor(x.shape);
  for (let b = 0; b < n; b++) for (let t = 0; t < steps; t++) out.data.set(x.data.subarray((b * steps + t) * u, (b * steps + t + 1) * u), (b * steps + steps - 1 - t) * u);
  return out;
}

/** Keras's Bidirectional: the backward outputs put back in time order, merged; then the forward and backward states. */
function bidirectionalForward(layer: Bidirectional, x: RefTensor): RefTensor[] {
  const [forward, ...forwardStates] = recurrentLayerForward(layer.forwardLayer, x);
  const [backwardRaw, ...backwardStates] = recurrentLayerForward(layer.backwardLayer, x);
  const backward = layer.forwardLayer.returnSequences ? reverseSteps(backwardRaw!) : backwardRaw!;
  const merged =
    layer.mergeMode === 'concat' ? concatenateForward([forward!, backward], -1)
    : layer.mergeMode === 'sum' ? addForward([forward!, backward])
    : layer.mergeMode === 'mul' ? multiplyForward([forward!, backward])
    : averageForward([forward!, backward]);
  return [merged, ...forwardStates, ...backwardStates];
}

export interface AttentionParams {
  scoreMode: 'dot' | 'concat';
  /** The trained `scale` (use_scale), or null. */
  scale: number | null;
  /** concat_score_weight (score_mode "concat"). */
  concatWeight: number;
  causal: boolean;
}

/**
 * Keras's Attention for query (B, Tq, D), value (B, Tv, Dv), key (B, Tv, D): scores
 * q . k (times scale), or concatWeight * sum_d tanh(scale * (q_d + k_d)); causal: minus 1e9
 * where j > i; softmax over j; returns [weights @ value (B, Tq, Dv), weights (B, Tq, Tv)].
 */
export function attentionForward(query: RefTensor, value: RefTensor, key: RefTensor, p: AttentionParams): [RefTensor, RefTensor] {
  const [B, Tq, D] = query.shape as [number, number, number];
  const [, Tv, Dv] = value.shape as [number, number, number];
  const weights = tensor([B, Tq, Tv]);
  const out = tensor([B, Tq, Dv]);
  for (let b = 0; b < B; b++) {
    for (let i = 0; i < Tq; i++) {
      const scores = Array.from({ length: Tv }, (_, j) => {
        let s = 0;
        for (let d = 0; d < D; d++) {
          const q = query.data[(b * Tq + i) * D + d]!;
          const k = key.data[(b * Tv + j) * D + d]!;
          s += p.scoreMode === 'dot' ? q * k : Math.tanh((p.scale ?? 1) * (q + k));
        }
        s = p.scoreMode === 'dot' ? s * (p.scale ?? 1) : s * p.concatWeight;
        return p.causal && j > i ? s - 1e9 : s;
      });
      const max = Math.max(...scores);
      const exps = scores.map((s) => Math.exp(s - max));
      const total = exps.reduce((a, e) => a + e, 0);
      exps.forEach((e, j) => (weights.data[(b * Tq + i) * Tv + j] = e / total));
      for (let c = 0; c < Dv; c++) {
        let sum = 0;
        for (let j = 0; j < Tv; j++) sum += weights.data[(b * Tq + i) * Tv + j]! * value.data[(b * Tv + j) * Dv + c]!;
        out.data[(b * Tq + i) * Dv + c] = sum;
      }
    }
  }
  return [out, weights];
}

/** x (B, T, F) times an EinsumDense kernel (F, heads, size) plus bias (heads, size): (B, T, heads, size). */
function projectHeads(x: RefTensor, kernel: Float32Array, bias: Float32Array | null, heads: number, size: number): RefTensor {
  const [B, T, F] = x.shape as [number, number, number];
  const out = tensor([B, T, heads, size]);
  for (let bt = 0; bt < B * T; bt++) {
    for (let o = 0; o < heads * size; o++) {
      let sum = bias ? bias[o]! : 0;
      for (let f = 0; f < F; f++) sum += x.data[bt * F + f]! * kernel[f * heads * size + o]!;
      out.data[bt * heads * size + o] = sum;
    }
  }
  return out;
}

/** Keras's MultiHeadAttention weights, in its EinsumDense layouts (null biases: use_bias=False). */
export interface MultiHeadWeights {
  query: [Float32Array, Float32Array | null];
  key: [Float32Array, Float32Array | null];
  value: [Float32Array, Float32Array | null];
  output: [Float32Array, Float32Array | null];
}

/**
 * Keras's MultiHeadAttention (attention_axes None, 3-D inputs): per head h, scores =
 * (q_h / sqrt(keyDim)) . k_h (minus 1e9 where j > i when causal), softmax over j, context =
 * weights @ v_h; output = sum over heads and value features of context times the output kernel,
 * plus its bias. Returns [output (B, Tq, out), weights (B, heads, Tq, Tv)].
 */
export function multiHeadAttentionForward(query: RefTensor, value: RefTensor, key: RefTensor, w: MultiHeadWeights, heads: number, keyDim: number, valueDim: number, causal: boolean): [RefTensor, RefTensor] {
  const q = projectHeads(query, w.query[0], w.query[1], heads, keyDim);
  const k = projectHeads(key, w.key[0], w.key[1], heads, keyDim);
  const v = projectHeads(value, w.value[0], w.value[1], heads, valueDim);
  const [B, Tq] = query.shape as [number, number];
  const Tv = value.shape[1]!;
  const outFeatures = w.output[0].length / (heads * valueDim);
  const weights = tensor([B, heads, Tq, Tv]);
  const out = tensor([B, Tq, outFeatures]);
  for (let b = 0; b < B; b++) {
    for (let h = 0; h < heads; h++) {
      for (let i = 0; i < Tq; i++) {
        const scores = Array.from({ length: Tv }, (_, j) => {
          let s = 0;
          for (let d = 0; d < keyDim; d++) s += (q.data[((b * Tq + i) * heads + h) * keyDim + d]! / Math.sqrt(keyDim)) * k.data[((b * Tv + j) * heads + h) * keyDim + d]!;
          return causal && j > i ? s - 1e9 : s;
        });
        const max = Math.max(...scores);
        const exps = scores.map((s) => Math.exp(s - max));
        const total = exps.reduce((a, e) => a + e, 0);
        exps.forEach((e, j) => (weights.data[((b * heads + h) * Tq + i) * Tv + j] = e / total));
        for (let c = 0; c < valueDim; c++) {
          let context = 0;
          for (let j = 0; j < Tv; j++) context += weights.data[((b * heads + h) * Tq + i) * Tv + j]! * v.data[((b * Tv + j) * heads + h) * valueDim + c]!;
          for (let o = 0; o < outFeatures; o++) out.data[(b * Tq + i) * outFeatures + o] += context * w.output[0][(h * valueDim + c) * outFeatures + o]!;
        }
      }
    }
  }
  if (w.output[1]) for (let at = 0; at < out.data.length; at++) out.data[at] += w.output[1][at % outFeatures]!;
  return [out, weights];
}

// ---------------------------------------------------------------------------------------
// Layers and models.

function weight(layer: Layer, name: string): Float32Array {
  const w = layer.weights.find((v) => v.name === name);
  if (!w) throw new Error(`reference: ${layer.name} (${layer.className}) has no weight "${name}"; it has ${layer.weights.map((v) => v.name).join(', ') || 'none'}`);
  return w.value;
}

function optionalWeight(layer: Layer, name: string, present: boolean): Float32Array | null {
  return present ? weight(layer, name) : null;
}

function single(layer: Layer, inputs: RefTensor[]): RefTensor {
  if (inputs.length !== 1) throw new Error(`reference: ${layer.name} (${layer.className}) takes one input, got ${inputs.length}`);
  return inputs[0]!;
}

/** One call of one layer in inference mode, with the call's arguments (Attention's use_causal_mask). */
export function layerForward(layer: Layer, inputs: RefTensor[], kwargs: CallKwargs = {}): RefTensor[] {
  if (layer instanceof Model) return referencePredict(layer, inputs);
  if (layer instanceof Attention) {
    const [query, value, key = value] = inputs as [RefTensor, RefTensor, RefTensor?];
    const scale = layer.useScale ? weight(layer, 'scale')[0]! : null;
    const concatWeight = layer.scoreMode === 'concat' ? weight(layer, 'concat_score_weight')[0]! : 1;
    const [out, scores] = attentionForward(query, value, key, { scoreMode: layer.scoreMode, scale, concatWeight, causal: layer.isCausal(kwargs) });
    return kwargs.return_attention_scores ? [out, scores] : [out];
  }
  if (layer instanceof MultiHeadAttention) {
    const [query, value, key = value] = inputs as [RefTensor, RefTensor, RefTensor?];
    const pair = (name: string): [Float32Array, Float32Array | null] => [weight(layer, `${name}/kernel`), optionalWeight(layer, `${name}/bias`, layer.useBias)];
    const w = { query: pair('query'), key: pair('key'), value: pair('value'), output: pair('attention_output') };
    const [out, scores] = multiHeadAttentionForward(query, value, key, w, layer.numHeads, layer.keyDim, layer.valueDim, kwargs.use_causal_mask === true);
    return kwargs.return_attention_scores ? [out, scores] : [out];
  }
  if (layer instanceof Dense) {
    const x = denseForward(single(layer, inputs), weight(layer, 'kernel'), optionalWeight(layer, 'bias', layer.useBias), layer.units);
    return [applyActivation(x, layer.activation)];
  }
  if (layer instanceof Conv2D) {
    const params = { kernelSize: layer.kernelSize, strides: layer.strides, dilationRate: layer.dilationRate, padding: layer.padding, groups: layer.groups };
    const x = conv2dForward(single(layer, inputs), weight(layer, 'kernel'), optionalWeight(layer, 'bias', layer.useBias), layer.filters, params);
    return [applyActivation(x, layer.activation)];
  }
  if (layer instanceof Conv2DTranspose) {
    const x = conv2dTransposeForward(single(layer, inputs), weight(layer, 'kernel'), optionalWeight(layer, 'bias', layer.useBias), layer.filters, layer);
    return [applyActivation(x, layer.activation)];
  }
  if (layer instanceof Conv1D) {
    const x = conv1dForward(single(layer, inputs), weight(layer, 'kernel'), optionalWeight(layer, 'bias', layer.useBias), layer.filters, layer);
    return [applyActivation(x, layer.activation)];
  }
  if (layer instanceof DepthwiseConv2D) {
    const x = depthwiseConv2dForward(single(layer, inputs), weight(layer, 'depthwise_kernel'), optionalWeight(layer, 'bias', layer.useBias), layer.depthMultiplier, layer.window);
    return [applyActivation(x, layer.activation)];
  }
  if (layer instanceof SeparableConv2D) {
    const depthwise = depthwiseConv2dForward(single(layer, inputs), weight(layer, 'depthwise_kernel'), null, layer.depthMultiplier, layer.window);
    const pointwise: Conv2DParams = { kernelSize: [1, 1], strides: [1, 1], dilationRate: [1, 1], padding: 'valid' };
    const x = conv2dForward(depthwise, weight(layer, 'pointwise_kernel'), optionalWeight(layer, 'bias', layer.useBias), layer.filters, pointwise);
    return [applyActivation(x, layer.activation)];
  }
  if (layer instanceof MaxPooling2D || layer instanceof AveragePooling2D) {
    const mode = layer instanceof MaxPooling2D ? 'max' : 'average';
    return [pool2dForward(single(layer, inputs), mode, { poolSize: layer.poolSize, strides: layer.strides, padding: layer.padding })];
  }
  if (layer instanceof MaxPooling1D || layer instanceof AveragePooling1D) {
    const mode = layer instanceof MaxPooling1D ? 'max' : 'average';
    const params: Pool2DParams = { poolSize: [1, layer.poolSize[0]], strides: [1, layer.strides[0]], padding: layer.padding };
    return [asSequence(pool2dForward(asImage(single(layer, inputs)), mode, params))];
  }
  if (layer instanceof GlobalAveragePooling2D || layer instanceof GlobalAveragePooling1D || layer instanceof GlobalMaxPooling2D || layer instanceof GlobalMaxPooling1D) {
    const x = single(layer, inputs);
    const rank = layer instanceof GlobalAveragePooling2D || layer instanceof GlobalMaxPooling2D ? 4 : 3;
    if (x.shape.length !== rank) throw new Error(`reference: ${layer.name} (${layer.className}) expects a rank-${rank} input, got [${x.shape.join(', ')}]`);
    const mode = layer instanceof GlobalMaxPooling2D || layer instanceof GlobalMaxPooling1D ? 'max' : 'average';
    return [globalPoolingForward(x, mode, layer.keepdims)];
  }
  if (layer instanceof Embedding) {
    return [embeddingForward(single(layer, inputs), weight(layer, 'embeddings'), layer.inputDim, layer.outputDim)];
  }
  if (layer instanceof Reshape) return [reshapeForward(single(layer, inputs), layer.targetShape)];
  if (layer instanceof Flatten) return [flattenForward(single(layer, inputs))];
  if (layer instanceof Dropout || layer instanceof GaussianNoise || layer instanceof GaussianDropout || layer instanceof SpatialDropout2D || layer instanceof SpatialDropout1D || layer instanceof ActivityRegularization) {
    // inference: Dropout and the noise layers act only in training; ActivityRegularization only adds a loss
    const x = single(layer, inputs);
    return [tensor(x.shape, x.data)];
  }
  if (layer instanceof ReLU) {
    const x = single(layer, inputs);
    return [tensor(x.shape, Float64Array.from(x.data, (v) => reluLayerValue(v, layer.maxValue, layer.negativeSlope, layer.threshold)))];
  }
  if (layer instanceof LeakyReLU) {
    const x = single(layer, inputs);
    return [tensor(x.shape, Float64Array.from(x.data, (v) => (v >= 0 ? v : layer.negativeSlope * v)))];
  }
  if (layer instanceof PReLU) return [preluForward(single(layer, inputs), weight(layer, 'alpha'), layer.alphaShape(single(layer, inputs).shape))];
  if (layer instanceof ELU) {
    const x = single(layer, inputs);
    return [tensor(x.shape, Float64Array.from(x.data, (v) => (v > 0 ? v : layer.alpha * Math.expm1(v))))];
  }
  if (layer instanceof Softmax) return [softmaxForward(single(layer, inputs), layer.axis)];
  if (layer instanceof ZeroPadding2D) return [zeroPadding2dForward(single(layer, inputs), layer.padding)];
  if (layer instanceof Cropping2D) return [cropping2dForward(single(layer, inputs), layer.cropping)];
  if (layer instanceof ZeroPadding1D) return [zeroPadding1dForward(single(layer, inputs), layer.padding)];
  if (layer instanceof Cropping1D) return [cropping1dForward(single(layer, inputs), layer.cropping)];
  if (layer instanceof UpSampling1D) return [upSampling1dForward(single(layer, inputs), layer.size)];
  if (layer instanceof TimeDistributed) return [timeDistributedForward(layer, single(layer, inputs))];
  if (layer instanceof UpSampling2D) return [upSampling2dForward(layer, single(layer, inputs))];
  if (layer instanceof Resizing) return [resizeForward(single(layer, inputs), layer.height, layer.width, layer.interpolation)];
  if (layer instanceof CenterCrop) {
    const x = single(layer, inputs);
    return [cropping2dForward(x, layer.cropping(x.shape[1]!, x.shape[2]!))];
  }
  if (layer instanceof Permute) return [permuteForward(single(layer, inputs), layer.dims)];
  if (layer instanceof RepeatVector) return [repeatVectorForward(single(layer, inputs), layer.n)];
  if (layer instanceof Activation) return [applyActivation(single(layer, inputs), layer.activation)];
  if (layer instanceof BatchNormalization) {
    const x = single(layer, inputs);
    if (layer.axis !== -1 && layer.axis !== x.shape.length - 1) throw new Error(`reference: ${layer.name} normalizes over axis ${layer.axis}; only the last axis is implemented`);
    const gamma = optionalWeight(layer, 'gamma', layer.scale);
    const beta = optionalWeight(layer, 'beta', layer.center);
    return [batchNormForward(x, gamma, beta, weight(layer, 'moving_mean'), weight(layer, 'moving_variance'), layer.epsilon)];
  }
  if (layer instanceof LayerNormalization) {
    const x = single(layer, inputs);
    return [layerNormForward(x, layer.axes!, optionalWeight(layer, 'gamma', layer.scale), optionalWeight(layer, 'beta', layer.center), layer.epsilon)];
  }
  if (layer instanceof Rescaling) return [rescalingForward(single(layer, inputs), layer.scale, layer.offset)];
  if (layer instanceof Normalization) return [normalizationForward(single(layer, inputs), layer)];
  if (layer instanceof RandomFlip || layer instanceof RandomContrast || layer instanceof RandomTranslation || layer instanceof RandomZoom || layer instanceof RandomRotation) {
    // inference: the augmentation layers act only in training
    const x = single(layer, inputs);
    return [tensor(x.shape, x.data)];
  }
  if (layer instanceof Concatenate) return [concatenateForward(inputs, layer.axis)];
  if (layer instanceof Add) return [addForward(inputs)];
  if (layer instanceof Multiply) return [multiplyForward(inputs)];
  if (layer instanceof Average) return [averageForward(inputs)];
  if (layer instanceof Subtract) return [subtractForward(inputs)];
  if (layer instanceof Maximum) return [maximumForward(inputs)];
  if (layer instanceof Minimum) return [minimumForward(inputs)];
  if (layer instanceof Dot) return [dotForward(inputs[0]!, inputs[1]!, layer.resolvedAxes(inputs.map((x) => x.shape)), layer.normalize)];
  if (layer instanceof RecurrentLayer) return recurrentLayerForward(layer, single(layer, inputs));
  if (layer instanceof Bidirectional) return bidirectionalForward(layer, single(layer, inputs));
  throw new Error(`reference: layer ${layer.name} (${layer.className}) has no reference implementation`);
}

/** Checks a computed shape against the symbolic one (null dimensions match anything). */
function checkShape(value: RefTensor, symbolic: Shape, what: string): void {
  const fits = value.shape.length === symbolic.length && symbolic.every((d, i) => d === null || d === value.shape[i]);
  if (!fits) {
    const expected = symbolic.map((d) => (d === null ? 'None' : String(d))).join(', ');
    throw new Error(`reference: ${what} has shape [${value.shape.join(', ')}], but the model's graph says (${expected})`);
  }
}

/**
 * Runs `model` in inference mode on `inputs` (one per model input, in `model.inputs` order;
 * float32 or float64 data, copied to float64) and returns its outputs in `model.outputs`
 * order, in float64. Nested models are run recursively. Every intermediate value's shape is
 * checked against the symbolic graph.
 */
export function referencePredict(model: Model, inputs: readonly TensorLike[]): RefTensor[] {
  const graph = model.graph;
  if (inputs.length !== model.inputs.length) {
    throw new Error(`reference: ${model.name} has ${model.inputs.length} input(s) (${model.inputs.map((t) => t.sourceLayer.name).join(', ')}), got ${inputs.length}`);
  }
  const values = new Map<SymbolicTensor, RefTensor>();
  model.inputs.forEach((symbolic, i) => {
    const value = { shape: [...inputs[i]!.shape], data: Float64Array.from(inputs[i]!.data) };
    if (value.data.length !== sizeOfShape(value.shape)) throw new Error(`reference: input ${i} of ${model.name} has ${value.data.length} values for shape [${value.shape.join(', ')}]`);
    checkShape(value, symbolic.shape, `input ${i} (${symbolic.sourceLayer.name}) of ${model.name}`);
    values.set(symbolic, value);
  });
  for (const node of graph.nodes) {
    if (node.isInput) {
      if (!(node.layer instanceof InputLayer) || !values.has(node.outputs[0]!)) throw new Error(`reference: ${model.name}: input node ${node.layer.name} is not bound to a model input`);
      continue;
    }
    const args = node.inputs.map((t) => {
      const value = values.get(t);
      if (!value) throw new Error(`reference: ${model.name}: ${node.layer.name} consumes ${t.name}, which has not been computed yet (graph.nodes out of order?)`);
      return value;
    });
    const outputs = layerForward(node.layer, args, node.kwargs);
    if (outputs.length !== node.outputs.length) throw new Error(`reference: ${node.layer.name} gave ${outputs.length} outputs, its node has ${node.outputs.length}`);
    node.outputs.forEach((symbolic, i) => {
      checkShape(outputs[i]!, symbolic.shape, `output ${i} of ${node.layer.name} (${node.layer.className})`);
      values.set(symbolic, outputs[i]!);
    });
  }
  return model.outputs.map((t) => {
    const value = values.get(t);
    if (!value) throw new Error(`reference: ${model.name}: output ${t.name} was never computed`);
    return value;
  });
}

export interface RandomInputOptions {
  /** Sizes for unknown (None) dimensions after the batch, per input: {input_name: [null, 12, 8]}. */
  dims?: Record<string, (number | null)[]>;
  /** Upper bound (exclusive) of token ids for inputs that feed an Embedding; default its inputDim. */
  maxId?: number;
}

/**
 * Seeded random inputs for every model input with the given batch size: token ids in
 * [0, inputDim) for inputs that feed an Embedding directly (or int32 inputs, in [0, 10)),
 * float32-representable values in [-1, 1) otherwise.
 */
export function randomInputs(model: Model, batch: number, seed: number, options: RandomInputOptions = {}): RefTensor[] {
  const rng = new RandomGenerator(seed);
  return model.inputs.map((input) => {
    const layer = input.sourceLayer;
    const override = options.dims?.[layer.name];
    const shape = input.shape.map((d, i) => {
      if (i === 0) return batch;
      const size = d ?? override?.[i];
      if (size === null || size === undefined) throw new Error(`randomInputs: input ${layer.name} has an unknown dimension ${i}; give its size in options.dims`);
      return size;
    });
    const embeddings = model.graph.nodes.filter((n) => n.layer instanceof Embedding && n.inputs.includes(input)).map((n) => (n.layer as Embedding).inputDim);
    if (embeddings.length > 0 || (layer instanceof InputLayer && layer.dtype === 'int32')) {
      const high = options.maxId ?? (embeddings.length > 0 ? Math.min(...embeddings) : 10);
      return randomIntTensor(shape, high, rng);
    }
    return randomTensor(shape, rng);
  });
}
