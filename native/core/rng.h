// rng.h: a tiny deterministic generator (splitmix64). Dropout masks, the training-only
// layers' noise and test data come from here so a seed reproduces a run exactly on every platform.
#pragma once
#include <cmath>
#include <cstdint>

namespace strata {

struct Rng {
  uint64_t state;
  explicit Rng(uint64_t seed) : state(seed) {}
  uint64_t next() {
    uint64_t z = (state += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
  }
  float uniform() { return (next() >> 40) * (1.0f / 16777216.0f); }  // [0, 1)
  float uniform(float lo, float hi) { return lo + (hi - lo) * uniform(); }
  // A standard normal draw (Box-Muller; 1 - uniform() is in (0, 1], so the log is finite).
  float normal() {
    float r = std::sqrt(-2.0f * std::log(1.0f - uniform()));
    return r * std::cos(6.2831853071795864769f * uniform());
  }
};

}  // namespace strata
