// Redis's own parsers and quoting for configuration text (util.c string2ll / memtoull /
// string2d, sds.c sdssplitargs / sdscatrepr), ported so that what Config accepts, and how it
// writes values back, matches redis-server exactly. Pure functions, any thread.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace shardis::config_parse {

std::string ErrnoText(int err);
// util.c string2ll: strict decimal, no spaces, no '+', no leading zeros, overflow checked.
bool String2ll(std::string_view s, long long* value);
// util.c memtoull: digits then an optional unit b, k (1000), kb (1024), m, mb, g, gb, any case.
bool MemToUll(std::string_view s, unsigned long long* out);
// util.c string2d.
bool String2d(const std::string& s, double* out);
// C strtoll with Redis's "whole string consumed" check (accepts leading blanks and '+').
bool StrToLL(const std::string& s, long long* out);
// sds.c sdssplitlen with a one-space separator: "" gives no arguments, "a  b" gives "a", "", "b".
std::vector<std::string> SplitOnSpace(std::string_view s);
// sds.c sdssplitargs: the redis.conf / redis-cli tokenizer. False on unbalanced quotes.
bool SplitArgs(std::string_view line, std::vector<std::string>* out);
// sds.c sdscatrepr: how redis-server quotes command-line values into config text.
std::string Repr(std::string_view s);
// `s` without leading and trailing blanks (space, tab, CR, LF).
std::string_view TrimLine(std::string_view s);

}  // namespace shardis::config_parse
