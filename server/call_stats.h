// Command statistics of the commands a script runs on its own shard (redis.call / redis.pcall):
// Redis counts them in INFO commandstats and total_commands_processed like any command. The
// script engine does not know the reactor, so each reactor thread registers itself as its
// thread's sink when it starts; the script's call target reports each call there.
#pragma once

#include <cstdint>

#include "server/command.h"

namespace shardis {

class CallStatsSink {
 public:
  virtual ~CallStatsSink() = default;
  // A command a script ran on this thread: its time and whether it replied an error.
  virtual void RecordScriptCall(const CommandSpec& spec, ArgList args, uint64_t usec,
                                bool failed) = 0;
};

// The calling thread's sink (set by each reactor thread when it starts; null elsewhere).
void SetThreadCallStatsSink(CallStatsSink* sink);
CallStatsSink* ThreadCallStatsSink();

}  // namespace shardis
