#include "server/slowlog.h"

#include <atomic>

namespace shardis {
namespace {

constexpr size_t kMaxArgs = 32;     // SLOWLOG_ENTRY_MAX_ARGC
constexpr size_t kMaxString = 128;  // SLOWLOG_ENTRY_MAX_STRING

std::atomic<int64_t> g_next_id{0};

}  // namespace

bool IsRedactedArg(ArgList args, size_t index) {
  if (args.empty() || index == 0 || index >= args.size()) return false;
  std::string_view name = args[0];
  if (cmd::EqualsIgnoreCase(name, "auth")) return true;
  if (cmd::EqualsIgnoreCase(name, "hello")) {
    // HELLO [protover [AUTH username password] [SETNAME name]]
    for (size_t i = 2; i + 2 < args.size(); ++i) {
      if (cmd::EqualsIgnoreCase(args[i], "auth")) {
        if (index == i + 1 || index == i + 2) return true;
        i += 2;
      } else if (cmd::EqualsIgnoreCase(args[i], "setname")) {
        i += 1;
      }
    }
    return false;
  }
  if (cmd::EqualsIgnoreCase(name, "migrate")) {
    for (size_t i = 6; i < args.size(); ++i) {
      if (cmd::EqualsIgnoreCase(args[i], "auth")) {
        if (index == i + 1) return true;
        i += 1;
      } else if (cmd::EqualsIgnoreCase(args[i], "auth2")) {
        if (index == i + 1 || index == i + 2) return true;
        i += 2;
      } else if (cmd::EqualsIgnoreCase(args[i], "keys")) {
        break;
      }
    }
    return false;
  }
  if (cmd::EqualsIgnoreCase(name, "acl")) {
    return args.size() > 1 && cmd::EqualsIgnoreCase(args[1], "setuser") && index >= 2;
  }
  if (cmd::EqualsIgnoreCase(name, "config")) {
    // CONFIG SET name value [name value...]: the values of password parameters.
    if (args.size() < 2 || !cmd::EqualsIgnoreCase(args[1], "set")) return false;
    if (index < 3 || (index - 3) % 2 != 0) return false;
    std::string_view param = args[index - 1];
    return cmd::EqualsIgnoreCase(param, "requirepass") ||
           cmd::EqualsIgnoreCase(param, "masterauth") || cmd::EqualsIgnoreCase(param, "masteruser");
  }
  return false;
}

int64_t NextSlowlogId() { return g_next_id.fetch_add(1, std::memory_order_relaxed); }
int64_t PeekSlowlogId() { return g_next_id.load(std::memory_order_relaxed); }

SlowlogEntry MakeSlowlogEntry(ArgList args, int64_t duration_us, int64_t unix_sec) {
  SlowlogEntry e;
  size_t argc = args.size();
  size_t kept = argc > kMaxArgs ? kMaxArgs : argc;
  e.args.reserve(kept);
  for (size_t j = 0; j < kept; ++j) {
    if (kept != argc && j == kept - 1) {
      e.args.push_back(Cat("... (", argc - kept + 1, " more arguments)"));
    } else if (IsRedactedArg(args, j)) {
      e.args.emplace_back("(redacted)");
    } else if (args[j].size() > kMaxString) {
      e.args.push_back(
          Cat(args[j].substr(0, kMaxString), "... (", args[j].size() - kMaxString, " more bytes)"));
    } else {
      e.args.emplace_back(args[j]);
    }
  }
  e.time_sec = unix_sec;
  e.duration_us = duration_us;
  e.id = NextSlowlogId();
  return e;
}

void Slowlog::Push(SlowlogEntry entry, int64_t max_len) {
  entries_.push_front(std::move(entry));
  // A few more than max_len: SLOWLOG GET/LEN leave out the entries logged after they began
  // (their own, among others) and then cut the merged log at max_len.
  Trim(max_len < 0 ? 0 : max_len + kSlack);
}

void Slowlog::Trim(int64_t max_len) {
  if (max_len < 0) max_len = 0;
  while (entries_.size() > static_cast<size_t>(max_len)) entries_.pop_back();
}

void WriteSlowlogEntries(ReplyBuilder& reply, const std::vector<const SlowlogEntry*>& entries) {
  reply.ArrayHeader(entries.size());
  for (const SlowlogEntry* e : entries) {
    reply.ArrayHeader(6);
    reply.Integer(e->id);
    reply.Integer(e->time_sec);
    reply.Integer(e->duration_us);
    reply.ArrayHeader(e->args.size());
    for (const std::string& a : e->args) reply.Bulk(a);
    reply.Bulk(e->addr);
    reply.Bulk(e->name);
  }
}

}  // namespace shardis
