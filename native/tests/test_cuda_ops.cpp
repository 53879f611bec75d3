// test_cuda_ops.cpp: every kernel of the CUDA backend against the reference backend,
// forward and backward, with gradient checks (op_cases.h), then the losses, the optimizers
// and gradient clipping, and the faults a kernel reports. Shapes are small and include ones
// that are not multiples of the GEMM tiles (64 x 64 x 16) and ones that split K.
//
//   test_cuda_ops [cuda-emu|cuda]
//
// ctest runs it on "cuda-emu" (the kernels on the host emulation of CUDA, its race detector
// on); native/scripts/gpu-check.sh runs it on "cuda" on a machine with a GPU. Every case runs
// in strict FP32 (1e-4, as the CPU backend), then the matrix products again in TF32 (5e-3 of
// the results' magnitude, op_cases.h).
#include <cmath>
#include <cstdio>

#include "op_cases.h"

using namespace strata;
using namespace strata_test;

static std::vector<float> rand_values(Rng& rng, int64_t n, float lo = -1, float hi = 1) {
  return rand_tensor(rng, {n}, lo, hi).f;
}

// --- the matrix products: every kernel that goes through gemm.cuh ---------------------------------
static void matrix_product_cases(Rng& rng) {
  // Conv: strides, explicit asymmetric pads, SAME_UPPER, VALID, dilations, Conv1D (H = 1)
  conv_case(rng, 2, 3, 7, 6, 4, 3, 3, 1, 1, "NOTSET", 0, true);
  conv_case(rng, 2, 3, 8, 9, 5, 3, 3, 2, 1, "SAME_UPPER", 0, true);
  conv_case(rng, 1, 2, 9, 9, 3, 3, 2, 2, 2, "NOTSET", 1, false);
  conv_case(rng, 2, 4, 10, 8, 3, 5, 5, 1, 1, "SAME_UPPER", 0, false);
  conv_case(rng, 1, 3, 11, 10, 2, 3, 3, 3, 2, "VALID", 0, true);
  conv_case(rng, 2, 3, 1, 12, 4, 1, 3, 1, 1, "SAME_UPPER", 0, true);
  grouped_conv_cases();
  conv_case(rng, 2, 16, 12, 12, 24, 3, 3, 1, 1, "NOTSET", 0, true);  // 200 pixels: 4 tiles; K split for dW
  conv_case(rng, 3, 1, 28, 28, 8, 3, 3, 1, 1, "NOTSET", 0, true);     // a first layer: dW's K = 2028, split
  conv_case(rng, 1, 70, 5, 5, 66, 3, 3, 1, 1, "SAME_UPPER", 0, true); // 66 output channels: 2 row tiles
  conv_case(rng, 2, 3, 7, 6, 4, 3, 3, 1, 1, "NOTSET", 0, true, true);  // the fused Relu's forward
  const char* pads[] = {"NOTSET", "SAME_UPPER", "VALID"};
  for (int t = 0; t < 6; t++) {  // random geometries
    int K = 1 + (int)(rng.next() % 4), d = 1 + (int)(rng.next() % 2), s = 1 + (int)(rng.next() % 3);
    int H = (K - 1) * d + 1 + (int)(rng.next() % 6), W = (K - 1) * d + 1 + (int)(rng.next() % 6);
    conv_case(rng, 1 + (int)(rng.next() % 3), 1 + (int)(rng.next() % 4), H, W, 1 + (int)(rng.next() % 5), K, K, s, d,
              pads[rng.next() % 3], (int)(rng.next() % 2), rng.next() % 2);
  }
  // GEMM: every transpose, one element, whole tiles, one past them, K split, alpha
  for (int ta = 0; ta < 2; ta++)
    for (int tb = 0; tb < 2; tb++) gemm_case(rng, 5, 7, 6, ta, tb);
  gemm_case(rng, 1, 1, 1, false, false);
  gemm_case(rng, 64, 64, 16, false, false);
  gemm_case(rng, 65, 63, 17, true, false);
  gemm_case(rng, 33, 17, 65, false, true);
  gemm_case(rng, 3, 130, 300, false, false, 0.5f);  // 3 tiles, K in 5 slices
  gemm_case(rng, 130, 70, 40, true, true);
  for (int t = 0; t < 4; t++)
    gemm_case(rng, 1 + (int)(rng.next() % 80), 1 + (int)(rng.next() % 80), 1 + (int)(rng.next() % 150),
              rng.next() % 2, rng.next() % 2);
  // Conv + MaxPool, with the Relu and its backward on the pooled grad
  conv_maxpool_case(rng, 5, 3, 10, 16, true, false);
  conv_maxpool_case(rng, 4, 16, 10, 16, false, true);
  conv_maxpool_case(rng, 3, 1, 13, 32, true, true);  // 11x11 -> 5x5: a row and a column unpooled
}

static void other_op_cases(Rng& rng) {
  const char* pads[] = {"NOTSET", "SAME_UPPER", "VALID"};
  pool_case(rng, true, 2, 3, 8, 8, 2, 2, 1, "NOTSET", 0, false);
  pool_case(rng, true, 1, 2, 7, 7, 3, 2, 1, "SAME_UPPER", 0, false);
  pool_case(rng, true, 1, 2, 9, 9, 2, 1, 2, "NOTSET", 1, false);  // overlapping, dilated, padded
  pool_case(rng, false, 2, 3, 8, 8, 2, 2, 1, "NOTSET", 0, false);
  pool_case(rng, false, 1, 2, 7, 7, 3, 2, 1, "SAME_UPPER", 0, false);
  pool_case(rng, false, 1, 2, 7, 7, 3, 2, 1, "NOTSET", 1, true);
  pool_case(rng, false, 2, 3, 5, 6, 5, 1, 1, "NOTSET", 0, false);
  pool_case(rng, true, 2, 3, 6, 6, 6, 1, 1, "NOTSET", 0, false);  // GlobalMaxPool: one window over the whole image
  for (int t = 0; t < 6; t++) {
    int PK = 1 + (int)(rng.next() % 3);
    pool_case(rng, rng.next() % 2, 1 + (int)(rng.next() % 2), 1 + (int)(rng.next() % 3), PK + 2 + (int)(rng.next() % 5),
              PK + 2 + (int)(rng.next() % 5), PK, 1 + (int)(rng.next() % 2), 1, pads[rng.next() % 3],
              PK > 1 ? (int)(rng.next() % 2) : 0, rng.next() % 2);
  }
  bn_case(rng, 4, 3, 5, true);
  bn_case(rng, 8, 2, 1, true);  // Dense-style (N, C)
  bn_case(rng, 3, 2, 150, true);  // more than a block's 256 threads per channel
  bn_case(rng, 2, 3, 6, false);
  act_case(rng, Act::Relu, "Relu");
  act_case(rng, Act::LeakyRelu, "LeakyRelu", 0.2f);
  act_case(rng, Act::Elu, "Elu", 1.0f);
  act_case(rng, Act::Selu, "Selu", 1.67326319217681884765625f, 1.05070102214813232421875f);
  act_case(rng, Act::Sigmoid, "Sigmoid");
  act_case(rng, Act::Tanh, "Tanh");
  act_case(rng, Act::Gelu, "Gelu");
  act_case(rng, Act::GeluTanh, "Gelu tanh");
  act_case(rng, Act::Erf, "Erf", 0, 0, 5000);  // several blocks
  later_act_cases();
  pad_cases();
  resize_cases();
  softmax_case(rng, 4, 10, 1);
  softmax_case(rng, 2, 5, 3);
  softmax_case(rng, 4, 10, 1, true);
  softmax_case(rng, 2, 5, 3, true);
  softmax_case(rng, 3, 70, 1, true);  // more classes than a warp has lanes
  layer_norm_case(rng, 6, 10, true);
  layer_norm_case(rng, 3, 70, false);  // more columns than a warp has lanes
  layer_norm_case(rng, 300, 4, true);  // more rows than a block has threads
  softmax_case(rng, 3, 70, 1);  // more classes than a warp has lanes
  binary_case(rng, Binary::Add, "Add", {4, 3}, {3});
  binary_case(rng, Binary::Add, "Add", {2, 3, 4}, {2, 1, 4});
  binary_case(rng, Binary::Sub, "Sub", {3, 1}, {1, 4});
  binary_case(rng, Binary::Mul, "Mul", {2, 3, 4}, {2, 3, 4});
  binary_case(rng, Binary::Mul, "Mul", {2, 3, 4}, {1});
  binary_case(rng, Binary::Div, "Div", {2, 3}, {2, 3});
  binary_case(rng, Binary::Div, "Div", {2, 1, 5}, {3, 1});
  binary_case(rng, Binary::Sub, "Sub", {1}, {50, 30});   // a scalar's grad: one block sums 1500 terms
  binary_case(rng, Binary::Add, "Add", {70, 100}, {1, 100});
  transpose_case(rng, {2, 3, 4}, {2, 0, 1});
  transpose_case(rng, {2, 3, 4, 5}, {0, 2, 3, 1});  // NCHW -> NHWC
  concat_case(rng);
  gather_case(rng);
  reduce_mean_case(rng, {2, 5, 3}, {2, 1, 3});  // GlobalAveragePooling1D over the steps axis
  reduce_mean_case(rng, {2, 3, 4}, {1, 1, 1});
  reduce_mean_case(rng, {3, 300}, {3, 1});      // one block per output
  dropout_case(rng);
  dropout_case(rng, 5000);
}

// The same Dropout masks as the reference's, bit for bit (the engine's seeded stream).
static void dropout_masks_match() {
  const int64_t n = 10000;
  auto be = target().make();
  ReferenceBackend ref;
  std::vector<float> x(n, 1.0f), mask_ref(n), out_ref(n);
  ref.dropout_forward(out_ref.data(), mask_ref.data(), x.data(), n, 0.4f, 1234567);
  Buffer xd(*be, x), mask(*be, n), out(*be, n);
  be->dropout_forward(out.get(), mask.get(), xd.get(), n, 0.4f, 1234567);
  validate_result(mask.download().data(), mask_ref.data(), "Dropout masks, bit for bit", n, 0, 1);
}

// --- losses ---------------------------------------------------------------------------------------
static void loss_case(Rng& rng, LossKind kind, bool logits, int64_t rows, int64_t K, bool weighted) {
  std::string name = std::string(loss_name(kind)) + (logits ? " from logits" : " from probabilities") + " rows " +
                     std::to_string(rows) + " K " + std::to_string(K) + (weighted ? " weighted" : "");
  std::vector<float> pred = logits ? rand_values(rng, rows * K, -3, 3) : rand_values(rng, rows * K, 0.02f, 0.98f);
  std::vector<float> truth(kind == LossKind::SparseCategoricalCrossentropy ? rows : rows * K);
  for (size_t i = 0; i < truth.size(); i++) {
    if (kind == LossKind::SparseCategoricalCrossentropy) truth[i] = (float)(rng.next() % K);
    else if (kind == LossKind::CategoricalCrossentropy) truth[i] = (i % K) == (i / K) % K ? 1.0f : 0.0f;
    else if (kind == LossKind::BinaryCrossentropy) truth[i] = rng.uniform() < 0.5f ? 0.0f : 1.0f;
    else truth[i] = rng.uniform(-1, 1);
  }
  if (!logits && kind == LossKind::BinaryCrossentropy) pred[0] = 0.0f, pred[1 % pred.size()] = 1.0f;  // clipped
  std::vector<float> rw = rand_values(rng, rows, 0.0f, 2.0f);
  auto run = [&](Backend& be, bool with_grad) {
    Buffer p(be, pred), t(be, truth), w(be, rw), result(be, 1), d(be, rows * K);
    be.loss(result.get(), with_grad ? d.get() : nullptr, p.get(), t.get(), rows, K, kind, logits, 0.7f,
            weighted ? w.get() : nullptr);
    return std::make_pair(result.download(), d.download());
  };
  ReferenceBackend ref;
  auto be = target().make();
  auto [want, dwant] = run(ref, true);
  auto [got, dgot] = run(*be, true);
  validate_result(&got[0], &want[0], name + " loss", 1, 1e-5f);
  validate_result(dgot.data(), dwant.data(), name + " dpred", rows * K, 1e-4f);
  auto [eval, unused] = run(*be, false);  // evaluation: no gradient wanted
  validate_result(&eval[0], &want[0], name + " loss without a gradient", 1, 1e-5f);
}

// A metric (forward only) on the device against the reference backend.
static void metric_case(Rng& rng, MetricKind kind, bool logits, int64_t rows, int64_t K) {
  std::string name = std::string(metric_name(kind)) + (logits ? " on logits" : "") + " (" + std::to_string(rows) + " x " +
                     std::to_string(K) + ")";
  std::vector<float> pred = rand_values(rng, rows * K), truth(kind == MetricKind::SparseCategoricalAccuracy ? rows : rows * K);
  for (size_t i = 0; i < truth.size(); i++)
    truth[i] = kind == MetricKind::SparseCategoricalAccuracy ? (float)(rng.next() % K) : rng.uniform(-1, 1);
  auto run = [&](Backend& be) {
    Buffer p(be, pred), t(be, truth), result(be, 1);
    be.metric(result.get(), p.get(), t.get(), rows, K, kind, logits);
    return result.download();
  };
  ReferenceBackend ref;
  auto be = target().make();
  validate_result(run(*be).data(), run(ref).data(), name, 1, 1e-5f);
}

static void loss_cases(Rng& rng) {
  for (MetricKind kind : {MetricKind::BinaryAccuracy, MetricKind::CategoricalAccuracy, MetricKind::SparseCategoricalAccuracy,
                          MetricKind::MeanAbsoluteError, MetricKind::MeanSquaredError}) {
    metric_case(rng, kind, false, 37, 10);
    metric_case(rng, kind, false, 600, 1);
    metric_case(rng, kind, true, 9, 45);
  }
  for (bool weighted : {false, true})
    for (bool logits : {true, false}) {
      loss_case(rng, LossKind::SparseCategoricalCrossentropy, logits, 37, 10, weighted);
      loss_case(rng, LossKind::CategoricalCrossentropy, logits, 9, 45, weighted);  // a warp loops twice per row
      loss_case(rng, LossKind::BinaryCrossentropy, logits, 50, 3, weighted);
    }
  loss_case(rng, LossKind::BinaryCrossentropy, true, 600, 1, false);
  loss_case(rng, LossKind::MeanSquaredError, false, 20, 7, true);
  loss_case(rng, LossKind::MeanAbsoluteError, false, 20, 7, false);
  loss_case(rng, LossKind::SparseCategoricalCrossentropy, true, 1, 1, false);
  // a sparse label that is no class index is raised on the host, naming it
  auto be = target().make();
  Buffer pred(*be, rand_values(rng, 10)), labels(*be, std::vector<float>{1, 7}), result(*be, 2), d(*be, 10);
  std::string msg;
  try {
    be->loss(result.get(), d.get(), pred.get(), labels.get(), 2, 5, LossKind::SparseCategoricalCrossentropy, true, 1,
             nullptr);
    be->sync();
  } catch (const Error& e) {
    msg = e.what();
  }
  expect(msg.find("sparse label 7 is not a class index in [0, 5)") != std::string::npos,
         "an invalid sparse label is raised at sync: " + msg);
}

// --- optimizers and clipping -------------------------------------------------------------------------
// Three updates of 1000 weights (several blocks) from the same gradients, the weights and
// every slot against the host's loops.
static void optimizer_case(Rng& rng, const std::string& name, OptimizerConfig c) {
  const int64_t n = 1000;
  std::vector<float> w0 = rand_values(rng, n);
  std::vector<std::vector<float>> grads = {rand_values(rng, n), rand_values(rng, n), rand_values(rng, n)};
  OptimizerSlots need = optimizer_slots(c);
  auto run = [&](Backend& be) {
    Buffer w(be, w0), m(be, std::vector<float>(n)), v(be, std::vector<float>(n)), mg(be, std::vector<float>(n));
    for (int step = 1; step <= 3; step++) {
      Buffer g(be, grads[step - 1]);
      be.optimizer_update(c, w.get(), g.get(), n, need.m ? m.get() : nullptr, need.v ? v.get() : nullptr,
                          need.mg ? mg.get() : nullptr, step);
    }
    return std::vector<std::vector<float>>{w.download(), m.download(), v.download(), mg.download()};
  };
  ReferenceBackend ref;
  auto be = target().make();
  auto want = run(ref), got = run(*be);
  const char* what[] = {"weights", "slot m", "slot v", "slot mg"};
  for (int k = 0; k < 4; k++) validate_result(got[k].data(), want[k].data(), name + " " + what[k], n, 1e-5f);
}

static void optimizer_cases(Rng& rng) {
  OptimizerConfig sgd = OptimizerConfig::keras_default(OptKind::SGD);
  optimizer_case(rng, "SGD", sgd);
  sgd.momentum = 0.9f;
  optimizer_case(rng, "SGD momentum", sgd);
  sgd.nesterov = true;
  sgd.weight_decay = 0.01f;
  optimizer_case(rng, "SGD Nesterov, weight decay", sgd);
  OptimizerConfig adam = OptimizerConfig::keras_default(OptKind::Adam);
  adam.learning_rate = 0.01f;
  optimizer_case(rng, "Adam", adam);
  adam.amsgrad = true;
  optimizer_case(rng, "Adam amsgrad", adam);
  optimizer_case(rng, "AdamW", OptimizerConfig::keras_default(OptKind::AdamW));
  OptimizerConfig rms = OptimizerConfig::keras_default(OptKind::RMSprop);
  optimizer_case(rng, "RMSprop", rms);
  rms.centered = true;
  rms.momentum = 0.5f;
  optimizer_case(rng, "RMSprop centered, momentum", rms);
}

static void clip_case(Rng& rng, const std::string& name, OptimizerConfig c) {
  std::vector<int64_t> sizes = {5, 300, 2000};  // norms ~1.3, ~10, ~26: some past the limits, some not
  std::vector<std::vector<float>> g;
  for (int64_t n : sizes) g.push_back(rand_values(rng, n));
  auto run = [&](Backend& be) {
    std::vector<Buffer> bufs;
    std::vector<float*> ptrs;
    for (auto& v : g) bufs.emplace_back(be, v), ptrs.push_back(bufs.back().get());
    be.clip_gradients(c, ptrs, sizes);
    std::vector<std::vector<float>> r;
    for (auto& b : bufs) r.push_back(b.download());
    return r;
  };
  ReferenceBackend ref;
  auto be = target().make();
  auto want = run(ref), got = run(*be);
  for (size_t t = 0; t < sizes.size(); t++)
    validate_result(got[t].data(), want[t].data(), name + " gradient " + std::to_string(t), sizes[t], 1e-5f);
}

static void clip_cases(Rng& rng) {
  OptimizerConfig c = OptimizerConfig::keras_default(OptKind::SGD);
  c.clipnorm = 5;
  clip_case(rng, "clipnorm 5", c);
  c.clipnorm = 0, c.global_clipnorm = 20;
  clip_case(rng, "global_clipnorm 20", c);
  c.global_clipnorm = 0, c.clipvalue = 0.5f;
  clip_case(rng, "clipvalue 0.5", c);
}

int main(int argc, char** argv) {
  target().backend = argc > 1 ? argv[1] : "cuda-emu";
  std::printf("test_cuda_ops on '%s'\n", target().backend.c_str());
  Rng rng(2025);
  target().options.tf32 = false;  // strict FP32: everything at the CPU backend's tolerance
  matrix_product_cases(rng);
  other_op_cases(rng);
  guarded("dropout masks", dropout_masks_match);
  guarded("losses", [&] { loss_cases(rng); });
  guarded("optimizers", [&] { optimizer_cases(rng); });
  guarded("clipping", [&] { clip_cases(rng); });
  extremum_cases();  // Max and Min (Keras's Maximum and Minimum), an Rng of their own
  target().options.tf32 = true;  // the default: matrix products on TF32 tensor cores
  Rng rng_tf32(2025);
  matrix_product_cases(rng_tf32);
  return finish("test_cuda_ops");
}
