// The commands of Redis Cluster, replication and modules, as a standalone redis-server 7.0
// without cluster support, replicas or loaded modules answers them: CLUSTER (every subcommand),
// READONLY, READWRITE and ASKING refuse with "This instance has cluster support disabled";
// REPLICAOF / SLAVEOF NO ONE succeed (this server is always a master) while REPLICAOF host port
// is refused, since Shardis does not replicate; REPLCONF checks its options; SYNC / PSYNC send
// the RDB to a client that asked for it alone (`redis-cli --rdb`, a backup) and refuse
// replicas; FAILOVER has no replica to fail over to; MODULE LIST is empty and loading is refused as
// with `enable-module-command no`. Client libraries and tools probe these, so they exist with
// Redis's arity, flags and errors.
//
// Connection-side handlers only; they touch no shard.
#include <algorithm>
#include <iterator>

#include "absl/strings/str_split.h"
#include "server/client_state.h"
#include "server/command_table.h"
#include "server/persistence.h"
#include "server/server_context.h"

namespace shardis {
namespace {

using cmd::EqualsIgnoreCase;

constexpr std::string_view kClusterDisabled = "ERR This instance has cluster support disabled";

void CmdClusterDisabled(ClientCommand& c) { c.reply.Error(kClusterDisabled); }

void CmdCluster(ClientCommand& c) {
  if (CommandTable::Get().ResolveSubcommand(c.args, c.reply) == nullptr) return;
  c.reply.Error(kClusterDisabled);
}

void CmdReplicaof(ClientCommand& c) {
  if (EqualsIgnoreCase(c.args[1], "no") && EqualsIgnoreCase(c.args[2], "one")) {
    c.reply.Ok();  // already a master
    return;
  }
  int64_t port = 0;
  if (!cmd::ParseInt64(c.args[2], &port) || port < 0 || port > 65535) {
    c.reply.Error("ERR Invalid master port");
    return;
  }
  c.reply.Error("ERR Shardis does not support replication: only REPLICAOF NO ONE is accepted");
}

// REPLCONF option value ...: checked as Redis's replconfCommand does. A replica's options are
// accepted (this server never has replicas, so ACK and GETACK are ignored, without a reply, as
// Redis does for a client that is not its replica); rdb-only and rdb-filter-only are kept for a
// later SYNC.
void CmdReplconf(ClientCommand& c) {
  if (c.args.size() % 2 == 0) {
    c.reply.Error(cmd::kSyntaxErr);
    return;
  }
  for (size_t i = 1; i < c.args.size(); i += 2) {
    std::string_view option = c.args[i];
    std::string_view value = c.args[i + 1];
    int64_t n = 0;
    if (EqualsIgnoreCase(option, "listening-port")) {
      if (!cmd::ParseInt64(value, &n)) {
        c.reply.Error(cmd::kNotIntErr);
        return;
      }
    } else if (EqualsIgnoreCase(option, "ip-address")) {
      if (value.size() > 46) {  // NET_HOST_STR_LEN
        c.reply.Error(Cat("ERR REPLCONF ip-address provided by replica instance is too long: ",
                          value.size(), " bytes"));
        return;
      }
    } else if (EqualsIgnoreCase(option, "capa")) {
      // eof / psync2: a transfer is always sent with its length, which every replica reads.
    } else if (EqualsIgnoreCase(option, "ack") || EqualsIgnoreCase(option, "getack")) {
      return;
    } else if (EqualsIgnoreCase(option, "rdb-only")) {
      if (!cmd::ParseInt64(value, &n)) {
        c.reply.Error(cmd::kNotIntErr);
        return;
      }
      if (n < 0 || n > 1) {
        c.reply.Error("ERR value is out of range, value must between 0 and 1");
        return;
      }
      c.client.repl_rdb_only = n == 1;
    } else if (EqualsIgnoreCase(option, "rdb-filter-only")) {
      bool no_data = false;
      for (absl::string_view part : absl::StrSplit(AV(value), ' ', absl::SkipEmpty())) {
        std::string_view filter(part.data(), part.size());
        if (!EqualsIgnoreCase(filter, "functions")) {
          c.reply.Error(Cat("ERR Unsupported rdb-filter-only option: ", filter));
          return;
        }
        no_data = true;
      }
      c.client.repl_rdb_no_data = no_data;
    } else {
      c.reply.Error(Cat("ERR Unrecognized REPLCONF option: ", option));
      return;
    }
  }
  c.reply.Ok();
}

void CmdFailover(ClientCommand& c) {
  // Options are checked as Redis does (each at most once); then, with no replicas, refused.
  bool to = false, timeout = false, force = false, abort = false;
  for (size_t j = 1; j < c.args.size();) {
    const size_t more = c.args.size() - j - 1;
    if (EqualsIgnoreCase(c.args[j], "to") && !to && more >= 2) {
      int64_t port = 0;
      if (!cmd::ParseInt64(c.args[j + 2], &port)) {
        c.reply.Error("ERR value is not an integer or out of range");
        return;
      }
      to = true;
      j += 3;
    } else if (EqualsIgnoreCase(c.args[j], "timeout") && !timeout && more >= 1) {
      int64_t ms = 0;
      if (!cmd::ParseInt64(c.args[j + 1], &ms)) {
        c.reply.Error("ERR value is not an integer or out of range");
        return;
      }
      if (ms <= 0) {
        c.reply.Error("ERR FAILOVER timeout must be greater than 0");
        return;
      }
      timeout = true;
      j += 2;
    } else if (EqualsIgnoreCase(c.args[j], "force") && !force) {
      force = true;
      ++j;
    } else if (EqualsIgnoreCase(c.args[j], "abort") && !abort) {
      abort = true;
      ++j;
    } else {
      c.reply.Error(cmd::kSyntaxErr);
      return;
    }
  }
  if (abort) {
    c.reply.Error("ERR No failover in progress.");
    return;
  }
  c.reply.Error("ERR FAILOVER requires connected replicas.");
}

void CmdModule(ClientCommand& c) {
  const CommandSpec* sub = CommandTable::Get().ResolveSubcommand(c.args, c.reply);
  if (sub == nullptr) return;
  if (sub->name == "module|list") {
    c.reply.ArrayHeader(0);
  } else if (sub->name == "module|help") {
    static constexpr std::string_view kLines[] = {
        "MODULE <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
        "LIST",
        "    Return a list of loaded modules.",
        "LOAD <path> [<arg> ...]",
        "    Load a module library from <path>, passing to it any optional arguments.",
        "LOADEX <path> [[CONFIG NAME VALUE] [CONFIG NAME VALUE]] [ARGS ...]",
        "    Load a module library from <path>, while passing it module configurations and "
        "optional arguments.",
        "UNLOAD <name>",
        "    Unload a module.",
        "HELP",
        "    Prints this help.",
    };
    c.reply.ArrayHeader(std::size(kLines));
    for (std::string_view line : kLines) c.reply.SimpleString(line);
  } else {
    c.reply.Error(
        "ERR MODULE command not allowed. If the enable-module-command option is set to "
        "\"local\", you can run it from a local connection, otherwise you need to set this "
        "option in the configuration file, and then restart the server.");
  }
}

struct CommandEntry {
  std::string_view name;
  int arity;
  uint32_t flags;
  std::string_view acl;
  std::string_view group;
  std::string_view summary;
  std::string_view since;
  ClientHandler handler;
};

constexpr uint32_t kAdminNoscript = kCmdAdmin | kCmdNoscript;
constexpr std::string_view kAdminAcl = "@admin @slow @dangerous";

// PSYNC / SYNC: a replica's handshake. Shardis cannot serve a replication stream, so it refuses
// a replica at once (as a master that cannot start a full sync), and the replica retries or
// gives up; nothing is left waiting. A client that asked for the RDB only (REPLCONF rdb-only 1:
// `redis-cli --rdb`, a backup) gets it as a full resynchronization's payload, a bulk without
// the final CRLF (after "+FULLRESYNC <replid> 0" for PSYNC), and the connection is closed once
// it is sent, as Redis closes an rdb-only replica.
void CmdSync(ClientCommand& c) {
  if (!c.client.repl_rdb_only) {
    c.reply.Error("ERR Shardis does not support replication: PSYNC and SYNC are refused");
    return;
  }
  if (!c.reply.buffer()->empty()) {
    c.reply.Error("ERR SYNC and PSYNC are invalid with pending output");
    return;
  }
  const std::string& repl_id = c.server->server_info().run_id;
  bool psync = EqualsIgnoreCase(c.args[0], "psync");
  c.client.close_after_reply = true;
  StartTransfer(c.server->config(), AtomicAllShardsStarter(c.runner()), !c.client.repl_rdb_no_data,
                repl_id,
                [psync, repl_id](ReplyBuilder& reply, FanOutRunner&, const std::string& rdb) {
                  if (rdb.empty()) return;  // shutting down: the connection just closes
                  if (psync) reply.Raw(Cat("+FULLRESYNC ", repl_id, " 0\r\n"));
                  reply.Raw(Cat("$", rdb.size(), "\r\n"));
                  reply.Raw(rdb);
                });
}

constexpr CommandEntry kCommands[] = {
    {"psync", -3, kAdminNoscript | kCmdNoAsyncLoading | kCmdNoMulti, kAdminAcl, "server",
     "Internal command used for replication", "2.8.0", CmdSync},
    {"sync", 1, kAdminNoscript | kCmdNoAsyncLoading | kCmdNoMulti, kAdminAcl, "server",
     "Internal command used for replication", "1.0.0", CmdSync},
    {"cluster", -2, 0, "@slow", "cluster", "A container for cluster commands", "3.0.0", CmdCluster},
    {"readonly", 1, kCmdLoading | kCmdStale | kCmdFast, "@fast @connection", "cluster",
     "Enables read queries for a connection to a cluster replica node", "3.0.0",
     CmdClusterDisabled},
    {"readwrite", 1, kCmdLoading | kCmdStale | kCmdFast, "@fast @connection", "cluster",
     "Disables read queries for a connection to a cluster replica node", "3.0.0",
     CmdClusterDisabled},
    {"asking", 1, kCmdFast, "@fast @connection", "cluster",
     "Sent by cluster clients after an -ASK redirect", "3.0.0", CmdClusterDisabled},
    {"replicaof", 3, kAdminNoscript | kCmdStale | kCmdNoAsyncLoading, kAdminAcl, "server",
     "Make the server a replica of another instance, or promote it as master.", "5.0.0",
     CmdReplicaof},
    {"slaveof", 3, kAdminNoscript | kCmdStale | kCmdNoAsyncLoading, kAdminAcl, "server",
     "Make the server a replica of another instance, or promote it as master.", "1.0.0",
     CmdReplicaof},
    {"replconf", -1, kAdminNoscript | kCmdLoading | kCmdStale | kCmdAllowBusy,
     "@admin @slow @dangerous", "server",
     "An internal command for configuring the replication stream", "3.0.0", CmdReplconf},
    {"failover", -1, kAdminNoscript | kCmdStale, kAdminAcl, "server",
     "Start a coordinated failover between this server and one of its replicas.", "6.2.0",
     CmdFailover},
    {"module", -2, 0, "@slow", "server", "A container for module commands", "4.0.0", CmdModule},
    {"module|list", 2, kAdminNoscript, kAdminAcl, "server", "List all modules loaded by the server",
     "4.0.0", CmdModule},
    {"module|load", -3, kAdminNoscript | kCmdNoAsyncLoading, kAdminAcl, "server", "Load a module",
     "4.0.0", CmdModule},
    {"module|loadex", -3, kAdminNoscript | kCmdNoAsyncLoading, kAdminAcl, "server",
     "Load a module with extended parameters", "7.0.0", CmdModule},
    {"module|unload", 3, kAdminNoscript | kCmdNoAsyncLoading, kAdminAcl, "server",
     "Unload a module", "4.0.0", CmdModule},
    {"module|help", 2, kCmdLoading | kCmdStale, "@slow", "server",
     "Show helpful text about the different subcommands", "5.0.0", CmdModule},
};

// CLUSTER's subcommands (Redis 7.0's names, arities, summaries): each refuses the same way.
struct ClusterSub {
  std::string_view name;
  int arity;
  std::string_view summary;
  std::string_view since;
};
constexpr ClusterSub kClusterSubs[] = {
    {"cluster|addslots", -3, "Assign new hash slots to receiving node", "3.0.0"},
    {"cluster|addslotsrange", -4, "Assign new hash slots to receiving node", "7.0.0"},
    {"cluster|bumpepoch", 2, "Advance the cluster config epoch", "3.0.0"},
    {"cluster|count-failure-reports", 3,
     "Return the number of failure reports active for a given node", "3.0.0"},
    {"cluster|countkeysinslot", 3, "Return the number of local keys in the specified hash slot",
     "3.0.0"},
    {"cluster|delslots", -3, "Set hash slots as unbound in receiving node", "3.0.0"},
    {"cluster|delslotsrange", -4, "Set hash slots as unbound in receiving node", "7.0.0"},
    {"cluster|failover", -2, "Forces a replica to perform a manual failover of its master.",
     "3.0.0"},
    {"cluster|flushslots", 2, "Delete a node's own slots information", "3.0.0"},
    {"cluster|forget", 3, "Remove a node from the nodes table", "3.0.0"},
    {"cluster|getkeysinslot", 4, "Return local key names in the specified hash slot", "3.0.0"},
    {"cluster|help", 2, "Show helpful text about the different subcommands", "5.0.0"},
    {"cluster|info", 2, "Provides info about Redis Cluster node state", "3.0.0"},
    {"cluster|keyslot", 3, "Returns the hash slot of the specified key", "3.0.0"},
    {"cluster|links", 2, "Returns a list of all TCP links to and from peer nodes in cluster",
     "7.0.0"},
    {"cluster|meet", -4, "Force a node cluster to handshake with another node", "4.0.0"},
    {"cluster|myid", 2, "Return the node id", "3.0.0"},
    {"cluster|nodes", 2, "Get Cluster config for the node", "3.0.0"},
    {"cluster|replicas", 3, "List replica nodes of the specified master node", "5.0.0"},
    {"cluster|replicate", 3, "Reconfigure a node as a replica of the specified master node",
     "3.0.0"},
    {"cluster|reset", -2, "Reset a Redis Cluster node", "3.0.0"},
    {"cluster|saveconfig", 2, "Forces the node to save cluster state on disk", "3.0.0"},
    {"cluster|set-config-epoch", 3, "Set the configuration epoch in a new node", "3.0.0"},
    {"cluster|setslot", -4, "Bind a hash slot to a specific node", "3.0.0"},
    {"cluster|shards", 2, "Get array of cluster slots to node mappings", "7.0.0"},
    {"cluster|slaves", 3, "List replica nodes of the specified master node", "3.0.0"},
    {"cluster|slots", 2, "Get array of Cluster slot to node mappings", "3.0.0"},
};

}  // namespace

void RegisterReplicationCommands(std::vector<CommandSpec>* table) {
  auto add = [table](const CommandEntry& e) {
    CommandSpec spec{};
    spec.name = e.name;
    spec.arity = e.arity;
    spec.flags = e.flags;
    spec.acl_categories = e.acl;
    spec.group = e.group;
    spec.summary = e.summary;
    spec.since = e.since;
    spec.on_client = e.handler;
    table->push_back(spec);
  };
  for (const CommandEntry& e : kCommands) add(e);
  // Flags and ACL categories of the CLUSTER subcommands, as Redis 7.0.15's COMMAND INFO.
  static constexpr std::string_view kAdminAsync[] = {
      "addslots",   "addslotsrange",    "bumpepoch", "delslots", "delslotsrange",
      "failover",   "flushslots",       "forget",    "meet",     "replicate",
      "saveconfig", "set-config-epoch", "setslot"};
  static constexpr std::string_view kAdminOnly[] = {"count-failure-reports", "replicas", "slaves"};
  for (const ClusterSub& s : kClusterSubs) {
    std::string_view sub = s.name.substr(s.name.find('|') + 1);
    uint32_t flags = kCmdStale;
    std::string_view acl = "@slow";
    if (std::find(std::begin(kAdminAsync), std::end(kAdminAsync), sub) != std::end(kAdminAsync)) {
      flags |= kCmdAdmin | kCmdNoAsyncLoading;
      acl = kAdminAcl;
    } else if (std::find(std::begin(kAdminOnly), std::end(kAdminOnly), sub) !=
               std::end(kAdminOnly)) {
      flags |= kCmdAdmin;
      acl = kAdminAcl;
    } else if (sub == "reset") {
      flags |= kCmdAdmin | kCmdNoscript;
      acl = kAdminAcl;
    } else if (sub == "help") {
      flags |= kCmdLoading;
    }
    add({s.name, s.arity, flags, acl, "cluster", s.summary, s.since, CmdCluster});
  }
}

}  // namespace shardis
