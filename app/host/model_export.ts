// A model as the bytes of an export: ONNX (with the Keras JSON and the weights' map in its
// metadata, so it opens again as a trainable model) or Keras JSON. Files opened in the app
// and models being edited export alike.
import type { ExportFormat, ExportResult } from '../contract/api.ts';
import { ValueError, type Model } from '../model/index.ts';
import { exportOnnx } from '../translate/to_onnx.ts';

/** The export as a download named `stem`.onnx or `stem`.json. */
export function modelExport(model: Model, stem: string, format: ExportFormat): ExportResult {
  if (format === 'onnx') return { download: { fileName: `${stem}.onnx`, mimeType: 'application/octet-stream', bytes: exportOnnx(model) } };
  if (format === 'keras-json') return { download: { fileName: `${stem}.json`, mimeType: 'application/json', bytes: new TextEncoder().encode(model.toJSON()) } };
  throw new ValueError(`unknown export format "${String(format)}"; expected "onnx" or "keras-json"`);
}
