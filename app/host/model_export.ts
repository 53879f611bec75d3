// A model as the bytes of an export: ONNX (with the Keras JSON and the weights' map in its
// metadata, so it opens again as a trainable model), Keras JSON, or a .zip of the folder
// `strata export --format pytorch|keras` writes (a PyTorch package, a tf.keras script). Files
// opened in the app and models being edited export alike.
import { zipSync } from 'fflate';
import type { ExportFormat, ExportResult } from '../contract/api.ts';
import { exportKeras } from '../export/keras.ts';
import { exportPytorch, type ExportedFiles } from '../export/pytorch.ts';
import { ValueError, type Model } from '../model/index.ts';
import { exportOnnx } from '../translate/to_onnx.ts';

/** The export as a download named `stem`.onnx, `stem`.json, `stem`-pytorch.zip or `stem`-keras.zip. */
export function modelExport(model: Model, stem: string, format: ExportFormat): ExportResult {
  if (format === 'onnx') return { download: { fileName: `${stem}.onnx`, mimeType: 'application/octet-stream', bytes: exportOnnx(model) } };
  if (format === 'keras-json') return { download: { fileName: `${stem}.json`, mimeType: 'application/json', bytes: new TextEncoder().encode(model.toJSON()) } };
  if (format === 'pytorch') return zipDownload(`${stem}-pytorch`, exportPytorch(model, stem).files);
  if (format === 'keras-script') return zipDownload(`${stem}-keras`, exportKeras(model, stem).files);
  throw new ValueError(`unknown export format "${String(format)}"; expected "onnx", "keras-json", "pytorch" or "keras-script"`);
}

/** The files in a folder named `folder`, zipped (deflated), as `folder`.zip. */
function zipDownload(folder: string, files: ExportedFiles): ExportResult {
  const members = Object.fromEntries(Object.entries(files).map(([name, contents]) => [`${folder}/${name}`, typeof contents === 'string' ? new TextEncoder().encode(contents) : contents]));
  return { download: { fileName: `${folder}.zip`, mimeType: 'application/zip', bytes: zipSync(members, { level: 6 }) } };
}
