// Connection commands: PING, ECHO, QUIT, RESET, HELLO, AUTH, SELECT and CLIENT. They run on the
// connection's own thread and change its ClientState; CLIENT LIST/KILL/PAUSE reach the clients of
// every thread through ServerContext::ForEachThread.
#include <algorithm>
#include <cstdint>
#include <memory>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "server/command_table.h"
#include "server/config.h"
#include "server/pubsub.h"
#include "server/server_context.h"

namespace shardis {
namespace {

using cmd::EqualsIgnoreCase;

bool ValidClientName(std::string_view name) {
  for (char ch : name) {
    if (ch < '!' || ch > '~') return false;
  }
  return true;
}

void CmdPing(ClientCommand& c) {
  if (c.args.size() > 2) {
    c.reply.Error(ArityError("ping"));
  } else if (c.client.subscribed() && c.client.resp == RespVersion::kResp2) {
    // In subscribed mode RESP2 clients get a ["pong", message] array, as from Redis.
    c.reply.ArrayHeader(2);
    c.reply.Bulk("pong");
    c.reply.Bulk(c.args.size() == 2 ? c.args[1] : "");
  } else if (c.args.size() == 2) {
    c.reply.Bulk(c.args[1]);
  } else {
    c.reply.SimpleString("PONG");
  }
}

void CmdEcho(ClientCommand& c) { c.reply.Bulk(c.args[1]); }

void CmdQuit(ClientCommand& c) {
  c.reply.Ok();
  c.client.close_after_reply = true;
}

void CmdReset(ClientCommand& c) {
  if (c.client.tx != nullptr) {
    c.client.tx->in_multi = false;
    c.client.tx->aborted = false;
    c.client.tx->queue.clear();
    c.server->ReleaseWatches(c.client);
  }
  if (c.client.subscribed()) {
    c.server->pubsub().RemoveAll(c.client.id);
    c.client.subscribed_channels = 0;
    c.client.subscribed_patterns = 0;
    c.client.subscribed_shard_channels = 0;
  }
  // Like Redis's RESET: out of MONITOR mode and client tracking too.
  c.server->StopMonitor();
  if (c.client.tracking.on) {
    ClientTracking before = c.client.tracking;
    c.client.tracking = ClientTracking{};
    c.server->TrackingChanged(c.client, before);
  }
  c.client.db_index = 0;
  c.client.resp = RespVersion::kResp2;
  c.client.name.clear();
  c.client.no_evict = false;
  c.client.reply_off = false;
  c.client.reply_skip_next = false;
  c.client.user = "default";
  c.client.acl_epoch = 0;
  c.client.authenticated = c.server->acl().DefaultAutoAuth();
  c.reply.SimpleString("RESET");
}

void CmdSelect(ClientCommand& c) {
  int64_t index = 0;
  if (!cmd::ParseInt64(c.args[1], &index) || index < INT32_MIN || index > INT32_MAX) {
    c.reply.Error(cmd::kNotIntErr);
    return;
  }
  if (index < 0 || index >= c.server->config().databases) {
    c.reply.Error(cmd::kDbIndexErr);
    return;
  }
  c.client.db_index = static_cast<int>(index);
  c.reply.Ok();
}

// AUTH / HELLO AUTH: on success the client becomes `user`; a failure goes to the ACL LOG.
bool Authenticate(ClientCommand& c, std::string_view user, std::string_view password) {
  if (!c.server->acl().CheckCredentials(user, password)) {
    LogAclAuthFailure(*c.server, c.client, c.args[0], user);
    return false;
  }
  c.client.authenticated = true;
  c.client.user = std::string(user);
  c.client.acl_epoch = 0;  // look the user up again
  return true;
}

void CmdAuth(ClientCommand& c) {
  if (c.args.size() > 3) {
    c.reply.Error(cmd::kSyntaxErr);
    return;
  }
  std::string_view user = c.args.size() == 3 ? c.args[1] : "default";
  std::string_view password = c.args.back();
  if (c.args.size() == 2) {
    const AclUser* def = c.server->acl().Find("default");
    if (def != nullptr && def->nopass) {
      c.reply.Error(
          "ERR AUTH <password> called without any password configured for the default user. "
          "Are you sure your configuration is correct?");
      return;
    }
  }
  if (!Authenticate(c, user, password)) {
    c.reply.Error("WRONGPASS invalid username-password pair or user is disabled.");
    return;
  }
  c.reply.Ok();
}

void CmdHello(ClientCommand& c) {
  int version = static_cast<int>(c.client.resp);
  if (c.args.size() >= 2) {
    int64_t v = 0;
    if (!cmd::ParseInt64(c.args[1], &v)) {
      c.reply.Error("ERR Protocol version is not an integer or out of range");
      return;
    }
    if (v < 2 || v > 3) {
      c.reply.Error("NOPROTO unsupported protocol version");
      return;
    }
    version = static_cast<int>(v);
  }
  // Options apply in order, as Redis 7.0's: SETNAME names the client at once, even when the
  // reply is then an error (a later bad option, or NOAUTH).
  for (size_t i = 2; i < c.args.size(); ++i) {
    size_t left = c.args.size() - i - 1;
    if (EqualsIgnoreCase(c.args[i], "auth") && left >= 2) {
      if (!Authenticate(c, c.args[i + 1], c.args[i + 2])) {
        c.reply.Error("WRONGPASS invalid username-password pair or user is disabled.");
        return;
      }
      i += 2;
    } else if (EqualsIgnoreCase(c.args[i], "setname") && left >= 1) {
      if (!ValidClientName(c.args[i + 1])) {
        c.reply.Error("ERR Client names cannot contain spaces, newlines or special characters.");
        return;
      }
      c.client.name = std::string(c.args[i + 1]);
      ++i;
    } else {
      c.reply.Error(Cat("ERR Syntax error in HELLO option '", c.args[i], "'"));
      return;
    }
  }
  if (!c.client.authenticated) {
    c.reply.Error(
        "NOAUTH HELLO must be called with the client already authenticated, otherwise the HELLO "
        "AUTH <user> <pass> option can be used to authenticate the client and select the RESP "
        "protocol version at the same time");  // Redis 7.0's text (7.2 added "<proto> ")
    return;
  }
  c.client.resp = static_cast<RespVersion>(version);
  ReplyBuilder reply(c.reply.buffer(), c.client.resp);  // the reply uses the new protocol
  reply.MapHeader(7);
  reply.Bulk("server");
  reply.Bulk("redis");
  reply.Bulk("version");
  reply.Bulk(kRedisCompatVersion);
  reply.Bulk("proto");
  reply.Integer(version);
  reply.Bulk("id");
  reply.Integer(static_cast<int64_t>(c.client.id));
  reply.Bulk("mode");
  reply.Bulk("standalone");
  reply.Bulk("role");
  reply.Bulk("master");
  reply.Bulk("modules");
  reply.ArrayHeader(0);
}

void CmdClient(ClientCommand& c) {
  const CommandSpec* sub = CommandTable::Get().ResolveSubcommand(c.args, c.reply);
  if (sub == nullptr) return;
  c.client.last_command = sub->name;
  sub->on_client(c);
}

// CLIENT REPLY ON|OFF|SKIP: OFF and SKIP set the client's reply mode (the dispatcher then drops
// the replies, Reactor::Dispatch); they reply nothing themselves. SKIP is ignored while OFF.
void CmdClientReply(ClientCommand& c) {
  if (cmd::EqualsIgnoreCase(c.args[2], "on")) {
    c.client.reply_off = false;
    c.client.reply_skip = false;
    c.reply.Ok();
  } else if (cmd::EqualsIgnoreCase(c.args[2], "off")) {
    c.client.reply_off = true;
  } else if (cmd::EqualsIgnoreCase(c.args[2], "skip")) {
    if (!c.client.reply_off) c.client.reply_skip_next = true;
  } else {
    c.reply.Error(cmd::kSyntaxErr);
  }
}

void CmdClientId(ClientCommand& c) { c.reply.Integer(static_cast<int64_t>(c.client.id)); }

void CmdClientSetName(ClientCommand& c) {
  if (!ValidClientName(c.args[2])) {
    c.reply.Error("ERR Client names cannot contain spaces, newlines or special characters.");
    return;
  }
  c.client.name = std::string(c.args[2]);
  c.reply.Ok();
}

void CmdClientGetName(ClientCommand& c) {
  if (c.client.name.empty()) {
    c.reply.Null();
  } else {
    c.reply.Bulk(c.client.name);
  }
}

void CmdClientSetInfo(ClientCommand& c) {
  std::string_view attr = c.args[2];
  std::string_view value = c.args[3];
  bool is_name = EqualsIgnoreCase(attr, "lib-name");
  if (!is_name && !EqualsIgnoreCase(attr, "lib-ver")) {
    c.reply.Error(Cat("ERR Unrecognized option '", attr, "'"));
    return;
  }
  if (!ValidClientName(value)) {
    c.reply.Error(Cat("ERR ", is_name ? "lib-name" : "lib-ver",
                      " cannot contain spaces, newlines or special characters."));
    return;
  }
  (is_name ? c.client.lib_name : c.client.lib_ver) = std::string(value);
  c.reply.Ok();
}

void CmdClientInfo(ClientCommand& c) {
  std::string line;
  uint64_t id = c.client.id;
  c.server->ForEachClient([&](const ClientSnapshot& s) {
    if (s.state.id == id) {
      line = FormatClientInfo(c.client, c.server->shard().now_ms(), s.query_buffer,
                              s.query_buffer_free, s.output_bytes);
    }
  });
  c.reply.Verbatim(line + "\n");
}

void CmdClientList(ClientCommand& c) {
  std::vector<uint64_t> ids;
  for (size_t i = 2; i < c.args.size(); ++i) {
    if (EqualsIgnoreCase(c.args[i], "type") && i + 1 < c.args.size()) {
      std::string type = cmd::ToLower(c.args[i + 1]);
      if (type != "normal" && type != "master" && type != "replica" && type != "slave" &&
          type != "pubsub") {
        c.reply.Error(Cat("ERR Unknown client type '", c.args[i + 1], "'"));
        return;
      }
      if (type != "normal") {  // no replica, master or pub/sub clients exist yet
        c.reply.Verbatim("");
        return;
      }
      ++i;
    } else if (EqualsIgnoreCase(c.args[i], "id") && i + 1 < c.args.size()) {
      for (++i; i < c.args.size(); ++i) {
        int64_t id = 0;
        if (!cmd::ParseInt64(c.args[i], &id) || id <= 0) {
          c.reply.Error("ERR Invalid client ID");
          return;
        }
        ids.push_back(static_cast<uint64_t>(id));
      }
    } else {
      c.reply.Error(cmd::kSyntaxErr);
      return;
    }
  }
  // Each thread formats its own clients; the caller's line reflects this command.
  auto lines = std::make_shared<std::vector<std::string>>(c.server->thread_count());
  ClientState self = c.client;
  c.server->ForEachThread(
      [lines, ids, self](ServerContext& ctx) {
        std::string& out = (*lines)[ctx.thread_index()];
        int64_t now = ctx.shard().now_ms();
        ctx.ForEachClient([&](const ClientSnapshot& s) {
          if (!ids.empty() && std::find(ids.begin(), ids.end(), s.state.id) == ids.end()) return;
          const ClientState& state = s.state.id == self.id ? self : s.state;
          CatAppend(
              &out,
              FormatClientInfo(state, now, s.query_buffer, s.query_buffer_free, s.output_bytes),
              "\n");
        });
      },
      [lines](ReplyBuilder& reply, FanOutRunner&) {
        std::string all;
        for (const std::string& part : *lines) all += part;
        reply.Verbatim(all);
      });
}

struct KillFilter {
  bool old_form = false;
  uint64_t id = 0;
  std::string addr;
  std::string laddr;
  std::string user;
  bool skip_me = true;
  bool type_normal_only = false;
  bool type_none = false;  // a type no client has (replica, master, pubsub)
};

bool MatchesKill(const KillFilter& f, const ClientState& s, uint64_t caller) {
  if (f.skip_me && s.id == caller) return false;
  if (f.type_none) return false;
  if (f.id != 0 && s.id != f.id) return false;
  if (!f.addr.empty() && s.addr != f.addr) return false;
  if (!f.laddr.empty() && s.laddr != f.laddr) return false;
  if (!f.user.empty() && s.user != f.user) return false;
  return true;
}

void CmdClientKill(ClientCommand& c) {
  auto filter = std::make_shared<KillFilter>();
  if (c.args.size() == 3) {
    filter->old_form = true;
    filter->addr = std::string(c.args[2]);
    filter->skip_me = false;
  } else {
    // As Redis: the filters are read in order, so a bad value before an option missing its
    // value is reported first.
    for (size_t i = 2; i < c.args.size(); i += 2) {
      if (i + 1 == c.args.size()) {
        c.reply.Error(cmd::kSyntaxErr);
        return;
      }
      std::string_view opt = c.args[i];
      std::string_view val = c.args[i + 1];
      if (EqualsIgnoreCase(opt, "id")) {
        int64_t id = 0;
        if (!cmd::ParseInt64(val, &id) || id <= 0) {
          c.reply.Error("ERR client-id should be greater than 0");
          return;
        }
        filter->id = static_cast<uint64_t>(id);
      } else if (EqualsIgnoreCase(opt, "type")) {
        std::string type = cmd::ToLower(val);
        if (type == "normal") {
          filter->type_normal_only = true;
        } else if (type == "master" || type == "replica" || type == "slave" || type == "pubsub") {
          filter->type_none = true;
        } else {
          c.reply.Error(Cat("ERR Unknown client type '", val, "'"));
          return;
        }
      } else if (EqualsIgnoreCase(opt, "addr")) {
        filter->addr = std::string(val);
      } else if (EqualsIgnoreCase(opt, "laddr")) {
        filter->laddr = std::string(val);
      } else if (EqualsIgnoreCase(opt, "user")) {
        if (c.server->acl().Find(val) == nullptr) {
          c.reply.Error(Cat("ERR No such user '", val, "'"));
          return;
        }
        filter->user = std::string(val);
      } else if (EqualsIgnoreCase(opt, "skipme")) {
        if (EqualsIgnoreCase(val, "yes")) {
          filter->skip_me = true;
        } else if (EqualsIgnoreCase(val, "no")) {
          filter->skip_me = false;
        } else {
          c.reply.Error(cmd::kSyntaxErr);
          return;
        }
      } else {
        c.reply.Error(cmd::kSyntaxErr);
        return;
      }
    }
  }
  auto killed = std::make_shared<std::vector<int64_t>>(c.server->thread_count());
  uint64_t caller = c.client.id;
  c.server->ForEachThread(
      [filter, killed, caller](ServerContext& ctx) {
        std::vector<uint64_t> victims;
        ctx.ForEachClient([&](const ClientSnapshot& s) {
          if (MatchesKill(*filter, s.state, caller)) victims.push_back(s.state.id);
        });
        for (uint64_t id : victims) {
          if (ctx.KillClient(id)) ++(*killed)[ctx.thread_index()];
        }
      },
      [filter, killed](ReplyBuilder& reply, FanOutRunner&) {
        int64_t total = 0;
        for (int64_t n : *killed) total += n;
        if (!filter->old_form) {
          reply.Integer(total);
        } else if (total > 0) {
          reply.Ok();
        } else {
          reply.Error("ERR No such client");
        }
      });
}

void CmdClientPause(ClientCommand& c) {
  int64_t timeout = 0;
  if (!cmd::ParseInt64(c.args[2], &timeout)) {
    c.reply.Error("ERR timeout is not an integer or out of range");
    return;
  }
  if (timeout < 0) {
    c.reply.Error("ERR timeout is negative");
    return;
  }
  if (timeout > INT64_MAX - c.server->shard().now_ms()) {
    // Redis 7.0's end time wraps to the past: +OK, and no pause.
    c.reply.Ok();
    return;
  }
  bool write_only = false;
  if (c.args.size() == 4) {
    if (EqualsIgnoreCase(c.args[3], "write")) {
      write_only = true;
    } else if (!EqualsIgnoreCase(c.args[3], "all")) {
      c.reply.Error("ERR CLIENT PAUSE mode must be WRITE or ALL");
      return;
    }
  } else if (c.args.size() > 4) {
    c.reply.Error(Cat("ERR unknown subcommand or wrong number of arguments for '", c.args[1],
                      "'. Try CLIENT HELP."));
    return;
  }
  int64_t until = c.server->shard().now_ms() + timeout;
  c.server->ForEachThread(
      [until, write_only](ServerContext& ctx) { ctx.PauseClients(until, write_only); },
      [](ReplyBuilder& reply, FanOutRunner&) { reply.Ok(); });
}

void CmdClientUnpause(ClientCommand& c) {
  c.server->ForEachThread([](ServerContext& ctx) { ctx.PauseClients(0, false); },
                          [](ReplyBuilder& reply, FanOutRunner&) { reply.Ok(); });
}

void CmdClientNoEvict(ClientCommand& c) {
  if (EqualsIgnoreCase(c.args[2], "on")) {
    c.client.no_evict = true;
  } else if (EqualsIgnoreCase(c.args[2], "off")) {
    c.client.no_evict = false;
  } else {
    c.reply.Error(cmd::kSyntaxErr);
    return;
  }
  c.reply.Ok();
}

// The blocked client may wait on any thread's shard, or be coordinated by its own thread: every
// thread is asked (at most one holds its wait).
void CmdClientUnblock(ClientCommand& c) {
  // Redis's order of checks: the reason, then the id.
  if (c.args.size() == 4 && !EqualsIgnoreCase(c.args[3], "timeout") &&
      !EqualsIgnoreCase(c.args[3], "error")) {
    c.reply.Error("ERR CLIENT UNBLOCK reason should be TIMEOUT or ERROR");
    return;
  }
  int64_t id = 0;
  if (!cmd::ParseInt64(c.args[2], &id)) {
    c.reply.Error(cmd::kNotIntErr);
    return;
  }
  bool error = c.args.size() == 4 && EqualsIgnoreCase(c.args[3], "error");
  auto unblocked = std::make_shared<std::vector<char>>(c.server->thread_count(), 0);
  c.server->ForEachThread(
      [id, error, unblocked](ServerContext& ctx) {
        if (ctx.UnblockClient(static_cast<uint64_t>(id), error)) {
          (*unblocked)[ctx.thread_index()] = 1;
        }
      },
      [unblocked](ReplyBuilder& reply, FanOutRunner&) {
        bool any = std::find(unblocked->begin(), unblocked->end(), 1) != unblocked->end();
        reply.Integer(any ? 1 : 0);
      });
}

void CmdClientHelp(ClientCommand& c) {
  static constexpr std::string_view kLines[] = {
      "CLIENT <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
      "CACHING (YES|NO)",
      "    Enable/disable tracking of the keys for next command in OPTIN/OPTOUT modes.",
      "GETREDIR",
      "    Return the client ID we are redirecting to when tracking is enabled.",
      "GETNAME",
      "    Return the name of the current connection.",
      "ID",
      "    Return the ID of the current connection.",
      "INFO",
      "    Return information about the current client connection.",
      "KILL <ip:port>",
      "    Kill connection made from <ip:port>.",
      "KILL <option> <value> [<option> <value> [...]]",
      "    Kill connections. Options are:",
      "    * ADDR (<ip:port>|<unixsocket>:0)",
      "      Kill connections made from the specified address",
      "    * LADDR (<ip:port>|<unixsocket>:0)",
      "      Kill connections made to specified local address",
      "    * TYPE (NORMAL|MASTER|REPLICA|PUBSUB)",
      "      Kill connections by type.",
      "    * USER <username>",
      "      Kill connections authenticated by <username>.",
      "    * SKIPME (YES|NO)",
      "      Skip killing current connection (default: yes).",
      "LIST [options ...]",
      "    Return information about client connections. Options:",
      "    * TYPE (NORMAL|MASTER|REPLICA|PUBSUB)",
      "      Return clients of specified type.",
      "UNPAUSE",
      "    Stop the current client pause, resuming traffic.",
      "PAUSE <timeout> [WRITE|ALL]",
      "    Suspend all, or just write, clients for <timeout> milliseconds.",
      "SETNAME <name>",
      "    Assign the name <name> to the current connection.",
      "SETINFO <LIB-NAME|LIB-VER> <value>",
      "    Set client meta attr. Options are:",
      "UNBLOCK <clientid> [TIMEOUT|ERROR]",
      "    Unblock the specified blocked client.",
      "TRACKING (ON|OFF) [REDIRECT <id>] [BCAST] [PREFIX <prefix> [...]]",
      "         [OPTIN] [OPTOUT] [NOLOOP]",
      "    Control server assisted client side caching.",
      "TRACKINGINFO",
      "    Report tracking status for the current connection.",
      "NO-EVICT (ON|OFF)",
      "    Protect current client connection from eviction.",
      "HELP",
      "    Prints this help.",
  };
  c.reply.ArrayHeader(std::size(kLines));
  for (std::string_view line : kLines) c.reply.SimpleString(line);
}

}  // namespace

void RegisterConnectionCommands(std::vector<CommandSpec>* table) {
  constexpr uint32_t kConn = kCmdNoscript | kCmdLoading | kCmdStale;
  auto add = [table](std::string_view name, int arity, uint32_t flags, std::string_view acl,
                     std::string_view summary, std::string_view since, ClientHandler handler) {
    CommandSpec spec{};
    spec.name = name;
    spec.arity = arity;
    spec.flags = flags;
    spec.acl_categories = acl;
    spec.group = "connection";
    spec.summary = summary;
    spec.since = since;
    spec.on_client = handler;
    table->push_back(spec);
  };
  add("ping", -1, kCmdFast, "@fast @connection", "Returns the server's liveliness response.",
      "1.0.0", CmdPing);
  add("echo", 2, kCmdFast | kCmdLoading | kCmdStale, "@fast @connection",
      "Returns the given string.", "1.0.0", CmdEcho);
  add("quit", -1, kCmdAllowBusy | kCmdNoscript | kCmdLoading | kCmdStale | kCmdNoAuth | kCmdFast,
      "@fast @connection", "Closes the connection.", "1.0.0", CmdQuit);
  add("reset", 1, kConn | kCmdFast | kCmdNoAuth | kCmdAllowBusy, "@fast @connection",
      "Resets the connection.", "6.2.0", CmdReset);
  add("select", 2, kCmdLoading | kCmdStale | kCmdFast, "@fast @connection",
      "Changes the selected database.", "1.0.0", CmdSelect);
  add("auth", -2, kConn | kCmdFast | kCmdNoAuth | kCmdAllowBusy, "@fast @connection",
      "Authenticates the connection.", "1.0.0", CmdAuth);
  add("hello", -1, kConn | kCmdFast | kCmdNoAuth | kCmdAllowBusy, "@fast @connection",
      "Handshakes with the Redis server.", "6.0.0", CmdHello);
  add("client", -2, 0, "@slow", "A container for client connection commands.", "2.4.0", CmdClient);
  constexpr uint32_t kClientSub = kConn;
  add("client|id", 2, kClientSub, "@slow @connection",
      "Returns the unique client ID of the connection.", "5.0.0", CmdClientId);
  add("client|setname", 3, kClientSub, "@slow @connection", "Sets the connection name.", "2.6.9",
      CmdClientSetName);
  add("client|getname", 2, kClientSub, "@slow @connection", "Returns the name of the connection.",
      "2.6.9", CmdClientGetName);
  add("client|reply", 3, kClientSub, "@slow @connection",
      "Instruct the server whether to reply to commands", "3.2.0", CmdClientReply);
  add("client|setinfo", 4, kClientSub, "@slow @connection",
      "Sets information specific to the client or connection.", "7.2.0", CmdClientSetInfo);
  add("client|info", 2, kClientSub, "@slow @connection",
      "Returns information about the connection.", "6.2.0", CmdClientInfo);
  add("client|list", -2, kClientSub | kCmdAdmin, "@admin @slow @dangerous @connection",
      "Lists open connections.", "2.4.0", CmdClientList);
  add("client|kill", -3, kClientSub | kCmdAdmin, "@admin @slow @dangerous @connection",
      "Terminates open connections.", "2.4.0", CmdClientKill);
  add("client|pause", -3, kClientSub | kCmdAdmin, "@admin @slow @dangerous @connection",
      "Suspends commands processing.", "3.0.0", CmdClientPause);
  add("client|unpause", 2, kClientSub | kCmdAdmin, "@admin @slow @dangerous @connection",
      "Resumes processing commands from paused clients.", "6.2.0", CmdClientUnpause);
  add("client|no-evict", 3, kClientSub | kCmdAdmin, "@admin @slow @dangerous @connection",
      "Sets the client eviction mode of the connection.", "7.0.0", CmdClientNoEvict);
  add("client|unblock", -3, kClientSub | kCmdAdmin, "@admin @slow @dangerous @connection",
      "Unblocks a client blocked by a blocking command from a different connection.", "5.0.0",
      CmdClientUnblock);
  add("client|help", 2, kCmdLoading | kCmdStale, "@slow @connection",
      "Returns helpful text about the different subcommands.", "5.0.0", CmdClientHelp);
}

}  // namespace shardis
