#include "server/call_stats.h"

namespace shardis {
namespace {

thread_local CallStatsSink* tls_call_stats = nullptr;

}  // namespace

void SetThreadCallStatsSink(CallStatsSink* sink) { tls_call_stats = sink; }
CallStatsSink* ThreadCallStatsSink() { return tls_call_stats; }

std::string_view ErrorReplyText(const std::string& out, size_t at) {
  if (out.size() <= at) return {};
  std::string_view rest = std::string_view(out).substr(at + 1);
  if (out[at] == '!') {  // !<len>\r\n<text>\r\n
    size_t crlf = rest.find("\r\n");
    if (crlf == std::string_view::npos) return {};
    rest = rest.substr(crlf + 2);
  } else if (out[at] != '-') {
    return {};
  }
  std::string_view text = rest.substr(0, rest.find("\r\n"));
  return text.empty() ? std::string_view("ERR") : text;
}

}  // namespace shardis
