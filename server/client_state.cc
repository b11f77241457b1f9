#include "server/client_state.h"

#include <iterator>
#include <string_view>

#include "absl/strings/str_format.h"

namespace shardis {

std::string FormatClientInfo(const ClientState& c, int64_t now_ms, size_t query_buffer,
                             size_t query_buffer_free, size_t output_bytes) {
  int64_t age = (now_ms - c.created_ms) / 1000;
  int64_t idle = (now_ms - c.last_interaction_ms) / 1000;
  // Redis's flags in Redis's order (d, u: not known on the client's thread).
  const std::pair<bool, char> kFlags[] = {
      {c.monitor, 'O'},        {c.subscribed(), 'P'},      {c.in_multi(), 'x'},
      {c.blocked, 'b'},        {c.tracking.on, 't'},       {c.tracking.broken_redirect, 'R'},
      {c.tracking.bcast, 'B'}, {c.close_after_reply, 'c'}, {c.unix_socket, 'U'},
      {c.no_evict, 'e'}};
  char letters[std::size(kFlags)];
  size_t n = 0;
  for (const auto& [set, letter] : kFlags) {
    if (set) letters[n++] = letter;
  }
  std::string_view flags = n == 0 ? std::string_view("N") : std::string_view(letters, n);
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
