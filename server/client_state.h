// ClientState: the per-connection state that commands may read or change (selected db, protocol
// version, name...). Lives inside a Connection, on the connection's reactor thread; shard-side
// handlers never see it (they get the db index and protocol version they need in the message).
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "protocol/reply_builder.h"

namespace shardis {

struct CommandSpec;
struct AclUser;

// MULTI/EXEC/WATCH state of a client (allocated at its first MULTI or WATCH).
struct TransactionState {
  struct Queued {
    const CommandSpec* spec;
    std::vector<std::string> args;
  };
  struct Watched {
    int db;
    std::string key;
    int shard;
    uint64_t version;
  };
  bool in_multi = false;
  bool aborted = false;      // a queued command was rejected: EXEC replies EXECABORT
  std::string abort_reason;  // set when EXEC itself was refused (OOM): EXECABORT names it
  std::vector<Queued> queue;
  std::vector<Watched> watched;
};

// CLIENT TRACKING options of a client (its own thread's copy).
struct ClientTracking {
  bool on = false;
  bool bcast = false;
  bool optin = false;
  bool optout = false;
  bool noloop = false;
  bool caching = false;  // CLIENT CACHING given for the next command
  bool broken_redirect = false;
  uint64_t redirect = 0;  // client id, 0: none
  int redirect_thread = -1;
  std::vector<std::string> prefixes;
};

struct ClientState {
  uint64_t id = 0;
  int db_index = 0;
  RespVersion resp = RespVersion::kResp2;
  std::string name;
  std::string lib_name;
  std::string lib_ver;
  std::string addr;   // "ip:port" of the peer
  std::string laddr;  // "ip:port" of our side
  int fd = -1;
  int thread_index = 0;
  int64_t created_ms = 0;
  int64_t last_interaction_ms = 0;
  std::string_view last_command = "NULL";  // a command table name (static storage)
  std::string user = "default";
  bool authenticated = true;
  // The thread's AclStore entry for `user`, valid while acl_epoch equals the store's epoch
  // (0 = look it up again; null = the user was deleted).
  const AclUser* acl_user = nullptr;
  uint64_t acl_epoch = 0;
  bool close_after_reply = false;  // QUIT, protocol errors, CLIENT KILL
  bool no_evict = false;
  bool unix_socket = false;  // connected through the Unix socket (CLIENT LIST's U)
  bool blocked = false;      // a blocking command of its (BLPOP...) is in flight: CLIENT LIST's b
  bool monitor = false;      // MONITOR
  // REPLCONF rdb-only 1 / rdb-filter-only functions: a SYNC then gets the RDB transfer only
  // (`redis-cli --rdb` / `--functions-rdb`), without the data when repl_rdb_no_data.
  bool repl_rdb_only = false;
  bool repl_rdb_no_data = false;
  // CLIENT REPLY: OFF drops every reply until ON; SKIP sets skip_next, which turns into skip
  // (drop the reply of this one command) once the next command starts.
  bool reply_off = false;
  bool reply_skip_next = false;
  bool reply_skip = false;
  bool replies_suppressed() const { return reply_off || reply_skip || reply_skip_next; }
  ClientTracking tracking;
  // Counters for CLIENT LIST.
  uint64_t commands = 0;
  // Pub/sub subscriptions (the names live in the thread's PubSubRegistry).
  int subscribed_channels = 0;
  int subscribed_patterns = 0;
  int subscribed_shard_channels = 0;
  // Shared, not copied, by the snapshots CLIENT LIST takes.
  std::shared_ptr<TransactionState> tx;
  bool in_multi() const { return tx != nullptr && tx->in_multi; }

  bool subscribed() const {
    return subscribed_channels + subscribed_patterns + subscribed_shard_channels > 0;
  }
};

// One line of CLIENT LIST / CLIENT INFO for this client, in Redis 7.0's field order (without the
// trailing newline). `qbuf`, `obl` and such come from the connection.
std::string FormatClientInfo(const ClientState& client, int64_t now_ms, size_t query_buffer,
                             size_t query_buffer_free, size_t output_bytes);

}  // namespace shardis
