// Glob-style pattern matching with redis-server's rules (KEYS, SCAN MATCH, CONFIG GET, CLIENT
// filters): * ? [abc] [^a-z] and \x escapes. Pure function, any thread.
#pragma once

#include <string_view>

namespace shardis {

// Byte-for-byte redis-server 7.0 stringmatchlen(), quirks included: "[a-]" is the range a..']',
// an unterminated '[' class ends at the pattern's end, and an empty text matches only an empty
// pattern (callers such as KEYS and SCAN treat the pattern "*" as "everything" before calling).
bool GlobMatch(std::string_view pattern, std::string_view text, bool nocase = false);

}  // namespace shardis
