#!/usr/bin/python3
"""Writes the ONNX backend-test cases under native/tests/onnx_cases/.

Each case is <name>/model.onnx plus test_data_set_0/{input,output}_*.pb, the
layout of onnx/backend/test/data/node. Expected outputs come from PyTorch
(torch.nn.functional), an oracle independent of the engine; ONNX's padding rules
(SAME_UPPER = Keras "same", explicit asymmetric pads) are applied with F.pad.

Needs python3-onnx, python3-numpy and python3-torch (Debian 12). The C++ tests only
read the committed output; rerun this after changing a case:
    /usr/bin/python3 native/tests/onnx_cases/generate.py
"""
import math
import os
import shutil

import numpy as np
import onnx
import torch
import torch.nn.functional as F
from onnx import TensorProto, helper, numpy_helper

HERE = os.path.dirname(os.path.abspath(__file__))
rng = np.random.default_rng(0)


def rand(*shape, lo=-1.0, hi=1.0):
    return rng.uniform(lo, hi, size=shape).astype(np.float32)


def t(a):
    return torch.from_numpy(np.ascontiguousarray(a))


def write_case(name, nodes, inputs, outputs, inits=None, opset=17):
    """inputs/outputs: lists of (name, ndarray); inits: dict name -> ndarray."""
    inits = inits or {}
    def vi(n, a):
        elem = TensorProto.INT64 if a.dtype == np.int64 else TensorProto.FLOAT
        shape = ["N"] + list(a.shape[1:]) if a.ndim > 0 else []
        return helper.make_tensor_value_info(n, elem, shape)
    graph = helper.make_graph(
        nodes, name, [vi(n, a) for n, a in inputs], [vi(n, a) for n, a in outputs],
        [numpy_helper.from_array(v, k) for k, v in inits.items()])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)], producer_name="strata-generate")
    model.ir_version = 8
    d = os.path.join(HERE, name)
    shutil.rmtree(d, ignore_errors=True)
    os.makedirs(os.path.join(d, "test_data_set_0"))
    onnx.save(model, os.path.join(d, "model.onnx"))
    for kind, items in (("input", inputs), ("output", outputs)):
        for k, (n, a) in enumerate(items):
            with open(os.path.join(d, "test_data_set_0", f"{kind}_{k}.pb"), "wb") as f:
                f.write(numpy_helper.from_array(np.asarray(a), n).SerializeToString())


def same_upper(size, k, s, d=1):
    out = -(-size // s)
    total = max((out - 1) * s + (k - 1) * d + 1 - size, 0)
    return total // 2, total - total // 2


def out(y):
    return y.detach().numpy().astype(np.float32)


# --- Conv ----------------------------------------------------------------------
def conv_case(name, x, w, b, strides, dilations, pads=None, auto_pad=None):
    kh, kw = w.shape[2:]
    if auto_pad == "SAME_UPPER":
        (pt, pb), (pl, pr) = same_upper(x.shape[2], kh, strides[0], dilations[0]), same_upper(x.shape[3], kw, strides[1], dilations[1])
    else:
        pt, pl, pb, pr = pads
    y = F.conv2d(F.pad(t(x), (pl, pr, pt, pb)), t(w), None if b is None else t(b), stride=strides, dilation=dilations)
    attrs = dict(strides=strides, dilations=dilations, kernel_shape=[kh, kw])
    if auto_pad: attrs["auto_pad"] = auto_pad
    else: attrs["pads"] = pads
    ins = ["x", "w"] + (["b"] if b is not None else [])
    inits = {"w": w, **({"b": b} if b is not None else {})}
    write_case(name, [helper.make_node("Conv", ins, ["y"], **attrs)], [("x", x)], [("y", out(y))], inits)


conv_case("conv_same_upper_stride2", rand(2, 3, 7, 8), rand(4, 3, 3, 3), rand(4), [2, 2], [1, 1], auto_pad="SAME_UPPER")
conv_case("conv_same_upper_5x5", rand(1, 2, 6, 6), rand(3, 2, 5, 5), rand(3), [1, 1], [1, 1], auto_pad="SAME_UPPER")
conv_case("conv_pads_dilation", rand(1, 2, 9, 9), rand(3, 2, 3, 3), None, [1, 2], [2, 2], pads=[1, 0, 2, 1])
conv_case("conv_valid_stride", rand(2, 1, 8, 8), rand(2, 1, 3, 3), rand(2), [2, 2], [1, 1], pads=[0, 0, 0, 0])

# Conv1D as Keras writes it: (N, C, L), SAME_UPPER
x = rand(2, 3, 10); w = rand(4, 3, 3); b = rand(4)
pl, pr = same_upper(10, 3, 1)
y = F.conv1d(F.pad(t(x), (pl, pr)), t(w), t(b))
write_case("conv1d_same", [helper.make_node("Conv", ["x", "w", "b"], ["y"], auto_pad="SAME_UPPER", kernel_shape=[3])],
           [("x", x)], [("y", out(y))], {"w": w, "b": b})

# --- pooling -------------------------------------------------------------------
x = rand(2, 3, 7, 7)
(pt, pb), (pl, pr) = same_upper(7, 2, 2), same_upper(7, 2, 2)
y = F.max_pool2d(F.pad(t(x), (pl, pr, pt, pb), value=-math.inf), 2, 2)
write_case("maxpool_same_upper", [helper.make_node("MaxPool", ["x"], ["y"], kernel_shape=[2, 2], strides=[2, 2], auto_pad="SAME_UPPER")],
           [("x", x)], [("y", out(y))])
x = rand(1, 2, 9, 9)
y = F.max_pool2d(F.pad(t(x), (1, 1, 1, 1), value=-math.inf), 3, 2, dilation=2)
write_case("maxpool_pads_dilations", [helper.make_node("MaxPool", ["x"], ["y"], kernel_shape=[3, 3], strides=[2, 2], pads=[1, 1, 1, 1], dilations=[2, 2])],
           [("x", x)], [("y", out(y))])
x = rand(2, 2, 7, 7)
pads = (0, 1, 0, 1)  # l, r, t, b: Keras "same" for k 3 s 2 on 7 gives no pad; use asymmetric explicit pads instead
s = F.avg_pool2d(F.pad(t(x), pads), 3, 2) * 9
n = F.avg_pool2d(F.pad(torch.ones_like(t(x)), pads), 3, 2) * 9
write_case("averagepool_exclude_pad", [helper.make_node("AveragePool", ["x"], ["y"], kernel_shape=[3, 3], strides=[2, 2], pads=[0, 0, 1, 1])],
           [("x", x)], [("y", out(s / n))])
x = rand(2, 3, 5, 4)
write_case("globalaveragepool", [helper.make_node("GlobalAveragePool", ["x"], ["y"])], [("x", x)],
           [("y", out(t(x).mean(dim=(2, 3), keepdim=True)))])

# --- dense ---------------------------------------------------------------------
a = rand(4, 5); wt = rand(3, 5); c = rand(3)
write_case("gemm_transb_bias", [helper.make_node("Gemm", ["a", "w", "c"], ["y"], transB=1)], [("a", a)],
           [("y", out(t(a) @ t(wt).T + t(c)))], {"w": wt, "c": c})
x = rand(2, 3, 6); w = rand(6, 4); b = rand(4)
write_case("matmul_add_3d", [helper.make_node("MatMul", ["x", "w"], ["h"]), helper.make_node("Add", ["h", "b"], ["y"])],
           [("x", x)], [("y", out(t(x) @ t(w) + t(b)))], {"w": w, "b": b})

# --- activations ---------------------------------------------------------------
x = rand(3, 7, lo=-3, hi=3)
acts = {
    "relu": (helper.make_node("Relu", ["x"], ["y"]), F.relu(t(x))),
    "leakyrelu": (helper.make_node("LeakyRelu", ["x"], ["y"], alpha=0.3), F.leaky_relu(t(x), 0.3)),
    "elu": (helper.make_node("Elu", ["x"], ["y"], alpha=1.0), F.elu(t(x))),
    "selu": (helper.make_node("Selu", ["x"], ["y"]), F.selu(t(x))),
    "sigmoid": (helper.make_node("Sigmoid", ["x"], ["y"]), torch.sigmoid(t(x))),
    "tanh": (helper.make_node("Tanh", ["x"], ["y"]), torch.tanh(t(x))),
}
for name, (node, y) in acts.items():
    write_case(name, [node], [("x", x)], [("y", out(y))])
write_case("gelu", [helper.make_node("Gelu", ["x"], ["y"])], [("x", x)], [("y", out(F.gelu(t(x))))], opset=20)
write_case("gelu_tanh", [helper.make_node("Gelu", ["x"], ["y"], approximate="tanh")], [("x", x)],
           [("y", out(F.gelu(t(x), approximate="tanh")))], opset=20)
write_case("swish", [helper.make_node("Sigmoid", ["x"], ["s"]), helper.make_node("Mul", ["x", "s"], ["y"])],
           [("x", x)], [("y", out(F.silu(t(x))))])
x3 = rand(2, 3, 5, lo=-3, hi=3)
write_case("softmax_last_axis", [helper.make_node("Softmax", ["x"], ["y"], axis=-1)], [("x", x3)],
           [("y", out(F.softmax(t(x3), -1)))])
write_case("softmax_axis1", [helper.make_node("Softmax", ["x"], ["y"], axis=1)], [("x", x3)],
           [("y", out(F.softmax(t(x3), 1)))])

write_case("erf", [helper.make_node("Erf", ["x"], ["y"])], [("x", x)], [("y", out(torch.erf(t(x))))])
# Keras's gelu as Strata's translator writes it (app/translate/activations.ts): 0.5 * x * (1 + Erf(x / sqrt 2))
write_case("gelu_keras_decomposed", [
    helper.make_node("Div", ["x", "sqrt2"], ["d"]), helper.make_node("Erf", ["d"], ["e"]),
    helper.make_node("Add", ["e", "one"], ["a"]), helper.make_node("Mul", ["x", "a"], ["m"]),
    helper.make_node("Mul", ["m", "half"], ["y"]),
], [("x", x)], [("y", out(F.gelu(t(x))))],
    {"sqrt2": np.array(math.sqrt(2), np.float32), "one": np.array(1, np.float32), "half": np.array(0.5, np.float32)})

# --- shape ops -----------------------------------------------------------------
x = rand(2, 3, 4)
write_case("flatten", [helper.make_node("Flatten", ["x"], ["y"], axis=1)], [("x", x)], [("y", x.reshape(2, 12))])
write_case("reshape", [helper.make_node("Reshape", ["x", "s"], ["y"])], [("x", x)], [("y", x.reshape(2, 4, 3))],
           {"s": np.array([0, 4, -1], dtype=np.int64)})
x4 = rand(2, 3, 4, 5)
write_case("transpose_nchw_to_nhwc", [helper.make_node("Transpose", ["x"], ["y"], perm=[0, 2, 3, 1])], [("x", x4)],
           [("y", x4.transpose(0, 2, 3, 1))])
a = rand(2, 3, 2); b = rand(2, 1, 2)
write_case("concat_axis1", [helper.make_node("Concat", ["a", "b"], ["y"], axis=1)], [("a", a), ("b", b)],
           [("y", np.concatenate([a, b], 1))])
a = rand(2, 3, 4); b = rand(3, 1); c = rand(4)
write_case("add_mul_broadcast", [helper.make_node("Add", ["a", "b"], ["s"]), helper.make_node("Mul", ["s", "c"], ["y"])],
           [("a", a), ("b", b), ("c", c)], [("y", (a + b) * c)])
table = rand(10, 4); ids = np.array([[1, 2, 9], [0, 0, 7]], dtype=np.int64)
write_case("gather_embedding", [helper.make_node("Gather", ["table", "ids"], ["y"])], [("ids", ids)],
           [("y", table[ids])], {"table": table})
write_case("cast_gather_float_ids", [helper.make_node("Cast", ["ids"], ["i"], to=TensorProto.INT64),
                                     helper.make_node("Gather", ["table", "i"], ["y"], axis=0)],
           [("ids", ids.astype(np.float32))], [("y", table[ids])], {"table": table})
a = rand(2, 3); b = rand(3); c = rand(2, 1)
write_case("sum_three_broadcast", [helper.make_node("Sum", ["a", "b", "c"], ["y"])], [("a", a), ("b", b), ("c", c)],
           [("y", a + b + c)])
x = rand(2, 5, 3)
write_case("reducemean_axis1", [helper.make_node("ReduceMean", ["x"], ["y"], axes=[1], keepdims=0)], [("x", x)],
           [("y", x.mean(1))])
write_case("dropout_inference", [helper.make_node("Dropout", ["x", "r"], ["y"])], [("x", x)], [("y", x)],
           {"r": np.array(0.4, dtype=np.float32)})

# --- more layouts: 1-D pooling (Keras MaxPooling1D), Squeeze/Unsqueeze, Gemm attributes,
# ReduceMean with axes as an input (opset 18), Concat on a negative axis
x = rand(2, 3, 9)
pl, pr = same_upper(9, 2, 2)
write_case("maxpool1d_same_upper", [helper.make_node("MaxPool", ["x"], ["y"], kernel_shape=[2], strides=[2], auto_pad="SAME_UPPER")],
           [("x", x)], [("y", out(F.max_pool1d(F.pad(t(x), (pl, pr), value=-math.inf), 2, 2)))])
write_case("averagepool1d_valid", [helper.make_node("AveragePool", ["x"], ["y"], kernel_shape=[3], strides=[2])],
           [("x", x)], [("y", out(F.avg_pool1d(t(x), 3, 2)))])
w = rand(4, 3, 3); b = rand(4)
write_case("conv1d_stride_dilation", [helper.make_node("Conv", ["x", "w", "b"], ["y"], kernel_shape=[3], strides=[2], dilations=[2], pads=[1, 2])],
           [("x", x)], [("y", out(F.conv1d(F.pad(t(x), (1, 2)), t(w), t(b), stride=2, dilation=2)))], {"w": w, "b": b})
x = rand(2, 1, 3, 1)
write_case("squeeze_unsqueeze", [helper.make_node("Squeeze", ["x", "ax"], ["s"]), helper.make_node("Unsqueeze", ["s", "ax2"], ["y"])],
           [("x", x)], [("y", x.reshape(2, 3)[:, None, :])],
           {"ax": np.array([1, 3], dtype=np.int64), "ax2": np.array([-2], dtype=np.int64)})
a = rand(5, 4); bm = rand(5, 3); c = rand(1, 3)
write_case("gemm_alpha_beta_transa", [helper.make_node("Gemm", ["a", "b", "c"], ["y"], transA=1, alpha=0.5, beta=2.0)],
           [("a", a)], [("y", 0.5 * a.T @ bm + 2.0 * c)], {"b": bm, "c": c})
x = rand(2, 3, 4)
write_case("reducemean_axes_input_opset18", [helper.make_node("ReduceMean", ["x", "axes"], ["y"], keepdims=1)],
           [("x", x)], [("y", x.mean(axis=(0, 2), keepdims=True))], {"axes": np.array([0, -1], dtype=np.int64)}, opset=18)
a = rand(2, 3); b = rand(2, 2)
write_case("concat_negative_axis", [helper.make_node("Concat", ["a", "b"], ["y"], axis=-1)], [("a", a), ("b", b)],
           [("y", np.concatenate([a, b], -1))])

# ceil_mode (the last window hangs over the edge) and Gather on axis 1
x = rand(1, 2, 8, 8)
write_case("maxpool_ceil_mode", [helper.make_node("MaxPool", ["x"], ["y"], kernel_shape=[3, 3], strides=[2, 2], ceil_mode=1)],
           [("x", x)], [("y", out(F.max_pool2d(t(x), 3, 2, ceil_mode=True)))])
write_case("averagepool_ceil_mode", [helper.make_node("AveragePool", ["x"], ["y"], kernel_shape=[3, 3], strides=[2, 2], ceil_mode=1)],
           [("x", x)], [("y", out(F.avg_pool2d(t(x), 3, 2, ceil_mode=True, count_include_pad=False)))])
data = rand(3, 5, 2); ids = np.array([[4, 0], [1, -1]], dtype=np.int64)
write_case("gather_axis1", [helper.make_node("Gather", ["data", "ids"], ["y"], axis=1)], [("ids", ids)],
           [("y", np.take(data, ids, axis=1))], {"data": data})

# --- BatchNormalization (inference, Keras's epsilon) ------------------------------
x = rand(3, 4, 2, 2); sc = rand(4, lo=0.5, hi=1.5); bi = rand(4); mu = rand(4, lo=-0.3, hi=0.3); var = rand(4, lo=0.5, hi=2)
y = F.batch_norm(t(x), t(mu), t(var), t(sc), t(bi), training=False, eps=1e-3)
write_case("batchnorm_inference", [helper.make_node("BatchNormalization", ["x", "s", "b", "m", "v"], ["y"], epsilon=1e-3, momentum=0.99)],
           [("x", x)], [("y", out(y))], {"s": sc, "b": bi, "m": mu, "v": var})

# --- the seed CNN shape: Conv same + Relu, MaxPool, Conv, Flatten, Dense, Softmax --------
x = rand(2, 1, 12, 12)
k1 = rand(4, 1, 3, 3, lo=-0.5, hi=0.5); c1 = rand(4, lo=-0.1, hi=0.1)
k2 = rand(6, 4, 3, 3, lo=-0.3, hi=0.3); c2 = rand(6, lo=-0.1, hi=0.1)
wd = rand(6 * 4 * 4, 5, lo=-0.2, hi=0.2); bd = rand(5, lo=-0.1, hi=0.1)
h = F.relu(F.conv2d(F.pad(t(x), (1, 1, 1, 1)), t(k1), t(c1)))
h = F.max_pool2d(h, 2)
h = F.relu(F.conv2d(h, t(k2), t(c2)))
h = h.reshape(2, -1)
y = F.softmax(h @ t(wd) + t(bd), -1)
write_case("seed_cnn", [
    helper.make_node("Conv", ["x", "k1", "c1"], ["a1"], auto_pad="SAME_UPPER", kernel_shape=[3, 3]),
    helper.make_node("Relu", ["a1"], ["a2"]),
    helper.make_node("MaxPool", ["a2"], ["a3"], kernel_shape=[2, 2], strides=[2, 2]),
    helper.make_node("Conv", ["a3", "k2", "c2"], ["a4"], kernel_shape=[3, 3]),
    helper.make_node("Relu", ["a4"], ["a5"]),
    helper.make_node("Flatten", ["a5"], ["a6"]),
    helper.make_node("MatMul", ["a6", "wd"], ["a7"]),
    helper.make_node("Add", ["a7", "bd"], ["a8"]),
    helper.make_node("Softmax", ["a8"], ["y"]),
], [("x", x)], [("y", out(y))], {"k1": k1, "c1": c1, "k2": k2, "c2": c2, "wd": wd, "bd": bd})

# --- Resize as PyTorch exports F.interpolate (pytorch_half_pixel, align_corners, asymmetric
# nearest) and as Keras's layers translate (half_pixel), by sizes and by scales; opset 11's
# form with an empty roi and empty scales --------------------------------------------------
def resize_node(mode, coord, nearest_mode=None, by_sizes=True):
    extra = {"nearest_mode": nearest_mode} if nearest_mode else {}
    inputs = ["x", "", "", "sizes"] if by_sizes else ["x", "", "scales"]
    return helper.make_node("Resize", inputs, ["y"], mode=mode, coordinate_transformation_mode=coord, **extra)

x = rand(2, 3, 4, 5)
y = F.interpolate(t(x), size=(7, 9), mode="bilinear", align_corners=False)
write_case("resize_linear_pytorch_half_pixel", [resize_node("linear", "pytorch_half_pixel")], [("x", x)], [("y", out(y))],
           {"sizes": np.array([2, 3, 7, 9], dtype=np.int64)})
x = rand(2, 2, 5, 4)
y = F.interpolate(t(x), size=(6, 3), mode="bilinear", align_corners=True)
write_case("resize_linear_align_corners_opset11",
           [helper.make_node("Resize", ["x", "roi", "no_scales", "sizes"], ["y"], mode="linear", coordinate_transformation_mode="align_corners")],
           [("x", x)], [("y", out(y))],
           {"roi": np.zeros(0, dtype=np.float32), "no_scales": np.zeros(0, dtype=np.float32), "sizes": np.array([2, 2, 6, 3], dtype=np.int64)}, opset=11)
x = rand(2, 3, 3, 4)
y = F.interpolate(t(x), scale_factor=(2, 3), mode="nearest")
write_case("resize_nearest_asymmetric_floor", [resize_node("nearest", "asymmetric", "floor", by_sizes=False)], [("x", x)], [("y", out(y))],
           {"scales": np.array([1, 1, 2, 3], dtype=np.float32)})
x = rand(1, 2, 9, 8)
y = F.interpolate(t(x), size=(4, 3), mode="bilinear", align_corners=False)
write_case("resize_linear_half_pixel_down", [resize_node("linear", "half_pixel")], [("x", x)], [("y", out(y))],
           {"sizes": np.array([1, 2, 4, 3], dtype=np.int64)})

# PyTorch's bicubic F.interpolate (Keys's a = -0.75, indices clamped at the borders): ONNX's cubic
# mode with exclude_outside 0, as torch.onnx exports it
x = rand(2, 2, 5, 6)
y = F.interpolate(t(x), size=(9, 4), mode="bicubic", align_corners=False)
write_case("resize_cubic_pytorch_half_pixel",
           [helper.make_node("Resize", ["x", "", "", "sizes"], ["y"], mode="cubic", cubic_coeff_a=-0.75,
                             coordinate_transformation_mode="pytorch_half_pixel")],
           [("x", x)], [("y", out(y))], {"sizes": np.array([2, 2, 9, 4], dtype=np.int64)})
x = rand(1, 3, 4, 3)
y = F.interpolate(t(x), size=(7, 8), mode="bicubic", align_corners=True)
write_case("resize_cubic_align_corners",
           [helper.make_node("Resize", ["x", "", "", "sizes"], ["y"], mode="cubic", cubic_coeff_a=-0.75,
                             coordinate_transformation_mode="align_corners")],
           [("x", x)], [("y", out(y))], {"sizes": np.array([1, 3, 7, 8], dtype=np.int64)})

print("wrote", len([d for d in os.listdir(HERE) if os.path.isdir(os.path.join(HERE, d))]), "cases to", HERE)
