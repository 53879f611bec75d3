// augment_fold.h: where a sampling coordinate outside an image reads from, as TensorFlow's
// ImageProjectiveTransformV3 folds it (its MapCoordinate, the fill modes of Keras's
// RandomTranslation, RandomZoom and RandomRotation). One definition for the host loops
// (ops/augment.cpp) and the CUDA kernels (cuda/kernels/augment.cuh, nvcc and the emulation).
#pragma once
#include <cmath>
#include <cstdint>

#include "host_device.h"

namespace strata {

// fill: 0 reflect (d c b a | a b c d | d c b a), 1 wrap (a b c d | a b c d | a b c d),
// 2 constant (the coordinate as it is; reads outside are fill_value), 3 nearest (clamped);
// = FillMode's order. The result lies in [0, len - 1] except for constant.
STRATA_HOST_DEVICE inline float fold_coordinate(float v, int len, int fill) {
  if (fill == 2) return v;
  if (len <= 1 && fill != 3) return 0.0f;
  if (fill == 1) {  // TensorFlow divides by len - 1 here, and shifts by len
    const float sz = (float)(len - 1);
    if (v < 0) v += len * (float)((int64_t)(-v / sz) + 1);
    else if (v > len - 1) v -= len * (float)(int64_t)(v / sz);
  } else if (fill == 0) {
    const float sz2 = 2.0f * len;
    if (v < 0) {
      if (v < -sz2) v = sz2 * (float)(int64_t)(-v / sz2) + v;
      v = v < -len ? v + sz2 : -v - 1;
    } else if (v > len - 1) {
      v -= sz2 * (float)(int64_t)(v / sz2);
      if (v >= len) v = sz2 - v - 1;
    }
  }
  return fminf(fmaxf(v, 0.0f), (float)(len - 1));
}

}  // namespace strata
