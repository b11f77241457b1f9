// FUZZ_CHECK: the fuzz targets' invariant check. On failure it prints the condition and the input
// being run (escaped, so it can be pasted into a corpus file) and aborts, which both libFuzzer and
// the standalone driver report as a crash. Used on the fuzzing thread only.
#pragma once

#include <cstdio>
#include <cstdlib>
#include <string_view>

namespace shardis::fuzz {

// The input being run (set by each target at entry), for the failure message.
inline std::string_view& CurrentInput() {
  static std::string_view input;
  return input;
}

[[noreturn]] inline void CheckFailed(const char* cond, const char* file, int line,
                                     std::string_view detail) {
  std::fprintf(stderr, "FUZZ_CHECK failed: %s at %s:%d\n", cond, file, line);
  if (!detail.empty()) {
    std::fprintf(stderr, "detail: %.*s\n", static_cast<int>(detail.size()), detail.data());
  }
  std::fprintf(stderr, "input (%zu bytes): \"", CurrentInput().size());
  for (unsigned char c : CurrentInput()) {
    if (c >= 0x20 && c < 0x7f && c != '"' && c != '\\') {
      std::fputc(c, stderr);
    } else {
      std::fprintf(stderr, "\\x%02x", c);
    }
  }
  std::fprintf(stderr, "\"\n");
  std::abort();
}

}  // namespace shardis::fuzz

#define FUZZ_CHECK(cond, detail)                                                    \
  do {                                                                              \
    if (!(cond)) ::shardis::fuzz::CheckFailed(#cond, __FILE__, __LINE__, (detail)); \
  } while (0)
