// What the two stream families share: the consumer-group parts of XINFO (defined in
// commands/stream_group_family.cc, used by XINFO in commands/stream_family.cc) and the option
// parser of XREAD and XREADGROUP (defined in commands/stream_family.cc). Run on the thread of the
// shard owning the stream, or (parsing) on the connection's thread.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "protocol/reply_builder.h"
#include "server/command.h"
#include "storage/stream_value.h"

namespace shardis {

// XREAD / XREADGROUP [GROUP group consumer] [COUNT count] [BLOCK ms] [NOACK] STREAMS key... id...
struct StreamReadArgs {
  std::string_view group, consumer;  // XREADGROUP only
  uint64_t count = 0;                // 0 = no limit
  bool block = false;
  int64_t timeout_ms = 0;
  bool noack = false;     // XREADGROUP only
  size_t streams_at = 0;  // index of the first key
  size_t streams = 0;     // number of keys (and of IDs)
};

// Parses the options of XREAD (`group` false) or XREADGROUP (`group` true) with Redis's errors.
// False with *error set on failure. Called by a script (`from_script`), BLOCK is an error (as
// Redis: there is no sense in blocking a script).
bool ParseStreamRead(ArgList args, bool group, StreamReadArgs* out, std::string* error,
                     bool from_script = false);

// XINFO GROUPS key: one map per group.
void ReplyXinfoGroups(ShardCommand& cmd, const StreamValue& s);
// XINFO CONSUMERS key group (the arguments are cmd.args).
void ReplyXinfoConsumers(ShardCommand& cmd, const StreamValue& s);
// The "groups" value of XINFO STREAM key FULL [COUNT count] (count 0 = every PEL entry).
void ReplyXinfoFullGroups(ReplyBuilder& reply, const StreamValue& s, uint64_t count,
                          int64_t now_ms);

}  // namespace shardis
