#include "server/tracking.h"

#include <algorithm>

#include "server/command.h"

namespace shardis {

namespace {
thread_local TrackingSink* tls_sink = nullptr;
}  // namespace

void SetThreadTrackingSink(TrackingSink* sink) { tls_sink = sink; }

void InvalidateScriptWrite(ArgList args, const std::vector<int>& key_positions) {
  if (tls_sink == nullptr || tls_sink->tracking_empty()) return;
  for (int pos : key_positions) tls_sink->InvalidateKey(args[pos]);
}

std::atomic<int>& TrackingClientCount() {
  static std::atomic<int> count{0};
  return count;
}

void TrackingTable::Remember(std::string_view key, ClientRef client) {
  auto& clients = keys_[AV(key)];
  if (std::find(clients.begin(), clients.end(), client) != clients.end()) return;
  clients.push_back(client);
  ++items_;
}

std::vector<ClientRef> TrackingTable::Take(std::string_view key) {
  auto it = keys_.find(AV(key));
  if (it == keys_.end()) return {};
  std::vector<ClientRef> out = std::move(it->second);
  items_ -= out.size();
  keys_.erase(it);
  return out;
}

std::vector<std::string> TrackingTable::KeysBeyond(size_t max_keys, size_t limit) const {
  std::vector<std::string> out;
  if (keys_.size() <= max_keys) return out;
  size_t n = std::min(keys_.size() - max_keys, limit);
  for (const auto& [key, clients] : keys_) {
    if (out.size() >= n) break;
    out.emplace_back(key);
  }
  return out;
}

void TrackingTable::AddPrefix(ClientRef client, std::string prefix) {
  for (const auto& [p, c] : bcast_) {
    if (c == client && p == prefix) return;
  }
  bcast_.emplace_back(std::move(prefix), client);
}

void TrackingTable::RemoveClient(ClientRef client) {
  std::erase_if(bcast_, [&](const auto& entry) { return entry.second == client; });
}

size_t TrackingTable::prefixes() const {
  std::vector<std::string_view> all;
  for (const auto& entry : bcast_) all.push_back(entry.first);
  std::sort(all.begin(), all.end());
  return static_cast<size_t>(std::unique(all.begin(), all.end()) - all.begin());
}

std::vector<ClientRef> TrackingTable::MatchPrefixes(std::string_view key) const {
  std::vector<ClientRef> out;
  for (const auto& [prefix, client] : bcast_) {
    if (key.starts_with(prefix) && std::find(out.begin(), out.end(), client) == out.end()) {
      out.push_back(client);
    }
  }
  return out;
}

std::vector<std::pair<std::string_view, ClientRef>> TrackingTable::MatchingPrefixes(
    std::string_view key) const {
  std::vector<std::pair<std::string_view, ClientRef>> out;
  for (const auto& [prefix, client] : bcast_) {
    if (key.starts_with(prefix)) out.emplace_back(prefix, client);
  }
  return out;
}

void AppendInvalidatePush(std::string* out, bool resp3_target, const std::vector<std::string>& keys,
                          bool null, std::string_view null_proto) {
  if (resp3_target) {
    out->append(">2\r\n$10\r\ninvalidate\r\n");
  } else {
    out->append("*3\r\n$7\r\nmessage\r\n$20\r\n__redis__:invalidate\r\n");
  }
  if (null) {
    out->append(null_proto);
    return;
  }
  CatAppend(out, "*", keys.size(), "\r\n");
  for (const std::string& k : keys) CatAppend(out, "$", k.size(), "\r\n", k, "\r\n");
}

std::string ParseTracking(const ClientTracking& current, const std::vector<std::string>& args,
                          ClientTracking* next) {
  // args: CLIENT TRACKING on|off [options...]
  ClientTracking t;
  bool redirect_given = false;
  for (size_t j = 3; j < args.size(); ++j) {
    bool more = j + 1 < args.size();
    const std::string& a = args[j];
    if (cmd::EqualsIgnoreCase(a, "redirect") && more) {
      ++j;
      if (redirect_given) return "ERR A client can only redirect to a single other client";
      int64_t id = 0;
      if (!cmd::ParseInt64(args[j], &id)) return std::string(cmd::kNotIntErr);
      t.redirect = static_cast<uint64_t>(id);
      redirect_given = true;
    } else if (cmd::EqualsIgnoreCase(a, "bcast")) {
      t.bcast = true;
    } else if (cmd::EqualsIgnoreCase(a, "optin")) {
      t.optin = true;
    } else if (cmd::EqualsIgnoreCase(a, "optout")) {
      t.optout = true;
    } else if (cmd::EqualsIgnoreCase(a, "noloop")) {
      t.noloop = true;
    } else if (cmd::EqualsIgnoreCase(a, "prefix") && more) {
      ++j;
      t.prefixes.push_back(args[j]);
    } else {
      return std::string(cmd::kSyntaxErr);
    }
  }
  if (cmd::EqualsIgnoreCase(args[2], "off")) {
    *next = ClientTracking{};
    return {};
  }
  if (!cmd::EqualsIgnoreCase(args[2], "on")) return std::string(cmd::kSyntaxErr);
  if (!t.bcast && !t.prefixes.empty()) return "ERR PREFIX option requires BCAST mode to be enabled";
  if (current.on && current.bcast != t.bcast) {
    return "ERR You can't switch BCAST mode on/off before disabling tracking for this client, "
           "and then re-enabling it with a different mode.";
  }
  if (t.bcast && (t.optin || t.optout)) return "ERR OPTIN and OPTOUT are not compatible with BCAST";
  if (t.optin && t.optout) return "ERR You can't specify both OPTIN mode and OPTOUT mode";
  if ((t.optin && current.optout) || (t.optout && current.optin)) {
    return "ERR You can't switch OPTIN/OPTOUT mode before disabling tracking for this client, and "
           "then re-enabling it with a different mode.";
  }
  if (t.bcast) {
    // Redis's checkPrefixCollisionsOrReply: against the client's prefixes, then each other.
    std::vector<std::string> all = current.on ? current.prefixes : std::vector<std::string>{};
    for (size_t i = 0; i < t.prefixes.size(); ++i) {
      const std::string& p = t.prefixes[i];
      for (const std::string& q : all) {
        if (p.starts_with(q) || q.starts_with(p)) {
          return Cat("ERR Prefix '", p, "' overlaps with an existing prefix '", q,
                     "'. Prefixes for a single client must not overlap.");
        }
      }
      for (size_t k = i + 1; k < t.prefixes.size(); ++k) {
        const std::string& q = t.prefixes[k];
        if (p.starts_with(q) || q.starts_with(p)) {
          return Cat("ERR Prefix '", p, "' overlaps with another provided prefix '", q,
                     "'. Prefixes for a single client must not overlap.");
        }
      }
    }
  }
  // Enabling again keeps the previous prefixes and adds the new ones (enableTracking).
  std::vector<std::string> prefixes = current.on ? current.prefixes : std::vector<std::string>{};
  for (const std::string& p : t.prefixes) {
    if (std::find(prefixes.begin(), prefixes.end(), p) == prefixes.end()) prefixes.push_back(p);
  }
  if (t.bcast && prefixes.empty()) prefixes.emplace_back();  // BCAST alone: every key
  t.prefixes = std::move(prefixes);
  t.on = true;
  t.caching = false;
  *next = std::move(t);
  return {};
}

}  // namespace shardis
