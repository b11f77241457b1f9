// Log lines in redis-server's format: "pid:M 26 Nov 2026 23:47:52.123 * message".
// Any thread may log; each line is one write(2), so lines from different threads do not mix.
// Not for the request path.
#pragma once

#include <string>
#include <string_view>

#include "absl/strings/str_format.h"

namespace shardis {

enum class LogLevel { kDebug = 0, kVerbose = 1, kNotice = 2, kWarning = 3 };

// Configures the sink ("" = stdout) and the minimum level ("debug", "verbose", "notice",
// "warning"). Call before threads start.
void InitLogging(const std::string& logfile, std::string_view level);
void LogLine(LogLevel level, std::string_view message);
bool LogEnabled(LogLevel level);

template <typename... Args>
void Log(LogLevel level, const absl::FormatSpec<Args...>& format, const Args&... args) {
  if (LogEnabled(level)) LogLine(level, absl::StrFormat(format, args...));
}

}  // namespace shardis
