"""Training arrays from .npy and .npz files, as `strata train` reads them: written by Strata's export.

An .npz holds x and y, or x_train and y_train (keras.datasets' layout), for one input and one
output; with several, x_<input name> and y_<output name>. Otherwise one .npy per input and
per output. uint8 inputs are 8-bit images, scaled to [0, 1].
"""
import numpy as np


def load_arrays(data, x_files, y_files, input_names, output_names):
    """(inputs, targets): lists of numpy arrays in input_names and output_names order."""
    if data:
        archive = np.load(data)

        def pick(prefix, names):
            if len(names) == 1:
                for key in (prefix, f'{prefix}_train', f'{prefix}_{names[0]}'):
                    if key in archive:
                        return [archive[key]]
            keys = [f'{prefix}_{name}' for name in names]
            missing = [key for key in keys if key not in archive]
            if missing:
                raise SystemExit(f'{data}: no array {missing[0]!r}; it holds {", ".join(archive.files)}')
            return [archive[key] for key in keys]
        return pick('x', input_names), pick('y', output_names)
    if not x_files or not y_files:
        raise SystemExit('give --data FILE.npz, or --x and --y .npy files')
    if len(x_files) != len(input_names) or len(y_files) != len(output_names):
        raise SystemExit(f'the model takes {len(input_names)} input(s) and {len(output_names)} output(s): give as many --x and --y files')
    return [np.load(f) for f in x_files], [np.load(f) for f in y_files]


def model_input(array, dtype):
    """An input array as the model takes it: uint8 images scaled to [0, 1], float32 or int32 ids."""
    if array.dtype == np.uint8 and dtype == 'float32':
        return array.astype(np.float32) / 255.0
    return array.astype(np.float32 if dtype == 'float32' else np.int32)
