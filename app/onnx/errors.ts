// A file that is not a readable ONNX model: a FormatError (app/model/errors.ts) whose message
// names the file and what is wrong with it.
import { FormatError } from '../model/errors.ts';

export class OnnxFormatError extends FormatError {}
