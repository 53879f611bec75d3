// gemm.cpp: reference matrix product, plain loops (the oracle for dnnl_sgemm).
#include "gemm.h"

namespace strata {
namespace ref {

void gemm(bool ta, bool tb, int M, int N, int K, float alpha, const float* A, const float* B, float beta, float* C) {
  for (int m = 0; m < M; m++)
    for (int n = 0; n < N; n++) {
      float acc = 0;
      for (int k = 0; k < K; k++) acc += (ta ? A[k * M + m] : A[m * K + k]) * (tb ? B[n * K + k] : B[k * N + n]);
      // beta == 0 must ignore C (it may hold garbage, even NaN)
      C[m * N + n] = alpha * acc + (beta == 0 ? 0.0f : beta * C[m * N + n]);
    }
}

}  // namespace ref
}  // namespace strata
