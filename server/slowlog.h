// SLOWLOG and the redaction of sensitive arguments shared by SLOWLOG and MONITOR.
//
// Each reactor thread owns one Slowlog: the commands that ran on it (or, for commands run on
// another shard for one of its clients, that the batch's reply brought back) and took at least
// `slowlog-log-slower-than` microseconds. Ids come from one process-wide atomic counter, so
// SLOWLOG GET merges the threads' logs (a fan-out to every thread) newest first by id, and
// SLOWLOG LEN sums them; each thread trims its own log to `slowlog-max-len`, so the merged log
// holds at most threads * slowlog-max-len entries before GET's count applies.
#pragma once

#include <cstdint>
#include <deque>
#include <string>
#include <vector>

#include "server/command.h"

namespace shardis {

struct SlowlogEntry {
  int64_t id = 0;
  int64_t time_sec = 0;           // unix time when it was logged
  int64_t duration_us = 0;        // execution time
  std::vector<std::string> args;  // truncated and redacted as Redis does
  std::string addr;               // client "ip:port"
  std::string name;               // client name, "" when none
};

// Redis's redactClientCommandArgument: arguments never shown in SLOWLOG or MONITOR (AUTH's,
// HELLO's AUTH pair, MIGRATE's AUTH/AUTH2 passwords, ACL SETUSER's, CONFIG SET of a password).
bool IsRedactedArg(ArgList args, size_t index);

// The next global entry id (relaxed atomic increment), and a peek at it (entries with ids at
// or past the peek were logged after it).
int64_t NextSlowlogId();
int64_t PeekSlowlogId();

// Builds an entry for a command that took `duration_us`: at most 32 arguments (the last saying
// "... (N more arguments)"), strings over 128 bytes cut ("... (N more bytes)"), sensitive ones
// "(redacted)". The client address and name are filled by the caller.
SlowlogEntry MakeSlowlogEntry(ArgList args, int64_t duration_us, int64_t unix_sec);

// Whether a command of `spec` (its subcommand when it has one) that took `duration_us` goes to
// the slow log under `log_slower_than` (< 0: never).
inline bool IsSlow(uint32_t flags, int64_t duration_us, int64_t log_slower_than) {
  return log_slower_than >= 0 && duration_us >= log_slower_than && !(flags & kCmdSkipSlowlog);
}

class Slowlog {
 public:
  static constexpr int64_t kSlack = 16;
  // Newest first; the oldest entries beyond max_len (plus kSlack) go.
  void Push(SlowlogEntry entry, int64_t max_len);
  void Trim(int64_t max_len);
  void Reset() { entries_.clear(); }
  size_t size() const { return entries_.size(); }
  const std::deque<SlowlogEntry>& entries() const { return entries_; }

 private:
  std::deque<SlowlogEntry> entries_;
};

// Writes entries (already merged, newest first) as SLOWLOG GET replies them.
void WriteSlowlogEntries(ReplyBuilder& reply, const std::vector<const SlowlogEntry*>& entries);

}  // namespace shardis
