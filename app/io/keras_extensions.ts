// The file names Keras's model.save() and load_model() give its two formats: ".keras" (Keras 3's
// zip) and ".h5"/".hdf5" (the legacy HDF5 file). Apart from keras_file.ts so that the model
// folder's checks (model_folder.ts) can tell such a name without importing the reader.
import path from 'node:path';

export const KERAS_FILE_EXTENSIONS = ['.h5', '.hdf5', '.keras'] as const;

export function isKerasModelFile(file: string): boolean {
  return (KERAS_FILE_EXTENSIONS as readonly string[]).includes(path.extname(file).toLowerCase());
}
