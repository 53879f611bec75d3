// seed_cnn: the seed CNN of Strata's examples (conv 32, pool, conv 64, pool, dense 64,
// dropout 0.5, dense 10; the graph Strata's translator exports: NHWC input, Transpose, the
// Conv + Relu + MaxPool pairs, Transpose + Flatten before the Dense layers) trained or timed
// on any backend, with no Node: what native/scripts/gpu-check.sh runs. bench/torch_reference.py
// builds the same model in PyTorch, initialized alike (Keras's glorot_uniform, zero biases).
//
//   seed_cnn fashion-mnist <dir> [--backend cpu] [--epochs 10] [--batch 128] [--limit N] [--seed 1] [--fp32]
//       trains on the idx files in <dir> (train-images-idx3-ubyte, train-labels-idx1-ubyte,
//       t10k-..., un-gzipped) as examples/fashion-mnist-classifier.ts does: pixels
//       standardized by the first layer, Adam 1e-3, 1e-4 for the last fifth of the epochs;
//       prints one line per epoch (loss, accuracy, test accuracy, seconds). --limit N uses
//       the first N images of each set. <dir> "synthetic": 28x28 images whose class is the
//       row of a bright band, for machines without the data set (--limit images, 1024 by default).
//   seed_cnn throughput [--backend cpu] [--input 28 28 1] [--batch 128] [--mode train|infer]
//                       [--steps 20] [--fp32]
//       samples per second of training steps (forward, loss, backward, Adam) or inference
//       passes on one random batch, after 3 untimed ones.
// --fp32: strict FP32 matrix products on CUDA (TF32 otherwise). --conv auto|direct|onednn-winograd:
// the convolution algorithm (BackendOptions::conv), to compare. --no-cuda-graphs: CUDA launches
// every kernel of every step (BackendOptions::cuda_graphs; by default a step is replayed as a graph).
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <string>
#include <vector>

#include "../tests/model_builder.h"
#include "core/check.h"
#include "core/rng.h"
#include "core/session.h"

using namespace strata;
using namespace strata_test;

// Keras's glorot_uniform: U(-l, l), l = sqrt(6 / (fan_in + fan_out))
static Tensor glorot(Rng& rng, Shape s, int64_t fan_in, int64_t fan_out) {
  Tensor t(std::move(s));
  float l = std::sqrt(6.0f / (float)(fan_in + fan_out));
  for (auto& v : t.f) v = rng.uniform(-l, l);
  return t;
}

// The seed CNN on (N, h, w, c) inputs; with `standardize`, x * 1/0.353 - 0.286/0.353 first
// (the Fashion-MNIST example's Rescaling layer).
static std::string seed_cnn(int h, int w, int c, bool standardize, uint64_t seed) {
  Rng rng(seed);
  const int h2 = ((h - 2) / 2 - 2) / 2, w2 = ((w - 2) / 2 - 2) / 2, flat = 64 * h2 * w2;
  ModelBuilder b;
  b.input("image", {-1, h, w, c}).output("probs");
  b.init("conv1/kernel", glorot(rng, {32, c, 3, 3}, c * 9, 32 * 9)).init("conv1/bias", Tensor({32}));
  b.init("conv2/kernel", glorot(rng, {64, 32, 3, 3}, 32 * 9, 64 * 9)).init("conv2/bias", Tensor({64}));
  b.init("dense1/kernel", glorot(rng, {flat, 64}, flat, 64)).init("dense1/bias", Tensor({64}));
  b.init("dense2/kernel", glorot(rng, {64, 10}, 64, 10)).init("dense2/bias", Tensor({10}));
  b.init("dropout/ratio", Tensor::from({}, {0.5f}));
  std::string x = "image";
  if (standardize) {
    b.init("scale", Tensor::from({}, {1 / 0.353f})).init("offset", Tensor::from({}, {-0.286f / 0.353f}));
    b.node("Mul", {"image", "scale"}, {"scaled"}).node("Add", {"scaled", "offset"}, {"standardized"});
    x = "standardized";
  }
  const auto pool = std::vector<Attr>{Attr::ints("kernel_shape", {2, 2}), Attr::ints("strides", {2, 2})};
  b.node("Transpose", {x}, {"nchw"}, {Attr::ints("perm", {0, 3, 1, 2})});
  b.node("Conv", {"nchw", "conv1/kernel", "conv1/bias"}, {"c1"}, {Attr::ints("kernel_shape", {3, 3})});
  b.node("Relu", {"c1"}, {"r1"}).node("MaxPool", {"r1"}, {"p1"}, pool);
  b.node("Conv", {"p1", "conv2/kernel", "conv2/bias"}, {"c2"}, {Attr::ints("kernel_shape", {3, 3})});
  b.node("Relu", {"c2"}, {"r2"}).node("MaxPool", {"r2"}, {"p2"}, pool);
  b.node("Transpose", {"p2"}, {"nhwc"}, {Attr::ints("perm", {0, 2, 3, 1})}).node("Flatten", {"nhwc"}, {"flat"});
  b.node("Gemm", {"flat", "dense1/kernel", "dense1/bias"}, {"d1"}).node("Relu", {"d1"}, {"h1"});
  b.node("Dropout", {"h1", "dropout/ratio"}, {"h2"});
  b.node("Gemm", {"h2", "dense2/kernel", "dense2/bias"}, {"logits"}).node("Softmax", {"logits"}, {"probs"});
  return b.bytes();
}

static BackendOptions g_options;  // --fp32, --conv, --no-cuda-graphs

static std::unique_ptr<Session> session(const std::string& model, const std::string& backend, bool fp32,
                                        uint64_t seed) {
  TrainingDescription d;
  d.backend_options = g_options;
  d.losses = {{"probs", LossKind::SparseCategoricalCrossentropy, false, 1.0f, {MetricKind::SparseCategoricalAccuracy}}};
  d.optimizer = OptimizerConfig::keras_default(OptKind::Adam);
  d.backend = backend;
  d.backend_options.tf32 = !fp32;
  d.seed = seed;
  return Session::from_onnx(model.data(), model.size(), d);
}

// An idx file (big-endian dims after a magic whose last byte is the rank), as floats.
static std::vector<float> read_idx(const std::string& path, std::vector<int>& dims, float scale) {
  std::ifstream f(path, std::ios::binary);
  STRATA_CHECK(f, "cannot open " << path << " (un-gzipped idx files: see native/scripts/gpu-check.sh)");
  unsigned char head[4];
  f.read((char*)head, 4);
  STRATA_CHECK(f && head[0] == 0 && head[1] == 0 && head[2] == 8, path << " is not an idx file of bytes");
  dims.assign(head[3], 0);
  int64_t n = 1;
  for (auto& d : dims) {
    unsigned char b[4];
    f.read((char*)b, 4);
    d = (b[0] << 24) | (b[1] << 16) | (b[2] << 8) | b[3];
    n *= d;
  }
  std::vector<unsigned char> raw((size_t)n);
  f.read((char*)raw.data(), n);
  STRATA_CHECK(f, path << " ends before its " << n << " values");
  std::vector<float> v(raw.begin(), raw.end());
  for (auto& x : v) x *= scale;
  return v;
}

struct Split {
  std::vector<float> images, labels;
  int64_t n = 0;
};
static Split load(const std::string& dir, const std::string& prefix, int64_t limit) {
  Split s;
  std::vector<int> di, dl;
  s.images = read_idx(dir + "/" + prefix + "-images-idx3-ubyte", di, 1 / 255.0f);
  s.labels = read_idx(dir + "/" + prefix + "-labels-idx1-ubyte", dl, 1.0f);
  STRATA_CHECK(di.size() == 3 && di[1] == 28 && di[2] == 28 && dl[0] == di[0],
               dir << ": " << prefix << " images and labels do not pair up as 28x28 Fashion-MNIST");
  s.n = limit > 0 && limit < di[0] ? limit : di[0];
  return s;
}

// n images with noise in [0, 0.3) whose class k is a band at rows 2k + 4 and 2k + 5
static Split synthetic(int64_t n, uint64_t seed) {
  Split s;
  Rng rng(seed);
  s.n = n;
  for (int64_t i = 0; i < n; i++) {
    int k = (int)(rng.next() % 10);
    s.labels.push_back((float)k);
    for (int p = 0; p < 784; p++) s.images.push_back(p / 28 / 2 == k + 2 ? 0.9f : 0.3f * rng.uniform());
  }
  return s;
}

static int fashion_mnist(const std::string& dir, const std::string& backend, int epochs, int batch, int64_t limit,
                         uint64_t seed, bool fp32) {
  const bool fake = dir == "synthetic";
  Split train = fake ? synthetic(limit > 0 ? limit : 1024, 11) : load(dir, "train", limit);
  Split test = fake ? synthetic(limit > 0 ? limit : 1024, 12) : load(dir, "t10k", limit);
  std::string model = seed_cnn(28, 28, 1, true, seed);
  auto s = session(model, backend, fp32, seed);
  Rng rng(seed);
  std::vector<int64_t> order((size_t)train.n);
  for (int64_t i = 0; i < train.n; i++) order[i] = i;
  const int drop_at = epochs - epochs / 5;  // the example: 1e-3, then 1e-4 for the last fifth
  for (int e = 0; e < epochs; e++) {
    if (e == drop_at) s->set_learning_rate(1e-4f);
    for (int64_t i = train.n - 1; i > 0; i--) std::swap(order[i], order[rng.next() % (i + 1)]);
    auto t0 = std::chrono::steady_clock::now();
    double loss = 0, hits = 0;
    for (int64_t at = 0; at < train.n; at += batch) {
      int64_t rows = std::min<int64_t>(batch, train.n - at);
      Tensor x({rows, 28, 28, 1}), y({rows});
      for (int64_t r = 0; r < rows; r++) {
        int64_t k = order[at + r];
        std::memcpy(x.data() + r * 784, train.images.data() + k * 784, 784 * sizeof(float));
        y.f[r] = train.labels[k];
      }
      StepResult step = s->train_step({x}, {y});
      loss += step.loss * rows, hits += step.metrics[0][0] * rows;
    }
    double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    int64_t right = 0;
    for (int64_t at = 0; at < test.n; at += 1000) {
      int64_t rows = std::min<int64_t>(1000, test.n - at);
      Tensor x = Tensor::from({rows, 28, 28, 1}, std::vector<float>(test.images.begin() + at * 784,
                                                                  test.images.begin() + (at + rows) * 784));
      Tensor p = s->forward({x})[0];
      for (int64_t r = 0; r < rows; r++)
        right += std::max_element(p.f.begin() + r * 10, p.f.begin() + r * 10 + 10) - (p.f.begin() + r * 10) ==
                 (int64_t)test.labels[at + r];
    }
    std::printf("{\"backend\": \"%s\", \"epoch\": %d, \"loss\": %.5f, \"accuracy\": %.5f, \"test_accuracy\": %.5f, "
                "\"seconds\": %.2f}\n",
                backend.c_str(), e + 1, loss / train.n, hits / train.n, (double)right / test.n, seconds);
    std::fflush(stdout);
  }
  return 0;
}

static int throughput(const std::string& backend, int h, int w, int c, int batch, bool train, int steps, bool fp32) {
  std::string model = seed_cnn(h, w, c, false, 1);
  auto s = session(model, backend, fp32, 1);
  Rng rng(3);
  Tensor x({batch, h, w, c}), y({batch});
  for (auto& v : x.f) v = rng.uniform();
  for (auto& v : y.f) v = (float)(rng.next() % 10);
  auto run = [&] {
    if (train) s->train_step({x}, {y});  // returns the loss: the step has finished on the device
    else s->forward({x});
  };
  for (int k = 0; k < 3; k++) run();
  auto t0 = std::chrono::steady_clock::now();
  for (int k = 0; k < steps; k++) run();
  double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  std::printf("{\"backend\": \"%s\", \"input\": [%d, %d, %d], \"batch\": %d, \"mode\": \"%s\", \"cuda_graphs\": %s, "
              "\"samples_per_second\": %.1f}\n",
              backend.c_str(), h, w, c, batch, train ? "train" : "infer", g_options.cuda_graphs ? "true" : "false",
              batch * steps / seconds);
  return 0;
}

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: seed_cnn fashion-mnist <dir> [options] | seed_cnn throughput [options] (see its header)\n");
    return 2;
  }
  std::string command = argv[1], dir, backend = "cpu", mode = "train";
  int epochs = 10, batch = 128, steps = 20, h = 28, w = 28, c = 1;
  int64_t limit = 0;
  uint64_t seed = 1;
  bool fp32 = false;
  try {
    int k = 2;
    if (command == "fashion-mnist" && argc > 2) dir = argv[k++];
    for (; k < argc; k++) {
      std::string a = argv[k];
      auto value = [&](int ahead = 1) {
        STRATA_CHECK(k + ahead < argc, a << " needs a value");
        return std::string(argv[k + ahead]);
      };
      if (a == "--backend") backend = value(), k++;
      else if (a == "--epochs") epochs = std::stoi(value()), k++;
      else if (a == "--batch") batch = std::stoi(value()), k++;
      else if (a == "--limit") limit = std::stoll(value()), k++;
      else if (a == "--seed") seed = std::stoull(value()), k++;
      else if (a == "--steps") steps = std::stoi(value()), k++;
      else if (a == "--mode") mode = value(), k++;
      else if (a == "--input") h = std::stoi(value(1)), w = std::stoi(value(2)), c = std::stoi(value(3)), k += 3;
      else if (a == "--fp32") fp32 = true;
      else if (a == "--conv") g_options.conv = conv_algorithm_from_name(value()), k++;
      else if (a == "--no-cuda-graphs") g_options.cuda_graphs = false;
      else {
        std::fprintf(stderr, "seed_cnn: unknown option %s\n", a.c_str());
        return 2;
      }
    }
    if (command == "fashion-mnist" && !dir.empty()) return fashion_mnist(dir, backend, epochs, batch, limit, seed, fp32);
    if (command == "throughput") return throughput(backend, h, w, c, batch, mode == "train", steps, fp32);
    std::fprintf(stderr, "seed_cnn: unknown command '%s'\n", command.c_str());
    return 2;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "seed_cnn: %s\n", e.what());
    return 1;
  }
}
