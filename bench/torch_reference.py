"""PyTorch (CPU, or CUDA with cuDNN) reference for Strata's benchmarks: the same models (the seed
CNN, the MobileNet-style example), initialized as Keras initializes them (glorot_uniform
kernels, zero biases), trained with Keras's Adam (epsilon 1e-7). Run by `strata bench` and
by hand for BENCHMARKS.md; needs Debian's python3-torch and python3-numpy. Set up at its
best: channels-last memory, warm-up before timing, median of repetitions, the thread count
given (Strata's), glibc keeping freed memory and OpenBLAS (the environment `strata bench`
passes).

  python3 bench/torch_reference.py throughput --input 64 64 3 --batch 128 --mode train --threads 2
  python3 bench/torch_reference.py throughput --model mobilenet_style --input 32 32 3 --batch 32
  python3 bench/torch_reference.py fashion-mnist --epochs 10 --batch 128 --seed 1   # standardized, as the example
  python3 bench/torch_reference.py serve --threads 2     # what `strata bench` runs (see serve)
  python3 bench/torch_reference.py throughput --device cuda --batch 512   # on a GPU, with cuDNN
Prints one JSON object per result.
"""
import argparse
import gzip
import json
import os
import statistics
import sys
import time

import numpy as np
import torch
from torch import nn


class Rescaling(nn.Module):
    """Keras's Rescaling layer: x * scale + offset (the Fashion-MNIST example standardizes with it)."""

    def __init__(self, scale, offset):
        super().__init__()
        self.scale, self.offset = scale, offset

    def forward(self, x):
        return x * self.scale + self.offset


def seed_cnn(h, w, c, classes=10, rescale=None):
    """Keras's seed Sequential model: conv(32) pool conv(64) pool flatten dense(64) dropout dense(10),
    after a Rescaling(scale, offset) where `rescale` gives one."""
    h1, w1 = (h - 2) // 2, (w - 2) // 2
    h2, w2 = (h1 - 2) // 2, (w1 - 2) // 2
    model = nn.Sequential(
        *([Rescaling(*rescale)] if rescale else []),
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


class Relu6BatchNorm(nn.Sequential):
    """Keras's BatchNormalization (momentum 0.99, epsilon 1e-3) then ReLU6, as MobileNet follows a convolution."""

    def __init__(self, channels):
        super().__init__(nn.BatchNorm2d(channels, eps=1e-3, momentum=0.01), nn.ReLU6())


def same_conv(c_in, c_out, stride, groups=1, bias=False):
    """A 3x3 convolution with TensorFlow's "same" padding: at stride 2 on an even size the odd pixel
    is padded at the end only (MobileNet writes that as ZeroPadding2D((0, 1), (0, 1)) and "valid")."""
    if stride == 1:
        return nn.Conv2d(c_in, c_out, 3, padding=1, groups=groups, bias=bias)
    return nn.Sequential(nn.ZeroPad2d((0, 1, 0, 1)), nn.Conv2d(c_in, c_out, 3, stride=2, groups=groups, bias=bias))


def mobilenet_style(h, w, c, classes=10, rescale=None):
    """examples/mobilenet-style.ts: a strided stem, two depthwise-separable blocks (the second strided),
    a SeparableConv2D with ReLU6, global average pooling, dropout, ten classes."""
    def separable_block(c_in, c_out, stride):
        return [same_conv(c_in, c_in, stride, groups=c_in), Relu6BatchNorm(c_in), nn.Conv2d(c_in, c_out, 1, bias=False), Relu6BatchNorm(c_out)]
    model = nn.Sequential(
        same_conv(c, 16, 2), Relu6BatchNorm(16),
        *separable_block(16, 32, 1), *separable_block(32, 64, 2),
        nn.Conv2d(64, 64, 3, padding=1, groups=64, bias=False), nn.Conv2d(64, 64, 1), nn.ReLU6(),
        nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Dropout(0.2), nn.Linear(64, classes),
    )
    for m in model.modules():
        if isinstance(m, (nn.Conv2d, nn.Linear)):
            nn.init.xavier_uniform_(m.weight)
            if m.bias is not None:
                nn.init.zeros_(m.bias)
    return model


class LstmClassifier(nn.Module):
    """examples/lstm-sequence-classifier.ts: Embedding, nn.LSTM (batch first), its last hidden state, Linear."""

    def __init__(self, vocab, embed, units, classes):
        super().__init__()
        self.embedding = nn.Embedding(vocab, embed)
        self.lstm = nn.LSTM(embed, units, batch_first=True)
        self.output = nn.Linear(units, classes)

    def forward(self, tokens):
        _, (h, _) = self.lstm(self.embedding(tokens))
        return self.output(h[-1])


# The models `strata bench` times, by the name its requests give.
MODELS = {'seed_cnn': seed_cnn, 'mobilenet_style': mobilenet_style}


def keras_adam(params, lr=1e-3):
    return torch.optim.Adam(params, lr=lr, betas=(0.9, 0.999), eps=1e-7)


def make_step(input_hwc, batch, mode, rescale=None, device='cpu', model_name='seed_cnn', lstm=None):
    """One training step (forward, backward, Adam) or inference pass of a model of MODELS (or, with
    `lstm`, the LSTM classifier over input_hwc[0] steps) on a fixed batch."""
    if lstm:
        model = LstmClassifier(lstm['vocab'], lstm['embed'], lstm['units'], lstm['classes']).to(device=device)
        x = torch.randint(0, lstm['vocab'], (batch, input_hwc[0]), device=device)
        y = torch.randint(0, lstm['classes'], (batch,), device=device)
    else:
        h, w, c = input_hwc
        model = MODELS[model_name](h, w, c, rescale=rescale).to(device=device, memory_format=torch.channels_last)
        x = torch.rand(batch, c, h, w, device=device).to(memory_format=torch.channels_last)
        y = torch.randint(0, 10, (batch,), device=device)
    loss_fn = nn.CrossEntropyLoss()
    if mode == 'train':
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
    return step


def synchronize(device):
    """Waits for the GPU's queued work: CUDA calls return before it is done."""
    if device == 'cuda':
        torch.cuda.synchronize()


def repetition_rate(step, batch, steps, device='cpu'):
    """Samples per second over `steps` steps, after one untimed step (as Strata's side measures)."""
    step()
    synchronize(device)
    start = time.perf_counter()
    for _ in range(steps):
        step()
    synchronize(device)
    return batch * steps / (time.perf_counter() - start)


def set_up(device):
    """PyTorch at its best on the device: cuDNN picks its fastest convolution per shape, and
    TF32 matrix products as Strata's CUDA default (PyTorch's own default leaves them FP32)."""
    if device == 'cuda':
        if not torch.cuda.is_available():
            sys.exit('PyTorch has no usable CUDA device here')
        torch.backends.cudnn.benchmark = True
        torch.backends.cuda.matmul.allow_tf32 = True
        torch.backends.cudnn.allow_tf32 = True


def reference_name(device='cpu'):
    if device == 'cuda':
        return f'pytorch {torch.__version__} cuda ({torch.cuda.get_device_name()})'
    return f'pytorch {torch.__version__} cpu'


def throughput(args):
    torch.set_num_threads(args.threads)
    set_up(args.device)
    step = make_step(args.input, args.batch, args.mode, device=args.device, model_name=args.model)
    for _ in range(args.warmup):
        step()
    rates = [repetition_rate(step, args.batch, args.steps, args.device) for _ in range(args.repeats)]
    print(json.dumps({'reference': reference_name(args.device), 'model': args.model, 'mode': args.mode, 'input': args.input, 'batch': args.batch,
                      'threads': args.threads, 'samples_per_second': statistics.median(rates)}))


def serve(args):
    """One JSON request a line on stdin, one JSON answer a line on stdout, so that `strata bench`
    can alternate repetitions of Strata and PyTorch (a drift in the machine's speed then hits
    both alike). A request {"model", "input": [h, w, c], "batch", "mode", "steps", "warmup", "rescale"}
    (model: a name of MODELS, default seed_cnn; rescale: [scale, offset] of a first Rescaling
    layer, optional; "lstm": {"vocab", "embed", "units", "classes"} for the LSTM classifier over
    "input": [steps] instead) times one repetition; the model is built, and warmed up, when the
    configuration changes. {"count": model, "input": [h, w, c]} answers the model's
    trainable parameter count instead (the tests compare it with Keras's)."""
    torch.set_num_threads(args.threads)
    set_up(args.device)
    print(json.dumps({'reference': reference_name(args.device), 'threads': args.threads}), flush=True)
    config, step = None, None
    for line in sys.stdin:
        request = json.loads(line)
        if 'count' in request:
            model = MODELS[request['count']](*request['input'])
            print(json.dumps({'parameters': sum(p.numel() for p in model.parameters())}), flush=True)
            continue
        rescale = request.get('rescale')
        name, lstm = request.get('model', 'seed_cnn'), request.get('lstm')
        key = (name, tuple(request['input']), request['batch'], request['mode'], tuple(rescale or ()), json.dumps(lstm))
        if key != config:
            config, step = key, make_step(request['input'], request['batch'], request['mode'], rescale, args.device, name, lstm)
            for _ in range(request.get('warmup', 3)):
                step()
        rate = repetition_rate(step, request['batch'], request['steps'], args.device)
        print(json.dumps({'samples_per_second': rate}), flush=True)


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
    # examples/fashion-mnist-classifier.ts standardizes the [0, 1] pixels in its first layer
    rescale = (1 / args.standardize[1], -args.standardize[0] / args.standardize[1]) if args.standardize else None
    model = seed_cnn(28, 28, 1, rescale=rescale).to(memory_format=torch.channels_last)
    opt = keras_adam(model.parameters())
    loss_fn = nn.CrossEntropyLoss()
    n = x_train.shape[0]
    step = 0
    for epoch in range(args.epochs):
        model.train()
        start = time.perf_counter()
        order = torch.randperm(n)
        total, correct, seen = 0.0, 0, 0
        for i in range(0, n, args.batch):
            idx = order[i:i + args.batch]
            xb, yb = x_train[idx].contiguous(memory_format=torch.channels_last), y_train[idx]
            if args.lr_boundaries:
                # Keras's PiecewiseConstantDecay on the optimizer's step count: values[k] after boundaries[k-1]
                lr = args.lr_values[sum(step > b for b in args.lr_boundaries)]
                for group in opt.param_groups:
                    group['lr'] = lr
            step += 1
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
        print(json.dumps({'reference': reference_name(), 'epoch': epoch + 1, 'loss': total / seen, 'accuracy': correct / seen,
                          'test_accuracy': test_accuracy, 'seconds': seconds}), flush=True)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest='command', required=True)
    t = sub.add_parser('throughput')
    t.add_argument('--model', choices=list(MODELS), default='seed_cnn')
    t.add_argument('--input', type=int, nargs=3, default=[64, 64, 3])
    t.add_argument('--batch', type=int, default=128)
    t.add_argument('--mode', choices=['train', 'infer'], default='train')
    t.add_argument('--threads', type=int, default=os.cpu_count())
    t.add_argument('--steps', type=int, default=10)
    t.add_argument('--warmup', type=int, default=3)
    t.add_argument('--repeats', type=int, default=5)
    t.add_argument('--device', choices=['cpu', 'cuda'], default='cpu')
    f = sub.add_parser('fashion-mnist')
    f.add_argument('--epochs', type=int, default=10)
    f.add_argument('--batch', type=int, default=128)
    f.add_argument('--seed', type=int, default=1)
    f.add_argument('--threads', type=int, default=os.cpu_count())
    f.add_argument('--dir', default='/usr/share/datasets/fashion-mnist')
    f.add_argument('--standardize', type=float, nargs=2, metavar=('MEAN', 'STD'), default=[0.286, 0.353],
                   help="the example model's Rescaling: (x - MEAN) / STD on [0, 1] pixels (default: 0.286 0.353)")
    f.add_argument('--no-standardize', dest='standardize', action='store_const', const=None,
                   help='train on the [0, 1] pixels as they are')
    f.add_argument('--lr-boundaries', type=int, nargs='+', metavar='STEP', default=[],
                   help="Keras's PiecewiseConstantDecay: the steps after which the learning rate moves to the next of --lr-values")
    f.add_argument('--lr-values', type=float, nargs='+', metavar='LR', default=[1e-3])
    v = sub.add_parser('serve')
    v.add_argument('--threads', type=int, default=os.cpu_count())
    v.add_argument('--device', choices=['cpu', 'cuda'], default='cpu')
    args = parser.parse_args()
    if args.command == 'fashion-mnist' and len(args.lr_values) != len(args.lr_boundaries) + 1:
        parser.error('--lr-values needs one value more than --lr-boundaries')
    {'throughput': throughput, 'serve': serve, 'fashion-mnist': fashion_mnist}[args.command](args)


if __name__ == '__main__':
    main()
