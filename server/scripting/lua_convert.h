// Lua <-> RESP conversions with Redis 7.0's rules (see lua_convert.cc).
#pragma once

#include <string_view>

#include "protocol/reply_builder.h"

struct lua_State;

namespace shardis::scripting {

// Pushes Redis's error table {err="CODE message"}. `text` is "-CODE msg", "CODE msg" (when
// `has_code`), or a bare message that gets the generic ERR code.
void PushErrorTable(lua_State* L, std::string_view text, bool has_code = false);
// Pushes one Lua value for a RESP reply (as commands write it): integers -> numbers, bulk ->
// strings, null bulk/array -> false, status -> {ok=...}, error -> {err=...}, arrays -> tables;
// RESP3 map -> {map=...}, set -> {set=...}, double -> {double=...}, null -> nil, booleans,
// big numbers -> {big_number=...}, verbatim -> {verbatim_string={format=, string=}}.
void PushRespAsLua(lua_State* L, std::string_view resp);
// Converts the Lua value on top of the stack to a reply (and pops it). `script_resp` is the
// protocol the script chose with redis.setresp (booleans depend on it).
void LuaToReply(lua_State* L, ReplyBuilder& reply, RespVersion script_resp);

}  // namespace shardis::scripting
