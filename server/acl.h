// AclStore: Redis 7.0's ACL model — users, their passwords (SHA-256 hex), command permissions
// (a bit per command table entry, subcommands included), key patterns (~, %R~, %W~), channel
// patterns (&) — plus the ACL LOG of denied commands and failed AUTHs.
//
// Threading: every reactor thread owns its own AclStore (a copy made at start-up). A change
// (ACL SETUSER/DELUSER/LOAD, CONFIG SET requirepass) is validated on the client's thread and
// then applied to every thread's copy through the all-threads fan-out, so permission checks on
// the hot path read thread-local data only. The ACL LOG is per thread; ACL LOG merges them.
#pragma once

#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "server/command.h"

namespace shardis {

class Config;
class ServerContext;
struct ClientState;

// SHA-256 of `data` as 64 lowercase hex characters (what Redis stores for passwords).
std::string Sha256Hex(std::string_view data);

// One of Redis's key specs, reduced for ACL checks (server/acl_key_specs.cc).
struct AclKeySpec {
  int begin = -1;  // index of the first key; -1: not index/range (covers otherwise unmatched keys)
  int last_key = 0;  // >= 0: relative to begin; < 0: from the end (-1 = last argument)
  int step = 1;
  uint8_t need = 0;       // 1 = read, 2 = write
  bool variable = false;  // Redis computes the flags from the arguments (SET ... GET)
};
// Redis 7.0's key specs of a command ("name" or "container|sub"); null when Redis has none.
const std::vector<AclKeySpec>* AclKeySpecsFor(std::string_view name);

enum class AclResult : uint8_t { kOk, kDeniedCommand, kDeniedKey, kDeniedChannel };

struct AclUser {
  static constexpr uint8_t kRead = 1, kWrite = 2;
  struct KeyPattern {
    std::string pattern;
    uint8_t flags = kRead | kWrite;
  };

  std::string name;
  bool enabled = false;
  bool nopass = false;
  int sanitize = 0;                    // 0: unset, 1: sanitize-payload, 2: skip-sanitize-payload
  std::vector<std::string> passwords;  // SHA-256 hex, in the order added
  std::vector<uint64_t> allowed;       // one bit per CommandTable::specs() index
  bool future_commands = false;        // Redis's reserved bit: set by +@all / allcommands only
  bool all_keys = false;
  bool all_channels = false;
  std::vector<KeyPattern> keys;
  std::vector<std::string> channels;
  // Redis 7.0 selectors ("(+set ~app*)"): further permission sets, each with its own commands,
  // keys and channels (their other fields unused). A command is allowed when the user's own
  // rules or any one selector allow it whole.
  std::vector<AclUser> selectors;
  // Every command, key and channel allowed: the dispatcher's one-branch fast path.
  bool unrestricted = false;

  bool CommandAllowed(size_t index) const {
    return index / 64 < allowed.size() && (allowed[index / 64] >> (index % 64)) & 1;
  }
  void SetCommand(size_t index, bool on);
  void Refresh();  // recomputes `unrestricted`
};

// One ACL LOG entry (Redis's fields).
struct AclLogEntry {
  uint64_t count = 1;
  std::string reason;   // "command", "key", "channel", "auth"
  std::string context;  // "toplevel", "multi", "lua"
  std::string object;
  std::string username;
  int64_t created_ms = 0;
  int64_t updated_ms = 0;
  std::string client_info;
};

class AclStore {
 public:
  // Only `default`: on, nopass, all commands, keys and channels.
  AclStore();
  AclStore(const AclStore& other) { *this = other; }
  AclStore& operator=(const AclStore& other);  // deep copy; bumps the epoch

  // The start-up store: `user` lines of the config or its `aclfile`, then requirepass.
  // Returns false with a message when they are invalid (the server must not start).
  static bool FromConfig(const Config& config, AclStore* out, std::string* error);

  // ACL SETUSER: applies `rules` to the user (created if missing); all or nothing. The error is
  // Redis's full reply text ("ERR Error in ACL SETUSER modifier ...").
  bool SetUser(std::string_view name, const std::vector<std::string>& rules, std::string* error);
  // The same checks without changing anything (to validate before the all-threads fan-out).
  bool ValidateSetUser(std::string_view name, const std::vector<std::string>& rules,
                       std::string* error) const;
  bool DelUser(std::string_view name);  // false when absent
  const AclUser* Find(std::string_view name) const;
  // requirepass: empty = nopass, else resetpass + >pass (the `default` user).
  void SetRequirepass(std::string_view password);
  // acl-pubsub-default: whether new/reset users get allchannels.
  void set_pubsub_default_all(bool all) { pubsub_default_all_ = all; }
  // Replaces every user with the `user` lines of an ACL file (Redis's format). On error nothing
  // changes and `error` says which line failed.
  bool LoadText(std::string_view text, std::string_view source, std::string* error);
  std::string SaveText() const;  // one "user ..." line per user, sorted by name

  // True when `password` opens `user` (exists, enabled, nopass or a matching hash).
  bool CheckCredentials(std::string_view user, std::string_view password) const;
  // Whether a new connection starts authenticated (default user on and nopass).
  bool DefaultAutoAuth() const;

  // The permission check for `spec` (the resolved subcommand for containers) with `args`.
  // On a denied key or channel, `*errpos` is the offending argument.
  static AclResult Check(const AclUser& user, const CommandSpec& spec, ArgList args, int* errpos);
  // The same check for one permission set (the user's own rules, or one selector).
  static AclResult CheckSelector(const AclUser& user, const CommandSpec& spec, ArgList args,
                                 int* errpos);

  // ACL LIST line / GETUSER pieces.
  std::string Describe(const AclUser& user) const;
  static std::string DescribeCommands(const AclUser& user);
  static std::string DescribeKeys(const AclUser& user);
  static std::string DescribeChannels(const AclUser& user);
  // A selector as ACL LIST shows it inside its parentheses.
  static std::string DescribeSelector(const AclUser& selector);
  static std::vector<std::string> Flags(const AclUser& user);

  std::vector<std::string> UserNames() const;
  // Bumped on every change: clients cache their user pointer with it.
  uint64_t epoch() const { return epoch_; }

  // Categories in Redis's order, and whether a spec belongs to one.
  static const std::vector<std::string_view>& Categories();
  static bool InCategory(const CommandSpec& spec, std::string_view category);

  // ACL LOG (this thread's part). Entries newest first.
  void AddLog(AclLogEntry entry, size_t max_len);
  const std::deque<AclLogEntry>& log() const { return log_; }
  void ResetLog() { log_.clear(); }

 private:
  // Applies one rule to `user`; errors are Redis's reasons ("Syntax error"...).
  bool ApplyRule(AclUser* user, std::string_view rule, std::string* reason) const;
  // Rules of a selector "(...)": only command, key and channel rules.
  bool ApplySelector(AclUser* user, std::string_view rule, std::string* reason) const;
  void ResetUser(AclUser* user) const;
  bool BuildUser(std::string_view name, const std::vector<std::string>& rules, AclUser* out,
                 std::string* error) const;
  AclUser NewUser(std::string_view name) const;

  std::map<std::string, std::unique_ptr<AclUser>, std::less<>> users_;
  bool pubsub_default_all_ = false;
  uint64_t epoch_ = 1;
  std::deque<AclLogEntry> log_;
};

// Records a failed AUTH / HELLO AUTH in this thread's ACL LOG (commands/acl_family.cc).
// `command` is the command name as sent (the entry's object, as in Redis).
void LogAclAuthFailure(ServerContext& ctx, const ClientState& client, std::string_view command,
                       std::string_view username);

}  // namespace shardis
