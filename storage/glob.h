// Glob-style pattern matching with redis-server's rules (KEYS, SCAN MATCH, CONFIG GET, CLIENT
// filters): * ? [abc] [^a-z] and \x escapes. Pure function, any thread.
#pragma once

#include <string_view>

namespace shardis {

bool GlobMatch(std::string_view pattern, std::string_view text, bool nocase = false);

}  // namespace shardis
