// MONITOR: the connection becomes a monitor of every thread's commands (server/monitor.h).
// Runs on the connection's thread, which registers it and keeps the process-wide count.
#include "server/monitor.h"
#include "server/server_context.h"

namespace shardis {
namespace {

void CmdMonitor(ClientCommand& c) {
  if (c.client.monitor) return;  // already one: no reply, as Redis
  c.server->StartMonitor();
  c.reply.Ok();
}

}  // namespace

void RegisterMonitorCommand(std::vector<CommandSpec>* table) {
  CommandSpec spec{};
  spec.name = "monitor";
  spec.arity = 1;
  spec.flags = kCmdAdmin | kCmdNoscript | kCmdLoading | kCmdStale;
  spec.acl_categories = "@admin @slow @dangerous";
  spec.group = "server";
  spec.summary = "Listens for all requests received by the server in real-time.";
  spec.since = "1.0.0";
  spec.on_client = CmdMonitor;
  table->push_back(spec);
}

}  // namespace shardis
