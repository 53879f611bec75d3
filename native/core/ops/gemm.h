// gemm.h: the matrix product behind Gemm, MatMul and Dense.
// C (M,N) = alpha * op(A) @ op(B) + beta * C, row-major; op(A) is (M,K), op(B) is (K,N).
// A is stored (M,K), or (K,M) when ta; B is stored (K,N), or (N,K) when tb.
// beta = 1 accumulates, which is how backward honours "parameter grads +=".
#pragma once

namespace strata {
namespace ref {
void gemm(bool ta, bool tb, int M, int N, int K, float alpha, const float* A, const float* B, float beta, float* C);
}  // namespace ref
}  // namespace strata
