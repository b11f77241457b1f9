// AclStore implementation: rule parsing as Redis 7.0's ACLSetUser/ACLSetSelector, the
// permission check, and the describe algorithm of ACLDescribeSelectorCommandRules (categories
// first by best fit, then single-command differences). One store per reactor thread.
#include "server/acl.h"

#include <openssl/evp.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>

#include "absl/strings/ascii.h"
#include "server/command_table.h"
#include "server/config.h"
#include "storage/glob.h"

namespace shardis {
namespace {

// Per command table entry: categories (bit per Categories() index), container links.
struct SpecInfo {
  uint32_t categories = 0;
  int parent = -1;            // for "container|sub": the container's index
  std::vector<int> children;  // for containers: their subcommands
};

const std::vector<SpecInfo>& Infos() {
  static const std::vector<SpecInfo>* infos = [] {
    const CommandTable& table = CommandTable::Get();
    const auto& specs = table.specs();
    const auto& cats = AclStore::Categories();
    auto* out = new std::vector<SpecInfo>(specs.size());
    for (size_t i = 0; i < specs.size(); ++i) {
      const CommandSpec& s = specs[i];
      uint32_t mask = 0;
      auto add = [&](std::string_view name) {
        for (size_t c = 0; c < cats.size(); ++c) {
          if (cats[c] == name) mask |= 1u << c;
        }
      };
      std::string_view rest = s.acl_categories;
      while (!rest.empty()) {
        size_t sp = rest.find(' ');
        std::string_view word = rest.substr(0, sp);
        if (word.starts_with('@')) add(word.substr(1));
        rest = sp == std::string_view::npos ? std::string_view() : rest.substr(sp + 1);
      }
      // Redis's setImplicitACLCategories.
      if (s.flags & kCmdWrite) add("write");
      if ((s.flags & kCmdReadonly) && !(mask & (1u << 20))) add("read");  // 20: scripting
      if (s.flags & kCmdAdmin) {
        add("admin");
        add("dangerous");
      }
      if (s.flags & kCmdPubsub) add("pubsub");
      if (s.flags & kCmdFast) add("fast");
      if (s.flags & kCmdBlocking) add("blocking");
      if (!(mask & (1u << 14))) add("slow");  // 14: fast
      (*out)[i].categories = mask;
      size_t bar = s.name.find('|');
      if (bar != std::string_view::npos) {
        const CommandSpec* parent = table.Find(s.name.substr(0, bar));
        if (parent != nullptr) {
          int p = static_cast<int>(parent - specs.data());
          (*out)[i].parent = p;
          (*out)[p].children.push_back(static_cast<int>(i));
        }
      }
    }
    return out;
  }();
  return *infos;
}

int CategoryIndex(std::string_view name) {
  const auto& cats = AclStore::Categories();
  std::string lower = cmd::ToLower(name);
  for (size_t c = 0; c < cats.size(); ++c) {
    if (cats[c] == lower) return static_cast<int>(c);
  }
  return -1;
}

bool ValidHash(std::string_view h) {
  if (h.size() != 64) return false;
  for (char ch : h) {
    if (!((ch >= '0' && ch <= '9') || (ch >= 'a' && ch <= 'f'))) return false;
  }
  return true;
}

void SetAll(AclUser* u, bool on) {
  size_t n = CommandTable::Get().specs().size();
  u->allowed.assign((n + 63) / 64, on ? ~0ULL : 0);
}

// Sets a command and, for a container, all its subcommands (Redis's ACLChangeSelectorPerm).
void ChangePerm(AclUser* u, int index, bool on) {
  u->SetCommand(index, on);
  for (int child : Infos()[index].children) u->SetCommand(child, on);
}

void SetCategory(AclUser* u, int category, bool on) {
  const auto& infos = Infos();
  for (size_t i = 0; i < infos.size(); ++i) {
    if (infos[i].categories & (1u << category)) u->SetCommand(i, on);
  }
}

constexpr std::string_view kReasonSyntax = "Syntax error";
constexpr std::string_view kReasonUnknown = "Unknown command or category name in ACL";
constexpr std::string_view kReasonSubcommandArg =
    "Allowing first-arg of a subcommand is not supported";

std::vector<std::string> SplitWords(std::string_view line) {
  std::vector<std::string> out;
  size_t i = 0;
  while (i < line.size()) {
    while (i < line.size() && absl::ascii_isspace(static_cast<unsigned char>(line[i]))) ++i;
    size_t start = i;
    while (i < line.size() && !absl::ascii_isspace(static_cast<unsigned char>(line[i]))) ++i;
    if (i > start) out.emplace_back(line.substr(start, i - start));
  }
  return out;
}

// Redis's ACLMergeSelectorArguments: a selector split over several arguments ("(+set" "~x)")
// becomes one. False when a selector is never closed; *unmatched is its first argument.
bool MergeSelectorArgs(const std::vector<std::string>& in, std::vector<std::string>* out,
                       std::string* unmatched) {
  std::string selector;
  bool open = false;
  for (const std::string& op : in) {
    if (!open && !op.empty() && op[0] == '(' && op.back() != ')') {
      selector = op;
      *unmatched = op;
      open = true;
      continue;
    }
    if (open) {
      CatAppend(&selector, " ", op);
      if (!op.empty() && op.back() == ')') {
        out->push_back(std::move(selector));
        open = false;
      }
      continue;
    }
    out->push_back(op);
  }
  return !open;
}

// What the key at args[pos] needs (AclUser::kRead / kWrite), from Redis's key specs: the
// indexed spec covering it, else the union of the other specs. Commands Redis does not have fall
// back to their flags (write: W, read-only: R).
uint8_t KeyNeed(const CommandSpec& spec, const std::vector<AclKeySpec>* key_specs, ArgList args,
                int pos) {
  if (key_specs == nullptr) {
    return (spec.flags & kCmdWrite)      ? AclUser::kWrite
           : (spec.flags & kCmdReadonly) ? AclUser::kRead
                                         : 0;
  }
  auto need_of = [&](const AclKeySpec& k) -> uint8_t {
    if (!k.variable) return k.need;
    // SET: only with GET does it read the old value (Redis's setGetKeys); others keep both.
    if (spec.name != "set") return k.need;
    for (size_t i = 3; i < args.size(); ++i) {
      if (cmd::EqualsIgnoreCase(args[i], "get")) return AclUser::kRead | AclUser::kWrite;
    }
    return AclUser::kWrite;
  };
  // SORT's STORE destination is only written (Redis's sortGetKeys: OW|UPDATE); the key to sort is
  // the one indexed key spec's.
  if ((spec.name == "sort" || spec.name == "sort_ro") && pos > 1) return AclUser::kWrite;
  int argc = static_cast<int>(args.size());
  uint8_t unindexed = 0, all = 0;
  bool has_unindexed = false;
  for (const AclKeySpec& k : *key_specs) {
    all |= need_of(k);
    if (k.begin < 0) {
      unindexed |= need_of(k);
      has_unindexed = true;
      continue;
    }
    int last = k.last_key >= 0 ? k.begin + k.last_key : argc + k.last_key;
    int step = k.step > 0 ? k.step : 1;
    if (pos >= k.begin && pos <= last && (pos - k.begin) % step == 0) return need_of(k);
  }
  return has_unindexed ? unindexed : all;
}

}  // namespace

std::string Sha256Hex(std::string_view data) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_Digest(data.data(), data.size(), digest, &len, EVP_sha256(), nullptr);
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(len * 2);
  for (unsigned int i = 0; i < len; ++i) {
    out.push_back(kHex[digest[i] >> 4]);
    out.push_back(kHex[digest[i] & 15]);
  }
  return out;
}

void AclUser::SetCommand(size_t index, bool on) {
  size_t word = index / 64;
  if (word >= allowed.size()) allowed.resize(word + 1, 0);
  if (on) {
    allowed[word] |= 1ULL << (index % 64);
  } else {
    allowed[word] &= ~(1ULL << (index % 64));
  }
}

void AclUser::Refresh() {
  bool all = future_commands;
  size_t n = CommandTable::Get().specs().size();
  for (size_t i = 0; all && i < n; ++i) all = CommandAllowed(i);
  unrestricted = all && all_keys && all_channels;
}

const std::vector<std::string_view>& AclStore::Categories() {
  static const std::vector<std::string_view> kCats = {
      "keyspace", "read",   "write",       "set",       "sortedset",  "list",        "hash",
      "string",   "bitmap", "hyperloglog", "geo",       "stream",     "pubsub",      "admin",
      "fast",     "slow",   "blocking",    "dangerous", "connection", "transaction", "scripting"};
  return kCats;
}

bool AclStore::InCategory(const CommandSpec& spec, std::string_view category) {
  int c = CategoryIndex(category);
  if (c < 0) return false;
  return Infos()[&spec - CommandTable::Get().specs().data()].categories & (1u << c);
}

AclStore::AclStore() {
  AclUser def = NewUser("default");
  std::string ignored;
  for (std::string_view rule : {"on", "nopass", "~*", "&*", "+@all"}) {
    ApplyRule(&def, rule, &ignored);
  }
  def.Refresh();
  users_["default"] = std::make_unique<AclUser>(std::move(def));
}

AclStore& AclStore::operator=(const AclStore& other) {
  if (this == &other) return *this;
  users_.clear();
  for (const auto& [name, u] : other.users_) users_[name] = std::make_unique<AclUser>(*u);
  pubsub_default_all_ = other.pubsub_default_all_;
  epoch_ = std::max(epoch_, other.epoch_) + 1;
  log_ = other.log_;
  return *this;
}

AclUser AclStore::NewUser(std::string_view name) const {
  AclUser u;
  u.name = std::string(name);
  SetAll(&u, false);
  u.all_channels = pubsub_default_all_;
  return u;
}

void AclStore::ResetUser(AclUser* u) const {
  // Redis: resetpass resetkeys resetchannels [allchannels] off -@all, sanitize-payload.
  u->passwords.clear();
  u->nopass = false;
  u->keys.clear();
  u->all_keys = false;
  u->channels.clear();
  u->all_channels = pubsub_default_all_;
  u->enabled = false;
  SetAll(u, false);
  u->future_commands = false;
  u->sanitize = 1;
  u->selectors.clear();
}

bool AclStore::ApplySelector(AclUser* u, std::string_view op, std::string* reason) const {
  std::string lower = cmd::ToLower(op);
  bool allowed = lower == "allkeys" || lower == "resetkeys" || lower == "allchannels" ||
                 lower == "resetchannels" || lower == "allcommands" || lower == "nocommands" ||
                 (!op.empty() &&
                  (op[0] == '~' || op[0] == '%' || op[0] == '&' || op[0] == '+' || op[0] == '-'));
  if (!allowed) {
    *reason = kReasonSyntax;
    return false;
  }
  return ApplyRule(u, op, reason);
}

bool AclStore::ApplyRule(AclUser* u, std::string_view op, std::string* reason) const {
  std::string lower = cmd::ToLower(op);
  if (op.size() >= 2 && op[0] == '(' && op.back() == ')') {
    // A new selector: no commands, no keys, the default channels; then its own rules.
    AclUser selector;
    SetAll(&selector, false);
    selector.all_channels = pubsub_default_all_;
    for (const std::string& word : SplitWords(op.substr(1, op.size() - 2))) {
      if (!ApplySelector(&selector, word, reason)) return false;
    }
    u->selectors.push_back(std::move(selector));
  } else if (lower == "clearselectors") {
    u->selectors.clear();
  } else if (lower == "on") {
    u->enabled = true;
  } else if (lower == "off") {
    u->enabled = false;
  } else if (lower == "skip-sanitize-payload") {
    u->sanitize = 2;
  } else if (lower == "sanitize-payload") {
    u->sanitize = 1;
  } else if (lower == "allkeys" || op == "~*") {
    u->all_keys = true;
    u->keys.clear();
  } else if (lower == "resetkeys") {
    u->all_keys = false;
    u->keys.clear();
  } else if (lower == "allchannels" || op == "&*") {
    u->all_channels = true;
    u->channels.clear();
  } else if (lower == "resetchannels") {
    u->all_channels = false;
    u->channels.clear();
  } else if (lower == "allcommands" || lower == "+@all") {
    SetAll(u, true);
    u->future_commands = true;
  } else if (lower == "nocommands" || lower == "-@all") {
    SetAll(u, false);
    u->future_commands = false;
  } else if (lower == "nopass") {
    u->nopass = true;
    u->passwords.clear();
  } else if (lower == "resetpass") {
    u->nopass = false;
    u->passwords.clear();
  } else if (lower == "reset") {
    ResetUser(u);
  } else if (!op.empty() && (op[0] == '>' || op[0] == '#')) {
    std::string hash;
    if (op[0] == '>') {
      hash = Sha256Hex(op.substr(1));
    } else {
      if (!ValidHash(op.substr(1))) {
        *reason =
            "The password hash must be exactly 64 characters and contain only lowercase "
            "hexadecimal characters";
        return false;
      }
      hash = std::string(op.substr(1));
    }
    if (std::find(u->passwords.begin(), u->passwords.end(), hash) == u->passwords.end()) {
      u->passwords.push_back(hash);
    }
    u->nopass = false;
  } else if (!op.empty() && (op[0] == '<' || op[0] == '!')) {
    std::string hash;
    if (op[0] == '<') {
      hash = Sha256Hex(op.substr(1));
    } else {
      if (!ValidHash(op.substr(1))) {
        *reason =
            "The password hash must be exactly 64 characters and contain only lowercase "
            "hexadecimal characters";
        return false;
      }
      hash = std::string(op.substr(1));
    }
    auto it = std::find(u->passwords.begin(), u->passwords.end(), hash);
    if (it == u->passwords.end()) {
      *reason = "The password you are trying to remove from the user does not exist";
      return false;
    }
    u->passwords.erase(it);
    u->nopass = false;
  } else if (!op.empty() && (op[0] == '~' || op[0] == '%')) {
    uint8_t flags = 0;
    size_t offset = 1;
    if (op[0] == '%') {
      for (; offset < op.size(); ++offset) {
        char ch = absl::ascii_toupper(static_cast<unsigned char>(op[offset]));
        if (ch == 'R' && !(flags & AclUser::kRead)) {
          flags |= AclUser::kRead;
        } else if (ch == 'W' && !(flags & AclUser::kWrite)) {
          flags |= AclUser::kWrite;
        } else if (op[offset] == '~') {
          ++offset;
          break;
        } else {
          *reason = kReasonSyntax;
          return false;
        }
      }
    } else {
      flags = AclUser::kRead | AclUser::kWrite;
    }
    if (flags == 0 || offset >= op.size()) {
      *reason = kReasonSyntax;
      return false;
    }
    if (u->all_keys) {
      *reason =
          "Adding a pattern after the * pattern (or the 'allkeys' flag) is not valid and does "
          "not have any effect. Try 'resetkeys' to start with an empty list of patterns";
      return false;
    }
    std::string_view pattern = op.substr(offset);
    auto it = std::find_if(u->keys.begin(), u->keys.end(),
                           [&](const AclUser::KeyPattern& k) { return k.pattern == pattern; });
    if (it == u->keys.end()) {
      u->keys.push_back(AclUser::KeyPattern{std::string(pattern), flags});
    } else {
      it->flags |= flags;
    }
  } else if (!op.empty() && op[0] == '&') {
    if (u->all_channels) {
      *reason =
          "Adding a pattern after the * pattern (or the 'allchannels' flag) is not valid and "
          "does not have any effect. Try 'resetchannels' to start with an empty list of "
          "channels";
      return false;
    }
    std::string_view pattern = op.substr(1);
    if (std::find(u->channels.begin(), u->channels.end(), pattern) == u->channels.end()) {
      u->channels.emplace_back(pattern);
    }
  } else if (op.size() >= 2 && (op[0] == '+' || op[0] == '-') && op[1] == '@') {
    int c = CategoryIndex(op.substr(2));
    if (c < 0) {
      *reason = kReasonUnknown;
      return false;
    }
    SetCategory(u, c, op[0] == '+');
  } else if (op.size() >= 2 && (op[0] == '+' || op[0] == '-')) {
    const CommandTable& table = CommandTable::Get();
    std::string_view name = op.substr(1);
    size_t bar = name.find('|');
    const CommandSpec* spec = nullptr;
    if (bar == std::string_view::npos) {
      spec = table.Find(name);
    } else if (name.find('|', bar + 1) == std::string_view::npos) {
      spec = table.FindSubcommand(name.substr(0, bar), name.substr(bar + 1));
    }
    if (spec == nullptr) {
      // Also the first-arg form ("+select|0"), which Shardis does not support. As Redis, a
      // first-arg after a subcommand ("+config|get|x") has an error of its own.
      size_t last = name.rfind('|');
      std::string_view base = name.substr(0, last == std::string_view::npos ? 0 : last);
      size_t inner = base.find('|');
      bool of_subcommand = op[0] == '+' && inner != std::string_view::npos &&
                           table.FindSubcommand(base.substr(0, inner), base.substr(inner + 1));
      *reason = of_subcommand ? kReasonSubcommandArg : kReasonUnknown;
      return false;
    }
    ChangePerm(u, static_cast<int>(spec - table.specs().data()), op[0] == '+');
  } else {
    *reason = kReasonSyntax;
    return false;
  }
  return true;
}

bool AclStore::BuildUser(std::string_view name, const std::vector<std::string>& rules, AclUser* out,
                         std::string* error) const {
  if (name.find(' ') != std::string_view::npos || name.find('\0') != std::string_view::npos) {
    *error = "ERR Usernames can't contain spaces or null characters";
    return false;
  }
  std::vector<std::string> merged;
  std::string unmatched;
  if (!MergeSelectorArgs(rules, &merged, &unmatched)) {
    *error = Cat("ERR Unmatched parenthesis in acl selector starting at '", unmatched, "'.");
    return false;
  }
  auto it = users_.find(name);
  *out = it != users_.end() ? *it->second : NewUser(name);
  for (const std::string& rule : merged) {
    std::string reason;
    if (!ApplyRule(out, rule, &reason)) {
      *error = Cat("ERR Error in ACL SETUSER modifier '", rule, "': ", reason);
      return false;
    }
  }
  out->Refresh();
  return true;
}

bool AclStore::ValidateSetUser(std::string_view name, const std::vector<std::string>& rules,
                               std::string* error) const {
  AclUser u;
  return BuildUser(name, rules, &u, error);
}

bool AclStore::SetUser(std::string_view name, const std::vector<std::string>& rules,
                       std::string* error) {
  AclUser u;
  std::string ignored;
  if (!BuildUser(name, rules, &u, error != nullptr ? error : &ignored)) return false;
  auto it = users_.find(name);
  if (it != users_.end()) {
    *it->second = std::move(u);  // in place: pointers clients hold stay valid
  } else {
    users_.emplace(std::string(name), std::make_unique<AclUser>(std::move(u)));
  }
  ++epoch_;
  return true;
}

bool AclStore::DelUser(std::string_view name) {
  auto it = users_.find(name);
  if (it == users_.end()) return false;
  users_.erase(it);
  ++epoch_;
  return true;
}

const AclUser* AclStore::Find(std::string_view name) const {
  auto it = users_.find(name);
  return it == users_.end() ? nullptr : it->second.get();
}

void AclStore::SetRequirepass(std::string_view password) {
  if (password.empty()) {
    SetUser("default", {"nopass"}, nullptr);
  } else {
    SetUser("default", {"resetpass", Cat(">", password)}, nullptr);
  }
}

bool AclStore::CheckCredentials(std::string_view user, std::string_view password) const {
  const AclUser* u = Find(user);
  if (u == nullptr || !u->enabled) return false;
  if (u->nopass) return true;
  std::string hash = Sha256Hex(password);
  return std::find(u->passwords.begin(), u->passwords.end(), hash) != u->passwords.end();
}

bool AclStore::DefaultAutoAuth() const {
  const AclUser* u = Find("default");
  return u != nullptr && u->enabled && u->nopass;
}

AclResult AclStore::Check(const AclUser& user, const CommandSpec& spec, ArgList args, int* errpos) {
  AclResult result = CheckSelector(user, spec, args, errpos);
  if (result == AclResult::kOk) return result;
  // Redis: allowed when any selector allows it; else the most specific denial (command < key <
  // channel) among them.
  for (const AclUser& selector : user.selectors) {
    int pos = 0;
    AclResult r = CheckSelector(selector, spec, args, &pos);
    if (r == AclResult::kOk) return r;
    // As Redis: the worst denial wins; between equal ones, the later argument.
    if (static_cast<int>(r) > static_cast<int>(result) || (r == result && pos > *errpos)) {
      result = r;
      *errpos = pos;
    }
  }
  return result;
}

AclResult AclStore::CheckSelector(const AclUser& user, const CommandSpec& spec, ArgList args,
                                  int* errpos) {
  const CommandTable& table = CommandTable::Get();
  size_t index = &spec - table.specs().data();
  if (!(spec.flags & kCmdNoAuth) && !user.CommandAllowed(index)) return AclResult::kDeniedCommand;
  // The "keys" of SPUBLISH / SSUBSCRIBE / SUNSUBSCRIBE are shard channels (NOT_KEY key specs,
  // for routing only): checked as channels below, never against key patterns.
  if (!user.all_keys && !(spec.flags & kCmdPubsub) &&
      (spec.first_key > 0 || spec.get_keys != nullptr)) {
    std::vector<int> positions;
    CommandTable::KeyPositions(spec, args, &positions);
    const std::vector<AclKeySpec>* key_specs = AclKeySpecsFor(spec.name);
    for (int pos : positions) {
      uint8_t need = KeyNeed(spec, key_specs, args, pos);
      bool ok = false;
      for (const AclUser::KeyPattern& k : user.keys) {
        if ((k.flags & need) == need && GlobMatch(k.pattern, args[pos])) {
          ok = true;
          break;
        }
      }
      if (!ok) {
        *errpos = pos;
        return AclResult::kDeniedKey;
      }
    }
  }
  if (!user.all_channels && (spec.flags & kCmdPubsub)) {
    std::string_view n = spec.name;
    size_t from = 1, to = 0;
    bool literal = false;
    if (n == "publish" || n == "spublish") {
      to = 2;
    } else if (n == "subscribe" || n == "ssubscribe") {
      to = args.size();
    } else if (n == "psubscribe") {
      to = args.size();
      literal = true;
    }
    for (size_t i = from; i < to && i < args.size(); ++i) {
      bool ok = false;
      for (const std::string& p : user.channels) {
        if (literal ? p == args[i] : GlobMatch(p, args[i])) {
          ok = true;
          break;
        }
      }
      if (!ok) {
        *errpos = static_cast<int>(i);
        return AclResult::kDeniedChannel;
      }
    }
  }
  return AclResult::kOk;
}

std::vector<std::string> AclStore::Flags(const AclUser& u) {
  std::vector<std::string> out;
  out.emplace_back(u.enabled ? "on" : "off");
  if (u.nopass) out.emplace_back("nopass");
  if (u.sanitize == 2) out.emplace_back("skip-sanitize-payload");
  if (u.sanitize == 1) out.emplace_back("sanitize-payload");
  return out;
}

std::string AclStore::DescribeKeys(const AclUser& u) {
  if (u.all_keys) return "~*";
  std::string out;
  for (const AclUser::KeyPattern& k : u.keys) {
    if (!out.empty()) out += ' ';
    if (k.flags == AclUser::kRead) out += "%R";
    if (k.flags == AclUser::kWrite) out += "%W";
    CatAppend(&out, "~", k.pattern);
  }
  return out;
}

std::string AclStore::DescribeChannels(const AclUser& u) {
  if (u.all_channels) return "&*";
  std::string out;
  for (const std::string& c : u.channels) {
    if (!out.empty()) out += ' ';
    CatAppend(&out, "&", c);
  }
  return out;
}

std::string AclStore::DescribeCommands(const AclUser& u) {
  const auto& infos = Infos();
  const auto& specs = CommandTable::Get().specs();
  const auto& cats = Categories();
  AclUser fake, temp;
  std::string rules;
  bool additive = !u.future_commands;
  SetAll(&fake, !additive);
  rules = additive ? "-@all " : "+@all ";
  temp.allowed = u.allowed;
  // Redis 7.0's best fit: repeatedly the category with more commands in common with the user
  // than different, fewest differences first, then most in common.
  while (true) {
    int best = -1;
    size_t min_diff = SIZE_MAX, max_same = 0;
    for (size_t c = 0; c < cats.size(); ++c) {
      size_t on = 0, off = 0;
      for (size_t i = 0; i < infos.size(); ++i) {
        if (!(infos[i].categories & (1u << c))) continue;
        if (temp.CommandAllowed(i)) {
          ++on;
        } else {
          ++off;
        }
      }
      size_t diff = additive ? off : on, same = additive ? on : off;
      if (same > diff && (diff < min_diff || (diff == min_diff && same > max_same))) {
        best = static_cast<int>(c);
        min_diff = diff;
        max_same = same;
      }
    }
    if (best < 0) break;
    SetCategory(&fake, best, additive);
    SetCategory(&temp, best, !additive);
    CatAppend(&rules, additive ? "+@" : "-@", cats[best], " ");
  }
  for (size_t i = 0; i < specs.size(); ++i) {
    if (infos[i].parent >= 0) continue;
    bool userbit = u.CommandAllowed(i), fakebit = fake.CommandAllowed(i);
    if (userbit != fakebit) {
      CatAppend(&rules, userbit ? "+" : "-", specs[i].name, " ");
      ChangePerm(&fake, static_cast<int>(i), userbit);
    }
    for (int child : infos[i].children) {
      userbit = u.CommandAllowed(child);
      if (userbit != fake.CommandAllowed(child)) {
        CatAppend(&rules, userbit ? "+" : "-", specs[child].name, " ");
        fake.SetCommand(child, userbit);
      }
    }
  }
  rules.pop_back();
  return rules;
}

std::string AclStore::DescribeSelector(const AclUser& sel) {
  std::string out = DescribeKeys(sel);
  if (!out.empty()) out += ' ';
  if (sel.all_channels) {
    out += "&* ";
  } else {
    out += "resetchannels ";
    std::string channels = DescribeChannels(sel);
    if (!channels.empty()) CatAppend(&out, channels, " ");
  }
  out += DescribeCommands(sel);
  return out;
}

std::string AclStore::Describe(const AclUser& u) const {
  std::string out = Cat("user ", u.name);
  for (const std::string& f : Flags(u)) CatAppend(&out, " ", f);
  for (const std::string& p : u.passwords) CatAppend(&out, " #", p);
  std::string keys = DescribeKeys(u);
  if (!keys.empty()) CatAppend(&out, " ", keys);
  if (!u.all_channels) out += " resetchannels";
  std::string channels = DescribeChannels(u);
  if (!channels.empty()) CatAppend(&out, " ", channels);
  CatAppend(&out, " ", DescribeCommands(u));
  for (const AclUser& sel : u.selectors) CatAppend(&out, " (", DescribeSelector(sel), ")");
  return out;
}

std::vector<std::string> AclStore::UserNames() const {
  std::vector<std::string> out;
  for (const auto& [name, u] : users_) out.push_back(name);
  return out;
}

void AclStore::AddLog(AclLogEntry entry, size_t max_len) {
  // Redis groups an entry with a similar recent one (less than 60 seconds old).
  // Like Redis, only the 10 most recent entries are scanned for a match.
  int to_scan = 10;
  for (auto it = log_.begin(); it != log_.end() && to_scan-- > 0; ++it) {
    if (it->reason == entry.reason && it->context == entry.context && it->object == entry.object &&
        it->username == entry.username && entry.updated_ms - it->updated_ms < 60000) {
      AclLogEntry merged = std::move(*it);
      log_.erase(it);
      ++merged.count;
      merged.updated_ms = entry.updated_ms;
      merged.client_info = std::move(entry.client_info);
      log_.push_front(std::move(merged));
      return;
    }
  }
  log_.push_front(std::move(entry));
  while (log_.size() > max_len) log_.pop_back();
}

bool AclStore::LoadText(std::string_view text, std::string_view source, std::string* error) {
  AclStore fresh;
  fresh.pubsub_default_all_ = pubsub_default_all_;
  fresh.users_.clear();
  std::vector<std::string> seen;
  int lineno = 0;
  size_t pos = 0;
  while (pos <= text.size()) {
    size_t nl = text.find('\n', pos);
    std::string_view line =
        text.substr(pos, nl == std::string_view::npos ? std::string_view::npos : nl - pos);
    pos = nl == std::string_view::npos ? text.size() + 1 : nl + 1;
    ++lineno;
    std::vector<std::string> words = SplitWords(line);
    if (words.empty()) continue;
    // Redis's ACL LOAD wording (comments are not allowed either).
    constexpr std::string_view kNoChange =
        "WARNING: ACL errors detected, no change to the previously active ACL rules was "
        "performed";
    if (words[0] != "user" || words.size() < 2) {
      *error = Cat(source, ":", lineno,
                   " should start with user keyword followed by the username. ", kNoChange);
      return false;
    }
    if (std::find(seen.begin(), seen.end(), words[1]) != seen.end()) {
      *error =
          Cat("WARNING: Duplicate user '", words[1], "' found on line ", lineno, ". ", kNoChange);
      return false;
    }
    seen.push_back(words[1]);
    AclUser u = fresh.NewUser(words[1]);
    std::vector<std::string> rules;
    std::string unmatched;
    if (!MergeSelectorArgs(std::vector<std::string>(words.begin() + 2, words.end()), &rules,
                           &unmatched)) {
      *error = Cat(source, ":", lineno, ": Unmatched parenthesis in acl selector starting at '",
                   unmatched, "'. ", kNoChange);
      return false;
    }
    for (const std::string& rule : rules) {
      std::string reason;
      if (!fresh.ApplyRule(&u, rule, &reason)) {
        *error = Cat(source, ":", lineno, ": Error in applying operation '", rule, "': ", reason,
                     ". ", kNoChange);
        return false;
      }
    }
    u.Refresh();
    fresh.users_[words[1]] = std::make_unique<AclUser>(std::move(u));
  }
  if (fresh.Find("default") == nullptr) {
    AclStore plain;
    fresh.users_["default"] = std::move(plain.users_["default"]);
  }
  users_ = std::move(fresh.users_);
  ++epoch_;
  return true;
}

std::string AclStore::SaveText() const {
  std::string out;
  for (const auto& [name, u] : users_) CatAppend(&out, Describe(*u), "\n");
  return out;
}

bool AclStore::FromConfig(const Config& config, AclStore* out, std::string* error) {
  *out = AclStore();
  std::string pubsub;
  config.Get("acl-pubsub-default", &pubsub);
  out->pubsub_default_all_ = pubsub == "allchannels";
  std::string aclfile;
  config.Get("aclfile", &aclfile);
  if (!aclfile.empty() && !config.acl_users.empty()) {
    *error =
        "Configuring Redis with users defined in redis.conf and at the same setting an ACL file "
        "path is invalid. This setup is very likely to lead to configuration errors and security "
        "holes, please define either an ACL file or declare users directly in your redis.conf, "
        "but not both.";
    return false;
  }
  for (const std::vector<std::string>& line : config.acl_users) {
    std::vector<std::string> rules(line.begin() + 1, line.end());
    std::string err;
    if (!out->SetUser(line[0], rules, &err)) {
      *error = Cat("Error in user declaration '", line[0], "': ", err);
      return false;
    }
  }
  if (!config.requirepass.empty()) out->SetRequirepass(config.requirepass);
  if (!aclfile.empty()) {
    FILE* f = fopen(aclfile.c_str(), "r");
    if (f == nullptr) {
      *error = Cat("Error loading ACLs, opening file '", aclfile, "': ", strerror(errno));
      return false;
    }
    std::string text;
    char buf[4096];
    size_t n;
    while ((n = fread(buf, 1, sizeof(buf), f)) > 0) text.append(buf, n);
    fclose(f);
    if (!out->LoadText(text, aclfile, error)) {
      *error = Cat("Aborting Redis startup because of ACL errors: ", *error);
      return false;
    }
  }
  return true;
}

}  // namespace shardis
