// check.h: error type and check macros that carry file and line.
// Engine errors are strata::Error; messages quote the bad value and, where we
// know it, the fix ("---> HINT" in llm.c's words).
#pragma once
#include <sstream>
#include <stdexcept>
#include <string>

namespace strata {

struct Error : std::runtime_error {
  using std::runtime_error::runtime_error;
};

[[noreturn]] inline void fail(const char* file, int line, const std::string& msg) {
  std::ostringstream os;
  os << msg << " (" << file << ":" << line << ")";
  throw Error(os.str());
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
