// The consumer-group parts of XINFO (commands/stream_group_family.cc), used by XINFO in
// commands/stream_family.cc. Run on the thread of the shard owning the stream.
#pragma once

#include <cstdint>

#include "protocol/reply_builder.h"
#include "server/command.h"
#include "storage/stream_value.h"

namespace shardis {

// XINFO GROUPS key: one map per group.
void ReplyXinfoGroups(ShardCommand& cmd, const StreamValue& s);
// XINFO CONSUMERS key group (the arguments are cmd.args).
void ReplyXinfoConsumers(ShardCommand& cmd, const StreamValue& s);
// The "groups" value of XINFO STREAM key FULL [COUNT count] (count 0 = every PEL entry).
void ReplyXinfoFullGroups(ReplyBuilder& reply, const StreamValue& s, uint64_t count,
                          int64_t now_ms);

}  // namespace shardis
