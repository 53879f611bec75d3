"""Keras's compile() settings in PyTorch: written by Strata's `strata export --format pytorch`.

Losses as Keras 3 computes them (probabilities clipped to [1e-7, 1 - 1e-7], the mean over the
batch), accuracies, learning-rate schedules, and Keras's Adam, AdamW and RMSprop update
rules (they differ from torch.optim's in where epsilon goes: Keras adds it to sqrt(v), not
to the bias-corrected sqrt(v_hat); RMSprop adds it inside the square root). SGD is torch's,
whose momentum form gives the same steps as Keras's at a constant learning rate.
"""
import math

import torch
import torch.nn.functional as F

EPSILON = 1e-7


def _log_probabilities(y_pred, from_logits):
    if from_logits:
        return F.log_softmax(y_pred, dim=-1)
    y_pred = y_pred / y_pred.sum(dim=-1, keepdim=True)
    return torch.log(y_pred.clamp(EPSILON, 1.0 - EPSILON))


def sparse_categorical_crossentropy(y_true, y_pred, from_logits=False):
    if y_true.dim() == y_pred.dim():  # (batch, 1) class ids
        y_true = y_true.squeeze(-1)
    log_probabilities = _log_probabilities(y_pred, from_logits)
    return -log_probabilities.gather(-1, y_true.long().unsqueeze(-1)).squeeze(-1)


def categorical_crossentropy(y_true, y_pred, from_logits=False):
    return -(y_true * _log_probabilities(y_pred, from_logits)).sum(dim=-1)


def binary_crossentropy(y_true, y_pred, from_logits=False):
    y_true = y_true.reshape(y_pred.shape).to(y_pred.dtype)
    if from_logits:
        losses = F.binary_cross_entropy_with_logits(y_pred, y_true, reduction='none')
    else:
        p = y_pred.clamp(EPSILON, 1.0 - EPSILON)
        losses = -(y_true * torch.log(p) + (1.0 - y_true) * torch.log(1.0 - p))
    return losses.mean(dim=-1)


def mean_squared_error(y_true, y_pred, from_logits=False):
    return (y_true.reshape(y_pred.shape).to(y_pred.dtype) - y_pred).square().mean(dim=-1)


def mean_absolute_error(y_true, y_pred, from_logits=False):
    return (y_true.reshape(y_pred.shape).to(y_pred.dtype) - y_pred).abs().mean(dim=-1)


LOSSES = {f.__name__: f for f in (sparse_categorical_crossentropy, categorical_crossentropy, binary_crossentropy, mean_squared_error, mean_absolute_error)}


def correct_predictions(kind, y_true, y_pred):
    """How many predictions Keras's accuracy for `kind` counts as right, as a float tensor."""
    if kind == 'sparse_categorical_accuracy':
        y_true = y_true.squeeze(-1) if y_true.dim() == y_pred.dim() else y_true
        right = y_pred.argmax(dim=-1) == y_true.long()
    elif kind == 'categorical_accuracy':
        right = y_pred.argmax(dim=-1) == y_true.argmax(dim=-1)
    else:  # binary_accuracy, threshold 0.5
        right = ((y_pred > 0.5).to(y_pred.dtype) == y_true.reshape(y_pred.shape).to(y_pred.dtype)).to(y_pred.dtype).mean(dim=-1)
    return right.to(torch.float64).sum()


def metric_sum(kind, y_true, y_pred):
    """A batch's metric summed over its samples: accuracies count right answers; the errors are
    each sample's mean over its values (root_mean_squared_error sums squares: the root is the
    epoch's, as Keras's RootMeanSquaredError)."""
    if kind.endswith('accuracy'):
        return correct_predictions(kind, y_true, y_pred)
    error = y_pred - y_true.reshape(y_pred.shape).to(y_pred.dtype)
    per_value = error.abs() if kind == 'mean_absolute_error' else error * error
    return per_value.reshape(len(y_pred), -1).mean(dim=1).to(torch.float64).sum()


def metric_value(kind, mean):
    """An epoch's metric from the mean of metric_sum over its samples."""
    return mean.sqrt() if kind == 'root_mean_squared_error' else mean


def learning_rate_schedule(learning_rate):
    """step -> learning rate, for a number or Keras's schedule config {class_name, config}."""
    if isinstance(learning_rate, (int, float)):
        return lambda step: float(learning_rate)
    name, c = learning_rate['class_name'], learning_rate['config']
    if name in ('ExponentialDecay', 'InverseTimeDecay'):
        def progress(step):
            p = step / c['decay_steps']
            return math.floor(p) if c.get('staircase') else p
        if name == 'ExponentialDecay':
            return lambda step: c['initial_learning_rate'] * c['decay_rate'] ** progress(step)
        return lambda step: c['initial_learning_rate'] / (1 + c['decay_rate'] * progress(step))
    if name == 'PiecewiseConstantDecay':
        def piecewise(step):
            k = 0
            while k < len(c['boundaries']) and step > c['boundaries'][k]:
                k += 1
            return c['values'][k]
        return piecewise
    if name == 'CosineDecay':
        def cosine(step):
            start, alpha = c['initial_learning_rate'], c.get('alpha', 0.0)
            if c.get('warmup_target') is not None:
                if step < c.get('warmup_steps', 0):
                    return start + (c['warmup_target'] - start) * step / c['warmup_steps']
                start, step = c['warmup_target'], step - c.get('warmup_steps', 0)
            fraction = min(step, c['decay_steps']) / c['decay_steps']
            return start * ((1 - alpha) * 0.5 * (1 + math.cos(math.pi * fraction)) + alpha)
        return cosine
    raise ValueError(f'unknown learning-rate schedule {name!r}')


class KerasAdam(torch.optim.Optimizer):
    """Keras's Adam (and AdamW with weight_decay): p -= lr * sqrt(1 - b2^t) / (1 - b1^t) * m / (sqrt(v) + epsilon)."""

    def __init__(self, params, lr=0.001, beta_1=0.9, beta_2=0.999, epsilon=1e-7, weight_decay=0.0):
        super().__init__(params, dict(lr=lr, beta_1=beta_1, beta_2=beta_2, epsilon=epsilon, weight_decay=weight_decay))

    @torch.no_grad()
    def step(self, closure=None):
        for group in self.param_groups:
            for p in group['params']:
                if p.grad is None:
                    continue
                state = self.state[p]
                if not state:
                    state['step'], state['m'], state['v'] = 0, torch.zeros_like(p), torch.zeros_like(p)
                state['step'] += 1
                t, lr = state['step'], group['lr']
                if group['weight_decay']:
                    p.sub_(p * group['weight_decay'] * lr)
                state['m'].lerp_(p.grad, 1 - group['beta_1'])
                state['v'].lerp_(p.grad.square(), 1 - group['beta_2'])
                alpha = lr * math.sqrt(1 - group['beta_2'] ** t) / (1 - group['beta_1'] ** t)
                p.sub_(alpha * state['m'] / (state['v'].sqrt() + group['epsilon']))


class KerasRMSprop(torch.optim.Optimizer):
    """Keras's RMSprop: v = rho * v + (1 - rho) * g^2; p -= lr * g / sqrt(v + epsilon) (centered: v - mean_g^2)."""

    def __init__(self, params, lr=0.001, rho=0.9, momentum=0.0, epsilon=1e-7, centered=False):
        super().__init__(params, dict(lr=lr, rho=rho, momentum=momentum, epsilon=epsilon, centered=centered))

    @torch.no_grad()
    def step(self, closure=None):
        for group in self.param_groups:
            rho = group['rho']
            for p in group['params']:
                if p.grad is None:
                    continue
                state = self.state[p]
                if not state:
                    state['v'], state['mean_g'], state['momentum'] = torch.zeros_like(p), torch.zeros_like(p), torch.zeros_like(p)
                state['v'].mul_(rho).add_((1 - rho) * p.grad.square())
                denominator = state['v']
                if group['centered']:
                    state['mean_g'].mul_(rho).add_((1 - rho) * p.grad)
                    denominator = denominator - state['mean_g'].square()
                increment = group['lr'] * p.grad * torch.rsqrt(denominator + group['epsilon'])
                if group['momentum'] > 0:
                    state['momentum'].mul_(group['momentum']).add_(increment)
                    increment = state['momentum']
                p.sub_(increment)


def make_optimizer(parameters, config):
    """The optimizer for Keras's optimizer config {class_name, config}; its learning rate is set per step."""
    name, c = config['class_name'], config['config']
    if name == 'SGD':
        return torch.optim.SGD(parameters, lr=0.01, momentum=c.get('momentum', 0.0), nesterov=c.get('nesterov', False))
    if name in ('Adam', 'AdamW'):
        return KerasAdam(parameters, beta_1=c.get('beta_1', 0.9), beta_2=c.get('beta_2', 0.999), epsilon=c.get('epsilon', 1e-7),
                         weight_decay=c.get('weight_decay', 0.004) if name == 'AdamW' else 0.0)
    if name == 'RMSprop':
        return KerasRMSprop(parameters, rho=c.get('rho', 0.9), momentum=c.get('momentum', 0.0), epsilon=c.get('epsilon', 1e-7), centered=c.get('centered', False))
    raise ValueError(f'unknown optimizer {name!r}; the export writes SGD, Adam, AdamW or RMSprop')


class Regularization:
    """Keras's regularizers and constraints on a model: `rules` maps a state_dict key to its
    {'l1', 'l2', 'constraint'} (the constraint's axes in torch's layout of the weight),
    `activity` a module's name to the (l1, l2) of the penalty on its output. penalty() is the
    step's addition to the loss (weights, and the outputs of the forward since the last call:
    forward hooks collect them in training); constrain() runs after the optimizer's step."""

    def __init__(self, model, rules, activity):
        self.parameters = dict(model.named_parameters())
        self.rules = rules
        self.outputs = []
        for name, (l1, l2) in activity.items():
            model.get_submodule(name).register_forward_hook(self.collect(l1, l2))

    def collect(self, l1, l2):
        def hook(module, inputs, output):
            if module.training:
                self.outputs.append((l1, l2, output))
        return hook

    @staticmethod
    def norm_penalty(l1, l2, x):
        return l1 * x.abs().sum() + l2 * x.square().sum()

    def penalty(self):
        total = sum(self.norm_penalty(rule['l1'], rule['l2'], self.parameters[key]) for key, rule in self.rules.items() if rule['l1'] or rule['l2'])
        total = total + sum(self.norm_penalty(l1, l2, output) for l1, l2, output in self.outputs)
        self.outputs = []
        return total

    @torch.no_grad()
    def constrain(self):
        for key, rule in self.rules.items():
            if rule.get('constraint'):
                weight = self.parameters[key]
                weight.copy_(constrained(weight, rule['constraint']))


def constrained(w, constraint):
    """keras.constraints: NonNeg zeroes the negatives; MaxNorm, UnitNorm and MinMaxNorm rescale each
    slice to the norm they want, the norms taken over `axes` (Keras's epsilon 1e-7)."""
    kind = constraint['kind']
    if kind == 'NonNeg':
        return w * (w >= 0)
    norms = w.square().sum(dim=tuple(constraint['axes']), keepdim=True).sqrt()
    if kind == 'MaxNorm':
        desired = norms.clamp(0, constraint['max_value'])
    elif kind == 'UnitNorm':
        desired = torch.ones_like(norms)
    else:
        desired = constraint['rate'] * norms.clamp(constraint['min_value'], constraint['max_value']) + (1 - constraint['rate']) * norms
    return w * desired / (1e-7 + norms)
