"""Calls the augmentation modules of an exported PyTorch package in train() mode, for
test/export/pytorch_augment.test.ts.

    python augment_runner.py CALLS.json   # {"package": DIR, "outputs": out.npz, "calls": [CALL, ...]}

CALL is {"module": attribute of the model, "method": "forward" | "transform" | "draw", "images": x.npy}
with "params" (lists: transform()'s parameters) for transform, "fresh": true to build the model
anew (seeded layers start their generators again), "torch_seed" to seed torch's global generator
first, "copy": true to call a deep copy of the module (the original's generator stays where it is). Output k of the npz is call k's result (draw: its parameters, stacked).
"""
import copy
import importlib.util
import json
import os
import sys

import numpy as np
import torch

torch.set_num_threads(1)
job = json.load(open(sys.argv[1]))
spec = importlib.util.spec_from_file_location('exported', os.path.join(job['package'], '__init__.py'), submodule_search_locations=[job['package']])
package = importlib.util.module_from_spec(spec)
sys.modules[spec.name] = package
spec.loader.exec_module(package)
model = package.load_model().train()
results = []
for call in job['calls']:
    if call.get('fresh'):
        model = package.load_model().train()
    if 'torch_seed' in call:
        torch.manual_seed(call['torch_seed'])
    module = getattr(model, call['module'])
    if call.get('copy'):
        module = copy.deepcopy(module)
    x = torch.from_numpy(np.load(call['images']))
    with torch.no_grad():
        if call['method'] == 'forward':
            y = module(x)
        elif call['method'] == 'draw':
            y = torch.stack([p.float() for p in module.draw(x.shape)])
        else:
            y = module.transform(x, *[torch.tensor(p) for p in call['params']])
    results.append(y.numpy())
np.savez(job['outputs'], *results)
