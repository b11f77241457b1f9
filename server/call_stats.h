// Command and error statistics of what scripts do (redis.call / redis.pcall and the script's
// reply): Redis counts them in INFO commandstats, errorstats and total_commands_processed like
// any command. The script engine does not know the reactor, so each reactor thread registers
// itself as its thread's sink when it starts; the script's call target and the engine report
// there, on the thread that runs the script (or the shard that runs its call).
//
// Redis 7.0's rules: a command's error reply, and a call the script layer refuses (unknown
// command, arity, ACL, read-only script...), count in errorstats when they happen, and the error
// table the script gets carries ignore_error_stats_update; a script reply (or raised error) made
// of such a table is not counted again, though the script's command still fails.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "server/command.h"

namespace shardis {

class CallStatsSink {
 public:
  virtual ~CallStatsSink() = default;
  // A command a script ran on this thread: its time and its error reply's text ("CODE message",
  // empty when it did not fail).
  virtual void RecordScriptCall(const CommandSpec& spec, ArgList args, uint64_t usec,
                                std::string_view error) = 0;
  // A call the script layer refused before it ran (`spec` null: no such command).
  virtual void RecordScriptRejection(const CommandSpec* spec, ArgList args,
                                     std::string_view error) = 0;
  // The script's reply was just written to `buffer` from `at` on: `top_counted` when it is an error
  // that was counted already; `failures`, for a reply with errors inside an array (which the
  // dispatcher does not see at the reply's start), what they add to the script command's
  // failed_calls: as Redis, one per error counted already, and one for all the others, which the
  // engine counts in errorstats through CountScriptReplyError.
  virtual void MarkScriptReply(const std::string* buffer, size_t at, bool top_counted,
                               int failures) = 0;
  virtual void CountScriptReplyError(std::string_view error) = 0;
  // An error reply a command wrote at `at` as raw bytes (DEBUG ERROR, as Redis's addReplySds):
  // neither counted in errorstats nor a failed call.
  virtual void MarkRawErrorReply(const std::string* buffer, size_t at) = 0;
};

// The calling thread's sink (set by each reactor thread when it starts; null elsewhere).
void SetThreadCallStatsSink(CallStatsSink* sink);
CallStatsSink* ThreadCallStatsSink();

// The text of the error reply starting at `at` in `out` ("-CODE msg\r\n" or RESP3's
// "!len\r\nCODE msg\r\n"), or empty when that reply is not an error.
std::string_view ErrorReplyText(const std::string& out, size_t at);

}  // namespace shardis
