"""Keras's layers in PyTorch, channels last: written by Strata's `strata export --format pytorch`.

Every module takes and returns tensors in Keras's layout (images (batch, height, width,
channels), sequences (batch, steps, features)), so the arrays a Keras model takes go in
unchanged and Flatten keeps Keras's (h, w, c) order. Convolutions and poolings move to
channels first around the op. The semantics are Keras 3's: TensorFlow's "same" padding (the
odd pixel at the end), average pooling that leaves the padding out of the count,
BatchNormalization's epsilon 1e-3, momentum 0.99 (torch's 0.01) and biased variance, and
fresh weights drawn from Keras's initializers (the layer's own, in Keras's fan convention).
"""
import functools
import math

import torch
import torch.nn.functional as F
from torch import nn

ACTIVATIONS = {
    'linear': lambda x: x,
    'relu': F.relu,
    'sigmoid': torch.sigmoid,
    'tanh': torch.tanh,
    'softmax': lambda x: F.softmax(x, dim=-1),
    'elu': F.elu,
    'selu': F.selu,
    'gelu': F.gelu,  # the exact erf form, Keras's default (approximate=False)
    'leaky_relu': lambda x: F.leaky_relu(x, 0.2),  # keras.activations.leaky_relu's slope
    'swish': F.silu,
    'softplus': F.softplus,
    'hard_sigmoid': lambda x: F.relu6(x + 3) / 6,  # Keras 3's
    'relu6': F.relu6,
}

ZEROS = {'class_name': 'Zeros', 'config': {}}
ONES = {'class_name': 'Ones', 'config': {}}
GLOROT_UNIFORM = {'class_name': 'GlorotUniform', 'config': {'seed': None}}
EMBEDDING_UNIFORM = {'class_name': 'RandomUniform', 'config': {'minval': -0.05, 'maxval': 0.05, 'seed': None}}

# Keras's VarianceScaling presets: (scale, mode, distribution).
VARIANCE_SCALING_PRESETS = {
    'GlorotUniform': (1.0, 'fan_avg', 'uniform'),
    'GlorotNormal': (1.0, 'fan_avg', 'truncated_normal'),
    'HeUniform': (2.0, 'fan_in', 'uniform'),
    'HeNormal': (2.0, 'fan_in', 'truncated_normal'),
    'LecunUniform': (1.0, 'fan_in', 'uniform'),
    'LecunNormal': (1.0, 'fan_in', 'truncated_normal'),
}


def compute_fans(shape):
    """Keras's fans: a kernel (..., in, out) has fan_in = in * receptive field, fan_out = out * receptive field."""
    if len(shape) == 0:
        return 1, 1
    if len(shape) == 1:
        return shape[0], shape[0]
    receptive = math.prod(shape[:-2])
    return shape[-2] * receptive, shape[-1] * receptive


def keras_initial_value(initializer, shape):
    """A float32 tensor of Keras's `shape` drawn as the Keras initializer {class_name, config} draws it."""
    name, config = initializer['class_name'], initializer.get('config') or {}
    generator = torch.Generator().manual_seed(config['seed']) if config.get('seed') is not None else None
    out = torch.empty(shape)
    if name == 'Zeros':
        return out.zero_()
    if name == 'Ones':
        return out.fill_(1.0)
    if name == 'Constant':
        return out.fill_(config.get('value', 0.0))
    if name == 'RandomUniform':
        return out.uniform_(config.get('minval', -0.05), config.get('maxval', 0.05), generator=generator)
    if name == 'RandomNormal':
        return out.normal_(config.get('mean', 0.0), config.get('stddev', 0.05), generator=generator)
    if name == 'TruncatedNormal':
        return truncated_normal(out, config.get('mean', 0.0), config.get('stddev', 0.05), generator)
    if name == 'Orthogonal':
        return orthogonal(shape, config.get('gain', 1.0), generator)
    if name in VARIANCE_SCALING_PRESETS:
        scale, mode, distribution = VARIANCE_SCALING_PRESETS[name]
    elif name == 'VarianceScaling':
        scale, mode, distribution = config.get('scale', 1.0), config.get('mode', 'fan_in'), config.get('distribution', 'truncated_normal')
    else:
        raise ValueError(f'unknown Keras initializer {name!r}')
    fan_in, fan_out = compute_fans(shape)
    fan = {'fan_in': fan_in, 'fan_out': fan_out, 'fan_avg': (fan_in + fan_out) / 2}[mode]
    variance = scale / max(1.0, fan)
    if distribution == 'uniform':
        limit = math.sqrt(3.0 * variance)
        return out.uniform_(-limit, limit, generator=generator)
    if distribution == 'untruncated_normal':
        return out.normal_(0.0, math.sqrt(variance), generator=generator)
    # 0.8796... is the stddev of a unit normal truncated to [-2, 2]; dividing by it keeps the variance.
    return truncated_normal(out, 0.0, math.sqrt(variance) / 0.87962566103423978, generator)


def truncated_normal(out, mean, stddev, generator):
    """Keras's truncated normal: draws beyond two standard deviations are drawn again."""
    out.normal_(0.0, 1.0, generator=generator)
    while True:
        outside = out.abs() > 2.0
        if not outside.any():
            return out.mul_(stddev).add_(mean)
        out[outside] = torch.randn(int(outside.sum()), generator=generator)


def orthogonal(shape, gain, generator):
    """Keras's Orthogonal: the Q of a normal matrix's QR, signs fixed by R's diagonal, (rows = all
    axes but the last) x (columns = the last), times the gain."""
    rows, cols = math.prod(shape[:-1]), shape[-1]
    flat = torch.randn(max(rows, cols), min(rows, cols), generator=generator)
    q, r = torch.linalg.qr(flat)
    q = q * torch.sign(torch.diagonal(r))
    if rows < cols:
        q = q.t()
    return (gain * q).reshape(shape).contiguous()


def conv_kernel_to_torch(kernel):
    """Keras's (kh, kw, in, out) kernel -> torch's (out, in, kh, kw)."""
    return kernel.permute(3, 2, 0, 1).contiguous()


def depthwise_kernel_to_torch(kernel):
    """Keras's (kh, kw, c, multiplier) -> torch's grouped (c * multiplier, 1, kh, kw): channel c * multiplier + m."""
    kh, kw, channels, multiplier = kernel.shape
    return conv_kernel_to_torch(kernel.reshape(kh, kw, 1, channels * multiplier))


def same_padding(size, kernel, stride, dilation):
    """TensorFlow's "same" padding of one axis: (before, after), the odd pixel after."""
    span = (kernel - 1) * dilation + 1
    total = max((math.ceil(size / stride) - 1) * stride + span - size, 0)
    return total // 2, total - total // 2


def pad_same(x, kernel, strides, dilation=(1, 1), value=0.0):
    """Pads channels-first `x` (batch, c, h, w) as TensorFlow's "same" padding does."""
    top, bottom = same_padding(x.shape[2], kernel[0], strides[0], dilation[0])
    left, right = same_padding(x.shape[3], kernel[1], strides[1], dilation[1])
    return F.pad(x, (left, right, top, bottom), value=value)


def channels_first(x):
    return x.permute(0, 3, 1, 2)


def channels_last(x):
    return x.permute(0, 2, 3, 1)


class Dense(nn.Module):
    """activation(x @ kernel + bias) over the last axis; weight (units, in) is Keras's kernel transposed."""

    def __init__(self, in_features, units, activation='linear', use_bias=True, kernel_initializer=GLOROT_UNIFORM, bias_initializer=ZEROS):
        super().__init__()
        self.activation = activation
        self.kernel_initializer, self.bias_initializer = kernel_initializer, bias_initializer
        self.weight = nn.Parameter(torch.empty(units, in_features))
        self.bias = nn.Parameter(torch.empty(units)) if use_bias else None
        self.reset_parameters()

    def reset_parameters(self):
        with torch.no_grad():
            units, in_features = self.weight.shape
            self.weight.copy_(keras_initial_value(self.kernel_initializer, (in_features, units)).t())
            if self.bias is not None:
                self.bias.copy_(keras_initial_value(self.bias_initializer, (units,)))

    def forward(self, x):
        return ACTIVATIONS[self.activation](F.linear(x, self.weight, self.bias))


class Conv2D(nn.Module):
    """Keras's Conv2D on (batch, h, w, c); weight (filters, c / groups, kh, kw)."""

    def __init__(self, in_channels, filters, kernel_size, strides=(1, 1), padding='valid', dilation_rate=(1, 1), groups=1,
                 activation='linear', use_bias=True, kernel_initializer=GLOROT_UNIFORM, bias_initializer=ZEROS):
        super().__init__()
        self.kernel_size, self.strides, self.padding, self.dilation_rate, self.groups = tuple(kernel_size), tuple(strides), padding, tuple(dilation_rate), groups
        self.activation = activation
        self.kernel_initializer, self.bias_initializer = kernel_initializer, bias_initializer
        self.weight = nn.Parameter(torch.empty(filters, in_channels // groups, *kernel_size))
        self.bias = nn.Parameter(torch.empty(filters)) if use_bias else None
        self.reset_parameters()

    def reset_parameters(self):
        with torch.no_grad():
            filters, per_group, kh, kw = self.weight.shape
            self.weight.copy_(conv_kernel_to_torch(keras_initial_value(self.kernel_initializer, (kh, kw, per_group, filters))))
            if self.bias is not None:
                self.bias.copy_(keras_initial_value(self.bias_initializer, (filters,)))

    def convolve(self, x):
        """The convolution of channels-first `x`, before the activation."""
        if self.padding == 'same':
            x = pad_same(x, self.kernel_size, self.strides, self.dilation_rate)
        return F.conv2d(x, self.weight, self.bias, self.strides, 0, self.dilation_rate, self.groups)

    def forward(self, x):
        return ACTIVATIONS[self.activation](channels_last(self.convolve(channels_first(x))))


class DepthwiseConv2D(Conv2D):
    """Keras's DepthwiseConv2D: one group per input channel; output channel c * depth_multiplier + m."""

    def __init__(self, in_channels, kernel_size, strides=(1, 1), padding='valid', depth_multiplier=1, dilation_rate=(1, 1),
                 activation='linear', use_bias=True, depthwise_initializer=GLOROT_UNIFORM, bias_initializer=ZEROS):
        super().__init__(in_channels, in_channels * depth_multiplier, kernel_size, strides, padding, dilation_rate, in_channels,
                         activation, use_bias, depthwise_initializer, bias_initializer)

    def reset_parameters(self):
        with torch.no_grad():
            outputs, _, kh, kw = self.weight.shape
            shape = (kh, kw, self.groups, outputs // self.groups)
            self.weight.copy_(depthwise_kernel_to_torch(keras_initial_value(self.kernel_initializer, shape)))
            if self.bias is not None:
                self.bias.copy_(keras_initial_value(self.bias_initializer, (outputs,)))


class SeparableConv2D(nn.Module):
    """Keras's SeparableConv2D: a depthwise convolution without bias, then a 1x1 convolution with the bias and activation."""

    def __init__(self, in_channels, filters, kernel_size, strides=(1, 1), padding='valid', depth_multiplier=1, dilation_rate=(1, 1),
                 activation='linear', use_bias=True, depthwise_initializer=GLOROT_UNIFORM, pointwise_initializer=GLOROT_UNIFORM, bias_initializer=ZEROS):
        super().__init__()
        self.depthwise = DepthwiseConv2D(in_channels, kernel_size, strides, padding, depth_multiplier, dilation_rate, 'linear', False, depthwise_initializer)
        self.pointwise = Conv2D(in_channels * depth_multiplier, filters, (1, 1), activation=activation, use_bias=use_bias,
                                kernel_initializer=pointwise_initializer, bias_initializer=bias_initializer)
        self.activation = activation

    def forward(self, x):
        y = self.pointwise.convolve(self.depthwise.convolve(channels_first(x)))
        return ACTIVATIONS[self.activation](channels_last(y))


class Conv1D(nn.Module):
    """Keras's Conv1D on (batch, steps, c); weight (filters, c / groups, k); padding valid, same or
    causal (the (k - 1) * dilation steps all before the sequence)."""

    def __init__(self, in_channels, filters, kernel_size, strides=(1,), padding='valid', dilation_rate=(1,), groups=1,
                 activation='linear', use_bias=True, kernel_initializer=GLOROT_UNIFORM, bias_initializer=ZEROS):
        super().__init__()
        (self.kernel_size,), (self.strides,), (self.dilation_rate,) = kernel_size, strides, dilation_rate
        self.padding, self.groups, self.activation = padding, groups, activation
        self.kernel_initializer, self.bias_initializer = kernel_initializer, bias_initializer
        self.weight = nn.Parameter(torch.empty(filters, in_channels // groups, self.kernel_size))
        self.bias = nn.Parameter(torch.empty(filters)) if use_bias else None
        self.reset_parameters()

    def reset_parameters(self):
        with torch.no_grad():
            filters, per_group, k = self.weight.shape
            self.weight.copy_(keras_initial_value(self.kernel_initializer, (k, per_group, filters)).permute(2, 1, 0))
            if self.bias is not None:
                self.bias.copy_(keras_initial_value(self.bias_initializer, (filters,)))

    def forward(self, x):
        x = x.transpose(1, 2)
        if self.padding == 'same':
            x = F.pad(x, same_padding(x.shape[2], self.kernel_size, self.strides, self.dilation_rate))
        elif self.padding == 'causal':
            x = F.pad(x, ((self.kernel_size - 1) * self.dilation_rate, 0))
        y = F.conv1d(x, self.weight, self.bias, self.strides, 0, self.dilation_rate, self.groups)
        return ACTIVATIONS[self.activation](y.transpose(1, 2))


class Conv2DTranspose(nn.Module):
    """Keras's Conv2DTranspose on (batch, h, w, c); weight (c, filters, kh, kw), Keras's kernel
    (kh, kw, filters, c) permuted. The full transposed convolution is cropped (or padded at the
    end) to Keras's output size, as TensorFlow crops: the smaller half before."""

    def __init__(self, in_channels, filters, kernel_size, output_size, strides=(1, 1), dilation_rate=(1, 1), activation='linear',
                 use_bias=True, kernel_initializer=GLOROT_UNIFORM, bias_initializer=ZEROS):
        super().__init__()
        self.output_size, self.strides, self.dilation_rate = tuple(output_size), tuple(strides), tuple(dilation_rate)
        self.activation = activation
        self.kernel_initializer, self.bias_initializer = kernel_initializer, bias_initializer
        self.weight = nn.Parameter(torch.empty(in_channels, filters, *kernel_size))
        self.bias = nn.Parameter(torch.empty(filters)) if use_bias else None
        self.reset_parameters()

    def reset_parameters(self):
        with torch.no_grad():
            in_channels, filters, kh, kw = self.weight.shape
            self.weight.copy_(conv_kernel_to_torch(keras_initial_value(self.kernel_initializer, (kh, kw, filters, in_channels))))
            if self.bias is not None:
                self.bias.copy_(keras_initial_value(self.bias_initializer, (filters,)))

    def forward(self, x):
        y = F.conv_transpose2d(channels_first(x), self.weight, None, self.strides, dilation=self.dilation_rate)
        pads = []
        for axis in (3, 2):  # F.pad's order: the last axis first
            total = y.shape[axis] - self.output_size[axis - 2]
            pads += [-(total // 2), -(total - total // 2)] if total >= 0 else [0, -total]
        y = F.pad(y, pads)
        if self.bias is not None:
            y = y + self.bias.reshape(1, -1, 1, 1)
        return ACTIVATIONS[self.activation](channels_last(y))


class Pooling2D(nn.Module):
    """A pooling window: pool_size, strides (the pool size when None, as Keras) and padding."""

    def __init__(self, pool_size=(2, 2), strides=None, padding='valid'):
        super().__init__()
        self.pool_size, self.strides, self.padding = tuple(pool_size), tuple(strides or pool_size), padding


class MaxPooling2D(Pooling2D):
    def forward(self, x):
        x = channels_first(x)
        if self.padding == 'same':
            x = pad_same(x, self.pool_size, self.strides, value=-math.inf)
        return channels_last(F.max_pool2d(x, self.pool_size, self.strides))


class AveragePooling2D(Pooling2D):
    """Keras's average pooling: with "same" padding each window averages only the pixels inside the image."""

    def forward(self, x):
        x = channels_first(x)
        if self.padding == 'valid':
            return channels_last(F.avg_pool2d(x, self.pool_size, self.strides))
        sums = F.avg_pool2d(pad_same(x, self.pool_size, self.strides), self.pool_size, self.strides)
        counts = F.avg_pool2d(pad_same(torch.ones_like(x[:1, :1]), self.pool_size, self.strides), self.pool_size, self.strides)
        return channels_last(sums / counts)


class Pooling1D:
    """Keras's 1-D poolings on (batch, steps, c): a 2-D pooling of one pixel's width."""

    def __init__(self, pool_size=(2,), strides=None, padding='valid'):
        super().__init__((pool_size[0], 1), (strides[0], 1) if strides else None, padding)

    def forward(self, x):
        return super().forward(x.unsqueeze(2)).squeeze(2)


class MaxPooling1D(Pooling1D, MaxPooling2D):
    pass


class AveragePooling1D(Pooling1D, AveragePooling2D):
    pass


class GlobalAveragePooling(nn.Module):
    """The mean over every axis but the batch and the last (channels, features) one."""
    axes = ()

    def __init__(self, keepdims=False):
        super().__init__()
        self.keepdims = keepdims

    def forward(self, x):
        return x.mean(dim=self.axes, keepdim=self.keepdims)


class GlobalAveragePooling2D(GlobalAveragePooling):
    axes = (1, 2)


class GlobalAveragePooling1D(GlobalAveragePooling):
    axes = (1,)


class GlobalMaxPooling2D(GlobalAveragePooling2D):
    def forward(self, x):
        return x.amax(dim=self.axes, keepdim=self.keepdims)


class GlobalMaxPooling1D(GlobalAveragePooling1D):
    def forward(self, x):
        return x.amax(dim=self.axes, keepdim=self.keepdims)


class BatchNormalization(nn.Module):
    """Keras's BatchNormalization over the last axis: batch statistics (biased variance) in training,
    the moving ones otherwise; moving = moving * keras_momentum + batch * (1 - keras_momentum)."""

    def __init__(self, features, momentum=0.99, epsilon=1e-3, center=True, scale=True,
                 beta_initializer=ZEROS, gamma_initializer=ONES, moving_mean_initializer=ZEROS, moving_variance_initializer=ONES):
        super().__init__()
        self.momentum = 1.0 - momentum  # torch's convention: the weight of the new batch
        self.epsilon = epsilon
        self.initializers = (gamma_initializer, beta_initializer, moving_mean_initializer, moving_variance_initializer)
        self.weight = nn.Parameter(torch.empty(features)) if scale else None
        self.bias = nn.Parameter(torch.empty(features)) if center else None
        self.register_buffer('running_mean', torch.empty(features))
        self.register_buffer('running_var', torch.empty(features))
        self.reset_parameters()

    def reset_parameters(self):
        with torch.no_grad():
            for tensor, initializer in zip((self.weight, self.bias, self.running_mean, self.running_var), self.initializers):
                if tensor is not None:
                    tensor.copy_(keras_initial_value(initializer, tuple(tensor.shape)))

    def forward(self, x):
        axes = tuple(range(x.dim() - 1))
        if self.training:
            mean = x.mean(dim=axes)
            variance = x.var(dim=axes, unbiased=False)
            with torch.no_grad():
                self.running_mean.lerp_(mean.detach(), self.momentum)
                self.running_var.lerp_(variance.detach(), self.momentum)
        else:
            mean, variance = self.running_mean, self.running_var
        y = (x - mean) * torch.rsqrt(variance + self.epsilon)
        if self.weight is not None:
            y = y * self.weight
        if self.bias is not None:
            y = y + self.bias
        return y


class Embedding(nn.Module):
    """Token ids (any integer or float dtype, as Keras takes them) -> vectors; weight (input_dim, output_dim) as Keras's."""

    def __init__(self, input_dim, output_dim, embeddings_initializer=EMBEDDING_UNIFORM):
        super().__init__()
        self.embeddings_initializer = embeddings_initializer
        self.weight = nn.Parameter(torch.empty(input_dim, output_dim))
        self.reset_parameters()

    def reset_parameters(self):
        with torch.no_grad():
            self.weight.copy_(keras_initial_value(self.embeddings_initializer, tuple(self.weight.shape)))

    def forward(self, x):
        return F.embedding(x.long(), self.weight)


class Flatten(nn.Module):
    """(batch, ...) -> (batch, product); channels-last tensors flatten in Keras's (h, w, c) order."""

    def forward(self, x):
        return x.reshape(x.shape[0], -1)


class Reshape(nn.Module):
    def __init__(self, target_shape):
        super().__init__()
        self.target_shape = tuple(target_shape)

    def forward(self, x):
        return x.reshape(x.shape[0], *self.target_shape)


class Dropout(nn.Dropout):
    pass


class Activation(nn.Module):
    def __init__(self, activation):
        super().__init__()
        self.activation = activation

    def forward(self, x):
        return ACTIVATIONS[self.activation](x)


class ReLU(nn.Module):
    """keras.activations.relu: x above the threshold, clipped to max_value, negative_slope * (x - threshold) below."""

    def __init__(self, max_value=None, negative_slope=0.0, threshold=0.0):
        super().__init__()
        self.max_value, self.negative_slope, self.threshold = max_value, negative_slope, threshold

    def forward(self, x):
        y = torch.where(x > self.threshold, x, torch.zeros_like(x)) if self.threshold != 0 else F.relu(x)
        if self.max_value is not None:
            y = y.clamp(0.0, self.max_value)
        if self.negative_slope != 0:
            y = y - self.negative_slope * F.relu(self.threshold - x)
        return y


class LeakyReLU(nn.LeakyReLU):
    pass


class ELU(nn.ELU):
    pass


class Softmax(nn.Softmax):
    pass


class ZeroPadding2D(nn.Module):
    def __init__(self, padding=((1, 1), (1, 1))):
        super().__init__()
        (self.top, self.bottom), (self.left, self.right) = padding

    def forward(self, x):
        return F.pad(x, (0, 0, self.left, self.right, self.top, self.bottom))


class Rescaling(nn.Module):
    def __init__(self, scale, offset=0.0):
        super().__init__()
        self.scale, self.offset = scale, offset

    def forward(self, x):
        return x * self.scale + self.offset


class Concatenate(nn.Module):
    def __init__(self, axis=-1):
        super().__init__()
        self.axis = axis

    def forward(self, *xs):
        return torch.cat(xs, dim=self.axis)


class Add(nn.Module):
    def forward(self, *xs):
        total = xs[0]
        for x in xs[1:]:
            total = total + x
        return total


class Multiply(nn.Module):
    def forward(self, *xs):
        product = xs[0]
        for x in xs[1:]:
            product = product * x
        return product


class Average(nn.Module):
    def forward(self, *xs):
        return Add()(*xs) / len(xs)


class Subtract(nn.Module):
    def forward(self, a, b):
        return a - b


class Maximum(nn.Module):
    def forward(self, *xs):
        return functools.reduce(torch.maximum, xs)


class Minimum(nn.Module):
    def forward(self, *xs):
        return functools.reduce(torch.minimum, xs)


class Dot(nn.Module):
    """Keras's Dot (batch_dot): the two inputs summed over one axis each, L2-normalized along it
    first with normalize (Keras 3's x * min(rsqrt(sum x^2), 1e7)); the output has the first
    input's other axes, then the second's past the batch, (N, 1) when that leaves only N."""

    def __init__(self, axes, normalize=False):
        super().__init__()
        self.axes = (axes, axes) if isinstance(axes, int) else tuple(axes)
        self.normalize = normalize

    def forward(self, x, y):
        a, b = (axis % t.dim() for axis, t in zip(self.axes, (x, y)))
        if self.normalize:
            x, y = (t * torch.rsqrt(torch.sum(t * t, dim=axis, keepdim=True)).clamp(max=1e7) for t, axis in ((x, a), (y, b)))
        x, y = torch.movedim(x, a, -1), torch.movedim(y, b, 1)
        out = torch.matmul(x.reshape(x.shape[0], -1, x.shape[-1]), y.reshape(y.shape[0], y.shape[1], -1))
        shape = tuple(x.shape[:-1]) + tuple(y.shape[2:])
        return out.reshape(shape if len(shape) > 1 else (shape[0], 1))


class Cropping2D(nn.Module):
    def __init__(self, cropping=((0, 0), (0, 0))):
        super().__init__()
        (self.top, self.bottom), (self.left, self.right) = cropping

    def forward(self, x):
        return x[:, self.top:x.shape[1] - self.bottom, self.left:x.shape[2] - self.right, :]


class Permute(nn.Module):
    """Keras's dims number the axes after the batch from 1."""

    def __init__(self, dims):
        super().__init__()
        self.dims = tuple(dims)

    def forward(self, x):
        return x.permute(0, *self.dims)


class RepeatVector(nn.Module):
    def __init__(self, n):
        super().__init__()
        self.n = n

    def forward(self, x):
        return x.unsqueeze(1).repeat(1, self.n, 1)


class PReLU(nn.Module):
    """max(0, x) - alpha * max(0, -x) with Keras's alpha: the input's shape after the batch, 1 on the shared axes."""

    def __init__(self, alpha_shape, alpha_initializer=ZEROS):
        super().__init__()
        self.alpha_initializer = alpha_initializer
        self.weight = nn.Parameter(torch.empty(alpha_shape))
        self.reset_parameters()

    def reset_parameters(self):
        with torch.no_grad():
            self.weight.copy_(keras_initial_value(self.alpha_initializer, tuple(self.weight.shape)))

    def forward(self, x):
        return F.relu(x) - self.weight * F.relu(-x)


class LayerNormalization(nn.Module):
    """Keras's LayerNormalization: each sample normalized over `axis` (biased variance), then gamma and beta
    of those axes' sizes. `input_shape` is the input's shape after the batch."""

    def __init__(self, input_shape, axis=-1, epsilon=1e-3, center=True, scale=True, beta_initializer=ZEROS, gamma_initializer=ONES):
        super().__init__()
        rank = len(input_shape) + 1
        axes = [axis] if isinstance(axis, int) else list(axis)
        self.axes = tuple(sorted(a % rank for a in axes))
        self.broadcast = tuple(input_shape[a - 1] if a in self.axes else 1 for a in range(1, rank))
        self.epsilon = epsilon
        self.initializers = (gamma_initializer, beta_initializer)
        shape = tuple(input_shape[a - 1] for a in self.axes)
        self.weight = nn.Parameter(torch.empty(shape)) if scale else None
        self.bias = nn.Parameter(torch.empty(shape)) if center else None
        self.reset_parameters()

    def reset_parameters(self):
        with torch.no_grad():
            for tensor, initializer in zip((self.weight, self.bias), self.initializers):
                if tensor is not None:
                    tensor.copy_(keras_initial_value(initializer, tuple(tensor.shape)))

    def forward(self, x):
        mean = x.mean(dim=self.axes, keepdim=True)
        variance = x.var(dim=self.axes, unbiased=False, keepdim=True)
        y = (x - mean) * torch.rsqrt(variance + self.epsilon)
        if self.weight is not None:
            y = y * self.weight.reshape(self.broadcast)
        if self.bias is not None:
            y = y + self.bias.reshape(self.broadcast)
        return y


class GaussianNoise(nn.Module):
    """In training, x plus normal noise of `stddev`; the identity otherwise."""

    def __init__(self, stddev):
        super().__init__()
        self.stddev = stddev

    def forward(self, x):
        return x + torch.randn_like(x) * self.stddev if self.training else x


class GaussianDropout(nn.Module):
    """In training, x times normal noise of mean 1 and stddev sqrt(rate / (1 - rate)); the identity otherwise."""

    def __init__(self, rate):
        super().__init__()
        self.rate = rate

    def forward(self, x):
        if not self.training or self.rate == 0:
            return x
        return x * (1 + torch.randn_like(x) * math.sqrt(self.rate / (1 - self.rate)))


class SpatialDropout2D(nn.Dropout2d):
    """Whole channels dropped (and the rest scaled by 1 / (1 - rate)) in training, on (batch, h, w, c)."""

    def forward(self, x):
        return channels_last(super().forward(channels_first(x)))


class ActivityRegularization(nn.Module):
    """The identity; train.py adds l1 * sum(|x|) + l2 * sum(x^2) of its input to the loss in training (model.ACTIVITY)."""

    def __init__(self, l1=0.0, l2=0.0):
        super().__init__()
        self.l1, self.l2 = l1, l2

    def forward(self, x):
        return x


class Normalization(nn.Module):
    """(x - mean) / max(sqrt(variance), 1e-7), or with `invert` mean + x * that; the statistics
    broadcast as `broadcast_shape` (1 on the batch and the axes normalized together). Adapted
    statistics are buffers loaded with the weights (Keras's mean, variance, count); given ones
    (`mean`, `variance`) are constants of the module."""

    def __init__(self, broadcast_shape, statistic_shape, mean=None, variance=None, invert=False):
        super().__init__()
        self.broadcast_shape, self.invert = tuple(broadcast_shape), invert
        given = mean is not None
        self.register_buffer('mean', torch.tensor(mean) if given else torch.zeros(statistic_shape), persistent=not given)
        self.register_buffer('variance', torch.tensor(variance) if given else torch.ones(statistic_shape), persistent=not given)
        if not given:
            self.register_buffer('count', torch.zeros(()))

    def forward(self, x):
        mean = self.mean.reshape(self.broadcast_shape)
        deviation = self.variance.reshape(self.broadcast_shape).sqrt().clamp_min(1e-7)
        return mean + x * deviation if self.invert else (x - mean) / deviation


class UpSampling2D(nn.Module):
    """Keras's UpSampling2D: nearest repeats rows and columns; bilinear is TensorFlow's half-pixel resize
    (torch's bilinear with align_corners=False computes the same)."""

    def __init__(self, size=(2, 2), interpolation='nearest'):
        super().__init__()
        self.size, self.interpolation = tuple(size), interpolation

    def forward(self, x):
        if self.interpolation == 'nearest':
            return x.repeat_interleave(self.size[0], dim=1).repeat_interleave(self.size[1], dim=2)
        return channels_last(F.interpolate(channels_first(x), scale_factor=self.size, mode='bilinear', align_corners=False))


class Resizing(nn.Module):
    """Keras's Resizing of the whole image: bilinear with half-pixel centres, or nearest as TensorFlow
    picks (floor((o + 0.5) * in / out): torch's nearest-exact)."""

    def __init__(self, height, width, interpolation='bilinear'):
        super().__init__()
        self.height, self.width, self.interpolation = height, width, interpolation

    def forward(self, x):
        mode = {'bilinear': 'bilinear', 'nearest': 'nearest-exact'}[self.interpolation]
        corners = {'align_corners': False} if mode == 'bilinear' else {}
        return channels_last(F.interpolate(channels_first(x), size=(self.height, self.width), mode=mode, **corners))


class CenterCrop(nn.Module):
    """The middle height x width window, starting int((h - height) / 2) rows and int((w - width) / 2) columns in."""

    def __init__(self, height, width):
        super().__init__()
        self.height, self.width = height, width

    def forward(self, x):
        top, left = (x.shape[1] - self.height) // 2, (x.shape[2] - self.width) // 2
        return x[:, top:top + self.height, left:left + self.width, :]


class ZeroPadding1D(nn.Module):
    def __init__(self, padding=(1, 1)):
        super().__init__()
        self.start, self.end = padding

    def forward(self, x):
        return F.pad(x, (0, 0, self.start, self.end))


class Cropping1D(nn.Module):
    def __init__(self, cropping=(1, 1)):
        super().__init__()
        self.start, self.end = cropping

    def forward(self, x):
        return x[:, self.start:x.shape[1] - self.end, :]


class UpSampling1D(nn.Module):
    """Keras's UpSampling1D: each step repeated `size` times."""

    def __init__(self, size=2):
        super().__init__()
        self.size = size

    def forward(self, x):
        return x.repeat_interleave(self.size, dim=1)


class SpatialDropout1D(nn.Dropout2d):
    """Whole channels dropped (and the rest scaled by 1 / (1 - rate)) in training, on (batch, steps, c):
    Dropout2d on (batch, c, steps, 1), which torch 1.x has (Dropout1d came in 1.12)."""

    def forward(self, x):
        return super().forward(x.permute(0, 2, 1).unsqueeze(-1)).squeeze(-1).permute(0, 2, 1)


class TimeDistributed(nn.Module):
    """Keras's TimeDistributed: the wrapped module on every time step, as one batch of batch * time
    steps, (batch, time, ...) -> (batch, time, ...out)."""

    def __init__(self, layer):
        super().__init__()
        self.layer = layer

    def forward(self, x):
        batch, time = x.shape[0], x.shape[1]
        y = self.layer(x.reshape(batch * time, *x.shape[2:]))
        return y.reshape(batch, time, *y.shape[1:])
