// test_optim.cpp: two updates of one weight (w = 1, gradients 0.5 then -0.25,
// lr 0.1) against values computed by hand from Keras's update rules (optim.h).
#include "core/optim.h"
#include "test_util.h"

using namespace strata;
using namespace strata_test;

static void run(const char* name, OptimizerConfig c, double want1, double want2) {
  float w = 1.0f, g1 = 0.5f, g2 = -0.25f;
  OptimizerState s;
  optimizer_update(c, &w, &g1, 1, s, 1);
  expect(std::fabs(w - want1) < 1e-6, std::string(name) + " step 1: got " + std::to_string(w) + " want " +
                                          std::to_string(want1));
  optimizer_update(c, &w, &g2, 1, s, 2);
  expect(std::fabs(w - want2) < 1e-6, std::string(name) + " step 2: got " + std::to_string(w) + " want " +
                                          std::to_string(want2));
}

int main() {
  auto sgd = OptimizerConfig::keras_default(OptKind::SGD);
  expect(sgd.learning_rate == 0.01f && sgd.momentum == 0 && !sgd.nesterov, "SGD Keras defaults");
  auto adam = OptimizerConfig::keras_default(OptKind::Adam);
  expect(adam.learning_rate == 0.001f && adam.beta_1 == 0.9f && adam.beta_2 == 0.999f && adam.epsilon == 1e-7f,
         "Adam Keras defaults");
  auto adamw = OptimizerConfig::keras_default(OptKind::AdamW);
  expect(adamw.weight_decay == 0.004f && adamw.learning_rate == 0.001f, "AdamW Keras defaults");
  auto rms = OptimizerConfig::keras_default(OptKind::RMSprop);
  expect(rms.learning_rate == 0.001f && rms.rho == 0.9f && rms.epsilon == 1e-7f && !rms.centered,
         "RMSprop Keras defaults");

  sgd.learning_rate = 0.1f;
  run("SGD", sgd, 1 - 0.05, 1 - 0.05 + 0.025);
  sgd.momentum = 0.9f;
  // v1 = -0.05, w1 = 0.95; v2 = 0.9*-0.05 + 0.025 = -0.02, w2 = 0.93
  run("SGD momentum", sgd, 0.95, 0.93);
  sgd.nesterov = true;
  // w1 = 1 + 0.9*(-0.05) - 0.05 = 0.905; v2 = -0.02; w2 = 0.905 + 0.9*(-0.02) + 0.025 = 0.912
  run("SGD nesterov", sgd, 0.905, 0.912);
  adam.learning_rate = 0.1f;
  // t=1: m = 0.05, v = 0.00025, alpha = 0.1*sqrt(0.001)/0.1; w -= alpha*m/(sqrt(v)+1e-7)
  // t=2: m = 0.02, v = 0.00031225, alpha = 0.1*sqrt(1-0.999^2)/(1-0.9^2)
  run("Adam", adam, 0.900000632451532, 0.8733670792079218);
  adamw.learning_rate = 0.1f;
  // as Adam after w -= w*0.004*0.1 each step
  run("AdamW", adamw, 0.899600632451532, 0.8726072389549412);
  rms.learning_rate = 0.1f;
  // v1 = 0.025, w1 = 1 - 0.05/sqrt(0.025 + 1e-7); v2 = 0.0225 + 0.00625
  run("RMSprop", rms, 0.6837728664367967, 0.8312145661715694);
  rms.momentum = 0.9f;
  // m1 = inc1 = 0.316227; m2 = 0.9*m1 + inc2 with inc2 = 0.1*(-0.25)/sqrt(0.02875 + 1e-7)
  run("RMSprop momentum", rms, 0.6837728664367967, 0.5466101459646864);
  rms.momentum = 0;
  rms.centered = true;
  // denominators v - mg^2 + eps: 0.025 - 0.0025 and 0.02875 - 0.02^2
  run("RMSprop centered", rms, 0.6666674074049382, 0.8151456132679695);
  // amsgrad: a third step (gradient 0.01) where v falls below its maximum
  {
    OptimizerConfig c = OptimizerConfig::keras_default(OptKind::Adam);
    c.learning_rate = 0.1f;
    c.amsgrad = true;
    float w = 1.0f, g[] = {0.5f, -0.25f, 0.01f};
    OptimizerState st;
    for (int t = 0; t < 3; t++) optimizer_update(c, &w, &g[t], 1, st, t + 1);
    // plain Adam would give 0.8516390; amsgrad keeps v_hat = 0.00031225
    expect(std::fabs(w - 0.8516463664306275) < 1e-6, "Adam amsgrad: got " + std::to_string(w));
  }
  // clipping: grads (3, 4) and (12) have norms 5 and 12, global norm 13
  {
    std::vector<float> a{3, 4}, b{12};
    OptimizerConfig c;
    c.clipnorm = 6;
    clip_gradients(c, {a.data(), b.data()}, {2, 1});
    expect(a == std::vector<float>({3, 4}) && std::fabs(b[0] - 6) < 1e-6, "clipnorm clips each gradient by its norm");
    a = {3, 4}, b = {12};
    c = OptimizerConfig();
    c.global_clipnorm = 6.5f;
    clip_gradients(c, {a.data(), b.data()}, {2, 1});
    expect(std::fabs(a[0] - 1.5f) < 1e-6 && std::fabs(a[1] - 2) < 1e-6 && std::fabs(b[0] - 6) < 1e-6,
           "global_clipnorm scales all gradients together");
    a = {3, -4}, b = {12};
    c = OptimizerConfig();
    c.clipvalue = 3.5f;
    clip_gradients(c, {a.data(), b.data()}, {2, 1});
    expect(a == std::vector<float>({3, -3.5f}) && b[0] == 3.5f, "clipvalue clips each element");
  }
  return finish("test_optim");
}
