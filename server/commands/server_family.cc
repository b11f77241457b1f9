// Server commands: CONFIG, COMMAND, TIME, DEBUG, FUNCTION FLUSH, SHUTDOWN, ROLE, LASTSAVE-free
// administration. They run on the connection's thread; changes that every thread must see
// (CONFIG SET, CONFIG RESETSTAT) are applied to each thread's own copy by ForEachThread.
// INFO lives in info_command.cc.
#include <sys/time.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <fstream>
#include <memory>
#include <thread>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "server/acl.h"
#include "server/aof.h"
#include "server/call_stats.h"
#include "server/command_docs.h"
#include "server/command_key_specs.h"
#include "server/command_table.h"
#include "server/config.h"
#include "server/config_parse.h"
#include "server/logging.h"
#include "server/persistence.h"
#include "server/server_context.h"
#include "server/tls.h"
#include "storage/glob.h"

namespace shardis {
namespace {

using cmd::EqualsIgnoreCase;

// A client on the loopback interface or the Unix socket ("local" in enable-debug-command and
// friends).
bool IsLocalClient(const ClientState& client) {
  return client.unix_socket || client.addr.starts_with("127.") || client.addr.starts_with("::1:");
}

void ReplyHelp(ReplyBuilder& reply, std::initializer_list<std::string_view> lines) {
  reply.ArrayHeader(lines.size());
  for (std::string_view line : lines) reply.SimpleString(line);
}

// ---- CONFIG ----

void CmdContainer(ClientCommand& c) {
  const CommandSpec* sub = CommandTable::Get().ResolveSubcommand(c.args, c.reply);
  if (sub == nullptr) return;
  c.client.last_command = sub->name;
  sub->on_client(c);
}

void CmdConfigGet(ClientCommand& c) {
  std::vector<std::pair<std::string, std::string>> all;
  absl::flat_hash_set<std::string> seen;
  for (size_t i = 2; i < c.args.size(); ++i) {
    for (auto& [name, value] : c.server->config().Match(c.args[i])) {
      if (seen.insert(name).second) all.emplace_back(name, value);
    }
  }
  c.reply.MapHeader(all.size());
  for (const auto& [name, value] : all) {
    c.reply.Bulk(name);
    c.reply.Bulk(value);
  }
}

void CmdConfigSet(ClientCommand& c) {
  if (c.args.size() % 2 != 0) {
    c.reply.Error(cmd::kSyntaxErr);
    return;
  }
  std::vector<std::pair<std::string, std::string>> pairs;
  for (size_t i = 2; i + 1 < c.args.size(); i += 2) {
    pairs.emplace_back(std::string(c.args[i]), std::string(c.args[i + 1]));
  }
  // Validate on a copy first so that every thread then applies a change known to be good.
  Config copy = c.server->config();
  absl::Status status = copy.SetMany(pairs, IsLocalClient(c.client));
  if (!status.ok()) {
    c.reply.Error(Cat("ERR ", status.message()));
    return;
  }
  // A tls-* change rebuilds the TLS context first (Redis's applyTlsCfg): a context that does
  // not load refuses the whole CONFIG SET. The error names the first parameter that has Redis
  // rebuild its context (tls-auth-clients and friends are read per connection there).
  bool tls_changed = false;
  int old_tls_port = TlsPort(c.server->config());
  std::string tls_param;
  for (const auto& [name, value] : pairs) {
    if (!IsTlsParam(name)) continue;
    tls_changed = true;
    std::string lower = cmd::ToLower(name);
    bool rebuilds =
        lower != "tls-auth-clients" && lower != "tls-cluster" && lower != "tls-replication";
    if (rebuilds || tls_param.empty()) tls_param = lower;
    if (rebuilds) break;
  }
  std::shared_ptr<TlsContext> tls;
  if (tls_changed && TlsPort(copy) != 0) {
    std::string tls_error;
    tls = TlsContext::Create(copy, &tls_error);
    if (tls == nullptr) {
      Log(LogLevel::kWarning, "%s", tls_error);
      c.reply.Error(Cat("ERR CONFIG SET failed (possibly related to argument '", tls_param,
                        "') - Unable to update TLS configuration. Check server logs."));
      return;
    }
  }
  InitLogging("", copy.loglevel);
  // This thread's copy changes at once (its task below sets the same values again), so the
  // command's own slow log and latency checks use the new thresholds, as Redis's.
  c.server->mutable_config() = copy;
  auto shared = std::make_shared<std::vector<std::pair<std::string, std::string>>>(pairs);
  // Per-thread listening errors of a tls-port change (each thread writes its own slot).
  auto listen_errors = std::make_shared<std::vector<std::string>>(c.server->thread_count());
  c.server->ForEachThread(
      [shared, tls, tls_changed, listen_errors, old_tls_port](ServerContext& ctx) {
        // Validated above; the local flag only gates protected configs, already allowed.
        (void)ctx.mutable_config().SetMany(*shared, /*local_client=*/true);
        ctx.shard().notifier().set_flags(
            NotifyFlagsFromString(ctx.config().notify_keyspace_events));
        if (tls_changed) {
          std::string error = ctx.SetTls(tls, TlsPort(ctx.config()));
          if (!error.empty()) {  // the old listeners stay: so does the old tls-port
            (void)ctx.mutable_config().Set("tls-port", absl::StrCat(old_tls_port));
            (*listen_errors)[ctx.thread_index()] = error;
          }
        }
        for (const auto& [name, value] : *shared) {
          // requirepass is the `default` user's password (Redis's compatibility layer).
          if (cmd::EqualsIgnoreCase(name, "requirepass")) {
            ctx.acl().SetRequirepass(ctx.config().requirepass);
          }
          if (cmd::EqualsIgnoreCase(name, "acl-pubsub-default")) {
            ctx.acl().set_pubsub_default_all(cmd::EqualsIgnoreCase(value, "allchannels"));
          }
        }
      },
      [shared, listen_errors, copy = std::make_shared<Config>(copy)](ReplyBuilder& reply,
                                                                     FanOutRunner& runner) {
        for (const std::string& error : *listen_errors) {
          if (error.empty()) continue;
          Log(LogLevel::kWarning, "%s", error);
          reply.Error(
              "ERR CONFIG SET failed (possibly related to argument 'tls-port') - Unable to listen "
              "on this port. Check server logs.");
          return;
        }
        for (const auto& [name, value] : *shared) {
          if (cmd::EqualsIgnoreCase(name, "appendonly") ||
              cmd::EqualsIgnoreCase(name, "appendfsync") ||
              cmd::EqualsIgnoreCase(name, "no-appendfsync-on-rewrite")) {
            aof::ConfigChanged(reply, runner, *copy);
            return;
          }
        }
        reply.Ok();
      });
}

void CmdConfigResetStat(ClientCommand& c) {
  c.server->ForEachThread([](ServerContext& ctx) { ctx.ResetStats(); },
                          [](ReplyBuilder& reply, FanOutRunner&) { reply.Ok(); });
}

void CmdConfigRewrite(ClientCommand& c) {
  const std::string& path = c.server->server_info().config_file;
  if (path.empty()) {
    c.reply.Error("ERR The server is running without a config file");
    return;
  }
  // Writes every parameter whose value differs from its default.
  Config defaults;
  std::string text = "# Rewritten by Shardis (CONFIG REWRITE)\n";
  for (const std::string& name : Config::Names()) {
    std::string value;
    std::string default_value;
    if (!c.server->config().Get(name, &value)) continue;
    defaults.Get(name, &default_value);
    if (value == default_value) continue;
    CatAppend(&text, name, " \"", value, "\"\n");
  }
  std::string tmp = path + ".tmp";
  {
    std::ofstream out(tmp, std::ios::trunc);
    out << text;
    if (!out.good()) {
      c.reply.Error(Cat("ERR Rewriting config file: ", strerror(errno)));
      return;
    }
  }
  if (rename(tmp.c_str(), path.c_str()) != 0) {
    c.reply.Error(Cat("ERR Rewriting config file: ", strerror(errno)));
    return;
  }
  c.reply.Ok();
}

void CmdConfigHelp(ClientCommand& c) {
  ReplyHelp(c.reply,
            {"CONFIG <subcommand> [<arg> [value] [opt] ...]. Subcommands are:", "GET <pattern>",
             "    Return parameters matching the glob-like <pattern> and their values.",
             "SET <directive> <value>", "    Set the configuration <directive> to <value>.",
             "RESETSTAT", "    Reset statistics reported by the INFO command.", "REWRITE",
             "    Rewrite the configuration file.", "HELP", "    Prints this help."});
}

// ---- COMMAND ----

void ReplyFlags(ReplyBuilder& reply, uint32_t flags) {
  static constexpr std::pair<uint32_t, std::string_view> kNames[] = {
      {kCmdWrite, "write"},
      {kCmdReadonly, "readonly"},
      {kCmdDenyOom, "denyoom"},
      {kCmdAdmin, "admin"},
      {kCmdPubsub, "pubsub"},
      {kCmdNoscript, "noscript"},
      {kCmdBlocking, "blocking"},
      {kCmdLoading, "loading"},
      {kCmdStale, "stale"},
      {kCmdSkipMonitor, "skip_monitor"},
      {kCmdSkipSlowlog, "skip_slowlog"},
      {kCmdAsking, "asking"},
      {kCmdFast, "fast"},
      {kCmdNoAuth, "no_auth"},
      // may_replicate: hidden, as Redis hides it.
      {kCmdNoMandatoryKeys, "no_mandatory_keys"},
      {kCmdNoAsyncLoading, "no_async_loading"},
      {kCmdNoMulti, "no_multi"},
      {kCmdMovableKeys, "movablekeys"},
      {kCmdAllowBusy, "allow_busy"},
  };
  size_t n = 0;
  for (const auto& [bit, name] : kNames) n += (flags & bit) ? 1 : 0;
  reply.SetHeader(n);
  for (const auto& [bit, name] : kNames) {
    if (flags & bit) reply.SimpleString(name);
  }
}

void ReplyCommandInfo(ReplyBuilder& reply, const CommandSpec& spec) {
  const CommandTable& table = CommandTable::Get();
  reply.ArrayHeader(10);
  reply.Bulk(spec.name);
  reply.Integer(spec.arity);
  ReplyFlags(reply, spec.flags);
  reply.Integer(spec.first_key);
  reply.Integer(spec.first_key == 0 ? 0 : spec.last_key);
  reply.Integer(spec.first_key == 0 ? 0 : spec.key_step);
  std::vector<absl::string_view> categories =
      absl::StrSplit(AV(spec.acl_categories), ' ', absl::SkipEmpty());
  reply.SetHeader(categories.size());
  for (absl::string_view cat : categories) reply.SimpleString({cat.data(), cat.size()});
  // Tips and key specs: Redis 7.0.15's (generated data).
  const CommandKeySpecs* key_specs = FindCommandKeySpecs(spec.name);
  std::vector<absl::string_view> tips;
  if (key_specs != nullptr) tips = absl::StrSplit(AV(key_specs->tips), ' ', absl::SkipEmpty());
  // RESP3 shapes as Redis 7.0: tips and key specs are sets; subcommands an array, or an empty
  // set when there are none.
  reply.SetHeader(tips.size());
  for (absl::string_view tip : tips) reply.Bulk({tip.data(), tip.size()});
  ReplyKeySpecs(reply, key_specs);
  std::vector<const CommandSpec*> subs;
  if (spec.name.find('|') == std::string_view::npos) subs = table.Subcommands(spec.name);
  if (subs.empty()) {
    reply.SetHeader(0);
  } else {
    reply.ArrayHeader(subs.size());
  }
  for (const CommandSpec* sub : subs) ReplyCommandInfo(reply, *sub);
}

std::vector<const CommandSpec*> TopLevelCommands() {
  std::vector<const CommandSpec*> out;
  for (const CommandSpec& spec : CommandTable::Get().specs()) {
    if (spec.name.find('|') == std::string_view::npos) out.push_back(&spec);
  }
  return out;
}

void CmdCommand(ClientCommand& c) {
  if (c.args.size() == 1) {
    std::vector<const CommandSpec*> all = TopLevelCommands();
    c.reply.ArrayHeader(all.size());
    for (const CommandSpec* spec : all) ReplyCommandInfo(c.reply, *spec);
    return;
  }
  CmdContainer(c);
}

void CmdCommandCount(ClientCommand& c) {
  c.reply.Integer(static_cast<int64_t>(TopLevelCommands().size()));
}

// Redis's lookupCommandBySds: "get", or "config|get" for a subcommand.
const CommandSpec* FindCommandOrSubcommand(std::string_view name) {
  const CommandSpec* spec = CommandTable::Get().Find(name);
  size_t bar = name.find('|');
  if (spec == nullptr && bar != std::string_view::npos) {
    spec = CommandTable::Get().FindSubcommand(name.substr(0, bar), name.substr(bar + 1));
  }
  return spec;
}

void CmdCommandInfo(ClientCommand& c) {
  if (c.args.size() == 2) {
    std::vector<const CommandSpec*> all = TopLevelCommands();
    c.reply.ArrayHeader(all.size());
    for (const CommandSpec* spec : all) ReplyCommandInfo(c.reply, *spec);
    return;
  }
  c.reply.ArrayHeader(c.args.size() - 2);
  for (size_t i = 2; i < c.args.size(); ++i) {
    const CommandSpec* spec = FindCommandOrSubcommand(c.args[i]);
    if (spec == nullptr) {
      c.reply.Null();  // Redis's addReplyNull: $-1 in RESP2
    } else {
      ReplyCommandInfo(c.reply, *spec);
    }
  }
}

// Redis's addReplyCommandDocs: Redis 7.0.15's generated docs of the command when it has them,
// else (Shardis-only commands) its summary, since and group; then its subcommands' docs.
void ReplyCommandDoc(ReplyBuilder& reply, const CommandSpec& spec) {
  std::vector<const CommandSpec*> subs;
  if (spec.name.find('|') == std::string_view::npos) {
    subs = CommandTable::Get().Subcommands(spec.name);
  }
  if (const CommandDoc* doc = FindCommandDoc(spec.name)) {
    reply.MapHeader(CommandDocFieldCount(*doc) + !subs.empty());
    WriteCommandDocFields(reply, *doc);
  } else {
    reply.MapHeader(subs.empty() ? 3 : 4);
    reply.Bulk("summary");
    reply.Bulk(spec.summary);
    reply.Bulk("since");
    reply.Bulk(spec.since);
    reply.Bulk("group");
    reply.Bulk(spec.group);
  }
  if (!subs.empty()) {
    reply.Bulk("subcommands");
    reply.MapHeader(subs.size());
    for (const CommandSpec* sub : subs) {
      reply.Bulk(sub->name);
      ReplyCommandDoc(reply, *sub);
    }
  }
}

void CmdCommandDocs(ClientCommand& c) {
  std::vector<const CommandSpec*> specs;
  if (c.args.size() == 2) {
    specs = TopLevelCommands();
  } else {
    for (size_t i = 2; i < c.args.size(); ++i) {
      if (const CommandSpec* spec = FindCommandOrSubcommand(c.args[i])) specs.push_back(spec);
    }
  }
  c.reply.MapHeader(specs.size());
  for (const CommandSpec* spec : specs) {
    c.reply.Bulk(spec->name);
    ReplyCommandDoc(c.reply, *spec);
  }
}

// Whether a command takes keys, as Redis's doesCommandHaveKeys: a key finder of its own, or a
// key spec that is not NOT_KEY (SPUBLISH's shard channel is not a key).
bool CommandHasKeys(const CommandSpec& spec) {
  if (spec.get_keys != nullptr) return true;
  const CommandKeySpecs* key_specs = FindCommandKeySpecs(spec.name);
  if (key_specs == nullptr) return false;
  for (const KeySpecData& ks : key_specs->specs) {
    if (ks.flags.find("not_key") == std::string_view::npos) return true;
  }
  return false;
}

// COMMAND GETKEYS / GETKEYSANDFLAGS: the command named in args[2] (a container's subcommand when
// it has one) and its key positions, or false after replying Redis's error (checked in Redis's
// order: the command, whether it takes keys, its arity, then its keys).
bool ResolveKeys(ClientCommand& c, const CommandSpec** out, std::vector<int>* positions) {
  ArgList target = c.args.subspan(2);
  const CommandTable& table = CommandTable::Get();
  const CommandSpec* spec = table.Find(target[0]);
  if (spec != nullptr && target.size() >= 2 && spec->name.find('|') == std::string_view::npos &&
      !table.Subcommands(spec->name).empty()) {
    spec = table.FindSubcommand(spec->name, target[1]);
  }
  if (spec == nullptr) {
    c.reply.Error("ERR Invalid command specified");
    return false;
  }
  if (!CommandHasKeys(*spec)) {
    c.reply.Error("ERR The command has no key arguments");
    return false;
  }
  if (!CommandTable::ArityOk(*spec, target.size())) {
    c.reply.Error("ERR Invalid number of arguments specified for command");
    return false;
  }
  CommandTable::KeyPositions(*spec, target, positions);
  if (positions->empty() && !(spec->flags & kCmdNoMandatoryKeys)) {
    c.reply.Error("ERR Invalid arguments specified for command");
    return false;
  }
  *out = spec;
  return true;
}

void CmdCommandGetKeys(ClientCommand& c) {
  const CommandSpec* spec = nullptr;
  std::vector<int> positions;
  if (!ResolveKeys(c, &spec, &positions)) return;
  ArgList target = c.args.subspan(2);
  c.reply.ArrayHeader(positions.size());
  for (int pos : positions) c.reply.Bulk(target[pos]);
}

// The flags of the key spec covering argument `pos` of a command of `argc` arguments: an index
// spec whose range holds it, else the other specs (keyword or unknown begin, as SORT's and
// GEORADIUS's STORE keys), a writing one first, as Redis's key spec search finds them.
std::string_view SpecFlagsAt(const CommandKeySpecs& key_specs, int pos, int argc) {
  const KeySpecData* other = nullptr;
  for (const KeySpecData& ks : key_specs.specs) {
    if (ks.begin != KeySpecBegin::kIndex) {
      if (other == nullptr ||
          (absl::StartsWith(AV(other->flags), "RO") && !absl::StartsWith(AV(ks.flags), "RO"))) {
        other = &ks;
      }
      continue;
    }
    int last = ks.begin_arg;
    int step = 1;
    if (ks.find == KeySpecFind::kRange) {
      last = ks.find_a >= 0 ? ks.begin_arg + ks.find_a : argc + ks.find_a;
      step = ks.find_b > 0 ? ks.find_b : 1;
    }
    if (pos >= ks.begin_arg && pos <= last && (pos - ks.begin_arg) % step == 0) return ks.flags;
  }
  return other != nullptr ? other->flags : key_specs.specs[0].flags;
}

// COMMAND GETKEYSANDFLAGS: the keys, each with the flags of the key spec that found it, as
// Redis's getKeysFromCommandWithSpecs: the key specs when they can be evaluated and have fixed
// flags, else the command's own key finder with the flags of the spec at that position.
void CmdCommandGetKeysAndFlags(ClientCommand& c) {
  ArgList target = c.args.subspan(2);
  const CommandTable& table = CommandTable::Get();
  const CommandSpec* spec = table.Find(target[0]);
  if (spec != nullptr && target.size() >= 2 && !table.Subcommands(spec->name).empty()) {
    spec = table.FindSubcommand(target[0], target[1]);
  }
  if (spec == nullptr) {
    c.reply.Error("ERR Invalid command specified");
    return;
  }
  const CommandKeySpecs* key_specs = FindCommandKeySpecs(spec->name);
  if (!CommandHasKeys(*spec)) {
    c.reply.Error("ERR The command has no key arguments");
    return;
  }
  if (!CommandTable::ArityOk(*spec, target.size())) {
    c.reply.Error("ERR Invalid number of arguments specified for command");
    return;
  }
  std::vector<std::string_view> args(target.begin(), target.end());
  std::vector<KeyWithFlags> keys;
  if (key_specs == nullptr || !KeysFromSpecs(*key_specs, args, &keys)) {
    keys.clear();
    std::vector<int> positions;
    CommandTable::KeyPositions(*spec, target, &positions);
    for (int pos : positions) {
      std::string_view flags;
      if (key_specs != nullptr && !key_specs->specs.empty()) {
        flags = SpecFlagsAt(*key_specs, pos, static_cast<int>(target.size()));
      }
      // The flags Redis's own key finders give (setGetKeys, bitfieldGetKeys).
      if (spec->name == "set") {
        flags = "OW update";
        for (size_t i = 3; i < target.size(); ++i) {
          if (cmd::EqualsIgnoreCase(target[i], "get")) flags = "RW access update";
        }
      } else if (spec->name == "bitfield") {
        flags = "RO access";
        for (size_t i = 2; i < target.size(); ++i) {
          size_t rem = target.size() - i - 1;
          if (cmd::EqualsIgnoreCase(target[i], "get") && rem >= 2) {
            i += 2;
          } else if (cmd::EqualsIgnoreCase(target[i], "overflow") && rem >= 1) {
            i += 1;
          } else {
            flags = "RW access update";  // SET / INCRBY, or a syntax error: assume a write
            break;
          }
        }
      }
      keys.push_back({pos, flags});
    }
  }
  if (keys.empty()) {
    if (spec->flags & kCmdNoMandatoryKeys) {
      c.reply.ArrayHeader(0);
    } else {
      c.reply.Error("ERR Invalid arguments specified for command");
    }
    return;
  }
  c.reply.ArrayHeader(keys.size());
  for (const KeyWithFlags& k : keys) {
    c.reply.ArrayHeader(2);
    c.reply.Bulk(target[k.pos]);
    std::vector<absl::string_view> flags = absl::StrSplit(AV(k.flags), ' ', absl::SkipEmpty());
    size_t n = 0;
    auto shown = [](absl::string_view f) { return f != "variable_flags" && f != "incomplete"; };
    for (absl::string_view f : flags) n += shown(f) ? 1 : 0;
    c.reply.SetHeader(n);
    for (absl::string_view f : flags) {
      if (shown(f)) c.reply.SimpleString({f.data(), f.size()});
    }
  }
}

// COMMAND LIST names subcommands too ("config|get"), as Redis 7.0's does.
void CmdCommandList(ClientCommand& c) {
  std::vector<const CommandSpec*> all;
  for (const CommandSpec& spec : CommandTable::Get().specs()) all.push_back(&spec);
  std::vector<std::string_view> names;
  if (c.args.size() == 2) {
    for (const CommandSpec* spec : all) names.push_back(spec->name);
  } else if (c.args.size() == 5 && EqualsIgnoreCase(c.args[2], "filterby")) {
    std::string_view kind = c.args[3];
    std::string_view value = c.args[4];
    for (const CommandSpec* spec : all) {
      bool keep = false;
      if (EqualsIgnoreCase(kind, "pattern")) {
        keep = GlobMatch(value, spec->name, true);
      } else if (EqualsIgnoreCase(kind, "aclcat")) {
        keep =
            absl::StrContains(Cat(spec->acl_categories, " "), Cat("@", cmd::ToLower(value), " "));
      } else if (EqualsIgnoreCase(kind, "module")) {
        keep = false;
      } else {
        c.reply.Error(cmd::kSyntaxErr);
        return;
      }
      if (keep) names.push_back(spec->name);
    }
  } else {
    c.reply.Error(cmd::kSyntaxErr);
    return;
  }
  c.reply.ArrayHeader(names.size());
  for (std::string_view name : names) c.reply.Bulk(name);
}

void CmdCommandHelp(ClientCommand& c) {
  ReplyHelp(c.reply, {"COMMAND <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
                      "(no subcommand)",
                      "    Return details about all Redis commands.",
                      "COUNT",
                      "    Return the total number of commands in this Redis server.",
                      "LIST",
                      "    Return a list of all commands in this Redis server.",
                      "INFO [<command-name> ...]",
                      "    Return details about multiple Redis commands.",
                      "    If no command names are given, documentation details for all",
                      "    commands are returned.",
                      "DOCS [<command-name> ...]",
                      "    Return documentation details about multiple Redis commands.",
                      "    If no command names are given, documentation details for all",
                      "    commands are returned.",
                      "GETKEYS <full-command>",
                      "    Return the keys from a full Redis command.",
                      "GETKEYSANDFLAGS <full-command>",
                      "    Return the keys and the access flags from a full Redis command.",
                      "HELP",
                      "    Prints this help."});
}

// ---- TIME, ROLE, DEBUG, FUNCTION, SHUTDOWN ----

void CmdTime(ClientCommand& c) {
  struct timeval tv;
  gettimeofday(&tv, nullptr);
  c.reply.ArrayHeader(2);
  c.reply.Bulk(Cat(tv.tv_sec));
  c.reply.Bulk(Cat(tv.tv_usec));
}

void CmdRole(ClientCommand& c) {
  c.reply.ArrayHeader(3);
  c.reply.Bulk("master");
  c.reply.Integer(0);
  c.reply.ArrayHeader(0);
}

// WAIT numreplicas timeout. Shardis is a master without replicas, so, as redis-server in that
// role, it replies 0 at once when 0 replicas are enough (or inside MULTI), and otherwise blocks
// the client until the timeout (forever for 0) and then replies 0. It blocks through the
// shard's blocking machinery: a waiter with no keys, only a deadline.
void CmdWait(ShardCommand& c) {
  int64_t numreplicas = 0;
  if (!cmd::ParseInt64(c.args[1], &numreplicas)) {
    c.reply.Error(cmd::kNotIntErr);
    return;
  }
  int64_t timeout = 0;
  if (!cmd::ParseInt64(c.args[2], &timeout)) {
    c.reply.Error("ERR timeout is not an integer or out of range");
    return;
  }
  if (timeout < 0) {
    c.reply.Error("ERR timeout is negative");
    return;
  }
  if (numreplicas <= 0) {
    c.reply.Integer(0);
    return;
  }
  int64_t deadline = timeout > 0 ? c.now_ms() + timeout : 0;
  if (!c.Block({}, deadline, TimeoutReply::kZero)) c.reply.Integer(0);
}

// LOLWUT [VERSION v]: a small drawing for versions 5 and 6 (not Redis's generated art), then
// Redis's closing line; any other version prints the version line only, as Redis 7.0 does.
void CmdLolwut(ClientCommand& c) {
  int64_t version = 7;
  if (c.args.size() >= 3 && cmd::EqualsIgnoreCase(c.args[1], "version")) {
    if (!cmd::ParseInt64(c.args[2], &version)) {
      c.reply.Error(cmd::kNotIntErr);
      return;
    }
    // As Redis: versions 5 and 6 read their size arguments (3 and 2 of them) as integers.
    size_t sizes = version == 5 ? 3 : version == 6 ? 2 : 0;
    for (size_t i = 3; i < c.args.size() && i < 3 + sizes; ++i) {
      int64_t n = 0;
      if (!cmd::ParseInt64(c.args[i], &n)) {
        c.reply.Error(cmd::kNotIntErr);
        return;
      }
    }
  }
  std::string out;
  if (version == 5) {
    out = Cat("\u2800\u28c0\u28e4\u28f6\u28ff\u28f6\u28e4\u28c0\u2800\n",
              "\u2800\u283f\u281b\u2809\u2800\u2809\u281b\u283f\u2800\n\n",
              "Georg Nees - schotter, plotter on paper, 1968. Redis ver. ", kRedisCompatVersion,
              "\n");
  } else if (version == 6) {
    out = Cat(
        "\x1b[0;30;40m \x1b[0m\x1b[0;90;100m \x1b[0m\x1b[0;37;47m \x1b[0m\x1b[0;97;107m \x1b[0m\n",
        "\nDedicated to the 8 bit game developers of past and present.\n",
        "Original 8 bit image from Plaguemon by hikikomori. Redis ver. ", kRedisCompatVersion,
        "\n");
  } else {
    out = Cat("Redis ver. ", kRedisCompatVersion, "\n");
  }
  c.reply.Verbatim(out);
}

// DEBUG OBJECT key: Redis's one-line description of the value (the address is the entry's; the
// serialized length is the value's size in bytes, not an RDB encoding's).
void DebugObject(ClientCommand& c) {
  auto key = std::make_shared<std::string>(c.args[2]);
  auto line = std::make_shared<std::optional<std::string>>();
  c.RunOnShards(
      {c.ShardOf(*key)},
      [key, line](ShardAccess& a) {
        Entry* e = a.db.Find(*key);
        if (e == nullptr) return;
        size_t length =
            e->type() == ValueType::kString ? e->str().size() : e->collection()->ElementCount();
        int64_t idle = e->IdleSeconds(a.db.now_ms());
        char addr[32];
        std::snprintf(addr, sizeof(addr), "%p", static_cast<const void*>(e));
        *line = Cat("Value at:", addr, " refcount:1 encoding:", EncodingName(*e),
                    " serializedlength:", length, " lru:", e->access_bits(),
                    " lru_seconds_idle:", idle < 0 ? 0 : idle);
      },
      [line](ReplyBuilder& reply, FanOutRunner&) {
        if (line->has_value()) {
          reply.SimpleString(**line);
        } else {
          reply.Error(cmd::kNoSuchKeyErr);
        }
      });
}

// DEBUG POPULATE count [prefix] [size], as Redis: keys prefix:0..count-1 ("key" by default) in
// the client's database, each "value:<j>" (zero-padded or cut to `size` bytes when given),
// skipping keys that exist. Each shard creates its own keys.
void DebugPopulate(ClientCommand& c) {
  int64_t count = 0;
  int64_t size = 0;
  if (!cmd::ParseInt64(c.args[2], &count) || count < 0 ||
      (c.args.size() == 5 && (!cmd::ParseInt64(c.args[4], &size) || size < 0))) {
    c.reply.Error("ERR value is out of range, must be positive");
    return;
  }
  auto prefix = std::make_shared<const std::string>(c.args.size() >= 4 ? c.args[3] : "key");
  c.RunOnAllShards(
      [count, size, prefix](ShardAccess& a) {
        std::string key;
        for (int64_t j = 0; j < count; ++j) {
          key = Cat(*prefix, ":", j);
          if (ShardOfKey(key, a.shard_count) != a.shard_index) continue;
          if (a.db.Find(key) != nullptr) continue;
          std::string value = Cat("value:", j);
          if (size > 0) value.resize(static_cast<size_t>(size), '\0');
          StringEncoding enc = value.size() <= 44 ? StringEncoding::kEmbstr : StringEncoding::kRaw;
          a.db.Set(key, Value{ValueType::kString, enc, std::move(value), {}});
        }
      },
      [](ReplyBuilder& reply, FanOutRunner&) { reply.Ok(); });
}

// DEBUG PROTOCOL <type>: a sample reply of each RESP type, as Redis's (client libraries' tests
// use it), converted for RESP2 the way Redis converts.
void DebugProtocol(ClientCommand& c) {
  std::string name = cmd::ToLower(c.args[2]);
  ReplyBuilder& r = c.reply;
  if (name == "string") {
    r.Bulk("Hello World");
  } else if (name == "integer") {
    r.Integer(12345);
  } else if (name == "double") {
    r.Double(3.141);
  } else if (name == "bignum") {
    constexpr std::string_view kBig = "1234567999999999999999999999999999999";
    if (r.resp3()) {
      r.Raw(Cat("(", kBig, "\r\n"));
    } else {
      r.Bulk(kBig);
    }
  } else if (name == "null") {
    r.Null();
  } else if (name == "array" || name == "set") {
    if (name == "set") {
      r.SetHeader(3);
    } else {
      r.ArrayHeader(3);
    }
    for (int j = 0; j < 3; ++j) r.Integer(j);
  } else if (name == "map") {
    r.MapHeader(3);
    for (int j = 0; j < 3; ++j) {
      r.Integer(j);
      r.Bool(j == 1);
    }
  } else if (name == "attrib") {
    if (r.resp3()) {
      r.Raw("|1\r\n");
      r.Bulk("key-popularity");
      r.ArrayHeader(2);
      r.Bulk("key:123");
      r.Integer(90);
    }
    // Attributes are no reply: a real one follows.
    r.Bulk("Some real reply following the attribute");
  } else if (name == "push") {
    if (!r.resp3()) {
      r.Error("ERR RESP2 is not supported by this command");
      return;
    }
    r.PushHeader(2);
    r.Bulk("server-cpu-usage");
    r.Integer(42);
    r.Bulk("Some real reply following the push reply");
  } else if (name == "true" || name == "false") {
    r.Bool(name == "true");
  } else if (name == "verbatim") {
    r.Verbatim("This is a verbatim\nstring");
  } else {
    r.Error(
        "ERR Wrong protocol type name. Please use one of the following: "
        "string|integer|double|bignum|null|array|set|map|attrib|push|verbatim|true|false");
  }
}

void CmdDebug(ClientCommand& c) {
  if (!c.server->config().DebugCommandAllowed(IsLocalClient(c.client))) {
    c.reply.Error(
        "ERR DEBUG command not allowed. If the enable-debug-command option is set to \"local\", "
        "you can run it from a local connection, otherwise you need to set this option in the "
        "configuration file, and then restart the server.");
    return;
  }
  std::string sub = cmd::ToLower(c.args[1]);
  if (sub == "log" && c.args.size() >= 3) {
    Log(LogLevel::kWarning, "DEBUG LOG: %s", c.args[2]);
    c.reply.Ok();
  } else if (sub == "sleep" && c.args.size() >= 3) {
    // As Redis (strtod): the number the argument starts with, 0 when none ("0\r\n", as
    // hiredis's tests send it, is 0; "abc" too).
    std::string text(c.args[2]);
    double seconds = std::strtod(text.c_str(), nullptr);
    // As Redis: the whole thread sleeps (tests use this to simulate a slow server).
    if (std::isfinite(seconds) && seconds > 0) {
      double usec = std::min(seconds * 1e6, 9e18);
      std::this_thread::sleep_for(std::chrono::microseconds(static_cast<int64_t>(usec)));
    }
    c.reply.Ok();
  } else if (sub == "set-active-expire" && c.args.size() >= 3) {
    bool enabled = c.args[2] != "0";
    c.server->ForEachThread([enabled](ServerContext& ctx) { ctx.SetActiveExpire(enabled); },
                            [](ReplyBuilder& reply, FanOutRunner&) { reply.Ok(); });
  } else if (sub == "reload") {
    DebugReload(c);
  } else if (sub == "intent-hold" && c.args.size() >= 3) {
    // Shardis test hook: hold exclusive intents on keys until DEBUG INTENT-RELEASE.
    c.server->HoldIntents(std::vector<std::string>(c.args.begin() + 2, c.args.end()));
  } else if (sub == "intent-release") {
    c.server->ReleaseHeldIntents();
    c.reply.Ok();
  } else if (sub == "populate" && c.args.size() >= 3 && c.args.size() <= 5) {
    DebugPopulate(c);
  } else if (sub == "snapshot-pause" && c.args.size() == 3) {
    // Shardis test hook: 1 holds a BGSAVE's incremental serialization (after its instant), 0
    // lets it go on.
    Persistence().snapshot_paused.store(c.args[2] != "0");
    c.reply.Ok();
  } else if (sub == "set-skip-checksum-validation" && c.args.size() == 3) {
    Persistence().skip_checksum_validation.store(std::atoi(std::string(c.args[2]).c_str()) != 0);
    c.reply.Ok();
  } else if (sub == "quicklist-packed-threshold" && c.args.size() == 3) {
    // Checked as Redis's; it changes nothing here: Shardis keeps every list element in packed
    // (listpack) nodes, whatever its size, which only the internal layout could tell.
    unsigned long long size = 0;
    if (!config_parse::MemToUll(c.args[2], &size) || size > (1ULL << 32) - (1 << 20)) {
      c.reply.Error("ERR argument must be a memory value bigger than 1 and smaller than 4gb");
    } else {
      c.reply.Ok();
    }
  } else if (sub == "change-repl-id") {
    c.reply.Ok();
  } else if (sub == "error" && c.args.size() == 3) {
    // The argument is the whole error reply (clients' tests fake LOADING, READONLY... with it),
    // written raw as Redis does: not in errorstats, not a failed call.
    const size_t at = c.reply.buffer()->size();
    c.reply.Error(c.args[2]);
    if (CallStatsSink* sink = ThreadCallStatsSink()) sink->MarkRawErrorReply(c.reply.buffer(), at);
  } else if (sub == "object" && c.args.size() == 3) {
    DebugObject(c);
  } else if (sub == "digest" && c.args.size() == 2) {
    DebugDigest(c);
  } else if (sub == "digest-value") {
    DebugDigestValue(c);
  } else if (sub == "protocol" && c.args.size() == 3) {
    DebugProtocol(c);
  } else if (sub == "help") {
    ReplyHelp(
        c.reply,
        {"DEBUG <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
         "CHANGE-REPL-ID",
         "    Change the replication IDs of the instance.",
         "DIGEST",
         "    Output a hex signature representing the current DB content.",
         "DIGEST-VALUE <key> [<key> ...]",
         "    Output a hex signature of the values of all the specified keys.",
         "ERROR <string>",
         "    Return a Redis protocol error with <string> as message. Useful for clients",
         "    unit tests to simulate Redis errors.",
         "LOG <message>",
         "    Write <message> to the server log.",
         "OBJECT <key>",
         "    Show low level info about `key` and associated value.",
         "SET-ACTIVE-EXPIRE <0|1>",
         "    Setting it to 0 disables expiring keys in background when they are not",
         "    accessed (otherwise the Redis behavior). Setting it to 1 reenables back the",
         "    default.",
         "QUICKLIST-PACKED-THRESHOLD <size>",
         "    Sets the threshold for elements to be inserted as plain vs packed nodes",
         "    Default value is 1GB, allows values up to 4GB. Setting to 0 restores to default.",
         "SET-SKIP-CHECKSUM-VALIDATION <0|1>",
         "    Enables or disables checksum checks for RDB files and RESTORE's payload.",
         "SLEEP <seconds>",
         "    Stop the server for <seconds>. Decimals allowed.",
         "HELP",
         "    Prints this help."});
  } else {
    c.reply.Error(Cat("ERR unknown subcommand or wrong number of arguments for '", c.args[1],
                      "'. Try DEBUG HELP."));
  }
}

void CmdShutdown(ClientCommand& c) {
  bool abort = false;
  bool save = false;
  bool nosave = false;
  for (size_t i = 1; i < c.args.size(); ++i) {
    std::string opt = cmd::ToLower(c.args[i]);
    if (opt == "abort") {
      abort = true;
    } else if (opt == "save") {
      save = true;
    } else if (opt == "nosave") {
      nosave = true;
    } else if (opt != "now" && opt != "force") {
      c.reply.Error(cmd::kSyntaxErr);
      return;
    }
  }
  if (save && nosave) {  // contradictory: refused, as Redis (the server keeps running)
    c.reply.Error(cmd::kSyntaxErr);
    return;
  }
  if (abort) {
    if (c.args.size() != 2) {
      c.reply.Error(cmd::kSyntaxErr);
    } else {
      c.reply.Error("ERR No shutdown in progress.");
    }
    return;
  }
  // SAVE / NOSAVE tell the main thread whether to save after the reactors stop.
  int mode = 0;
  for (size_t i = 1; i < c.args.size(); ++i) {
    if (EqualsIgnoreCase(c.args[i], "save")) mode = 1;
    if (EqualsIgnoreCase(c.args[i], "nosave")) mode = 2;
  }
  std::string error = CheckShutdownSave(c.server->config(), mode);
  if (!error.empty()) {
    Log(LogLevel::kWarning, "%s", error);
    Log(LogLevel::kWarning, "Error trying to save the DB, can't exit.");
    c.reply.Error("ERR Errors trying to SHUTDOWN. Check logs.");
    return;
  }
  Persistence().shutdown_mode.store(mode);
  // No reply on success: the server closes the connection as it exits, as Redis does.
  c.server->RequestShutdown();
}

}  // namespace

void RegisterServerCommands(std::vector<CommandSpec>* table) {
  auto add = [table](std::string_view name, int arity, uint32_t flags, std::string_view acl,
                     std::string_view group, std::string_view summary, std::string_view since,
                     ClientHandler handler) {
    CommandSpec spec{};
    spec.name = name;
    spec.arity = arity;
    spec.flags = flags;
    spec.acl_categories = acl;
    spec.group = group;
    spec.summary = summary;
    spec.since = since;
    spec.on_client = handler;
    table->push_back(spec);
  };
  constexpr uint32_t kAdmin = kCmdAdmin | kCmdNoscript | kCmdLoading | kCmdStale;
  add("config", -2, 0, "@slow", "server", "A container for server configuration commands.", "2.0.0",
      CmdContainer);
  add("config|get", -3, kAdmin, "@admin @slow @dangerous", "server",
      "Returns the effective values of configuration parameters.", "2.0.0", CmdConfigGet);
  add("config|set", -4, kAdmin | kCmdMayReplicate, "@admin @slow @dangerous", "server",
      "Sets configuration parameters in-flight.", "2.0.0", CmdConfigSet);
  add("config|resetstat", 2, kAdmin, "@admin @slow @dangerous", "server",
      "Resets the server's statistics.", "2.0.0", CmdConfigResetStat);
  add("config|rewrite", 2, kAdmin, "@admin @slow @dangerous", "server",
      "Persists the effective configuration to file.", "2.8.0", CmdConfigRewrite);
  add("config|help", 2, kCmdLoading | kCmdStale, "@slow", "server",
      "Returns helpful text about the different subcommands.", "5.0.0", CmdConfigHelp);
  constexpr uint32_t kCmdFlags = kCmdLoading | kCmdStale;
  add("command", -1, kCmdFlags, "@slow @connection", "server",
      "Returns detailed information about all commands.", "2.8.13", CmdCommand);
  add("command|count", 2, kCmdFlags, "@slow @connection", "server", "Returns a count of commands.",
      "2.8.13", CmdCommandCount);
  add("command|info", -2, kCmdFlags, "@slow @connection", "server",
      "Returns information about one, multiple or all commands.", "2.8.13", CmdCommandInfo);
  add("command|docs", -2, kCmdFlags, "@slow @connection", "server",
      "Returns documentary information about one, multiple or all commands.", "7.0.0",
      CmdCommandDocs);
  add("command|getkeys", -4, kCmdFlags, "@slow @connection", "server",
      "Extracts the key names from an arbitrary command.", "2.8.13", CmdCommandGetKeys);
  add("command|getkeysandflags", -4, kCmdFlags, "@slow @connection", "server",
      "Extract keys and access flags given a full Redis command", "7.0.0",
      CmdCommandGetKeysAndFlags);
  add("command|list", -2, kCmdFlags, "@slow @connection", "server",
      "Returns a list of command names.", "7.0.0", CmdCommandList);
  add("command|help", 2, kCmdFlags, "@slow @connection", "server",
      "Returns helpful text about the different subcommands.", "5.0.0", CmdCommandHelp);
  add("time", 1, kCmdLoading | kCmdStale | kCmdFast, "@fast", "server", "Returns the server time.",
      "2.6.0", CmdTime);
  add("role", 1, kCmdNoscript | kCmdLoading | kCmdStale | kCmdFast, "@admin @fast @dangerous",
      "server", "Returns the replication role.", "2.8.12", CmdRole);
  add("debug", -2, kAdmin, "@admin @slow @dangerous", "server",
      "A container for debugging commands.", "1.0.0", CmdDebug);
  add("shutdown", -1, kAdmin | kCmdAllowBusy | kCmdNoMulti, "@admin @slow @dangerous", "server",
      "Synchronously saves the database(s) to disk and shuts down the Redis server.", "1.0.0",
      CmdShutdown);
  add("lolwut", -1, kCmdReadonly | kCmdFast, "@read @fast", "server",
      "Display some computer art and the Redis version", "5.0.0", CmdLolwut);
  CommandSpec wait{};
  wait.name = "wait";
  wait.arity = 3;
  wait.flags = kCmdNoscript;
  wait.acl_categories = "@slow @connection";
  wait.group = "generic";
  wait.summary =
      "Wait for the synchronous replication of all the write commands sent in the context of the "
      "current connection";
  wait.since = "3.0.0";
  wait.on_shard = CmdWait;
  table->push_back(wait);
  RegisterInfoCommand(table);
}

}  // namespace shardis
