"""PyTorch (CPU) reference for Strata's benchmarks: the same seed CNN, initialized as Keras
initializes it (glorot_uniform kernels, zero biases), trained with Keras's Adam (epsilon
1e-7). Run by `strata bench` and by hand for BENCHMARKS.md; needs Debian's python3-torch
and python3-numpy. Set up at its best: channels-last memory, warm-up before timing, median
of repetitions, the thread count given (Strata's), glibc keeping freed memory and OpenBLAS
(the environment `strata bench` passes).

  python3 bench/torch_reference.py throughput --input 64 64 3 --batch 128 --mode train --threads 2
  python3 bench/torch_reference.py fashion-mnist --epochs 10 --batch 128 --seed 1
Prints one JSON object per result.
"""
import argparse
import gzip
import json
import os
import statistics
import time

import numpy as np
import torch
from torch import nn


def seed_cnn(h, w, c, classes=10):
    """Keras's seed Sequential model: conv(32) pool conv(64) pool flatten dense(64) dropout dense(10)."""
    h1, w1 = (h - 2) // 2, (w - 2) // 2
    h2, w2 = (h1 - 2) // 2, (w1 - 2) // 2
    model = nn.Sequential(
        nn.Conv2d(c, 32, 3), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(32, 64, 3), nn.ReLU(), nn.MaxPool2d(2),
        # Keras flattens (h, w, c); PyTorch (c, h, w): a permutation of the same features,
        # which changes nothing for training from a random start.
        nn.Flatten(), nn.Linear(64 * h2 * w2, 64), nn.ReLU(), nn.Dropout(0.5), nn.Linear(64, classes),
    )
    for m in model:
        if isinstance(m, (nn.Conv2d, nn.Linear)):
            nn.init.xavier_uniform_(m.weight)  # Keras's glorot_uniform: same fans for conv kernels
            nn.init.zeros_(m.bias)
    return model


def keras_adam(params, lr=1e-3):
    return torch.optim.Adam(params, lr=lr, betas=(0.9, 0.999), eps=1e-7)


def throughput(args):
    torch.set_num_threads(args.threads)
    h, w, c = args.input
    model = seed_cnn(h, w, c).to(memory_format=torch.channels_last)
    x = torch.rand(args.batch, c, h, w).to(memory_format=torch.channels_last)
    y = torch.randint(0, 10, (args.batch,))
    loss_fn = nn.CrossEntropyLoss()
    if args.mode == 'train':
        model.train()
        opt = keras_adam(model.parameters())

        def step():
            opt.zero_grad(set_to_none=True)
            loss = loss_fn(model(x), y)
            loss.backward()
            opt.step()
    else:
        model.eval()

        def step():
            with torch.inference_mode():
                torch.softmax(model(x), dim=1)

    for _ in range(args.warmup):
        step()
    rates = []
    for _ in range(args.repeats):
        start = time.perf_counter()
        for _ in range(args.steps):
            step()
        rates.append(args.batch * args.steps / (time.perf_counter() - start))
    print(json.dumps({'reference': f'pytorch {torch.__version__} cpu', 'mode': args.mode, 'input': [h, w, c], 'batch': args.batch,
                      'threads': args.threads, 'samples_per_second': statistics.median(rates)}))


def read_idx(path):
    with gzip.open(path, 'rb') as f:
        data = f.read()
    dims = data[3]
    shape = [int.from_bytes(data[4 + 4 * i:8 + 4 * i], 'big') for i in range(dims)]
    return np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * dims).reshape(shape)


def fashion_mnist(args):
    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    root = args.dir
    x_train = torch.from_numpy(read_idx(f'{root}/train-images-idx3-ubyte.gz').astype(np.float32) / 255).unsqueeze(1)
    y_train = torch.from_numpy(read_idx(f'{root}/train-labels-idx1-ubyte.gz').astype(np.int64))
    x_test = torch.from_numpy(read_idx(f'{root}/t10k-images-idx3-ubyte.gz').astype(np.float32) / 255).unsqueeze(1)
    y_test = torch.from_numpy(read_idx(f'{root}/t10k-labels-idx1-ubyte.gz').astype(np.int64))
    model = seed_cnn(28, 28, 1).to(memory_format=torch.channels_last)
    opt = keras_adam(model.parameters())
    loss_fn = nn.CrossEntropyLoss()
    n = x_train.shape[0]
    for epoch in range(args.epochs):
        model.train()
        start = time.perf_counter()
        order = torch.randperm(n)
        total, correct, seen = 0.0, 0, 0
        for i in range(0, n, args.batch):
            idx = order[i:i + args.batch]
            xb, yb = x_train[idx].contiguous(memory_format=torch.channels_last), y_train[idx]
            opt.zero_grad(set_to_none=True)
            out = model(xb)
            loss = loss_fn(out, yb)
            loss.backward()
            opt.step()
            total += loss.item() * len(idx)
            correct += (out.argmax(1) == yb).sum().item()
            seen += len(idx)
        seconds = time.perf_counter() - start
        model.eval()
        with torch.inference_mode():
            test_out = torch.cat([model(x_test[i:i + 1000].contiguous(memory_format=torch.channels_last)) for i in range(0, x_test.shape[0], 1000)])
            test_accuracy = (test_out.argmax(1) == y_test).float().mean().item()
        print(json.dumps({'reference': f'pytorch {torch.__version__} cpu', 'epoch': epoch + 1, 'loss': total / seen, 'accuracy': correct / seen,
                          'test_accuracy': test_accuracy, 'seconds': seconds}), flush=True)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest='command', required=True)
    t = sub.add_parser('throughput')
    t.add_argument('--input', type=int, nargs=3, default=[64, 64, 3])
    t.add_argument('--batch', type=int, default=128)
    t.add_argument('--mode', choices=['train', 'infer'], default='train')
    t.add_argument('--threads', type=int, default=os.cpu_count())
    t.add_argument('--steps', type=int, default=10)
    t.add_argument('--warmup', type=int, default=3)
    t.add_argument('--repeats', type=int, default=5)
    f = sub.add_parser('fashion-mnist')
    f.add_argument('--epochs', type=int, default=10)
    f.add_argument('--batch', type=int, default=128)
    f.add_argument('--seed', type=int, default=1)
    f.add_argument('--threads', type=int, default=os.cpu_count())
    f.add_argument('--dir', default='/usr/share/datasets/fashion-mnist')
    args = parser.parse_args()
    throughput(args) if args.command == 'throughput' else fashion_mnist(args)


if __name__ == '__main__':
    main()
