"""Reads weights.safetensors into a state_dict with numpy and torch alone: written by Strata's export.

Strata writes the weights in the safetensors format (an 8-byte little-endian header length,
a JSON header, then the raw little-endian tensors), which any program can write and read;
torch 1.x cannot read it by itself, and this small reader needs no other package. To get a
.pt file for torch.load:

    python weights.py weights.safetensors weights.pt
"""
import json
import struct
import sys

import numpy as np
import torch

DTYPES = {'F32': np.float32, 'F64': np.float64, 'I32': np.int32, 'I64': np.int64}


def load_safetensors(path):
    """The state_dict a .safetensors file holds, in the file's order."""
    with open(path, 'rb') as f:
        data = f.read()
    (header_size,) = struct.unpack('<Q', data[:8])
    header = json.loads(data[8:8 + header_size])
    body = memoryview(data)[8 + header_size:]
    state = {}
    for name, entry in header.items():
        if name == '__metadata__':
            continue
        begin, end = entry['data_offsets']
        array = np.frombuffer(body[begin:end], dtype=np.dtype(DTYPES[entry['dtype']]).newbyteorder('<'))
        state[name] = torch.from_numpy(array.reshape(entry['shape']).copy())
    return state


def safetensors_metadata(path):
    """The file's __metadata__ (string keys and values): Strata records the Keras weight each tensor came from."""
    with open(path, 'rb') as f:
        (header_size,) = struct.unpack('<Q', f.read(8))
        return json.loads(f.read(header_size)).get('__metadata__', {})


if __name__ == '__main__':
    if len(sys.argv) != 3:
        raise SystemExit('usage: python weights.py weights.safetensors weights.pt')
    torch.save(load_safetensors(sys.argv[1]), sys.argv[2])
    print(f'wrote {sys.argv[2]}')
