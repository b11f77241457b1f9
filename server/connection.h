// Connection: one client socket and its buffers, owned by the reactor thread that accepted it.
//
// Buffers stay small while idle: input is read into the reactor's shared scratch buffer and only
// an incomplete command's bytes are kept in `in`; `out` holds replies not yet written and is
// released once drained. At most one remote operation (a batch for another shard or a fan-out)
// is in flight per connection (`waiting`), which is what keeps a client's commands in order.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "protocol/request_parser.h"
#include "server/client_state.h"
#include "server/tls.h"

namespace shardis {

// Backpressure on output: a connection with this much unwritten output is neither read nor
// served (its pipelined commands wait in its input) until the output drains.
inline constexpr size_t kMaxPendingOutput = 4 * 1024 * 1024;
// Replies held back while a non-blocking remote batch is in flight (Connection::hold_output) are
// written anyway once they reach this size.
inline constexpr size_t kHeldOutputLimit = 64 * 1024;

struct BatchMessage;

// Shared by a connection and the batches of its blocking commands (BatchMessage::origin_gone),
// which other threads read: `gone` is set when the connection closes. Another thread may peek
// the socket for an EOF the connection's thread has not read yet (OriginGone in dispatch.cc).
// The descriptor must not be closed (and reused) under a peek, and no thread waits for another:
// `users` counts the peeks in progress, and the close marks kClosing there; if peeks are in
// progress then, it also marks kHandedOver and the last peek out closes the descriptor.
struct CloseFlag {
  static constexpr int kClosing = 1 << 30;
  static constexpr int kHandedOver = 1 << 29;
  static constexpr int kPeeks = kHandedOver - 1;
  std::atomic<bool> gone{false};
  std::atomic<int> users{0};

  // The connection's thread, closing: true when a peek in progress takes the close over.
  bool HandOverClose() {
    int cur = users.load();
    for (;;) {
      int next = cur | kClosing | ((cur & kPeeks) != 0 ? kHandedOver : 0);
      if (users.compare_exchange_weak(cur, next)) return (cur & kPeeks) != 0;
    }
  }
};

struct Connection {
  ClientState state;
  RequestParser parser;
  std::string in;                 // bytes of commands not yet executed
  std::string out;                // replies not yet written
  size_t out_pos = 0;             // bytes of `out` already written
  bool waiting = false;           // a remote batch or fan-out is in flight
  uint32_t events = 1;            // epoll mask registered (EPOLLIN at accept)
  bool writing = false;           // output blocked: EPOLLOUT wanted
  bool paused = false;            // held by CLIENT PAUSE
  bool in_ready_list = false;     // has input left to process next turn
  bool in_dirty_list = false;     // has output to flush this turn
  bool closed = false;            // socket closed; object freed at end of turn
  bool protocol_error = false;    // reply with error then close
  bool peer_closed = false;       // EOF read while an operation was in flight: finish, then close
  std::string pending_error;      // protocol error text to send after in-flight replies
  BatchMessage* batch = nullptr;  // commands queued for one remote shard, not yet sent
  int batch_shard = -1;
  int inflight_shard = -1;  // where the in-flight batch went (to cancel a blocked wait)
  // Shared with the batches of its blocking commands (BatchMessage::origin_gone); set on close.
  std::shared_ptr<CloseFlag> gone;
  // The in-flight batch cannot block, so its reply is back within a turn or two: replies made
  // before it are not written on their own but with it (one write per pipeline, not one per
  // switch between this shard and another).
  bool hold_output = false;

  bool tracking_flush = false;  // FLUSHALL/FLUSHDB ran: tell tracking clients when it is done
  // Invalidations of keys the client's own running command or in-flight operation wrote: written
  // after its reply (Reactor::FlushOwnInvalidations), as Redis defers those of the running command.
  struct OwnInvalidation {
    std::vector<std::string> keys;
    bool bcast = false;
  };
  std::vector<OwnInvalidation> own_invalidations;
  // CLIENT REPLY OFF/SKIP: the batch being built holds commands whose replies are dropped
  // (batches never mix dropped and kept replies); `silent_op`: the operation in flight is such a
  // command, whose reply bytes past `silent_mark` in `out` are dropped when it completes.
  bool batch_silent = false;
  bool silent_op = false;
  size_t silent_mark = 0;
  int64_t over_soft_limit_since_ms = 0;  // client-output-buffer-limit soft limit tracking
  // A connection-side command whose reply comes later (it fanned out): counted in INFO
  // commandstats when it completes (Reactor::FinishOp), as Redis counts a command once it ran,
  // so that INFO does not count itself and CONFIG RESETSTAT does. `usec`: the time its handler
  // ran on this thread (as Redis times a command: the wait for other threads is not the
  // command's, and would put every fan-out of a busy server in SLOWLOG). `reply_at`: where its
  // reply starts in `out` (0 once earlier output was all written and `out` cleared).
  struct PendingCall {
    const CommandSpec* spec = nullptr;
    std::vector<std::string> args;
    uint64_t usec = 0;
    size_t reply_at = 0;
  };
  std::optional<PendingCall> pending_call;
  std::unique_ptr<TlsConn> tls;  // accepted on the tls-port; null: plain TCP

  size_t pending_output() const { return out.size() - out_pos; }
};

}  // namespace shardis
