// MONITOR: every command executed by every thread, in Redis's line format, to the connections
// that asked for it, wherever they live.
//
// A process-wide count of monitors (one relaxed atomic) is all a command pays when nobody
// monitors. Otherwise the thread that runs the command (the client's thread at dispatch, or a
// script's shard thread for its redis.call commands, shown as "lua") formats the line once,
// appends it to its own monitors' output, and for every other thread that has monitors appends
// it to one MonitorMessage per target per loop turn, sent through the mailboxes with the turn's
// other messages. A mailbox keeps one sender's messages in order, so each monitor sees one
// connection's commands in the order they ran.
#pragma once

#include <atomic>
#include <cstdint>
#include <string>
#include <string_view>

#include "server/command.h"
#include "server/mailbox.h"

namespace shardis {

// Monitors connected anywhere in the process.
std::atomic<int>& MonitorCount();
inline bool MonitorsExist() { return MonitorCount().load(std::memory_order_relaxed) > 0; }

// One MONITOR line: `+<sec>.<usec> [<db> <who>] "arg" "arg"...\r\n`, each argument quoted and
// escaped as Redis's sdscatrepr, the sensitive ones "(redacted)" (server/slowlog.h).
std::string FormatMonitorLine(int64_t unix_us, int db, std::string_view who, ArgList args);

// Whether a command with these (sub)command flags is shown (Redis hides admin commands and
// those flagged skip_monitor).
inline bool ShownToMonitors(uint32_t flags) { return !(flags & (kCmdAdmin | kCmdSkipMonitor)); }

// What a thread offers to feed its monitors and the others' (implemented by the reactor).
class MonitorFeed {
 public:
  virtual ~MonitorFeed() = default;
  virtual void FeedMonitorLine(std::string line) = 0;
};

// The calling thread's feed (set by each reactor thread when it starts).
void SetThreadMonitorFeed(MonitorFeed* feed);
// For a script's redis.call commands, on the script's thread: "[db lua]" lines. Cheap when
// nobody monitors.
void FeedScriptCommandToMonitors(int db, ArgList args);

// Lines from another thread for this thread's monitors.
struct MonitorMessage : MailboxMessage {
  std::string lines;
  void Deliver(Reactor& reactor) override;
};

}  // namespace shardis
