"""Runs exported PyTorch packages for test/export/pytorch.test.ts: imports each folder as a
package (as a user's `import exported` would), predicts in eval mode, writes the outputs.

    python torch_runner.py JOBS.json     # [{"package": DIR, "inputs": [x.npy, ...], "outputs": y.npz}]
"""
import importlib.util
import json
import os
import sys

import numpy as np
import torch

torch.set_num_threads(1)
for i, job in enumerate(json.load(open(sys.argv[1]))):
    spec = importlib.util.spec_from_file_location(f'exported_{i}', os.path.join(job['package'], '__init__.py'), submodule_search_locations=[job['package']])
    package = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = package
    spec.loader.exec_module(package)
    model = package.load_model().eval()
    with torch.no_grad():
        outputs = model(*[torch.from_numpy(np.load(f)) for f in job['inputs']])
    outputs = outputs if isinstance(outputs, tuple) else (outputs,)
    np.savez(job['outputs'], *[y.numpy() for y in outputs])
