// A file that is not a readable ONNX model. The CLI prints the message as one line (its name
// is 'FormatError'); the message names the file and what is wrong with it.
export class OnnxFormatError extends Error {
  override name = 'FormatError';
}
