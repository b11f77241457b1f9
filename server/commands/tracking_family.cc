// CLIENT TRACKING / CACHING / GETREDIR / TRACKINGINFO (client-side caching, server/tracking.h).
// Run on the client's thread; a REDIRECT target is looked up on every thread first (it may
// live on any of them), and BCAST prefixes are registered on every thread by the reactor.
#include <algorithm>
#include <memory>

#include "server/command_table.h"
#include "server/server_context.h"
#include "server/tracking.h"

namespace shardis {
namespace {

using cmd::EqualsIgnoreCase;

void Apply(ServerContext* server, ClientState& client, ClientTracking next) {
  ClientTracking before = client.tracking;
  client.tracking = std::move(next);
  server->TrackingChanged(client, before);
}

// BCAST: the prefixes reach every thread before the reply, so a write that follows it anywhere
// is seen. Then the client's options change and +OK.
void RegisterThenApply(ServerContext* server, ClientState* self, uint64_t self_id,
                       std::shared_ptr<ClientTracking> next, ReplyBuilder& reply) {
  if (!(next->on && next->bcast)) {
    Apply(server, *self, std::move(*next));
    reply.Ok();
    return;
  }
  ClientRef me{server->thread_index(), self_id};
  server->ForEachThread(
      [me, next](ServerContext& ctx) { ctx.SetBcastPrefixes(me, next->prefixes); },
      [server, self, self_id, next](ReplyBuilder& r, FanOutRunner&) {
        if (!server->HasClient(self_id)) return;  // the client left meanwhile
        Apply(server, *self, std::move(*next));
        r.Ok();
      });
}

void CmdClientTracking(ClientCommand& c) {
  std::vector<std::string> args(c.args.begin(), c.args.end());
  auto next = std::make_shared<ClientTracking>();
  std::string error = ParseTracking(c.client.tracking, args, next.get());
  if (!error.empty()) {
    c.reply.Error(error);
    return;
  }
  ClientState* self = &c.client;
  uint64_t self_id = c.client.id;
  ServerContext* server = c.server;
  if (!next->on || next->redirect == 0) {
    RegisterThenApply(server, self, self_id, next, c.reply);
    return;
  }
  // The redirect target must exist now (Redis's sanity check); find its thread.
  auto found = std::make_shared<std::vector<char>>(c.shard_count(), 0);
  uint64_t target = next->redirect;
  c.server->ForEachThread(
      [found, target](ServerContext& ctx) {
        (*found)[ctx.thread_index()] = ctx.HasClient(target) ? 1 : 0;
      },
      [found, next, self, self_id, server](ReplyBuilder& reply, FanOutRunner&) {
        auto it = std::find(found->begin(), found->end(), 1);
        if (it == found->end()) {
          reply.Error("ERR The client ID you want redirect to does not exist");
          return;
        }
        if (!server->HasClient(self_id)) return;  // the client left meanwhile
        next->redirect_thread = static_cast<int>(it - found->begin());
        RegisterThenApply(server, self, self_id, next, reply);
      });
}

void CmdClientCaching(ClientCommand& c) {
  ClientTracking& t = c.client.tracking;
  if (!t.on) {
    c.reply.Error(
        "ERR CLIENT CACHING can be called only when the client is in tracking mode with OPTIN or "
        "OPTOUT mode enabled");
    return;
  }
  if (EqualsIgnoreCase(c.args[2], "yes")) {
    if (!t.optin) {
      c.reply.Error("ERR CLIENT CACHING YES is only valid when tracking is enabled in OPTIN mode.");
      return;
    }
  } else if (EqualsIgnoreCase(c.args[2], "no")) {
    if (!t.optout) {
      c.reply.Error("ERR CLIENT CACHING NO is only valid when tracking is enabled in OPTOUT mode.");
      return;
    }
  } else {
    c.reply.Error(cmd::kSyntaxErr);
    return;
  }
  t.caching = true;
  c.reply.Ok();
}

void CmdClientGetRedir(ClientCommand& c) {
  const ClientTracking& t = c.client.tracking;
  c.reply.Integer(t.on ? static_cast<int64_t>(t.redirect) : -1);
}

void CmdClientTrackingInfo(ClientCommand& c) {
  const ClientTracking& t = c.client.tracking;
  std::vector<std::string_view> flags;
  if (!t.on) {
    flags.push_back("off");
  } else {
    flags.push_back("on");
    if (t.bcast) flags.push_back("bcast");
    if (t.optin) {
      flags.push_back("optin");
      if (t.caching) flags.push_back("caching-yes");
    }
    if (t.optout) {
      flags.push_back("optout");
      if (t.caching) flags.push_back("caching-no");
    }
    if (t.noloop) flags.push_back("noloop");
    if (t.broken_redirect) flags.push_back("broken_redirect");
  }
  c.reply.MapHeader(3);
  c.reply.Bulk("flags");
  c.reply.SetHeader(flags.size());
  for (std::string_view f : flags) c.reply.Bulk(f);
  c.reply.Bulk("redirect");
  c.reply.Integer(t.on ? static_cast<int64_t>(t.redirect) : -1);
  c.reply.Bulk("prefixes");
  std::vector<std::string> prefixes = t.on ? t.prefixes : std::vector<std::string>{};
  std::sort(prefixes.begin(), prefixes.end());
  c.reply.ArrayHeader(prefixes.size());
  for (const std::string& p : prefixes) c.reply.Bulk(p);
}

}  // namespace

void RegisterTrackingCommands(std::vector<CommandSpec>* table) {
  auto add = [table](std::string_view name, int arity, std::string_view summary,
                     std::string_view since, ClientHandler handler) {
    CommandSpec spec{};
    spec.name = name;
    spec.arity = arity;
    spec.flags = kCmdNoscript | kCmdLoading | kCmdStale;
    spec.acl_categories = "@slow @connection";
    spec.group = "connection";
    spec.summary = summary;
    spec.since = since;
    spec.on_client = handler;
    table->push_back(spec);
  };
  add("client|tracking", -3, "Controls server-assisted client-side caching for the connection.",
      "6.0.0", CmdClientTracking);
  add("client|caching", 3, "Instructs the server whether to track the keys in the next request.",
      "6.0.0", CmdClientCaching);
  add("client|getredir", 2,
      "Returns the client ID to which the connection's tracking notifications are redirected.",
      "6.0.0", CmdClientGetRedir);
  add("client|trackinginfo", 2,
      "Returns information about server-assisted client-side caching for the connection.", "6.2.0",
      CmdClientTrackingInfo);
}

}  // namespace shardis
