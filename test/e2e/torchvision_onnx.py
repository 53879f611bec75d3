"""A real exported model for the app's end-to-end test: torchvision's MobileNetV3-Small (178
nodes, random weights) exported by Debian's PyTorch with torch.onnx.export.

    python3 torchvision_onnx.py OUT.onnx
"""
import sys

import torch
import torchvision

net = torchvision.models.mobilenet_v3_small(weights=None).eval()
torch.onnx.export(net, torch.zeros(1, 3, 224, 224), sys.argv[1], input_names=['image'], output_names=['logits'],
                  dynamic_axes={'image': {0: 'batch'}, 'logits': {0: 'batch'}}, opset_version=13)
