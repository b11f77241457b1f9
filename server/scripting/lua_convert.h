// Lua <-> RESP conversions with Redis 7.0's rules (see lua_convert.cc).
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "protocol/reply_builder.h"

struct lua_State;

namespace shardis::scripting {

// Pushes Redis's error table {err="CODE message"}. `text` is "-CODE msg", "CODE msg" (when
// `has_code`), or a bare message that gets the generic ERR code. `counted`: the error is in
// INFO errorstats already (a command's error reply, a refused call), which the table says as
// Redis's does (ignore_error_stats_update = true) so the script's reply does not count it again.
void PushErrorTable(lua_State* L, std::string_view text, bool has_code = false,
                    bool counted = false);
// The error text PushErrorTable puts in the table.
std::string ErrorTableText(std::string_view text, bool has_code);
// Pushes one Lua value for a RESP reply (as commands write it): integers -> numbers, bulk ->
// strings, null bulk/array -> false, status -> {ok=...}, error -> {err=...}, arrays -> tables;
// RESP3 map -> {map=...}, set -> {set=...}, double -> {double=...}, null -> nil, booleans,
// big numbers -> {big_number=...}, verbatim -> {verbatim_string={format=, string=}}.
void PushRespAsLua(lua_State* L, std::string_view resp);
// The error tables a script's reply is made of, for INFO errorstats (server/call_stats.h).
struct ReplyErrors {
  bool top_counted = false;  // the reply is an error table counted already
  int nested_counted = 0;    // error tables inside an aggregate reply, counted already
  std::vector<std::string> nested_uncounted;  // the texts of the others
};
// Converts the Lua value on top of the stack to a reply (and pops it). `script_resp` is the
// protocol the script chose with redis.setresp (booleans depend on it). `errors`, if given,
// gets the reply's error tables.
void LuaToReply(lua_State* L, ReplyBuilder& reply, RespVersion script_resp,
                ReplyErrors* errors = nullptr);
// Whether the error table on top of the stack says it was counted already.
bool ErrorTableCounted(lua_State* L);

}  // namespace shardis::scripting
