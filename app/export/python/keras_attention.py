"""Keras's attention layers in PyTorch: written by Strata's `strata export --format pytorch`.

Attention (tf.keras 2.11's dot-product or "concat" scores) and MultiHeadAttention with
Keras's weights as its EinsumDense layers hold them: query/key/value kernels (features,
heads, size) and biases (heads, size), the output kernel (heads, value size, features).
Inputs (batch, steps, features); a call takes [query, value] or [query, value, key] and
Keras's call arguments use_causal_mask and return_attention_scores.
"""
import math

import torch
import torch.nn.functional as F
from torch import nn

try:  # imported as a package
    from .keras_layers import GLOROT_UNIFORM, ZEROS, keras_initial_value
except ImportError:  # run from this folder
    from keras_layers import GLOROT_UNIFORM, ZEROS, keras_initial_value


def causal_scores(scores):
    """Keras's causal mask: a query step attends to key steps up to its own; the rest get -1e9."""
    steps_q, steps_k = scores.shape[-2:]
    future = torch.ones(steps_q, steps_k, dtype=torch.bool, device=scores.device).triu(1)
    return scores.masked_fill(future, -1e9)


class Attention(nn.Module):
    """softmax(scores) @ value, scores = query @ key^T (times `scale` with use_scale), or with "concat"
    concat_score_weight * sum(tanh(scale * (query + key))) over the features."""

    def __init__(self, use_scale=False, score_mode='dot', dropout=0.0, causal=False):
        super().__init__()
        self.score_mode, self.dropout, self.causal = score_mode, dropout, causal
        self.scale = nn.Parameter(torch.ones(())) if use_scale else None
        self.concat_score_weight = nn.Parameter(torch.ones(())) if score_mode == 'concat' else None

    def scores(self, query, key):
        if self.score_mode == 'dot':
            scores = query @ key.transpose(1, 2)
            return scores * self.scale if self.scale is not None else scores
        summed = query.unsqueeze(2) + key.unsqueeze(1)
        if self.scale is not None:
            summed = summed * self.scale
        return self.concat_score_weight * torch.tanh(summed).sum(dim=-1)

    def forward(self, query, value, key=None, use_causal_mask=False, return_attention_scores=False):
        scores = self.scores(query, value if key is None else key)
        if use_causal_mask or self.causal:
            scores = causal_scores(scores)
        weights = F.softmax(scores, dim=-1)
        output = F.dropout(weights, self.dropout, self.training) @ value
        return (output, weights) if return_attention_scores else output


class MultiHeadAttention(nn.Module):
    """Per head: softmax((query Wq + bq) / sqrt(key_dim) . (key Wk + bk)) @ (value Wv + bv); the heads'
    results projected by the output kernel."""

    def __init__(self, num_heads, key_dim, value_dim, query_features, value_features, key_features, output_features,
                 dropout=0.0, use_bias=True, kernel_initializer=GLOROT_UNIFORM, bias_initializer=ZEROS):
        super().__init__()
        self.key_dim, self.dropout = key_dim, dropout
        self.initializers = (kernel_initializer, bias_initializer)
        shapes = {'query': (query_features, key_dim), 'key': (key_features, key_dim), 'value': (value_features, value_dim)}
        for name, (features, size) in shapes.items():
            setattr(self, f'{name}_kernel', nn.Parameter(torch.empty(features, num_heads, size)))
            setattr(self, f'{name}_bias', nn.Parameter(torch.empty(num_heads, size)) if use_bias else None)
        self.output_kernel = nn.Parameter(torch.empty(num_heads, value_dim, output_features))
        self.output_bias = nn.Parameter(torch.empty(output_features)) if use_bias else None
        self.reset_parameters()

    def reset_parameters(self):
        with torch.no_grad():
            for name in ('query', 'key', 'value', 'output'):
                for tensor, initializer in zip((getattr(self, f'{name}_kernel'), getattr(self, f'{name}_bias')), self.initializers):
                    if tensor is not None:
                        tensor.copy_(keras_initial_value(initializer, tuple(tensor.shape)))

    def project(self, x, name):
        y = torch.einsum('abc,cde->abde', x, getattr(self, f'{name}_kernel'))
        bias = getattr(self, f'{name}_bias')
        return y + bias if bias is not None else y

    def forward(self, query, value, key=None, use_causal_mask=False, return_attention_scores=False):
        q = self.project(query, 'query') / math.sqrt(self.key_dim)
        k = self.project(value if key is None else key, 'key')
        v = self.project(value, 'value')
        scores = torch.einsum('aecd,abcd->acbe', k, q)
        if use_causal_mask:
            scores = causal_scores(scores)
        weights = F.softmax(scores, dim=-1)
        heads = torch.einsum('acbe,aecd->abcd', F.dropout(weights, self.dropout, self.training), v)
        output = torch.einsum('abcd,cde->abe', heads, self.output_kernel)
        if self.output_bias is not None:
            output = output + self.output_bias
        return (output, weights) if return_attention_scores else output
