// host_device.h: STRATA_HOST_DEVICE marks a function that the host code and the CUDA kernels
// share (nvcc compiles it for both; g++ and the emulation see a plain inline function).
#pragma once

#ifdef __CUDACC__
#define STRATA_HOST_DEVICE __host__ __device__
#else
#define STRATA_HOST_DEVICE
#endif
