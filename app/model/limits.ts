// Strata's resource limits, in one table: what it refuses to read or build, so that memory
// follows the size of the input actually given and a hostile file cannot make it allocate
// without end. Sizes a file declares (IDX and .npy headers, zip directories, ONNX dims,
// TensorFlow.js manifests) are checked against the bytes present before anything is allocated;
// these limits bound what an honest file may ask for. Errors that hit one are LimitErrors.
export const LIMITS = {
  /** Bytes of one file read whole: a data file, an ONNX model (protobuf's own limit is 2 GiB), a weight shard. */
  fileBytes: 2 * 1024 ** 3,
  /** Bytes of a JSON model file (a Keras JSON, a TensorFlow.js model.json): topology only, weights are in shards. */
  jsonBytes: 64 * 1024 ** 2,
  /** Bytes a compressed member (a gzipped IDX file, an .npz member) may inflate to; never more than its header declares either. */
  inflatedBytes: 2 * 1024 ** 3,
  /** deflate cannot expand data more than 1032-fold: a header that declares more than this many times its compressed size is corrupt. */
  inflateRatio: 1032,
  /** Bytes of one array built from a dataset (an image folder decoded at the model's input size). */
  arrayBytes: 2 * 1024 ** 3,
  /** Pixels of one image in an image folder (8192 x 8192): decoding a larger one takes memory its file size does not show. */
  imagePixels: 2 ** 26,
  /** Elements of one layer weight (2^28 float32 values, 1 GiB). */
  weightElements: 2 ** 28,
  /** Size of one dimension of a layer's input or output shape. */
  dimension: 2 ** 31 - 1,
  /** Models nested inside models. */
  nestingDepth: 100,
  /** Objects and arrays nested in one layer's config in a model JSON (the readers recurse; TimeDistributed may wrap TimeDistributed). */
  jsonDepth: 1000,
} as const;

