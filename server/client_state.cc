#include "server/client_state.h"

#include "absl/strings/str_format.h"

namespace shardis {

std::string FormatClientInfo(const ClientState& c, int64_t now_ms, size_t query_buffer,
                             size_t query_buffer_free, size_t output_bytes) {
  int64_t age = (now_ms - c.created_ms) / 1000;
  int64_t idle = (now_ms - c.last_interaction_ms) / 1000;
  // Redis's flags in Redis's order (d, u: not known on the client's thread).
  std::string flags;
  if (c.monitor) flags += 'O';
  if (c.subscribed()) flags += 'P';
  if (c.in_multi()) flags += 'x';
  if (c.blocked) flags += 'b';
  if (c.tracking.on) flags += 't';
  if (c.tracking.broken_redirect) flags += 'R';
  if (c.tracking.bcast) flags += 'B';
  if (c.close_after_reply) flags += 'c';
  if (c.no_evict) flags += 'e';
  if (flags.empty()) flags = "N";
  return absl::StrFormat(
      "id=%d addr=%s laddr=%s fd=%d name=%s age=%d idle=%d flags=%s db=%d sub=%d psub=%d ssub=%d "
      "multi=%d qbuf=%d qbuf-free=%d argv-mem=0 multi-mem=0 rbs=%d rbp=0 obl=%d oll=0 omem=0 "
      "tot-mem=%d events=r cmd=%s user=%s redir=%d resp=%d lib-name=%s lib-ver=%s",
      c.id, c.addr, c.laddr, c.fd, c.name, age < 0 ? 0 : age, idle < 0 ? 0 : idle, flags,
      c.db_index, c.subscribed_channels, c.subscribed_patterns, c.subscribed_shard_channels,
      c.in_multi() ? static_cast<int>(c.tx->queue.size()) : -1, query_buffer, query_buffer_free,
      query_buffer + query_buffer_free, output_bytes,
      query_buffer + query_buffer_free + output_bytes, c.last_command, c.user,
      c.tracking.on ? static_cast<int64_t>(c.tracking.redirect) : int64_t{-1},
      static_cast<int>(c.resp), c.lib_name, c.lib_ver);
}

}  // namespace shardis
