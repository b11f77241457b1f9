// KeyspaceNotifier: one shard's queue of keyspace notifications (notify-keyspace-events).
//
// Owned by the shard's ShardData and used only on its thread. Command handlers and the Db
// (expiry, key creation) call Notify(); with notifications off (the common case) that is one
// branch on a flags word. Events wait in `pending` until the shard's reactor drains them after
// the command (or batch, or cron step) and publishes __keyspace@<db>__:<key> and
// __keyevent@<db>__:<event> to every thread's subscribers, in the order they were raised.
#pragma once

#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

namespace shardis {

// notify.c's NOTIFY_* bits (the event classes, and K / E / m).
enum NotifyFlag : uint32_t {
  kNotifyKeyspace = 1u << 0,  // K
  kNotifyKeyevent = 1u << 1,  // E
  kNotifyGeneric = 1u << 2,   // g
  kNotifyString = 1u << 3,    // $
  kNotifyList = 1u << 4,      // l
  kNotifySet = 1u << 5,       // s
  kNotifyHash = 1u << 6,      // h
  kNotifyZset = 1u << 7,      // z
  kNotifyExpired = 1u << 8,   // x
  kNotifyEvicted = 1u << 9,   // e
  kNotifyStream = 1u << 10,   // t
  kNotifyKeyMiss = 1u << 11,  // m
  kNotifyLoaded = 1u << 12,
  kNotifyModule = 1u << 13,  // d
  kNotifyNew = 1u << 14,     // n
  kNotifyAllClasses = kNotifyGeneric | kNotifyString | kNotifyList | kNotifySet | kNotifyHash |
                      kNotifyZset | kNotifyExpired | kNotifyEvicted | kNotifyStream |
                      kNotifyModule,  // A
};

// The flags of a notify-keyspace-events string ("KEA", "Kx"...); unknown characters are ignored
// (the config layer validated the string).
inline uint32_t NotifyFlagsFromString(std::string_view s) {
  uint32_t flags = 0;
  for (char c : s) {
    switch (c) {
      case 'A':
        flags |= kNotifyAllClasses;
        break;
      case 'g':
        flags |= kNotifyGeneric;
        break;
      case '$':
        flags |= kNotifyString;
        break;
      case 'l':
        flags |= kNotifyList;
        break;
      case 's':
        flags |= kNotifySet;
        break;
      case 'h':
        flags |= kNotifyHash;
        break;
      case 'z':
        flags |= kNotifyZset;
        break;
      case 'x':
        flags |= kNotifyExpired;
        break;
      case 'e':
        flags |= kNotifyEvicted;
        break;
      case 't':
        flags |= kNotifyStream;
        break;
      case 'd':
        flags |= kNotifyModule;
        break;
      case 'n':
        flags |= kNotifyNew;
        break;
      case 'K':
        flags |= kNotifyKeyspace;
        break;
      case 'E':
        flags |= kNotifyKeyevent;
        break;
      case 'm':
        flags |= kNotifyKeyMiss;
        break;
      default:
        break;
    }
  }
  return flags;
}

struct KeyspaceEvent {
  uint32_t type;  // one NotifyFlag class
  int db;
  const char* event;  // a static name: "set", "del", "expired"...
  std::string key;
};

class KeyspaceNotifier {
 public:
  // Sets the configured flags. Nothing is ever published without K or E, so then the word is 0
  // and Notify() returns at its first branch.
  void set_flags(uint32_t flags) {
    flags_ = (flags & (kNotifyKeyspace | kNotifyKeyevent)) ? flags : 0;
  }
  uint32_t flags() const { return flags_; }

  void Notify(uint32_t type, const char* event, std::string_view key, int db) {
    // Not counted: a read's miss, and a consumer created by XREADGROUP / XCLAIM... (Redis 7.0
    // raises its event but signals no modified key).
    if (type != kNotifyKeyMiss &&
        !(type == kNotifyStream && std::strcmp(event, "xgroup-createconsumer") == 0)) {
      ++raised_;
    }
    if ((flags_ & type) == 0) return;
    pending_.push_back(KeyspaceEvent{type, db, event, std::string(key)});
  }

  // The events raised so far (but those of Notify's note), published or not. Redis raises such
  // an event exactly where it signals a modified key (WATCH, client tracking): a write command
  // that raised none changed nothing.
  uint64_t events_raised() const { return raised_; }

  bool has_pending() const { return !pending_.empty(); }
  std::vector<KeyspaceEvent>& pending() { return pending_; }

 private:
  uint32_t flags_ = 0;
  uint64_t raised_ = 0;
  std::vector<KeyspaceEvent> pending_;
};

}  // namespace shardis
