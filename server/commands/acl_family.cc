// ACL commands: ACL SETUSER/GETUSER/DELUSER/LIST/USERS/WHOAMI/CAT/LOG/GENPASS/DRYRUN/SAVE/LOAD/
// HELP. They run on the connection's thread; changes are validated there and then applied to
// every thread's AclStore through ForEachThread before the reply, so each thread's permission
// checks only ever read its own copy.
#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <memory>
#include <random>
#include <sstream>

#include "server/acl.h"
#include "server/command_table.h"
#include "server/config.h"
#include "server/server_context.h"

namespace shardis {
namespace {

using cmd::EqualsIgnoreCase;

constexpr std::string_view kNoAclFile =
    "ERR This Redis instance is not configured to use an ACL file. You may want to specify users "
    "via the ACL SETUSER command and then issue a CONFIG REWRITE (assuming you have a Redis "
    "configuration file set) in order to store users in the Redis configuration.";

size_t LogMaxLen(const Config& config) {
  std::string value;
  int64_t max = 128;
  if (config.Get("acllog-max-len", &value)) cmd::ParseInt64(value, &max);
  return static_cast<size_t>(std::max<int64_t>(max, 0));
}

std::string AclFile(const Config& config) {
  std::string path;
  config.Get("aclfile", &path);
  return path;
}

// Closes the clients of this thread logged in as one of `users` (deleted ones), except `keep`.
void KillClientsOf(ServerContext& ctx, const std::vector<std::string>& users, uint64_t keep) {
  std::vector<uint64_t> ids;
  ctx.ForEachClient([&](const ClientSnapshot& s) {
    if (s.state.id != keep && std::find(users.begin(), users.end(), s.state.user) != users.end()) {
      ids.push_back(s.state.id);
    }
  });
  for (uint64_t id : ids) ctx.KillClient(id);
}

void CmdAclContainer(ClientCommand& c) {
  const CommandSpec* sub = CommandTable::Get().ResolveSubcommand(c.args, c.reply);
  if (sub == nullptr) return;
  c.client.last_command = sub->name;
  sub->on_client(c);
}

void CmdAclSetUser(ClientCommand& c) {
  std::string name(c.args[2]);
  auto rules = std::make_shared<std::vector<std::string>>(c.args.begin() + 3, c.args.end());
  std::string error;
  if (!c.server->acl().ValidateSetUser(name, *rules, &error)) {
    c.reply.Error(error);
    return;
  }
  c.server->ForEachThread(
      [name, rules](ServerContext& ctx) {
        std::string ignored;
        ctx.acl().SetUser(name, *rules, &ignored);
      },
      [](ReplyBuilder& reply, FanOutRunner&) { reply.Ok(); });
}

void CmdAclGetUser(ClientCommand& c) {
  const AclStore& acl = c.server->acl();
  const AclUser* u = acl.Find(c.args[2]);
  if (u == nullptr) {
    c.reply.Null();
    return;
  }
  c.reply.MapHeader(6);
  c.reply.Bulk("flags");
  std::vector<std::string> flags = AclStore::Flags(*u);
  c.reply.SetHeader(flags.size());  // a set in RESP3, as Redis
  for (const std::string& f : flags) c.reply.Bulk(f);
  c.reply.Bulk("passwords");
  c.reply.ArrayHeader(u->passwords.size());
  for (const std::string& p : u->passwords) c.reply.Bulk(p);
  c.reply.Bulk("commands");
  c.reply.Bulk(AclStore::DescribeCommands(*u));
  c.reply.Bulk("keys");
  c.reply.Bulk(AclStore::DescribeKeys(*u));
  c.reply.Bulk("channels");
  c.reply.Bulk(AclStore::DescribeChannels(*u));
  c.reply.Bulk("selectors");
  c.reply.ArrayHeader(u->selectors.size());
  for (const AclUser& sel : u->selectors) {
    c.reply.MapHeader(3);
    c.reply.Bulk("commands");
    c.reply.Bulk(AclStore::DescribeCommands(sel));
    c.reply.Bulk("keys");
    c.reply.Bulk(AclStore::DescribeKeys(sel));
    c.reply.Bulk("channels");
    c.reply.Bulk(AclStore::DescribeChannels(sel));
  }
}

void CmdAclDelUser(ClientCommand& c) {
  auto names = std::make_shared<std::vector<std::string>>();
  for (size_t i = 2; i < c.args.size(); ++i) {
    if (c.args[i] == "default") {
      c.reply.Error("ERR The 'default' user cannot be removed");
      return;
    }
    if (c.server->acl().Find(c.args[i]) != nullptr &&
        std::find(names->begin(), names->end(), c.args[i]) == names->end()) {
      names->emplace_back(c.args[i]);
    }
  }
  int64_t count = static_cast<int64_t>(names->size());
  uint64_t caller = c.client.id;
  // The caller itself, when logged in as a deleted user, is closed after this reply.
  if (std::find(names->begin(), names->end(), c.client.user) != names->end()) {
    c.client.close_after_reply = true;
  }
  c.server->ForEachThread(
      [names, caller](ServerContext& ctx) {
        for (const std::string& n : *names) ctx.acl().DelUser(n);
        KillClientsOf(ctx, *names, caller);  // as Redis: their clients are disconnected
      },
      [count](ReplyBuilder& reply, FanOutRunner&) { reply.Integer(count); });
}

void CmdAclList(ClientCommand& c) {
  const AclStore& acl = c.server->acl();
  std::vector<std::string> names = acl.UserNames();
  c.reply.ArrayHeader(names.size());
  for (const std::string& n : names) c.reply.Bulk(acl.Describe(*acl.Find(n)));
}

void CmdAclUsers(ClientCommand& c) {
  std::vector<std::string> names = c.server->acl().UserNames();
  c.reply.ArrayHeader(names.size());
  for (const std::string& n : names) c.reply.Bulk(n);
}

void CmdAclWhoami(ClientCommand& c) { c.reply.Bulk(c.client.user); }

void CmdAclCat(ClientCommand& c) {
  if (c.args.size() > 3) {
    c.reply.Error(Cat("ERR unknown subcommand or wrong number of arguments for '", c.args[1],
                      "'. Try ACL HELP."));
    return;
  }
  if (c.args.size() == 2) {
    const auto& cats = AclStore::Categories();
    c.reply.ArrayHeader(cats.size());
    for (std::string_view cat : cats) c.reply.Bulk(cat);
    return;
  }
  std::string cat = cmd::ToLower(c.args[2]);
  const auto& cats = AclStore::Categories();
  if (std::find(cats.begin(), cats.end(), cat) == cats.end()) {
    c.reply.Error(Cat("ERR Unknown category '", c.args[2], "'"));
    return;
  }
  std::vector<std::string_view> names;
  for (const CommandSpec& spec : CommandTable::Get().specs()) {
    if (AclStore::InCategory(spec, cat)) names.push_back(spec.name);
  }
  c.reply.ArrayHeader(names.size());
  for (std::string_view n : names) c.reply.Bulk(n);
}

void CmdAclLog(ClientCommand& c) {
  if (c.args.size() > 3) {
    c.reply.Error(Cat("ERR unknown subcommand or wrong number of arguments for '", c.args[1],
                      "'. Try ACL HELP."));
    return;
  }
  int64_t count = 10;
  if (c.args.size() == 3) {
    if (EqualsIgnoreCase(c.args[2], "reset")) {
      c.server->ForEachThread([](ServerContext& ctx) { ctx.acl().ResetLog(); },
                              [](ReplyBuilder& reply, FanOutRunner&) { reply.Ok(); });
      return;
    }
    if (!cmd::ParseInt64(c.args[2], &count)) {
      c.reply.Error(cmd::kNotIntErr);
      return;
    }
    if (count < 0) count = 0;  // as Redis: a negative count lists nothing
  }
  auto parts = std::make_shared<std::vector<std::deque<AclLogEntry>>>(c.server->thread_count());
  int64_t now = c.server->shard().now_ms();
  c.server->ForEachThread(
      [parts](ServerContext& ctx) { (*parts)[ctx.thread_index()] = ctx.acl().log(); },
      [parts, count, now](ReplyBuilder& reply, FanOutRunner&) {
        // Each thread groups its own similar entries; Redis's one log also groups those that
        // came through different threads (same reason, context, object and user, less than 60 s
        // apart): the newest keeps its client info and adds the others' counts.
        struct Part {
          AclLogEntry entry;
          std::vector<bool> threads;
        };
        std::vector<Part> sorted;
        for (size_t t = 0; t < parts->size(); ++t) {
          for (const AclLogEntry& e : (*parts)[t]) {
            sorted.push_back({e, std::vector<bool>(parts->size(), false)});
            sorted.back().threads[t] = true;
          }
        }
        std::stable_sort(sorted.begin(), sorted.end(), [](const Part& a, const Part& b) {
          return a.entry.updated_ms > b.entry.updated_ms;
        });
        std::vector<Part> merged;
        for (Part& p : sorted) {
          size_t t = std::find(p.threads.begin(), p.threads.end(), true) - p.threads.begin();
          Part* into = nullptr;
          for (Part& m : merged) {
            const AclLogEntry& a = m.entry;
            const AclLogEntry& b = p.entry;
            if (!m.threads[t] && a.reason == b.reason && a.context == b.context &&
                a.object == b.object && a.username == b.username &&
                a.updated_ms - b.updated_ms < 60000) {
              into = &m;
              break;
            }
          }
          if (into == nullptr) {
            merged.push_back(std::move(p));
          } else {
            into->entry.count += p.entry.count;
            into->threads[t] = true;
          }
        }
        std::vector<const AclLogEntry*> all;
        for (const Part& m : merged) all.push_back(&m.entry);
        if (static_cast<int64_t>(all.size()) > count) all.resize(count);
        reply.ArrayHeader(all.size());
        for (const AclLogEntry* e : all) {
          reply.MapHeader(7);
          reply.Bulk("count");
          reply.Integer(static_cast<int64_t>(e->count));
          reply.Bulk("reason");
          reply.Bulk(e->reason);
          reply.Bulk("context");
          reply.Bulk(e->context);
          reply.Bulk("object");
          reply.Bulk(e->object);
          reply.Bulk("username");
          reply.Bulk(e->username);
          reply.Bulk("age-seconds");
          // As Redis: the age of the latest occurrence.
          reply.Double(static_cast<double>(now - e->updated_ms) / 1000.0);
          reply.Bulk("client-info");
          reply.Bulk(e->client_info);
        }
      });
}

void CmdAclGenPass(ClientCommand& c) {
  int64_t bits = 256;
  if (c.args.size() > 3) {
    c.reply.Error(Cat("ERR unknown subcommand or wrong number of arguments for '", c.args[1],
                      "'. Try ACL HELP."));
    return;
  }
  if (c.args.size() == 3 && (!cmd::ParseInt64(c.args[2], &bits) || bits <= 0 || bits > 4096)) {
    c.reply.Error(
        "ERR ACL GENPASS argument must be the number of bits for the output password, a "
        "positive number up to 4096");
    return;
  }
  size_t chars = static_cast<size_t>((bits + 3) / 4);
  std::random_device rd;
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  while (out.size() < chars) {
    uint32_t r = rd();
    for (int i = 0; i < 8 && out.size() < chars; ++i, r >>= 4) out.push_back(kHex[r & 15]);
  }
  c.reply.Bulk(out);
}

void CmdAclDryRun(ClientCommand& c) {
  const AclUser* u = c.server->acl().Find(c.args[2]);
  if (u == nullptr) {
    c.reply.Error(Cat("ERR User '", c.args[2], "' not found"));
    return;
  }
  const CommandTable& table = CommandTable::Get();
  ArgList args = c.args.subspan(3);
  const CommandSpec* spec = table.Find(args[0]);
  if (spec == nullptr) {
    c.reply.Error(Cat("ERR Command '", args[0], "' not found"));
    return;
  }
  if (args.size() >= 2) {
    if (const CommandSpec* sub = table.FindSubcommand(args[0], args[1])) spec = sub;
  }
  if (!CommandTable::ArityOk(*spec, args.size())) {
    c.reply.Error(ArityError(spec->name));
    return;
  }
  int pos = 0;
  switch (AclStore::Check(*u, *spec, args, &pos)) {
    case AclResult::kOk:
      c.reply.Ok();
      break;
    case AclResult::kDeniedCommand:
      c.reply.Bulk(Cat("This user has no permissions to run the '", spec->name, "' command"));
      break;
    case AclResult::kDeniedKey:
      c.reply.Bulk(Cat("This user has no permissions to access the '", args[pos], "' key"));
      break;
    case AclResult::kDeniedChannel:
      c.reply.Bulk(Cat("This user has no permissions to access the '", args[pos], "' channel"));
      break;
  }
}

void CmdAclSave(ClientCommand& c) {
  std::string path = AclFile(c.server->config());
  if (path.empty()) {
    c.reply.Error(kNoAclFile);
    return;
  }
  std::string text = c.server->acl().SaveText();
  std::string tmp = Cat(path, ".tmp-", getpid());
  bool ok = false;
  if (FILE* f = fopen(tmp.c_str(), "w")) {
    ok = fwrite(text.data(), 1, text.size(), f) == text.size();
    ok = fflush(f) == 0 && ok;
    ok = fsync(fileno(f)) == 0 && ok;
    fclose(f);
    ok = ok && rename(tmp.c_str(), path.c_str()) == 0;
    if (!ok) unlink(tmp.c_str());
  }
  if (!ok) {
    c.reply.Error(
        "ERR There was an error trying to save the ACLs. Please check the server logs for more "
        "information");
    return;
  }
  c.reply.Ok();
}

void CmdAclLoad(ClientCommand& c) {
  std::string path = AclFile(c.server->config());
  if (path.empty()) {
    c.reply.Error(kNoAclFile);
    return;
  }
  std::ifstream in(path);
  if (!in) {
    c.reply.Error(Cat("ERR Error loading ACLs, opening file '", path, "': ", strerror(errno)));
    return;
  }
  std::stringstream buffer;
  buffer << in.rdbuf();
  auto text = std::make_shared<std::string>(buffer.str());
  AclStore copy = c.server->acl();
  std::string error;
  if (!copy.LoadText(*text, path, &error)) {
    c.reply.Error(Cat("ERR ", error));
    return;
  }
  if (copy.Find(c.client.user) == nullptr) c.client.close_after_reply = true;
  auto path_shared = std::make_shared<std::string>(path);
  uint64_t caller = c.client.id;
  c.server->ForEachThread(
      [text, path_shared, caller](ServerContext& ctx) {
        std::vector<std::string> before = ctx.acl().UserNames();
        std::string ignored;
        ctx.acl().LoadText(*text, *path_shared, &ignored);
        std::vector<std::string> gone;
        for (const std::string& n : before) {
          if (ctx.acl().Find(n) == nullptr) gone.push_back(n);
        }
        if (!gone.empty()) KillClientsOf(ctx, gone, caller);
      },
      [](ReplyBuilder& reply, FanOutRunner&) { reply.Ok(); });
}

void CmdAclHelp(ClientCommand& c) {
  static constexpr std::string_view kLines[] = {
      "ACL <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
      "CAT [<category>]",
      "    List all commands that belong to <category>, or all command categories",
      "    when no category is specified.",
      "DELUSER <username> [<username> ...]",
      "    Delete a list of users.",
      "DRYRUN <username> <command> [<arg> ...]",
      "    Returns whether the user can execute the given command without executing the command.",
      "GETUSER <username>",
      "    Get the user's details.",
      "GENPASS [<bits>]",
      "    Generate a secure 256-bit user password. The optional `bits` argument can",
      "    be used to specify a different size.",
      "LIST",
      "    Show users details in config file format.",
      "LOAD",
      "    Reload users from the ACL file.",
      "LOG [<count> | RESET]",
      "    Show the ACL log entries.",
      "SAVE",
      "    Save the current config to the ACL file.",
      "SETUSER <username> <attribute> [<attribute> ...]",
      "    Create or modify a user with the specified attributes.",
      "USERS",
      "    List all the registered usernames.",
      "WHOAMI",
      "    Return the current connection username.",
      "HELP",
      "    Prints this help."};
  c.reply.ArrayHeader(std::size(kLines));
  for (std::string_view line : kLines) c.reply.SimpleString(line);
}

}  // namespace

void LogAclAuthFailure(ServerContext& ctx, const ClientState& client, std::string_view command,
                       std::string_view username) {
  AclLogEntry entry;
  entry.reason = "auth";
  entry.context = client.in_multi() ? "multi" : "toplevel";
  entry.object = std::string(command);  // as the client spelled it
  entry.username = std::string(username);
  entry.created_ms = entry.updated_ms = ctx.shard().now_ms();
  entry.client_info = FormatClientInfo(client, ctx.shard().now_ms(), 0, 0, 0);
  ctx.acl().AddLog(std::move(entry), LogMaxLen(ctx.config()));
}

void RegisterAclCommands(std::vector<CommandSpec>* table) {
  auto add = [table](std::string_view name, int arity, uint32_t flags, std::string_view acl,
                     std::string_view summary, ClientHandler handler) {
    CommandSpec spec{};
    spec.name = name;
    spec.arity = arity;
    spec.flags = flags;
    spec.acl_categories = acl;
    spec.group = "server";
    spec.summary = summary;
    spec.since = "6.0.0";
    spec.on_client = handler;
    table->push_back(spec);
  };
  constexpr uint32_t kAdmin = kCmdAdmin | kCmdNoscript | kCmdLoading | kCmdStale;
  constexpr std::string_view kAdminCats = "@admin @slow @dangerous";
  add("acl", -2, 0, "@slow", "A container for Access List Control commands.", CmdAclContainer);
  add("acl|cat", -2, kCmdNoscript | kCmdLoading | kCmdStale, "@slow",
      "Lists the ACL categories, or the commands inside a category.", CmdAclCat);
  add("acl|deluser", -3, kAdmin, kAdminCats, "Deletes ACL users, and terminates their connections.",
      CmdAclDelUser);
  add("acl|dryrun", -4, kAdmin, kAdminCats,
      "Simulates the execution of a command by a user, without executing the command.",
      CmdAclDryRun);
  add("acl|genpass", -2, kCmdNoscript | kCmdLoading | kCmdStale, "@slow",
      "Generates a pseudorandom, secure password that can be used to identify ACL users.",
      CmdAclGenPass);
  add("acl|getuser", 3, kAdmin, kAdminCats, "Lists the ACL rules of a user.", CmdAclGetUser);
  add("acl|help", 2, kCmdLoading | kCmdStale, "@slow",
      "Returns helpful text about the different subcommands.", CmdAclHelp);
  add("acl|list", 2, kAdmin, kAdminCats, "Dumps the effective rules in ACL file format.",
      CmdAclList);
  add("acl|load", 2, kAdmin, kAdminCats, "Reloads the rules from the configured ACL file.",
      CmdAclLoad);
  add("acl|log", -2, kAdmin, kAdminCats, "Lists recent security events generated due to ACL rules.",
      CmdAclLog);
  add("acl|save", 2, kAdmin, kAdminCats,
      "Saves the effective ACL rules in the configured ACL file.", CmdAclSave);
  add("acl|setuser", -3, kAdmin, kAdminCats, "Creates and modifies an ACL user and its rules.",
      CmdAclSetUser);
  add("acl|users", 2, kAdmin, kAdminCats, "Lists all ACL users.", CmdAclUsers);
  add("acl|whoami", 2, kCmdNoscript | kCmdLoading | kCmdStale, "@slow",
      "Returns the authenticated username of the current connection.", CmdAclWhoami);
}

}  // namespace shardis
