"""Keras's recurrent layers in PyTorch: written by Strata's `strata export --format pytorch`.

LSTM, GRU and SimpleRNN keep Keras's weights as they are (kernel (features, gates * units),
recurrent_kernel (units, gates * units), bias; Keras's gate order i, f, c, o and z, r, h) and
step through time in Python with Keras's activations, so every Keras option holds (any
activation, hard_sigmoid gates, GRU's reset_after false, go_backwards). A loop over steps is
slower than torch's fused nn.LSTM kernels; it computes what Keras computes.
"""
import torch
from torch import nn

try:  # imported as a package
    from .keras_layers import ACTIVATIONS, GLOROT_UNIFORM, ZEROS, keras_initial_value
except ImportError:  # run from this folder
    from keras_layers import ACTIVATIONS, GLOROT_UNIFORM, ZEROS, keras_initial_value

ORTHOGONAL = {'class_name': 'Orthogonal', 'config': {'gain': 1.0, 'seed': None}}


class Recurrent(nn.Module):
    """What the three share: the weights, the loop over steps, return_sequences/return_state."""
    gates = 1
    states = 1

    def __init__(self, features, units, activation='tanh', recurrent_activation='sigmoid', use_bias=True,
                 kernel_initializer=GLOROT_UNIFORM, recurrent_initializer=ORTHOGONAL, bias_initializer=ZEROS,
                 return_sequences=False, return_state=False, go_backwards=False, bias_shape=None):
        super().__init__()
        self.units = units
        self.activation, self.recurrent_activation = ACTIVATIONS[activation], ACTIVATIONS[recurrent_activation]
        self.return_sequences, self.return_state, self.go_backwards = return_sequences, return_state, go_backwards
        self.initializers = (kernel_initializer, recurrent_initializer, bias_initializer)
        self.kernel = nn.Parameter(torch.empty(features, self.gates * units))
        self.recurrent_kernel = nn.Parameter(torch.empty(units, self.gates * units))
        self.bias = nn.Parameter(torch.empty(bias_shape or (self.gates * units,))) if use_bias else None
        self.reset_parameters()

    def reset_parameters(self):
        with torch.no_grad():
            for tensor, initializer in zip((self.kernel, self.recurrent_kernel, self.bias), self.initializers):
                if tensor is not None:
                    tensor.copy_(self.initial_value(initializer, tuple(tensor.shape)))

    def initial_value(self, initializer, shape):
        return keras_initial_value(initializer, shape)

    def forward(self, x, *initial_states):
        batch = x.shape[0]
        states = list(initial_states) or [x.new_zeros(batch, self.units) for _ in range(self.states)]
        steps = range(x.shape[1] - 1, -1, -1) if self.go_backwards else range(x.shape[1])
        outputs = []
        for t in steps:
            output, states = self.step(x[:, t], states)
            outputs.append(output)
        y = torch.stack(outputs, dim=1) if self.return_sequences else outputs[-1]
        return (y, *states) if self.return_state else y


class SimpleRNN(Recurrent):
    """h' = activation(x W + h U + b)."""

    def step(self, x, states):
        z = x @ self.kernel + states[0] @ self.recurrent_kernel
        h = self.activation(z + self.bias if self.bias is not None else z)
        return h, [h]


class LSTM(Recurrent):
    """z = x W + h U + b split into i, f, c, o: c' = ra(f) c + ra(i) a(c~), h' = ra(o) a(c')."""
    gates = 4
    states = 2

    def __init__(self, features, units, unit_forget_bias=True, **keywords):
        self.unit_forget_bias = unit_forget_bias
        super().__init__(features, units, **keywords)

    def initial_value(self, initializer, shape):
        value = keras_initial_value(initializer, shape)
        if self.unit_forget_bias and len(shape) == 1:  # the bias: ones for the forget gate's block
            value[self.units:2 * self.units] = 1.0
        return value

    def step(self, x, states):
        h, c = states
        z = x @ self.kernel + h @ self.recurrent_kernel
        if self.bias is not None:
            z = z + self.bias
        i, f, candidate, o = z.chunk(4, dim=1)
        c = self.recurrent_activation(f) * c + self.recurrent_activation(i) * self.activation(candidate)
        h = self.recurrent_activation(o) * self.activation(c)
        return h, [h, c]


class GRU(Recurrent):
    """Gates z, r and candidate h~; h' = z h + (1 - z) h~. reset_after (Keras 2's default and 3's): r
    multiplies h U_h + b_rec_h, the bias has an input and a recurrent row; otherwise (r h) U_h."""
    gates = 3

    def __init__(self, features, units, reset_after=True, **keywords):
        self.reset_after = reset_after
        super().__init__(features, units, bias_shape=(2, 3 * units) if reset_after else None, **keywords)

    def step(self, x, states):
        h = states[0]
        input_bias, recurrent_bias = (self.bias[0], self.bias[1]) if self.reset_after and self.bias is not None else (self.bias, None)
        xz, xr, xh = (x @ self.kernel + input_bias if input_bias is not None else x @ self.kernel).chunk(3, dim=1)
        uz, ur, uh = self.recurrent_kernel.chunk(3, dim=1)
        if self.reset_after:
            hz, hr, hh = (h @ self.recurrent_kernel + recurrent_bias if recurrent_bias is not None else h @ self.recurrent_kernel).chunk(3, dim=1)
            z, r = self.recurrent_activation(xz + hz), self.recurrent_activation(xr + hr)
            candidate = self.activation(xh + r * hh)
        else:
            z, r = self.recurrent_activation(xz + h @ uz), self.recurrent_activation(xr + h @ ur)
            candidate = self.activation(xh + (r * h) @ uh)
        h = z * h + (1 - z) * candidate
        return h, [h]


MERGES = {
    'concat': lambda a, b: torch.cat((a, b), dim=-1),
    'sum': lambda a, b: a + b,
    'mul': lambda a, b: a * b,
    'ave': lambda a, b: (a + b) / 2,
}


class Bidirectional(nn.Module):
    """The layer forward and a copy of it backward (go_backwards flipped), merged; with
    return_sequences the backward outputs are put back in time order first. merge_mode None
    returns both; return_state adds the forward layer's states, then the backward one's."""

    def __init__(self, forward_layer, backward_layer, merge_mode='concat'):
        super().__init__()
        self.forward_layer, self.backward_layer, self.merge_mode = forward_layer, backward_layer, merge_mode

    def forward(self, x):
        states = self.forward_layer.return_state
        forward_out, backward_out = self.forward_layer(x), self.backward_layer(x)
        forward_y, forward_states = (forward_out[0], forward_out[1:]) if states else (forward_out, ())
        backward_y, backward_states = (backward_out[0], backward_out[1:]) if states else (backward_out, ())
        if self.forward_layer.return_sequences:
            backward_y = backward_y.flip(1)
        merged = (forward_y, backward_y) if self.merge_mode is None else (MERGES[self.merge_mode](forward_y, backward_y),)
        return (*merged, *forward_states, *backward_states) if states or self.merge_mode is None else merged[0]
