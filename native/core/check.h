// check.h: error type and check macros that carry file and line.
// Engine errors are strata::Error; messages quote the bad value and, where we
// know it, the fix ("---> HINT" in llm.c's words).
//
// what() is the message alone: it reaches users (the binding makes it a JavaScript Error's
// message), and a packaged app must not show them the build machine's paths. Where in the
// engine the error was raised ("tensor.cpp:14", the file's base name) is kept apart, in
// source(), for Strata's developers: the binding puts it in the Error's `engineSource`.
#pragma once
#include <sstream>
#include <stdexcept>
#include <string>
#include <utility>

namespace strata {

struct Error : std::runtime_error {
  explicit Error(const std::string& message, std::string source = "") : std::runtime_error(message), source_(std::move(source)) {}
  // "file.cpp:line" of the check that failed; empty for errors raised without one.
  const std::string& source() const { return source_; }

 private:
  std::string source_;
};

// "tensor.cpp:14" for __FILE__ "/any/build/path/native/core/tensor.cpp" and line 14.
inline std::string source_location(const char* file, int line) {
  std::string path(file);
  return path.substr(path.find_last_of("/\\") + 1) + ":" + std::to_string(line);
}

[[noreturn]] inline void fail(const char* file, int line, const std::string& msg) {
  throw Error(msg, source_location(file, line));
}

}  // namespace strata

// STRATA_CHECK(cond, "message " << value): throws strata::Error when cond is false.
#define STRATA_CHECK(cond, msg)                                  \
  do {                                                           \
    if (!(cond)) {                                               \
      std::ostringstream strata_os_;                             \
      strata_os_ << msg;                                         \
      ::strata::fail(__FILE__, __LINE__, strata_os_.str());      \
    }                                                            \
  } while (0)

#define STRATA_FAIL(msg) STRATA_CHECK(false, msg)
