// fuzz_tensor_proto.cpp: libFuzzer target for the TensorProto reader that onnx_test uses for
// the ONNX backend tests' input_N.pb/output_N.pb files (load_tensor_proto). Any bytes: a
// tensor or a std::exception naming what is wrong; a crash or a sanitizer report is a finding.
#include <cstddef>
#include <cstdint>
#include <exception>
#include <string>

#include "core/graph.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  try {
    std::string name;
    strata::load_tensor_proto(data, size, &name);
  } catch (const std::exception&) {
  }
  return 0;
}
