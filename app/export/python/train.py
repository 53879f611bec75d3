"""Trains the exported model with its Keras compile() settings: written by Strata's `strata export --format pytorch`.

    python train.py --x x.npy --y y.npy --epochs 10             # one GPU when there is one, else the CPU
    python train.py --data train.npz --device cpu               # arrays x and y (or x_train, y_train)
    torchrun --nproc_per_node=4 train.py --data train.npz       # DistributedDataParallel: nccl on GPUs, gloo on CPUs

(torch 1.13 under Python 3.11, as Debian 12 ships it, cannot read torchrun's default
--redirects and --tee values: add `--redirects 1 --tee 1` there.)

--batch-size is the global batch, as Keras's: under torchrun each of N processes takes 1/N of
it. Inputs are Keras's arrays (images (n, height, width, channels)); labels as Keras takes
them for the loss. The weights start from weights.safetensors (--fresh: Keras's initializers)
and are saved as a state_dict to --out.
"""
import argparse
import os
import warnings

import numpy as np
import torch
import torch.distributed as dist
from torch.nn.parallel import DistributedDataParallel
from torch.utils.data import DataLoader, TensorDataset
from torch.utils.data.distributed import DistributedSampler

from arrays import load_arrays, model_input
from keras_training import LOSSES, Regularization, learning_rate_schedule, make_optimizer, metric_sum, metric_value
from model import ACTIVITY, INPUTS, OUTPUTS, RULES, build_model, load_model

# @strata:compile

# DDP's reducer warns when a gradient's strides differ from its bucket's, which happens for a
# kernel with a dimension of size 1 (one input channel): the layouts are then the same memory.
warnings.filterwarnings('ignore', message='Grad strides do not match bucket view strides')


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('--x', nargs='+', help='one .npy file per model input: ' + ', '.join(name for name, _, _ in INPUTS))
    parser.add_argument('--y', nargs='+', help='one .npy file per model output: ' + ', '.join(OUTPUTS))
    parser.add_argument('--data', help='an .npz holding x and y, or x_train and y_train (one input and output), or x_<input> and y_<output>')
    parser.add_argument('--epochs', type=int, default=EPOCHS)
    parser.add_argument('--batch-size', type=int, default=BATCH_SIZE, help='the global batch size (default %(default)s)')
    parser.add_argument('--steps', type=int, default=None, help='stop after this many steps (for a quick check)')
    parser.add_argument('--no-shuffle', dest='shuffle', action='store_false', help='keep the data in order')
    parser.add_argument('--seed', type=int, default=0, help='seeds the shuffling, Dropout and the augmentation layers without a seed of their own')
    parser.add_argument('--device', choices=['auto', 'cpu', 'cuda'], default='auto')
    parser.add_argument('--fresh', action='store_true', help="start from Keras's initializers instead of weights.safetensors")
    parser.add_argument('--out', default='trained.pt', help='where rank 0 saves the trained state_dict (default %(default)s)')
    return parser.parse_args()


def as_tensor(array, dtype=None):
    """A model input (dtype 'float32' or 'int32') or a target: float targets as float32, integer ones as class ids."""
    if dtype is not None:
        array = model_input(array, dtype)
    tensor = torch.from_numpy(np.ascontiguousarray(array))
    return tensor.float() if tensor.is_floating_point() else tensor.long()


def setup_distributed(args):
    """(rank, world size, device): torchrun sets WORLD_SIZE; a plain run is rank 0 of 1."""
    use_cuda = args.device == 'cuda' or (args.device == 'auto' and torch.cuda.is_available())
    if 'WORLD_SIZE' not in os.environ:
        return 0, 1, torch.device('cuda' if use_cuda else 'cpu')
    dist.init_process_group('nccl' if use_cuda else 'gloo')
    local_rank = int(os.environ.get('LOCAL_RANK', 0))
    if use_cuda:
        torch.cuda.set_device(local_rank)
    return dist.get_rank(), dist.get_world_size(), torch.device(f'cuda:{local_rank}' if use_cuda else 'cpu')


def logged_metrics():
    """(output index, kind, log name) of every metric compile() asked for, named as Keras logs them."""
    prefix = lambda spec: f'{spec["output"]}_' if len(LOSS_SPECS) > 1 else ''
    return [(i, m['kind'], prefix(spec) + m['name']) for i, spec in enumerate(LOSS_SPECS) for m in spec['logged']]


def total_loss(outputs, targets):
    """Keras's loss: each output's mean loss times its weight, summed."""
    return sum(spec['weight'] * LOSSES[spec['loss']](y, p, spec['from_logits']).mean() for spec, y, p in zip(LOSS_SPECS, targets, outputs))


def main():
    args = parse_args()
    rank, world, device = setup_distributed(args)
    if args.batch_size % world:
        raise SystemExit(f'--batch-size {args.batch_size} must be a multiple of the {world} processes')
    torch.manual_seed(args.seed)
    inputs, targets = load_arrays(args.data, args.x, args.y, [name for name, _, _ in INPUTS], OUTPUTS)
    tensors = [as_tensor(a, dtype) for a, (_, _, dtype) in zip(inputs, INPUTS)] + [as_tensor(a) for a in targets]
    dataset = TensorDataset(*tensors)
    sampler = DistributedSampler(dataset, world, rank, shuffle=args.shuffle, seed=args.seed) if world > 1 else None
    loader = DataLoader(dataset, batch_size=args.batch_size // world, sampler=sampler, shuffle=args.shuffle and sampler is None)

    model = (build_model() if args.fresh else load_model()).to(device)
    network = DistributedDataParallel(model, device_ids=[device.index] if device.type == 'cuda' else None) if world > 1 else model
    optimizer = make_optimizer(model.parameters(), OPTIMIZER)
    regularization = Regularization(model, RULES, ACTIVITY)
    learning_rate = learning_rate_schedule(OPTIMIZER['config']['learning_rate'])
    metrics = logged_metrics()
    step = 0
    for epoch in range(args.epochs):
        if sampler is not None:
            sampler.set_epoch(epoch)
        network.train()
        sums = torch.zeros(2 + len(metrics), dtype=torch.float64, device=device)  # loss * samples, samples, each metric's sum
        for batch in loader:
            batch = [t.to(device) for t in batch]
            x, y = batch[:len(INPUTS)], batch[len(INPUTS):]
            for group in optimizer.param_groups:
                group['lr'] = learning_rate(step)
            outputs = network(*x)
            outputs = outputs if isinstance(outputs, tuple) else (outputs,)
            loss = total_loss(outputs, y) + regularization.penalty()
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            regularization.constrain()
            step += 1
            with torch.no_grad():
                sums[0] += loss.detach().double() * len(y[0])
                sums[1] += len(y[0])
                for k, (i, kind, _) in enumerate(metrics):
                    sums[2 + k] += metric_sum(kind, y[i], outputs[i])
            if args.steps is not None and step >= args.steps:
                break
        if world > 1:
            dist.all_reduce(sums)
        if rank == 0:
            logs = [f'loss: {sums[0] / sums[1]:.8g}'] + [f'{name}: {metric_value(kind, sums[2 + k] / sums[1]):.8g}' for k, (_, kind, name) in enumerate(metrics)]
            print(f'epoch {epoch + 1}/{args.epochs} - {step} steps - ' + ' - '.join(logs), flush=True)
        if args.steps is not None and step >= args.steps:
            break
    if rank == 0:
        torch.save(model.state_dict(), args.out)
        print(f'saved {args.out}', flush=True)
    if world > 1:
        dist.destroy_process_group()


if __name__ == '__main__':
    main()
