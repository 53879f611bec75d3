"""ONNX files for the host tests, written by other tools than Strata, with what ONNX's own
shape inference finds in each: onnx.shape_inference.infer_shapes(model, data_prop=True).

    python3 onnx_graphs.py small OUT_DIR     small graphs made with onnx.helper, one per family of operators
    python3 onnx_graphs.py resnet18 OUT_DIR  torchvision's resnet18 exported by torch.onnx.export

For each model NAME it writes NAME.onnx (with no value_info: what is left to infer) and
NAME.expected.json: {value name: [element type number, dims]}, a dim being an int, a
symbol or null, for every value onnx infers (graph outputs declared without a shape included).
"""
import json
import os
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper, shape_inference

F, I64 = TensorProto.FLOAT, TensorProto.INT64


def write(out_dir, name, model):
    inferred = shape_inference.infer_shapes(model, strict_mode=True, data_prop=True)
    declared = {info.name for info in model.graph.output if info.type.tensor_type.HasField('shape')}
    expected = {}
    for info in list(inferred.graph.value_info) + [o for o in inferred.graph.output if o.name not in declared]:
        tensor = info.type.tensor_type
        dims = None
        if tensor.HasField('shape'):
            dims = [d.dim_value if d.HasField('dim_value') else (d.dim_param if d.HasField('dim_param') else None) for d in tensor.shape.dim]
        expected[info.name] = [tensor.elem_type, dims]
    del model.graph.value_info[:]
    onnx.save(model, os.path.join(out_dir, name + '.onnx'))
    with open(os.path.join(out_dir, name + '.expected.json'), 'w') as f:
        json.dump(expected, f)


def const(name, values, dtype=np.int64):
    return numpy_helper.from_array(np.array(values, dtype=dtype), name)


def weights(name, shape):
    return numpy_helper.from_array(np.random.default_rng(0).standard_normal(shape).astype(np.float32), name)


def model(nodes, inputs, outputs, initializers=(), opset=13):
    graph = helper.make_graph(nodes, 'g', inputs, outputs, list(initializers))
    return helper.make_model(graph, opset_imports=[helper.make_opsetid('', opset)], producer_name='onnx_graphs.py')


def small(out_dir):
    vi = helper.make_tensor_value_info
    n = helper.make_node
    # Convolutions and pools: pads, strides, dilations, groups, ceil_mode, auto_pad, a symbolic batch.
    write(out_dir, 'conv_pool', model([
        n('Conv', ['x', 'w1', 'b1'], ['c1'], pads=[1, 1, 1, 1], strides=[2, 2]),
        n('BatchNormalization', ['c1', 'g', 'beta', 'mean', 'var'], ['bn']),
        n('Relu', ['bn'], ['r1']),
        n('MaxPool', ['r1'], ['p1'], kernel_shape=[3, 3], strides=[2, 2], ceil_mode=1),
        n('Conv', ['p1', 'w2'], ['c2'], group=2, dilations=[2, 2], kernel_shape=[3, 3]),
        n('AveragePool', ['c2'], ['p2'], kernel_shape=[2, 2], strides=[2, 2], auto_pad='SAME_UPPER'),
        n('ConvTranspose', ['p2', 'wt'], ['ct'], strides=[2, 2], pads=[1, 1, 1, 1], output_padding=[1, 1]),
        n('GlobalAveragePool', ['ct'], ['gap']),
        n('Flatten', ['gap'], ['flat']),
        n('Gemm', ['flat', 'fc'], ['logits'], transB=1),
        n('Softmax', ['logits'], ['y'], axis=-1),
    ], [vi('x', F, ['batch', 3, 33, 33])], [vi('y', F, None)], [
        weights('w1', [8, 3, 3, 3]), weights('b1', [8]), weights('g', [8]), weights('beta', [8]), weights('mean', [8]), weights('var', [8]),
        weights('w2', [8, 4, 3, 3]), weights('wt', [8, 6, 3, 3]), weights('fc', [10, 6]),
    ]))
    # A shape computed at run time: Shape -> Gather -> Unsqueeze -> Concat -> Reshape, folded by data propagation;
    # opset 15 for Shape's start.
    write(out_dir, 'dynamic_reshape', model([
        n('Shape', ['x'], ['s']),
        n('Gather', ['s', 'zero'], ['batch'], axis=0),
        n('Unsqueeze', ['batch', 'axes0'], ['batch1']),
        n('Concat', ['batch1', 'minus1'], ['target'], axis=0),
        n('Reshape', ['x', 'target'], ['flat']),
        n('Reshape', ['x', 'keep_batch'], ['flat2']),
        n('Shape', ['x'], ['tail'], start=-2),
        n('ConstantOfShape', ['tail'], ['zeros'], value=helper.make_tensor('v', I64, [1], [0])),
        n('Size', ['x'], ['count']),
        n('Cast', ['flat'], ['flat16'], to=TensorProto.FLOAT16),
        n('Identity', ['flat2'], ['y']),
    ], [vi('x', F, ['batch', 4, 5, 6])], [vi('y', F, None)], [
        const('zero', 0), const('axes0', [0]), const('minus1', [-1]), const('keep_batch', [0, -1]),
    ], opset=15))
    # Broadcasting: symbols against 1, numbers against symbols, Where, predicates, MatMul's batch rules.
    write(out_dir, 'broadcast_matmul', model([
        n('Add', ['a', 'b'], ['sum']),
        n('Mul', ['sum', 'c'], ['prod']),
        n('Greater', ['prod', 'a'], ['mask']),
        n('Where', ['mask', 'prod', 'zero'], ['chosen']),
        n('MatMul', ['m1', 'm2'], ['mm']),
        n('MatMul', ['v', 'm2'], ['vm']),
        n('MatMul', ['m1', 'v2'], ['mv']),
        n('Sub', ['mm', 'bias'], ['shifted']),
        n('Expand', ['row', 'expand_to'], ['expanded']),
        n('Max', ['chosen', 'c', 'a'], ['y']),
    ], [
        vi('a', F, ['n', 1, 5]), vi('b', F, [4, 5]), vi('c', F, [1, 4, 1]), vi('m1', F, ['n', 1, 3, 4]), vi('m2', F, [7, 4, 6]),
        vi('v', F, [4]), vi('v2', F, [4]), vi('row', F, [1, 5]),
    ], [vi('y', F, None), vi('shifted', F, None), vi('vm', F, None), vi('mv', F, None), vi('expanded', F, None)], [
        weights('zero', [1]), weights('bias', [6]), const('expand_to', [3, 1, 5]),
    ]))
    # Axes and slicing: Transpose, Squeeze/Unsqueeze by input, Slice with negative and clamped bounds, Split, Pad, reductions.
    write(out_dir, 'axes_slices', model([
        n('Transpose', ['x'], ['t'], perm=[0, 2, 3, 1]),
        n('Unsqueeze', ['t', 'axes_u'], ['u']),
        n('Squeeze', ['u', 'axes_s'], ['sq']),
        n('Slice', ['sq', 'starts', 'ends', 'slice_axes', 'steps'], ['sl']),
        n('Split', ['sl', 'split'], ['part1', 'part2'], axis=1),
        n('Pad', ['part1', 'pads'], ['padded']),
        n('ReduceMean', ['padded'], ['mean'], axes=[1, 2], keepdims=0),
        n('ReduceSum', ['padded', 'sum_axes'], ['total']),
        n('ArgMax', ['part2'], ['best'], axis=-1, keepdims=0),
        n('Concat', ['part1', 'part1'], ['joined'], axis=-1),
        n('Dropout', ['joined'], ['dropped', 'dmask']),
        n('Tile', ['mean', 'repeats'], ['tiled']),
        n('LeakyRelu', ['tiled'], ['y'], alpha=0.1),
    ], [vi('x', F, ['batch', 3, 16, 12])], [vi('y', F, None), vi('best', I64, None), vi('total', F, None), vi('dmask', TensorProto.BOOL, None)], [
        const('axes_u', [1, -1]), const('axes_s', [1, 5]), const('starts', [-12, 1, 0]), const('ends', [1000, -1, 3]),
        const('slice_axes', [1, 2, 3]), const('steps', [2, 1, 1]), const('split', [2, 4]), const('pads', [0, 1, 0, 0, 0, 2, 0, 0]),
        const('sum_axes', [-1]), const('repeats', [1, 2]),
    ]))
    # Opset 11: Squeeze and Unsqueeze take axes as attributes, Split its sizes as an attribute.
    write(out_dir, 'opset11', model([
        n('Unsqueeze', ['x'], ['u'], axes=[0]),
        n('Squeeze', ['u'], ['s'], axes=[0]),
        n('Split', ['s'], ['a', 'b'], axis=1, split=[1, 3]),
        n('ReduceMax', ['b'], ['m'], axes=[-1], keepdims=1),
        n('Constant', [], ['k'], value=helper.make_tensor('k', I64, [1], [2])),
        n('TopK', ['m', 'k'], ['top', 'idx'], axis=1),
        n('Sigmoid', ['top'], ['y']),
    ], [vi('x', F, ['batch', 4, 7])], [vi('y', F, None), vi('idx', I64, None), vi('a', F, None)], opset=11))

    # Recurrent ops: LSTM both ways with its states, GRU with linear_before_reset, RNN reversed.
    write(out_dir, 'recurrent', model([
        n('LSTM', ['x', 'lstm_w', 'lstm_r', 'lstm_b'], ['lstm_y', 'lstm_h', 'lstm_c'], hidden_size=3, direction='bidirectional'),
        n('GRU', ['x', 'gru_w', 'gru_r'], ['gru_y', 'gru_h'], hidden_size=2, linear_before_reset=1),
        n('RNN', ['x', 'rnn_w', 'rnn_r'], ['rnn_y'], hidden_size=5, direction='reverse'),
        n('Squeeze', ['gru_y', 'axis1'], ['y']),
    ], [vi('x', F, [5, 'batch', 4])], [vi('y', F, None), vi('lstm_h', F, None), vi('lstm_c', F, None), vi('rnn_y', F, None), vi('lstm_y', F, None)], [
        weights('lstm_w', [2, 12, 4]), weights('lstm_r', [2, 12, 3]), weights('lstm_b', [2, 24]), weights('gru_w', [1, 6, 4]), weights('gru_r', [1, 6, 2]),
        weights('rnn_w', [1, 5, 4]), weights('rnn_r', [1, 5, 5]), const('axis1', [1]),
    ]))

def resnet18(out_dir):
    import torch
    import torchvision

    net = torchvision.models.resnet18(weights=None).eval()
    path = os.path.join(out_dir, 'resnet18.onnx')
    torch.onnx.export(net, torch.zeros(1, 3, 224, 224), path, input_names=['input'], output_names=['logits'],
                      dynamic_axes={'input': {0: 'batch'}, 'logits': {0: 'batch'}}, opset_version=13)
    write(out_dir, 'resnet18', onnx.load(path))


if __name__ == '__main__':
    {'small': small, 'resnet18': resnet18}[sys.argv[1]](sys.argv[2])
