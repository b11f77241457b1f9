// Client-side caching (CLIENT TRACKING): which clients may cache which keys, and the
// invalidation messages.
//
// Each reactor thread owns one TrackingTable for the keys of its shard: key -> the clients
// (thread, id) that read it while tracking (default mode), plus the BCAST registrations
// (prefix -> clients), which every thread holds a copy of. A client's own thread keeps its
// tracking options (ClientTracking in ClientState). Reads are remembered by the client's
// thread before they run: on its own shard directly, on another shard by a message sent ahead
// of the command's batch or fan-out (a mailbox keeps one sender's messages in order), so a
// write can never fall between the read and the registration. A write (or expiry, or eviction
// from the table) on a shard takes the key's clients out of the table and sends each an
// invalidation through its thread, which pushes it to the client (RESP3) or to its REDIRECT
// client (possibly on a third thread; RESP2 clients get a `__redis__:invalidate` message).
// FLUSHALL/FLUSHDB clear every table and send every tracking client a null invalidation.
#pragma once

#include <atomic>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "server/client_state.h"
#include "server/command.h"
#include "server/mailbox.h"

namespace shardis {

struct ClientRef {
  int thread = -1;
  uint64_t id = 0;
  bool operator==(const ClientRef& o) const { return thread == o.thread && id == o.id; }
};

// Tracking clients in the process (INFO tracking_clients; a cheap "anyone tracking?" test).
std::atomic<int>& TrackingClientCount();

class TrackingTable {
 public:
  // Default mode: `client` may cache `key`.
  void Remember(std::string_view key, ClientRef client);
  // The key changed: the clients that may cache it (now forgotten). Empty when none.
  std::vector<ClientRef> Take(std::string_view key);
  bool empty() const { return keys_.empty() && bcast_.empty(); }
  size_t keys() const { return keys_.size(); }
  size_t items() const { return items_; }
  void Clear() {
    keys_.clear();
    items_ = 0;
  }
  // Keys to drop when over `max_keys`: up to `limit` of them (any).
  std::vector<std::string> KeysBeyond(size_t max_keys, size_t limit) const;

  // BCAST mode: `client` is told about every key starting with one of its prefixes.
  void AddPrefix(ClientRef client, std::string prefix);
  void RemoveClient(ClientRef client);
  // Clients with a prefix of `key` (each once).
  std::vector<ClientRef> MatchPrefixes(std::string_view key) const;
  // The registrations (prefix, client) whose prefix starts `key`.
  std::vector<std::pair<std::string_view, ClientRef>> MatchingPrefixes(std::string_view key) const;
  size_t prefixes() const;  // distinct
  bool has_prefixes() const { return !bcast_.empty(); }

 private:
  absl::flat_hash_map<std::string, std::vector<ClientRef>> keys_;
  size_t items_ = 0;
  std::vector<std::pair<std::string, ClientRef>> bcast_;  // few: scanned on writes
};

// The push a tracking client gets: RESP3 ["invalidate", [key...]] (or a null for flushes), or
// for a RESP2 redirect target in pub/sub mode a `__redis__:invalidate` message.
// `null_proto` is the tracking client's null ("_\r\n" in RESP3, "$-1\r\n" in RESP2).
void AppendInvalidatePush(std::string* out, bool resp3_target, const std::vector<std::string>& keys,
                          bool null, std::string_view null_proto);

// CLIENT TRACKING's argument check, as Redis: fills `next` from the current options and the
// arguments, or returns the error. The REDIRECT id's existence is checked by the caller.
std::string ParseTracking(const ClientTracking& current, const std::vector<std::string>& args,
                          ClientTracking* next);

// A script's writes reach the shard's table through this (set by each reactor thread).
class TrackingSink {
 public:
  virtual ~TrackingSink() = default;
  virtual void InvalidateKey(std::string_view key) = 0;
  virtual bool tracking_empty() const = 0;
};
void SetThreadTrackingSink(TrackingSink* sink);
// For a script's write command on its shard: its keys change.
void InvalidateScriptWrite(ArgList args, const std::vector<int>& key_positions);

// Cross-thread tracking traffic.
struct TrackingMessage : MailboxMessage {
  enum class Kind : uint8_t {
    kRemember,     // to a shard: `client` read `keys`
    kInvalidate,   // to a tracking client's thread: `keys` changed (or `null`: flushed)
    kRedirected,   // to a redirect target's thread: write the push for `client`
    kFlush,        // to every thread: tables cleared, every tracking client told (null)
    kBcastRemove,  // to every thread: `client` leaves BCAST mode
    kWritten,      // to a shard: `keys` were written by `writer` (a multi-shard command)
    kBcastFlush    // to this thread: send the BCAST invalidations gathered this turn
  };
  Kind kind = Kind::kRemember;
  ClientRef client;
  ClientRef writer;     // kInvalidate: who wrote (NOLOOP)
  uint64_t target = 0;  // kRedirected: the redirect client's id
  bool bcast = false;   // kInvalidate: from a BCAST prefix
  bool own = false;     // kInvalidate: from the client's own command (its push follows the reply)
  bool null = false;
  std::string null_proto;  // kRedirected
  std::vector<std::string> keys;
  void Deliver(Reactor& reactor) override;
};

}  // namespace shardis
