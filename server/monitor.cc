#include "server/monitor.h"

#include <sys/time.h>

#include <cctype>

#include "server/command_table.h"
#include "server/slowlog.h"

namespace shardis {
namespace {

thread_local MonitorFeed* tls_feed = nullptr;

void AppendRepr(std::string* out, std::string_view s) {
  static constexpr char kHex[] = "0123456789abcdef";
  out->push_back('"');
  for (unsigned char c : s) {
    switch (c) {
      case '\\':
      case '"':
        out->push_back('\\');
        out->push_back(static_cast<char>(c));
        break;
      case '\n':
        out->append("\\n");
        break;
      case '\r':
        out->append("\\r");
        break;
      case '\t':
        out->append("\\t");
        break;
      case '\a':
        out->append("\\a");
        break;
      case '\b':
        out->append("\\b");
        break;
      default:
        if (isprint(c)) {
          out->push_back(static_cast<char>(c));
        } else {
          out->append("\\x");
          out->push_back(kHex[c >> 4]);
          out->push_back(kHex[c & 15]);
        }
    }
  }
  out->push_back('"');
}

}  // namespace

std::atomic<int>& MonitorCount() {
  static std::atomic<int> count{0};
  return count;
}

std::string FormatMonitorLine(int64_t unix_us, int db, std::string_view who, ArgList args) {
  char head[64];
  snprintf(head, sizeof(head), "+%lld.%06lld [%d ", static_cast<long long>(unix_us / 1000000),
           static_cast<long long>(unix_us % 1000000), db);
  std::string line = head;
  line.append(who);
  line.append("] ");
  for (size_t j = 0; j < args.size(); ++j) {
    if (IsRedactedArg(args, j)) {
      line.append("\"(redacted)\"");
    } else {
      AppendRepr(&line, args[j]);
    }
    if (j + 1 != args.size()) line.push_back(' ');
  }
  line.append("\r\n");
  return line;
}

void SetThreadMonitorFeed(MonitorFeed* feed) { tls_feed = feed; }

void FeedScriptCommandToMonitors(int db, ArgList args) {
  if (!MonitorsExist() || tls_feed == nullptr || args.empty()) return;
  const CommandSpec* spec = CommandTable::Get().Find(args[0]);
  if (spec == nullptr) return;
  if (args.size() >= 2) {
    if (const CommandSpec* sub = CommandTable::Get().FindSubcommand(args[0], args[1])) spec = sub;
  }
  if (!ShownToMonitors(spec->flags)) return;
  timeval tv;
  gettimeofday(&tv, nullptr);
  tls_feed->FeedMonitorLine(
      FormatMonitorLine(static_cast<int64_t>(tv.tv_sec) * 1000000 + tv.tv_usec, db, "lua", args));
}

}  // namespace shardis
