#include "server/logging.h"

#include <fcntl.h>
#include <sys/time.h>
#include <unistd.h>

#include <atomic>
#include <ctime>

namespace shardis {
namespace {

std::atomic<int> g_fd{STDOUT_FILENO};
std::atomic<int> g_min_level{static_cast<int>(LogLevel::kNotice)};

}  // namespace

void InitLogging(const std::string& logfile, std::string_view level) {
  if (level == "debug") g_min_level = static_cast<int>(LogLevel::kDebug);
  if (level == "verbose") g_min_level = static_cast<int>(LogLevel::kVerbose);
  if (level == "notice") g_min_level = static_cast<int>(LogLevel::kNotice);
  if (level == "warning") g_min_level = static_cast<int>(LogLevel::kWarning);
  if (!logfile.empty()) {
    int fd = open(logfile.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    if (fd >= 0) g_fd = fd;
  }
}

bool LogEnabled(LogLevel level) { return static_cast<int>(level) >= g_min_level.load(); }

void LogLine(LogLevel level, std::string_view message) {
  static constexpr char kMarks[] = {'.', '-', '*', '#'};
  struct timeval tv;
  gettimeofday(&tv, nullptr);
  struct tm tm;
  localtime_r(&tv.tv_sec, &tm);
  char date[64];
  size_t n = strftime(date, sizeof(date), "%d %b %Y %H:%M:%S.", &tm);
  std::string line = absl::StrFormat("%d:M %s%03d %c %s\n", getpid(), std::string_view(date, n),
                                     static_cast<int>(tv.tv_usec / 1000),
                                     kMarks[static_cast<int>(level)], message);
  ssize_t written = write(g_fd.load(), line.data(), line.size());
  (void)written;
}

}  // namespace shardis
