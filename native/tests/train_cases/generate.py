#!/usr/bin/python3
"""Writes the training cases under native/tests/train_cases/: small models whose
loss and weight gradients after one training step come from PyTorch autograd, the
outside oracle for the engine's backward pass (test_train_cases.cpp reads them).

Each case folder holds model.onnx, input_*.pb, target_*.pb, loss.pb (the scalar
loss), grad_<initializer>.pb (dL/dweight) and, for BatchNormalization, state_<name>.pb
(the moving statistics after the step, Keras's rule: biased variance, momentum 0.99).

Needs python3-onnx, python3-numpy, python3-torch:
    /usr/bin/python3 native/tests/train_cases/generate.py
"""
import os
import shutil

import numpy as np
import onnx
import torch
import torch.nn.functional as F
from onnx import TensorProto, helper, numpy_helper

HERE = os.path.dirname(os.path.abspath(__file__))
rng = np.random.default_rng(1)


def rand(*shape, lo=-1.0, hi=1.0):
    return rng.uniform(lo, hi, size=shape).astype(np.float32)


def write_case(name, loss_name, nodes, inputs, target, output, inits, loss, grads, state=None, opset=17):
    def vi(n, a):
        elem = TensorProto.INT64 if a.dtype == np.int64 else TensorProto.FLOAT
        return helper.make_tensor_value_info(n, elem, ["N"] + list(a.shape[1:]))
    graph = helper.make_graph(nodes, name, [vi(n, a) for n, a in inputs],
                              [helper.make_tensor_value_info(output, TensorProto.FLOAT, None)],
                              [numpy_helper.from_array(v, k) for k, v in inits.items()])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)], producer_name="strata-generate")
    model.ir_version = 8
    d = os.path.join(HERE, name)
    shutil.rmtree(d, ignore_errors=True)
    os.makedirs(d)
    onnx.save(model, os.path.join(d, "model.onnx"))
    def save(fname, a, tname=""):
        with open(os.path.join(d, fname), "wb") as f:
            f.write(numpy_helper.from_array(np.asarray(a), tname).SerializeToString())
    for k, (n, a) in enumerate(inputs):
        save(f"input_{k}.pb", a, n)
    save("target_0.pb", target, f"{output}:{loss_name}")  # the name carries output and loss
    save("loss.pb", np.array(loss, dtype=np.float32))
    for k, g in grads.items():
        save(f"grad_{k}.pb", g.astype(np.float32), k)
    for k, v in (state or {}).items():
        save(f"state_{k}.pb", v.astype(np.float32), k)


def leaf(a):
    return torch.tensor(a, requires_grad=True)


def same_upper(size, k, s):
    out = -(-size // s)
    total = max((out - 1) * s + k - size, 0)
    return total // 2, total - total // 2


# --- seed CNN with BatchNormalization, sparse categorical cross-entropy on Softmax --
x = rand(4, 1, 8, 8); labels = np.array([0, 2, 1, 4], dtype=np.float32)
W = {"k1": rand(4, 1, 3, 3, lo=-0.5, hi=0.5), "c1": rand(4, lo=-0.1, hi=0.1),
     "gamma": rand(4, lo=0.8, hi=1.2), "beta": rand(4, lo=-0.1, hi=0.1),
     "k2": rand(6, 4, 3, 3, lo=-0.3, hi=0.3), "c2": rand(6, lo=-0.1, hi=0.1),
     "wd": rand(5, 24, lo=-0.3, hi=0.3), "bd": rand(5, lo=-0.1, hi=0.1)}
mean0, var0 = rand(4, lo=-0.1, hi=0.1), rand(4, lo=0.8, hi=1.2)
T = {k: leaf(v) for k, v in W.items()}
a1 = F.conv2d(F.pad(torch.tensor(x), (1, 1, 1, 1)), T["k1"], T["c1"])
rm, rv = torch.tensor(mean0), torch.tensor(var0)
a2 = F.batch_norm(a1, rm, rv, T["gamma"], T["beta"], training=True, momentum=0.01, eps=1e-3)
h = F.max_pool2d(F.relu(a2), 2)
h = F.relu(F.conv2d(h, T["k2"], T["c2"])).reshape(4, -1)
z = h @ T["wd"].T + T["bd"]
loss = F.cross_entropy(z, torch.tensor(labels).long())
loss.backward()
bvar = a1.detach().numpy().var(axis=(0, 2, 3))  # biased, as Keras
write_case("seed_cnn_batchnorm", "sparse_categorical_crossentropy", [
    helper.make_node("Conv", ["x", "k1", "c1"], ["a1"], auto_pad="SAME_UPPER", kernel_shape=[3, 3]),
    helper.make_node("BatchNormalization", ["a1", "gamma", "beta", "mean", "var"], ["a2"], epsilon=1e-3, momentum=0.99),
    helper.make_node("Relu", ["a2"], ["a3"]),
    helper.make_node("MaxPool", ["a3"], ["a4"], kernel_shape=[2, 2], strides=[2, 2]),
    helper.make_node("Conv", ["a4", "k2", "c2"], ["a5"], kernel_shape=[3, 3]),
    helper.make_node("Relu", ["a5"], ["a6"]),
    helper.make_node("Flatten", ["a6"], ["a7"]),
    helper.make_node("Gemm", ["a7", "wd", "bd"], ["z"], transB=1),
    helper.make_node("Softmax", ["z"], ["probs"]),
], [("x", x)], labels, "probs", {**W, "mean": mean0, "var": var0}, loss.item(),
    {k: t.grad.numpy() for k, t in T.items()},
    {"mean": rm.numpy(), "var": 0.99 * var0 + 0.01 * bvar})

# --- Dense mix: Gelu, Elu, Swish, LeakyRelu, Concat, binary cross-entropy on Sigmoid --
x = rand(6, 5); y = (rng.uniform(size=(6, 1)) < 0.5).astype(np.float32)
W = {"w1": rand(5, 8, lo=-0.6, hi=0.6), "b1": rand(8, lo=-0.1, hi=0.1), "w2": rand(8, 8, lo=-0.5, hi=0.5),
     "b2": rand(8, lo=-0.1, hi=0.1), "w3": rand(16, 1, lo=-0.5, hi=0.5), "b3": rand(1, lo=-0.1, hi=0.1)}
T = {k: leaf(v) for k, v in W.items()}
g = F.gelu(torch.tensor(x) @ T["w1"] + T["b1"])
e = F.elu(g @ T["w2"] + T["b2"])
sw = e * torch.sigmoid(e)
lr_ = F.leaky_relu(g, 0.2)
z = torch.cat([sw, lr_], 1) @ T["w3"] + T["b3"]
loss = F.binary_cross_entropy_with_logits(z, torch.tensor(y))
loss.backward()
write_case("dense_swish_bce", "binary_crossentropy", [
    helper.make_node("MatMul", ["x", "w1"], ["m1"]), helper.make_node("Add", ["m1", "b1"], ["p1"]),
    helper.make_node("Gelu", ["p1"], ["g"]),
    helper.make_node("MatMul", ["g", "w2"], ["m2"]), helper.make_node("Add", ["m2", "b2"], ["p2"]),
    helper.make_node("Elu", ["p2"], ["e"]),
    helper.make_node("Sigmoid", ["e"], ["s"]), helper.make_node("Mul", ["e", "s"], ["sw"]),
    helper.make_node("LeakyRelu", ["g"], ["lr"], alpha=0.2),
    helper.make_node("Concat", ["sw", "lr"], ["c"], axis=1),
    helper.make_node("MatMul", ["c", "w3"], ["m3"]), helper.make_node("Add", ["m3", "b3"], ["z"]),
    helper.make_node("Sigmoid", ["z"], ["p"]),
], [("x", x)], y, "p", W, loss.item(), {k: t.grad.numpy() for k, t in T.items()}, opset=20)

# --- Embedding, GlobalAveragePooling1D, Dense, categorical cross-entropy (soft labels) --
ids = np.array([[1, 2, 2, 9, 0], [3, 3, 3, 1, 4], [7, 8, 0, 0, 5]], dtype=np.int64)
y = rng.dirichlet(np.ones(3), size=3).astype(np.float32)
W = {"table": rand(10, 4), "wg": rand(4, 3), "bg": rand(3, lo=-0.1, hi=0.1)}
T = {k: leaf(v) for k, v in W.items()}
z = T["table"][torch.tensor(ids)].mean(1) @ T["wg"] + T["bg"]
loss = -(torch.tensor(y) * F.log_softmax(z, -1)).sum(-1).mean()
loss.backward()
write_case("embedding_pool_cce", "categorical_crossentropy", [
    helper.make_node("Gather", ["table", "ids"], ["e"]),
    helper.make_node("ReduceMean", ["e"], ["m"], axes=[1], keepdims=0),
    helper.make_node("Gemm", ["m", "wg", "bg"], ["z"]),
    helper.make_node("Softmax", ["z"], ["p"]),
], [("ids", ids)], y, "p", W, loss.item(), {k: t.grad.numpy() for k, t in T.items()})

# --- strided SAME_UPPER conv, AveragePool with pads, GlobalAveragePool, Tanh, MSE --------
x = rand(2, 2, 7, 7); y = rand(2, 3)
W = {"k": rand(3, 2, 3, 3, lo=-0.5, hi=0.5), "kb": rand(3, lo=-0.1, hi=0.1)}
T = {k: leaf(v) for k, v in W.items()}
pt, pb = same_upper(7, 3, 2)
c = F.conv2d(F.pad(torch.tensor(x), (pt, pb, pt, pb)), T["k"], T["kb"], stride=2)
s = F.avg_pool2d(F.pad(c, (1, 1, 1, 1)), 3, 1) * 9
n = F.avg_pool2d(F.pad(torch.ones_like(c), (1, 1, 1, 1)), 3, 1) * 9
out = torch.tanh((s / n).mean(dim=(2, 3)))
loss = F.mse_loss(out, torch.tensor(y))
loss.backward()
write_case("conv_avgpool_mse", "mean_squared_error", [
    helper.make_node("Conv", ["x", "k", "kb"], ["c"], auto_pad="SAME_UPPER", strides=[2, 2], kernel_shape=[3, 3]),
    helper.make_node("AveragePool", ["c"], ["a"], kernel_shape=[3, 3], pads=[1, 1, 1, 1]),
    helper.make_node("GlobalAveragePool", ["a"], ["g"]),
    helper.make_node("Flatten", ["g"], ["f"]),
    helper.make_node("Tanh", ["f"], ["y"]),
], [("x", x)], y, "y", W, loss.item(), {k: t.grad.numpy() for k, t in T.items()})

# --- Selu, Transpose, MAE ----------------------------------------------------------
x = rand(3, 4, 2); y = rand(3, 2, 5)
W = {"w": rand(4, 5)}
T = {k: leaf(v) for k, v in W.items()}
out = F.selu(torch.tensor(x).transpose(1, 2) @ T["w"])
loss = (out - torch.tensor(y)).abs().mean()
loss.backward()
write_case("transpose_selu_mae", "mean_absolute_error", [
    helper.make_node("Transpose", ["x"], ["t"], perm=[0, 2, 1]),
    helper.make_node("MatMul", ["t", "w"], ["m"]),
    helper.make_node("Selu", ["m"], ["y"]),
], [("x", x)], y, "y", W, loss.item(), {k: t.grad.numpy() for k, t in T.items()})

# --- Conv1D, MaxPooling1D, AveragePooling1D, Dense on (N, L, C), sparse CE over steps ----
x = rand(2, 3, 10); labels = np.array([[0, 1, 2], [2, 2, 0]], dtype=np.float32)
W = {"k": rand(4, 3, 3, lo=-0.5, hi=0.5), "kb": rand(4, lo=-0.1, hi=0.1), "w": rand(4, 3), "b": rand(3, lo=-0.1, hi=0.1)}
T = {k: leaf(v) for k, v in W.items()}
pl, pr = same_upper(10, 3, 1)
c = torch.relu(F.conv1d(F.pad(torch.tensor(x), (pl, pr)), T["k"], T["kb"]))   # (2, 4, 10)
p = F.max_pool1d(c, 2, 2)                                                     # (2, 4, 5)
q = F.avg_pool1d(p, 3, 1)                                                     # (2, 4, 3)
z = q.transpose(1, 2) @ T["w"] + T["b"]                                       # (2, 3, 3)
loss = F.cross_entropy(z.reshape(-1, 3), torch.tensor(labels).long().reshape(-1))
loss.backward()
write_case("conv1d_pool1d_sequence_ce", "sparse_categorical_crossentropy", [
    helper.make_node("Conv", ["x", "k", "kb"], ["c0"], auto_pad="SAME_UPPER", kernel_shape=[3]),
    helper.make_node("Relu", ["c0"], ["c"]),
    helper.make_node("MaxPool", ["c"], ["p"], kernel_shape=[2], strides=[2]),
    helper.make_node("AveragePool", ["p"], ["q"], kernel_shape=[3]),
    helper.make_node("Transpose", ["q"], ["qt"], perm=[0, 2, 1]),
    helper.make_node("MatMul", ["qt", "w"], ["m"]), helper.make_node("Add", ["m", "b"], ["z"]),
    helper.make_node("Softmax", ["z"], ["probs"], axis=-1),
], [("x", x)], labels, "probs", W, loss.item(), {k: t.grad.numpy() for k, t in T.items()})

# --- LSTM (batch-major, ONNX's gates i, o, f, c; peepholes) into a bidirectional GRU
# (linear_before_reset 1, gates z, r, h, an initial state), Dense on its last states, MSE ----
# The recurrences are written out in torch's ops in ONNX's layout, so autograd is the oracle.
x = rand(3, 4, 2); y = rand(3, 2)
H = 3
W = {"Wl": rand(1, 4 * H, 2, lo=-0.6, hi=0.6), "Rl": rand(1, 4 * H, H, lo=-0.6, hi=0.6),
     "Bl": rand(1, 8 * H, lo=-0.3, hi=0.3), "Pl": rand(1, 3 * H, lo=-0.5, hi=0.5),
     "Wg": rand(2, 3 * H, H, lo=-0.6, hi=0.6), "Rg": rand(2, 3 * H, H, lo=-0.6, hi=0.6),
     "Bg": rand(2, 6 * H, lo=-0.3, hi=0.3), "h0": rand(3, 2, H, lo=-0.3, hi=0.3), "wd": rand(2 * H, 2)}
T = {k: leaf(v) for k, v in W.items()}
xs = torch.tensor(x)
h = torch.zeros(3, H); c = torch.zeros(3, H); seq = []
Wi, Ri, Bi, P = T["Wl"][0], T["Rl"][0], T["Bl"][0], T["Pl"][0]
for t in range(4):
    a = xs[:, t] @ Wi.T + h @ Ri.T + Bi[:4 * H] + Bi[4 * H:]
    i = torch.sigmoid(a[:, :H] + P[:H] * c)
    f = torch.sigmoid(a[:, 2 * H:3 * H] + P[2 * H:] * c)
    c = f * c + i * torch.tanh(a[:, 3 * H:])
    o = torch.sigmoid(a[:, H:2 * H] + P[H:2 * H] * c)
    h = o * torch.tanh(c)
    seq.append(h)
last = []
for d in range(2):
    Wd_, Rd, Bd = T["Wg"][d], T["Rg"][d], T["Bg"][d]
    Wb, Rb = Bd[:3 * H], Bd[3 * H:]
    h = T["h0"][:, d]
    for t in (range(4) if d == 0 else reversed(range(4))):
        xa = seq[t] @ Wd_.T + Wb
        ra = h @ Rd.T + Rb
        z = torch.sigmoid(xa[:, :H] + ra[:, :H])
        r = torch.sigmoid(xa[:, H:2 * H] + ra[:, H:2 * H])
        n = torch.tanh(xa[:, 2 * H:] + r * ra[:, 2 * H:])
        h = (1 - z) * n + z * h
    last.append(h)
out = torch.cat(last, dim=1) @ T["wd"]
loss = F.mse_loss(out, torch.tensor(y))
loss.backward()
write_case("lstm_bigru_mse", "mean_squared_error", [
    helper.make_node("LSTM", ["x", "Wl", "Rl", "Bl", "", "", "", "Pl"], ["yl"], hidden_size=H, layout=1),
    helper.make_node("Squeeze", ["yl", "ax2"], ["sl"]),
    helper.make_node("GRU", ["sl", "Wg", "Rg", "Bg", "", "h0"], ["", "yg"], hidden_size=H, layout=1,
                     direction="bidirectional", linear_before_reset=1),
    helper.make_node("Reshape", ["yg", "flat"], ["f"]),
    helper.make_node("MatMul", ["f", "wd"], ["y"]),
], [("x", x)], y, "y", {**W, "ax2": np.array([2], dtype=np.int64), "flat": np.array([-1, 2 * H], dtype=np.int64)},
    loss.item(), {k: t.grad.numpy() for k, t in T.items()})

print("wrote", len([d for d in os.listdir(HERE) if os.path.isdir(os.path.join(HERE, d))]), "cases to", HERE)
