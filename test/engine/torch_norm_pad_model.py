# A PyTorch model using nn.LayerNorm, F.pad(mode='reflect') and F.log_softmax, exported by
# torch.onnx (opset 17: LayerNormalization; Pad's pads computed by a chain of integer ops),
# with an input batch and PyTorch's output for it. Run with Debian's /usr/bin/python3 (torch
# 1.13) by torch_onnx_ops.test.ts:  torch_norm_pad_model.py <output folder>
import sys

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F


class NormPadNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(2, 4, 3)
        self.norm = nn.LayerNorm(6)  # over the last axis (width), with weight and bias
        self.fc = nn.Linear(4 * 6 * 6, 5)

    def forward(self, x):
        x = F.pad(x, (1, 1, 2, 0), mode='reflect')  # width 6 -> 8, height 6 -> 8
        x = torch.tanh(self.conv(x))
        x = self.norm(x)
        return F.log_softmax(self.fc(x.flatten(1)), dim=1)


def main(out):
    torch.manual_seed(0)
    model = NormPadNet().eval()
    with torch.no_grad():  # LayerNorm's affine weights away from their 1 and 0 starts
        model.norm.weight.uniform_(0.5, 1.5)
        model.norm.bias.uniform_(-0.5, 0.5)
    x = torch.randn(8, 2, 6, 6)
    torch.onnx.export(model, x, f'{out}/norm_pad.onnx', opset_version=17, input_names=['x'], output_names=['y'],
                      dynamic_axes={'x': {0: 'batch'}, 'y': {0: 'batch'}})
    np.save(f'{out}/x.npy', x.numpy())
    with torch.no_grad():
        np.save(f'{out}/y_torch.npy', model(x).numpy())


if __name__ == '__main__':
    main(sys.argv[1])
