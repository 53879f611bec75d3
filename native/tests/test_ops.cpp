// test_ops.cpp: every op's fast path (the oneDNN "cpu" backend) against its
// reference (plain loops), forward and backward, on random shapes and data; the
// gradient contract (activation grads =, parameter grads +=); and a
// finite-difference check of every backward (op_cases.h). Also the CPU backend's own
// paths: the blocked layouts, its Winograd and first-layer kernels.
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <initializer_list>

#include "op_cases.h"

using namespace strata;
using namespace strata_test;

// nChw<B>c <-> NCHW, plain loops (C a multiple of B)
static std::vector<float> blocked_from_plain(const float* x, int N, int C, int S, int B) {
  std::vector<float> b((size_t)N * C * S);
  for (int n = 0; n < N; n++)
    for (int ch = 0; ch < C; ch++)
      for (int s = 0; s < S; s++) b[(((size_t)n * (C / B) + ch / B) * S + s) * B + ch % B] = x[((size_t)n * C + ch) * S + s];
  return b;
}
// Whether the backend can hold activations of these channel counts blocked (whole blocks).
static bool in_blocks(const Backend& be, std::initializer_list<int> channels) {
  int B = be.channel_block();
  if (B <= 0) return false;
  for (int c : channels)
    if (c % B != 0) return false;
  return true;
}
static void plain_from_blocked(float* x, const std::vector<float>& b, int N, int C, int S, int B) {
  for (int n = 0; n < N; n++)
    for (int ch = 0; ch < C; ch++)
      for (int s = 0; s < S; s++) x[((size_t)n * C + ch) * S + s] = b[(((size_t)n * (C / B) + ch / B) * S + s) * B + ch % B];
}

// A convolution with its input and output in the CPU backend's blocked layout, as the session
// plans it between layers (on AVX2 machines the 3x3 ones run our Winograd kernel,
// conv3x3_winograd.h), against the reference on plain NCHW; pad > 0: pads of pad top and
// left, pad + 1 bottom and right. The fused Relu is checked on the forward.
static void conv_blocked_case(Rng& rng, int N, int C, int H, int W, int OC, int pad, bool bias) {
  ConvParams p{};
  p.N = N, p.C = C, p.H = H, p.W = W, p.OC = OC, p.KH = p.KW = 3, p.sh = p.sw = p.dh = p.dw = 1;
  p.pt = p.pl = pad, p.pb = p.pr = pad > 0 ? pad + 1 : 0;
  p.OH = H + p.pt + p.pb - 2, p.OW = W + p.pl + p.pr - 2;
  const int S = p.OH * p.OW;
  auto blocked = [=](Backend& be) { return in_blocks(be, {C, OC}); };
  auto forward = [=](Backend& be, const std::vector<const float*>& in, float* out, bool relu) {
    ConvParams q = p;
    q.relu = relu;
    const float* b = bias ? in[2] : nullptr;
    if (!blocked(be)) return be.conv2d_forward(out, in[0], in[1], b, q);
    const int B = be.channel_block();
    q.src_blocked = q.dst_blocked = true;
    std::vector<float> x = blocked_from_plain(in[0], N, C, H * W, B), o((size_t)N * OC * S);
    be.conv2d_forward(o.data(), x.data(), in[1], b, q);
    plain_from_blocked(out, o, N, OC, S, B);
  };
  char name[112];
  std::snprintf(name, sizeof name, "Conv blocked N%d C%d %dx%d OC%d pad%d%s", N, C, H, W, OC, pad, bias ? " bias" : "");
  OpCase k{name,
           {rand_tensor(rng, {N, C, H, W}), rand_tensor(rng, {OC, C, 3, 3}), rand_tensor(rng, {OC})},
           {ActGrad, ParamGrad, bias ? ParamGrad : NoGrad},
           (int64_t)N * OC * S,
           [=](Backend& be, const std::vector<const float*>& in, float* out) { forward(be, in, out, false); },
           [=](Backend& be, const std::vector<const float*>& in, const float*, const float* dout,
               std::vector<float*>& din) {
             if (!blocked(be)) return be.conv2d_backward(din[0], din[1], din[2], dout, in[0], in[1], p);
             const int B = be.channel_block();
             ConvParams q = p;
             q.src_blocked = q.dst_blocked = true;
             std::vector<float> x = blocked_from_plain(in[0], N, C, H * W, B);
             std::vector<float> d = blocked_from_plain(dout, N, OC, S, B), dx(x.size());
             be.conv2d_backward(din[0] ? dx.data() : nullptr, din[1], din[2], d.data(), x.data(), in[1], q);
             if (din[0]) plain_from_blocked(din[0], dx, N, C, H * W, B);
           }};
  // F(4x4, 3x3) scales a tile's values by up to 8 x 8 between the channel sums and the output,
  // so its rounding follows the magnitude of the terms summed, not of one result: 1.1e-4 at
  // outputs below 1 with 64 channels in (9x9, batch 5; the outputs' RMS is about 8), 2.6e-4
  // at 1.08 with 128 (RMS about 11). Relative to the RMS these are 1e-5 to 2e-5.
  k.rms_floor = true;
  check_op(k);
  ReferenceBackend ref;
  auto cpu = target().make();
  std::vector<float> want((size_t)N * OC * S), got(want.size());
  std::vector<const float*> in;  // the CPU backends compute on host memory
  for (auto& t : k.in) in.push_back(t.data());
  forward(ref, in, want.data(), true);
  forward(*cpu, in, got.data(), true);
  validate_result(got.data(), want.data(), std::string(name) + " relu forward", (int64_t)want.size(), k.tol,
                  rms_floor(want.data(), (int64_t)want.size()));
}

// Conv + MaxPool with its output in the blocked layout, as the session plans it, against the
// reference on plain NCHW: on the CPU backend, the direct kernel (conv_pool_direct.h) for 1-3
// input channels, and oneDNN's convolution with our 2x2 pooling for more. Odd convolution
// outputs leave a row and a column unpooled.
static void conv_maxpool_blocked_case(Rng& rng, int N, int C, int H, int OC, bool bias, bool input_grad, bool relu) {
  ConvParams c{};
  c.N = N, c.C = C, c.H = c.W = H, c.OC = OC, c.KH = c.KW = 3, c.OH = c.OW = H - 2, c.sh = c.sw = c.dh = c.dw = 1;
  c.relu = relu;
  PoolParams p{};
  p.N = N, p.C = OC, p.H = p.W = H - 2, p.KH = p.KW = 2, p.sh = p.sw = 2, p.dh = p.dw = 1, p.OH = p.OW = (H - 2) / 2;
  const int S = p.OH * p.OW;
  auto layout = [=](Backend& be) {
    ConvParams cb = c;
    PoolParams pb = p;
    cb.dst_blocked = pb.blocked = in_blocks(be, {OC});
    return std::make_pair(cb, pb);
  };
  char name[112];
  std::snprintf(name, sizeof name, "Conv+MaxPool blocked N%d C%d %dx%d OC%d%s%s%s", N, C, H, H, OC,
                bias ? " bias" : "", input_grad ? " dinp" : "", relu ? " relu" : "");
  OpCase k{name,
           {rand_tensor(rng, {N, C, H, H}), rand_tensor(rng, {OC, C, 3, 3}), rand_tensor(rng, {OC})},
           {input_grad ? ActGrad : NoGrad, ParamGrad, bias ? ParamGrad : NoGrad},
           (int64_t)N * OC * S,
           [=](Backend& be, const std::vector<const float*>& in, float* out) {
             auto [cb, pb] = layout(be);
             std::vector<float> o((size_t)N * OC * S);
             be.conv_maxpool_forward(o.data(), in[0], in[1], bias ? in[2] : nullptr, cb, pb, nullptr);
             if (cb.dst_blocked) plain_from_blocked(out, o, N, OC, S, be.channel_block());
             else std::copy(o.begin(), o.end(), out);
           },
           [=](Backend& be, const std::vector<const float*>& in, const float*, const float* dout,
               std::vector<float*>& din) {
             auto [cb, pb] = layout(be);
             std::vector<float> state(be.conv_maxpool_state_size(cb, pb)), out((size_t)N * OC * S);
             be.conv_maxpool_forward(out.data(), in[0], in[1], bias ? in[2] : nullptr, cb, pb, state.data());
             std::vector<float> d = cb.dst_blocked ? blocked_from_plain(dout, N, OC, S, be.channel_block()) : std::vector<float>(dout, dout + out.size());
             be.conv_maxpool_backward(din[0], din[1], din[2], d.data(), out.data(), in[0], in[1], cb, pb,
                                      state.data());
           }};
  k.fd_eps = C <= 3 ? 1e-4f : 1e-3f;
  check_op(k);
}

// The convolution algorithm is an option (BackendOptions::conv): every setting matches the
// reference, auto (our Winograd for a 16 -> 16 3x3 convolution in the blocked layout) is not
// direct's arithmetic bit for bit, and bad options are refused, naming them.
static void conv_algorithm_settings(Rng& rng) {
  for (ConvAlgorithm a : {ConvAlgorithm::Direct, ConvAlgorithm::OneDnnWinograd}) {
    target().options.conv = a;
    conv_blocked_case(rng, 2, 16, 9, 9, 16, 0, true);
  }
  target().options.conv = ConvAlgorithm::Auto;
  ConvParams p{};
  p.N = 2, p.C = 16, p.H = p.W = 9, p.OC = 16, p.KH = p.KW = 3, p.OH = p.OW = 7, p.sh = p.sw = p.dh = p.dw = 1;
  p.src_blocked = p.dst_blocked = true;
  Tensor x = rand_tensor(rng, {2, 16, 9, 9}), w = rand_tensor(rng, {16, 16, 3, 3});
  auto forward = [&](ConvAlgorithm a) {
    BackendOptions o;
    o.conv = a;
    auto be = make_backend("cpu", o);
    std::vector<float> xb = blocked_from_plain(x.data(), 2, 16, 81, be->channel_block()), out(2 * 16 * 49);
    be->conv2d_forward(out.data(), xb.data(), w.data(), nullptr, p);
    return out;
  };
  auto ours = forward(ConvAlgorithm::Auto), direct = forward(ConvAlgorithm::Direct);
  auto onednn = forward(ConvAlgorithm::OneDnnWinograd);
  expect(ours != direct, "conv algorithm auto (our Winograd here) and direct compute differently");
  expect(forward(ConvAlgorithm::Direct) == direct, "the same algorithm twice: the same bits");
  // oneDNN 2.6 has a Winograd kernel with AVX-512 (nChw16c) only; elsewhere it runs direct
  if (make_backend("cpu")->channel_block() == 16)
    expect(onednn != direct && onednn != ours, "onednn-winograd is neither direct nor ours (AVX-512)");
  else
    expect(onednn == direct, "onednn-winograd falls back to direct without AVX-512");
  std::string msg;
  try {
    BackendOptions o;
    o.conv_pool_slice_bytes = 0;
    make_backend("cpu", o);
  } catch (const Error& e) {
    msg = e.what();
  }
  expect(msg.find("conv_pool_slice_bytes must be at least 1") != std::string::npos, "a bad CPU option is named: " + msg);
  msg.clear();
  try {
    conv_algorithm_from_name("fft");
  } catch (const Error& e) {
    msg = e.what();
  }
  expect(msg.find("unknown convolution algorithm 'fft'; expected auto, direct or onednn-winograd") != std::string::npos,
         "an unknown convolution algorithm is named: " + msg);
}

// The reference's Dropout masks drop about the ratio and scale the rest by 1/(1-ratio)
// (every backend draws the same masks: dropout_case).
static void dropout_statistics() {
  std::vector<float> mask(10000), out(10000), x(10000, 1.0f);
  ReferenceBackend ref;
  ref.dropout_forward(out.data(), mask.data(), x.data(), 10000, 0.3f, 7);
  int zeros = 0;
  for (float m : mask) zeros += m == 0;
  expect(zeros > 2700 && zeros < 3300, "Dropout drops ~30% (dropped " + std::to_string(zeros) + " of 10000)");
  expect(std::fabs(out[mask[0] == 0 ? 1 : 0] - 1 / 0.7f) < 1e-6 || mask[0] == 0, "Dropout scales kept values");
}

int main() {
  target().options.conv_pool_slice_bytes = 8192;  // 2 images of conv_maxpool_case's 16x8x8 outputs
  Rng rng(2024);
  // test_ops_avx2 (ctest) caps oneDNN to AVX2: the backend's blocked layout must follow, else
  // that run would test the AVX-512 path a second time.
  if (const char* isa = std::getenv("ONEDNN_MAX_CPU_ISA"); isa && std::strcmp(isa, "AVX2") == 0)
    expect(make_backend("cpu")->channel_block() == 8, "ONEDNN_MAX_CPU_ISA=AVX2 gives the CPU backend nChw8c");
  // Conv: strides, explicit asymmetric pads, SAME_UPPER (Keras "same"), VALID, dilations, Conv1D (H = 1)
  conv_case(rng, 2, 3, 7, 6, 4, 3, 3, 1, 1, "NOTSET", 0, true);
  conv_case(rng, 2, 3, 8, 9, 5, 3, 3, 2, 1, "SAME_UPPER", 0, true);
  conv_case(rng, 1, 2, 9, 9, 3, 3, 2, 2, 2, "NOTSET", 1, false);
  conv_case(rng, 2, 4, 10, 8, 3, 5, 5, 1, 1, "SAME_UPPER", 0, false);
  conv_case(rng, 1, 3, 11, 10, 2, 3, 3, 3, 2, "VALID", 0, true);
  conv_case(rng, 2, 3, 1, 12, 4, 1, 3, 1, 1, "SAME_UPPER", 0, true);
  grouped_conv_cases();
  // 16+ channels in and out, 3x3, stride 1: the oneDNN backend runs these as Winograd
  conv_case(rng, 2, 16, 9, 10, 16, 3, 3, 1, 1, "NOTSET", 0, true);
  conv_case(rng, 1, 32, 8, 8, 16, 3, 3, 1, 1, "SAME_UPPER", 0, false);
  // random geometries: any stride, dilation, explicit or SAME_UPPER/VALID padding
  const char* pads[] = {"NOTSET", "SAME_UPPER", "VALID"};
  for (int t = 0; t < 10; t++) {
    int K = 1 + (int)(rng.next() % 4), d = 1 + (int)(rng.next() % 2), s = 1 + (int)(rng.next() % 3);
    int H = (K - 1) * d + 1 + (int)(rng.next() % 6), W = (K - 1) * d + 1 + (int)(rng.next() % 6);
    conv_case(rng, 1 + (int)(rng.next() % 3), 1 + (int)(rng.next() % 4), H, W, 1 + (int)(rng.next() % 5), K, K, s, d,
              pads[rng.next() % 3], (int)(rng.next() % 2), rng.next() % 2);
    int PK = 1 + (int)(rng.next() % 3);
    pool_case(rng, rng.next() % 2, 1 + (int)(rng.next() % 2), 1 + (int)(rng.next() % 3), PK + 2 + (int)(rng.next() % 5),
              PK + 2 + (int)(rng.next() % 5), PK, 1 + (int)(rng.next() % 2), 1, pads[rng.next() % 3],
              PK > 1 ? (int)(rng.next() % 2) : 0, rng.next() % 2);
  }
  // pooling
  pool_case(rng, true, 2, 3, 8, 8, 2, 2, 1, "NOTSET", 0, false);
  pool_case(rng, true, 1, 2, 7, 7, 3, 2, 1, "SAME_UPPER", 0, false);
  pool_case(rng, true, 1, 2, 9, 9, 2, 1, 2, "NOTSET", 1, false);
  pool_case(rng, false, 2, 3, 8, 8, 2, 2, 1, "NOTSET", 0, false);
  pool_case(rng, false, 1, 2, 7, 7, 3, 2, 1, "SAME_UPPER", 0, false);
  pool_case(rng, false, 1, 2, 7, 7, 3, 2, 1, "NOTSET", 1, true);
  pool_case(rng, false, 2, 3, 5, 6, 5, 1, 1, "NOTSET", 0, false);  // a GlobalAveragePool-sized window (5 of 5)
  pool_case(rng, true, 2, 3, 6, 6, 6, 1, 1, "NOTSET", 0, false);  // GlobalMaxPool: one window over the whole image
  // gemm
  for (int ta = 0; ta < 2; ta++)
    for (int tb = 0; tb < 2; tb++) gemm_case(rng, 5, 7, 6, ta, tb);
  gemm_case(rng, 33, 17, 65, false, false);
  for (int t = 0; t < 6; t++)  // random sizes and transposes
    gemm_case(rng, 1 + (int)(rng.next() % 40), 1 + (int)(rng.next() % 40), 1 + (int)(rng.next() % 70), rng.next() % 2,
              rng.next() % 2);
  // batch normalization
  bn_case(rng, 4, 3, 5, true);
  bn_case(rng, 8, 2, 1, true);  // Dense-style (N, C)
  bn_case(rng, 2, 3, 6, false);
  for (int t = 0; t < 4; t++)
    bn_case(rng, 2 + (int)(rng.next() % 7), 1 + (int)(rng.next() % 6), 1 + (int)(rng.next() % 20), rng.next() % 2);
  // activations (ONNX defaults: LeakyRelu 0.01, Elu 1.0, Selu 1.67326, 1.0507)
  act_case(rng, Act::Relu, "Relu");
  act_case(rng, Act::LeakyRelu, "LeakyRelu", 0.2f);
  act_case(rng, Act::Elu, "Elu", 1.0f);
  act_case(rng, Act::Selu, "Selu", 1.67326319217681884765625f, 1.05070102214813232421875f);
  act_case(rng, Act::Sigmoid, "Sigmoid");
  act_case(rng, Act::Tanh, "Tanh");
  act_case(rng, Act::Gelu, "Gelu");
  act_case(rng, Act::GeluTanh, "Gelu tanh");
  act_case(rng, Act::Erf, "Erf");
  later_act_cases();
  pad_cases();
  resize_cases();
  softmax_case(rng, 4, 10, 1);
  softmax_case(rng, 2, 5, 3);
  softmax_case(rng, 4, 10, 1, true);
  softmax_case(rng, 2, 5, 3, true);
  layer_norm_case(rng, 6, 10, true);
  layer_norm_case(rng, 3, 24, false);
  {  // 65536 values or more: the CPU splits the backward's rows over its threads (layer_norm_cpu.h),
     // each slice with its own scale and bias grads; rows of D not a multiple of the vector width.
     // A stream of their own, so that the cases after keep their data.
    Rng rows_rng(2112);
    layer_norm_case(rows_rng, 70, 1000, true);
    layer_norm_case(rows_rng, 131, 515, false);
  }
  // the rest
  // with the fused Relu (relu: the last argument), its backward applied inside the backward
  conv_maxpool_case(rng, 5, 3, 10, 16, true, false);
  conv_maxpool_case(rng, 4, 16, 10, 16, false, true);  // Winograd's shape class
  conv_maxpool_case(rng, 3, 1, 13, 32, true, true);
  conv_maxpool_case(rng, 2, 3, 10, 16, false, false);
  conv_maxpool_blocked_case(rng, 3, 1, 13, 32, true, false, true);  // 11x11 -> 5x5
  conv_maxpool_blocked_case(rng, 2, 3, 10, 16, false, false, false);
  conv_maxpool_blocked_case(rng, 2, 3, 9, 16, true, true, true);  // 7x7 -> 3x3; the input's grad too
  conv_maxpool_blocked_case(rng, 5, 2, 8, 16, true, true, false);  // several slices (8192 bytes: 2 images)
  conv_maxpool_blocked_case(rng, 5, 2, 8, 16, true, true, true);
  conv_maxpool_blocked_case(rng, 3, 16, 9, 16, true, true, true);  // oneDNN's convolution, our pooling
  conv_maxpool_blocked_case(rng, 3, 16, 9, 16, true, true, false);
  conv_maxpool_blocked_case(rng, 2, 8, 12, 32, false, false, true);
  conv_maxpool_blocked_case(rng, 2, 3, 10, 24, true, true, false);  // blocked in nChw8c only
  conv_blocked_case(rng, 2, 16, 9, 9, 16, 0, true);   // 7x7: the last tiles half outside
  conv_blocked_case(rng, 3, 16, 8, 10, 24, 1, false);  // pads 1 and 2; nChw8c only
  conv_blocked_case(rng, 2, 32, 13, 13, 64, 0, true);  // the 28x28 seed CNN's second convolution
  conv_blocked_case(rng, 1, 16, 22, 21, 16, 1, false);  // an input grad of 20x20 or more: 4x4 tiles
  conv_blocked_case(rng, 1, 24, 5, 6, 40, 2, true);    // pads 2 and 3: oneDNN's (ours takes up to 2)
  conv_blocked_case(rng, 2, 32, 21, 20, 32, 1, true);  // 32 channels: 2 vectors with AVX-512 (kRows2 x 2)
  conv_blocked_case(rng, 1, 16, 9, 8, 48, 0, false);   // 48 output channels: 3 vectors with AVX-512
  conv_blocked_case(rng, 1, 64, 7, 6, 128, 1, true);   // 36 x 64 x 128 transformed weights: 64-tile chunks
  conv_blocked_case(rng, 1, 128, 6, 6, 144, 0, false); // past 128 x 128: oneDNN's with AVX-512, ours with AVX2
  // the weight grads' one shared sum (sums_shared) instead of partial sums per thread
  target().options.winograd_partials_bytes = 0;
  conv_blocked_case(rng, 5, 64, 9, 9, 32, 1, true);    // 45 tiles: rounds; 64 rows of dU: 2 row blocks
  conv_blocked_case(rng, 2, 32, 13, 13, 64, 0, false);
  target().options.winograd_partials_bytes = BackendOptions().winograd_partials_bytes;
  conv_algorithm_settings(rng);
  binary_case(rng, Binary::Add, "Add", {4, 3}, {3});
  binary_case(rng, Binary::Add, "Add", {2, 3, 4}, {2, 1, 4});
  binary_case(rng, Binary::Sub, "Sub", {3, 1}, {1, 4});
  binary_case(rng, Binary::Mul, "Mul", {2, 3, 4}, {2, 3, 4});
  binary_case(rng, Binary::Mul, "Mul", {2, 3, 4}, {1});
  binary_case(rng, Binary::Div, "Div", {2, 3}, {2, 3});
  // past one chunk of the CPU backend's threaded loops: scalar, same-shape and row operands
  binary_case(rng, Binary::Mul, "Mul", {64, 28, 28}, {1});
  binary_case(rng, Binary::Sub, "Sub", {1}, {50, 1000});
  binary_case(rng, Binary::Add, "Add", {50, 1000}, {50, 1000});
  binary_case(rng, Binary::Add, "Add", {70, 1000}, {1, 1000});
  binary_case(rng, Binary::Div, "Div", {40, 999}, {999});
  transpose_case(rng, {2, 3, 4}, {2, 0, 1});
  transpose_case(rng, {2, 3, 4, 5}, {0, 2, 3, 1});  // NCHW -> NHWC
  concat_case(rng);
  gather_case(rng);
  reduce_mean_case(rng, {2, 5, 3}, {2, 1, 3});  // GlobalAveragePooling1D over the steps axis
  reduce_mean_case(rng, {2, 3, 4}, {1, 1, 1});
  dropout_case(rng);
  dropout_statistics();
  extremum_cases();  // Max and Min (Keras's Maximum and Minimum), an Rng of their own
  return finish("test_ops");
}
