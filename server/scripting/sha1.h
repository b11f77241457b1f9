// SHA-1 as hex (40 lowercase digits): script ids for EVALSHA / SCRIPT LOAD and redis.sha1hex.
// Pure function, any thread.
#pragma once

#include <string>
#include <string_view>

namespace shardis::scripting {

std::string Sha1Hex(std::string_view data);

}  // namespace shardis::scripting
