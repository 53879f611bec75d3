"""PyTorch eager with cuDNN on the GPU: the seed CNN's training and inference throughput, the
reference of native/scripts/gpu-check.sh's benchmark table. The model and Keras's Adam come
from bench/torch_reference.py (the CPU reference of `strata bench`), so both sides train the
same network: conv 32, pool, conv 64, pool, dense 64, dropout 0.5, dense 10.

  python3 native/scripts/torch_cuda_reference.py --input 28 28 1 --batch 128 --mode train [--fp32]

Set up as PyTorch runs at its fastest in eager mode: cuDNN's autotuner (cudnn.benchmark),
channels-last memory, TF32 for convolutions and matrix products as Strata's default (--fp32:
neither), warm-up before timing. Each step ends as Strata's does: a training step reads its
loss on the host (loss.item()), an inference pass copies its softmax to the host. Prints one
JSON object.
"""
import argparse
import json
import os
import sys
import time

import torch
from torch import nn

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', '..', 'bench'))
from torch_reference import keras_adam, seed_cnn  # noqa: E402


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('--input', type=int, nargs=3, default=[28, 28, 1])
    parser.add_argument('--batch', type=int, default=128)
    parser.add_argument('--mode', choices=['train', 'infer'], default='train')
    parser.add_argument('--steps', type=int, default=50)
    parser.add_argument('--warmup', type=int, default=10)
    parser.add_argument('--fp32', action='store_true')
    args = parser.parse_args()
    torch.backends.cudnn.benchmark = True
    torch.backends.cudnn.allow_tf32 = not args.fp32
    torch.backends.cuda.matmul.allow_tf32 = not args.fp32
    device = torch.device('cuda')
    h, w, c = args.input
    model = seed_cnn(h, w, c).to(device).to(memory_format=torch.channels_last)
    x = torch.rand(args.batch, c, h, w, device=device).to(memory_format=torch.channels_last)
    y = torch.randint(0, 10, (args.batch,), device=device)
    if args.mode == 'train':
        model.train()
        opt, loss_fn = keras_adam(model.parameters()), nn.CrossEntropyLoss()

        def step():
            opt.zero_grad(set_to_none=True)
            loss = loss_fn(model(x), y)
            loss.backward()
            opt.step()
            return loss.item()
    else:
        model.eval()

        def step():
            with torch.inference_mode():
                return torch.softmax(model(x), dim=1).cpu()
    for _ in range(args.warmup):
        step()
    torch.cuda.synchronize()
    start = time.perf_counter()
    for _ in range(args.steps):
        step()
    torch.cuda.synchronize()
    rate = args.batch * args.steps / (time.perf_counter() - start)
    print(json.dumps({'reference': f'pytorch {torch.__version__} cuda {torch.version.cuda} cudnn {torch.backends.cudnn.version()}',
                      'gpu': torch.cuda.get_device_name(0), 'input': args.input, 'batch': args.batch, 'mode': args.mode,
                      'tf32': not args.fp32, 'samples_per_second': rate}))


if __name__ == '__main__':
    main()
