// Config implementation: the parameter table (every parameter redis-server 7.0.15 knows, plus
// Shardis's own `threads` and `pin`), Redis's parsers for each type (string2ll, memtoull,
// sdssplitargs...) ported so that accepted values, normalised output and error wording match
// redis-server exactly, and redis.conf / command-line loading.
#include "server/config.h"

#include <glob.h>
#include <limits.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iostream>
#include <iterator>
#include <span>
#include <sstream>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "server/config_parse.h"
#include "storage/glob.h"

#ifndef SHARDIS_VERSION
#define SHARDIS_VERSION "unknown"
#endif

namespace shardis {
namespace {

// Debian's abseil has its own absl::string_view, distinct from std::string_view: convert at the
// boundary with absl's string functions.
absl::string_view ToAbsl(std::string_view s) { return absl::string_view(s.data(), s.size()); }
std::string_view ToStd(absl::string_view s) { return std::string_view(s.data(), s.size()); }
bool EqualsNoCase(std::string_view a, std::string_view b) {
  return absl::EqualsIgnoreCase(ToAbsl(a), ToAbsl(b));
}
std::string Lower(std::string_view s) { return absl::AsciiStrToLower(ToAbsl(s)); }

using config_parse::ErrnoText;
using config_parse::MemToUll;
using config_parse::Repr;
using config_parse::SplitArgs;
using config_parse::SplitOnSpace;
using config_parse::String2d;
using config_parse::String2ll;
using config_parse::StrToLL;
using config_parse::TrimLine;

enum class Type : uint8_t { kBool, kNumeric, kEnum, kString, kSpecial };

enum Flag : uint16_t {
  kMutable = 0,
  kImmutable = 1 << 0,  // CONFIG SET refuses it; startup only
  kProtected = 1 << 1,  // CONFIG SET needs enable-protected-configs
  kHidden = 1 << 2,     // CONFIG GET lists it only when asked by its exact name
  kMultiArg = 1 << 3,   // a config line gives several arguments; CONFIG SET splits on ' '
  kSensitive = 1 << 4,  // value redacted from SLOWLOG / MONITOR
};

// How a numeric value is written (Redis's MEMORY_CONFIG, PERCENT_CONFIG, OCTAL_CONFIG).
enum NumFlag : uint8_t { kInteger = 0, kMemory = 1, kPercent = 2, kOctal = 4 };

// Validation or handling beyond the plain type.
enum class Rule : uint8_t {
  kNone,
  kHz,               // clamped to 1..500 after a successful set
  kReplBacklogSize,  // CONFIG SET raises it to 16kb, as resizeReplicationBacklog() does
  kDbfilename,
  kAofFilename,
  kAofDirname,
  kHostname,
  kProcTitle,
  kShutdownFlags,
  kDir,
  kSave,
  kClientOutputBufferLimit,
  kOomScoreAdjValues,
  kNotifyKeyspaceEvents,
  kBind,
  kReplicaof,
  kPercentiles,
};

struct EnumEntry {
  std::string_view name;
  int value;
};

struct Param {
  std::string_view name;
  std::string_view alias;
  Type type;
  uint16_t flags;
  std::string_view def;  // as CONFIG GET prints it
  long long lo = 0;      // numeric bounds; for unsigned_bounds, compared as unsigned long long
  long long hi = 0;
  uint8_t num = kInteger;
  bool unsigned_bounds = false;  // Redis's unsigned storage types (uint, size_t, ull)
  std::span<const EnumEntry> enums = {};
  Rule rule = Rule::kNone;
};

constexpr Param Bool(std::string_view n, std::string_view a, uint16_t f, std::string_view d) {
  return Param{n, a, Type::kBool, f, d};
}
constexpr Param Int(std::string_view n, std::string_view a, uint16_t f, long long lo, long long hi,
                    std::string_view d, uint8_t num = kInteger, Rule rule = Rule::kNone) {
  return Param{n, a, Type::kNumeric, f, d, lo, hi, num, false, {}, rule};
}
constexpr Param UInt(std::string_view n, std::string_view a, uint16_t f, unsigned long long lo,
                     unsigned long long hi, std::string_view d, uint8_t num = kInteger) {
  return Param{
      n,   a,   Type::kNumeric, f, d, static_cast<long long>(lo), static_cast<long long>(hi),
      num, true};
}
constexpr Param Enum(std::string_view n, std::string_view a, uint16_t f,
                     std::span<const EnumEntry> e, std::string_view d, Rule rule = Rule::kNone) {
  return Param{n, a, Type::kEnum, f, d, 0, 0, kInteger, false, e, rule};
}
constexpr Param Str(std::string_view n, std::string_view a, uint16_t f, std::string_view d,
                    Rule rule = Rule::kNone) {
  return Param{n, a, Type::kString, f, d, 0, 0, kInteger, false, {}, rule};
}
constexpr Param Special(std::string_view n, std::string_view a, uint16_t f, std::string_view d,
                        Rule rule) {
  return Param{n, a, Type::kSpecial, f, d, 0, 0, kInteger, false, {}, rule};
}

constexpr EnumEntry kMaxmemoryPolicy[] = {
    {"volatile-lru", 0}, {"volatile-lfu", 1}, {"volatile-random", 2}, {"volatile-ttl", 3},
    {"allkeys-lru", 4},  {"allkeys-lfu", 5},  {"allkeys-random", 6},  {"noeviction", 7}};
constexpr EnumEntry kSyslogFacility[] = {{"user", 0},   {"local0", 1}, {"local1", 2},
                                         {"local2", 3}, {"local3", 4}, {"local4", 5},
                                         {"local5", 6}, {"local6", 7}, {"local7", 8}};
constexpr EnumEntry kLoglevel[] = {{"debug", 0}, {"verbose", 1}, {"notice", 2}, {"warning", 3}};
constexpr EnumEntry kSupervised[] = {{"upstart", 1}, {"systemd", 2}, {"auto", 3}, {"no", 0}};
constexpr EnumEntry kAppendfsync[] = {{"everysec", 0}, {"always", 1}, {"no", 2}};
constexpr EnumEntry kReplDisklessLoad[] = {{"disabled", 0}, {"on-empty-db", 1}, {"swapdb", 2}};
constexpr EnumEntry kTlsAuthClients[] = {{"no", 0}, {"yes", 1}, {"optional", 2}};
constexpr EnumEntry kOomScoreAdj[] = {{"no", 0}, {"yes", 1}, {"relative", 1}, {"absolute", 2}};
constexpr EnumEntry kAclPubsubDefault[] = {{"allchannels", 1}, {"resetchannels", 0}};
constexpr EnumEntry kSanitizeDumpPayload[] = {{"no", 0}, {"yes", 1}, {"clients", 2}};
constexpr EnumEntry kProtectedAction[] = {{"no", 0}, {"yes", 1}, {"local", 2}};
constexpr EnumEntry kEndpointType[] = {{"ip", 0}, {"hostname", 1}, {"unknown-endpoint", 2}};
constexpr EnumEntry kPropagationError[] = {{"ignore", 0}, {"panic", 1}, {"panic-on-replicas", 2}};
constexpr int kShutdownSave = 1;
constexpr int kShutdownNosave = 2;
constexpr EnumEntry kShutdownOnSig[] = {
    {"default", 0}, {"save", kShutdownSave}, {"nosave", kShutdownNosave}, {"now", 4}, {"force", 8}};

constexpr long long kIntMax = INT_MAX;
constexpr long long kIntMin = INT_MIN;
constexpr long long kLongMax = LLONG_MAX;  // LP64: long == long long
constexpr uint16_t I = kImmutable;
constexpr uint16_t M = kMutable;

// The table. Order follows redis-server 7.0's config.c; defaults are CONFIG GET's output.
constexpr Param kParams[] = {
    // Booleans.
    Bool("rdbchecksum", "", I, "yes"),
    Bool("daemonize", "", I, "no"),
    Bool("io-threads-do-reads", "", I, "no"),
    Bool("always-show-logo", "", I, "no"),
    Bool("protected-mode", "", M, "yes"),
    Bool("rdbcompression", "", M, "yes"),
    Bool("rdb-del-sync-files", "", M, "no"),
    Bool("activerehashing", "", M, "yes"),
    Bool("stop-writes-on-bgsave-error", "", M, "yes"),
    Bool("set-proc-title", "", I, "yes"),
    Bool("dynamic-hz", "", M, "yes"),
    Bool("lazyfree-lazy-eviction", "", M, "no"),
    Bool("lazyfree-lazy-expire", "", M, "no"),
    Bool("lazyfree-lazy-server-del", "", M, "no"),
    Bool("lazyfree-lazy-user-del", "", M, "no"),
    Bool("lazyfree-lazy-user-flush", "", M, "no"),
    Bool("repl-disable-tcp-nodelay", "", M, "no"),
    Bool("repl-diskless-sync", "", M, "yes"),
    Bool("aof-rewrite-incremental-fsync", "", M, "yes"),
    Bool("no-appendfsync-on-rewrite", "", M, "no"),
    Bool("cluster-require-full-coverage", "", M, "yes"),
    Bool("rdb-save-incremental-fsync", "", M, "yes"),
    Bool("aof-load-truncated", "", M, "yes"),
    Bool("aof-use-rdb-preamble", "", M, "yes"),
    Bool("aof-timestamp-enabled", "", M, "no"),
    Bool("cluster-replica-no-failover", "cluster-slave-no-failover", M, "no"),
    Bool("replica-lazy-flush", "slave-lazy-flush", M, "no"),
    Bool("replica-serve-stale-data", "slave-serve-stale-data", M, "yes"),
    Bool("replica-read-only", "slave-read-only", M, "yes"),
    Bool("replica-ignore-maxmemory", "slave-ignore-maxmemory", M, "yes"),
    Bool("jemalloc-bg-thread", "", M, "yes"),
    Bool("activedefrag", "", M, "no"),
    Bool("syslog-enabled", "", I, "no"),
    Bool("cluster-enabled", "", I, "no"),
    Bool("appendonly", "", M, "no"),
    Bool("cluster-allow-reads-when-down", "", M, "no"),
    Bool("cluster-allow-pubsubshard-when-down", "", M, "yes"),
    Bool("crash-log-enabled", "", M, "yes"),
    Bool("crash-memcheck-enabled", "", M, "yes"),
    Bool("use-exit-on-panic", "", M | kHidden, "no"),
    Bool("disable-thp", "", I, "yes"),
    Bool("cluster-allow-replica-migration", "", M, "yes"),
    Bool("replica-announced", "", M, "yes"),
    Bool("latency-tracking", "", M, "yes"),
    Bool("aof-disable-auto-gc", "", M, "no"),
    Bool("replica-ignore-disk-write-errors", "", M, "no"),
    Bool("tls-cluster", "", M, "no"),
    Bool("tls-replication", "", M, "no"),
    Bool("tls-prefer-server-ciphers", "", M, "no"),
    Bool("tls-session-caching", "", M, "yes"),
    Bool("pin", "", I, "yes"),  // Shardis: pin each reactor thread to one CPU

    // Strings.
    Str("aclfile", "", I, ""),
    Str("unixsocket", "", I, ""),
    Str("pidfile", "", I, ""),
    Str("replica-announce-ip", "slave-announce-ip", M, ""),
    Str("masteruser", "", M | kSensitive, ""),
    Str("cluster-announce-ip", "", M, ""),
    Str("cluster-config-file", "", I, "nodes.conf"),
    Str("cluster-announce-hostname", "", M, "", Rule::kHostname),
    Str("syslog-ident", "", I, "redis"),
    Str("dbfilename", "", M | kProtected, "dump.rdb", Rule::kDbfilename),
    Str("appendfilename", "", I, "appendonly.aof", Rule::kAofFilename),
    Str("appenddirname", "", I, "appendonlydir", Rule::kAofDirname),
    Str("server_cpulist", "", I, ""),
    Str("bio_cpulist", "", I, ""),
    Str("aof_rewrite_cpulist", "", I, ""),
    Str("bgsave_cpulist", "", I, ""),
    Str("ignore-warnings", "", M, ""),
    Str("proc-title-template", "", M, "{title} {listen-addr} {server-mode}", Rule::kProcTitle),
    Str("bind-source-addr", "", M, ""),
    Str("logfile", "", I, ""),
    Str("masterauth", "", M | kSensitive, ""),
    Str("requirepass", "", M | kSensitive, ""),
    Str("tls-cert-file", "", M, ""),
    Str("tls-key-file", "", M, ""),
    Str("tls-key-file-pass", "", M, ""),
    Str("tls-client-cert-file", "", M, ""),
    Str("tls-client-key-file", "", M, ""),
    Str("tls-client-key-file-pass", "", M, ""),
    Str("tls-dh-params-file", "", M, ""),
    Str("tls-ca-cert-file", "", M, ""),
    Str("tls-ca-cert-dir", "", M, ""),
    Str("tls-protocols", "", M, ""),
    Str("tls-ciphers", "", M, ""),
    Str("tls-ciphersuites", "", M, ""),

    // Enums.
    Enum("supervised", "", I, kSupervised, "no"),
    Enum("syslog-facility", "", I, kSyslogFacility, "local0"),
    Enum("repl-diskless-load", "", M, kReplDisklessLoad, "disabled"),
    Enum("loglevel", "", M, kLoglevel, "notice"),
    Enum("maxmemory-policy", "", M, kMaxmemoryPolicy, "noeviction"),
    Enum("appendfsync", "", M, kAppendfsync, "everysec"),
    Enum("oom-score-adj", "", M, kOomScoreAdj, "no"),
    Enum("acl-pubsub-default", "", M, kAclPubsubDefault, "resetchannels"),
    Enum("sanitize-dump-payload", "", M, kSanitizeDumpPayload, "no"),
    Enum("enable-protected-configs", "", I, kProtectedAction, "no"),
    Enum("enable-debug-command", "", I, kProtectedAction,
         "local"),  // Shardis: "local" (Redis: "no")
    Enum("enable-module-command", "", I, kProtectedAction, "no"),
    Enum("cluster-preferred-endpoint-type", "", M, kEndpointType, "ip"),
    Enum("propagation-error-behavior", "", M, kPropagationError, "ignore"),
    Enum("shutdown-on-sigint", "", M | kMultiArg, kShutdownOnSig, "default", Rule::kShutdownFlags),
    Enum("shutdown-on-sigterm", "", M | kMultiArg, kShutdownOnSig, "default", Rule::kShutdownFlags),
    Enum("tls-auth-clients", "", M, kTlsAuthClients, "yes"),

    // Signed integers.
    Int("databases", "", I, 1, kIntMax, "16"),
    Int("port", "", M, 0, 65535, "6379"),
    Int("io-threads", "", I, 1, 128, "1"),
    Int("auto-aof-rewrite-percentage", "", M, 0, kIntMax, "100"),
    Int("cluster-replica-validity-factor", "cluster-slave-validity-factor", M, 0, kIntMax, "10"),
    Int("list-max-listpack-size", "list-max-ziplist-size", M, kIntMin, kIntMax, "-2"),
    Int("tcp-keepalive", "", M, 0, kIntMax, "300"),
    Int("cluster-migration-barrier", "", M, 0, kIntMax, "1"),
    Int("active-defrag-cycle-min", "", M, 1, 99, "1"),
    Int("active-defrag-cycle-max", "", M, 1, 99, "25"),
    Int("active-defrag-threshold-lower", "", M, 0, 1000, "10"),
    Int("active-defrag-threshold-upper", "", M, 0, 1000, "100"),
    Int("lfu-log-factor", "", M, 0, kIntMax, "10"),
    Int("lfu-decay-time", "", M, 0, kIntMax, "1"),
    Int("replica-priority", "slave-priority", M, 0, kIntMax, "100"),
    Int("repl-diskless-sync-delay", "", M, 0, kIntMax, "5"),
    Int("maxmemory-samples", "", M, 1, kIntMax, "5"),
    Int("maxmemory-eviction-tenacity", "", M, 0, 100, "10"),
    Int("timeout", "", M, 0, kIntMax, "0"),
    Int("replica-announce-port", "slave-announce-port", M, 0, 65535, "0"),
    Int("tcp-backlog", "", I, 0, kIntMax, "511"),
    Int("cluster-port", "", I, 0, 65535, "0"),
    Int("cluster-announce-bus-port", "", M, 0, 65535, "0"),
    Int("cluster-announce-port", "", M, 0, 65535, "0"),
    Int("cluster-announce-tls-port", "", M, 0, 65535, "0"),
    Int("repl-timeout", "", M, 1, kIntMax, "60"),
    Int("repl-ping-replica-period", "repl-ping-slave-period", M, 1, kIntMax, "10"),
    Int("list-compress-depth", "", M, 0, kIntMax, "0"),
    Int("rdb-key-save-delay", "", M | kHidden, kIntMin, kIntMax, "0"),
    Int("key-load-delay", "", M | kHidden, kIntMin, kIntMax, "0"),
    Int("active-expire-effort", "", M, 1, 10, "1"),
    Int("hz", "", M, 0, kIntMax, "10", kInteger, Rule::kHz),
    Int("min-replicas-to-write", "min-slaves-to-write", M, 0, kIntMax, "0"),
    Int("min-replicas-max-lag", "min-slaves-max-lag", M, 0, kIntMax, "10"),
    Int("watchdog-period", "", M | kHidden, 0, kIntMax, "0"),
    Int("shutdown-timeout", "", M, 0, kIntMax, "10"),
    Int("repl-diskless-sync-max-replicas", "", M, 0, kIntMax, "0"),
    Int("tls-port", "", M, 0, 65535, "0"),
    Int("tls-session-cache-size", "", M, 0, kIntMax, "20480"),
    Int("tls-session-cache-timeout", "", M, 0, kIntMax, "300"),
    Int("active-defrag-max-scan-fields", "", M, 1, kLongMax, "1000"),
    Int("slowlog-max-len", "", M, 0, kLongMax, "128"),
    Int("acllog-max-len", "", M, 0, kLongMax, "128"),
    Int("busy-reply-threshold", "lua-time-limit", M, 0, kLongMax, "5000"),
    Int("cluster-node-timeout", "", M, 0, kLongMax, "15000"),
    Int("slowlog-log-slower-than", "", M, -1, kLongMax, "10000"),
    Int("latency-monitor-threshold", "", M, 0, kLongMax, "0"),
    Int("proto-max-bulk-len", "", M, 1024 * 1024, kLongMax, "536870912", kMemory),
    Int("stream-node-max-entries", "", M, 0, kLongMax, "100"),
    Int("repl-backlog-size", "", M, 1, kLongMax, "1048576", kMemory, Rule::kReplBacklogSize),
    Int("maxmemory-clients", "", M, -100, kLongMax, "0", kMemory | kPercent),
    Int("repl-backlog-ttl", "", M, 0, kLongMax, "3600"),
    Int("auto-aof-rewrite-min-size", "", M, 0, kLongMax, "67108864", kMemory),
    Int("loading-process-events-interval-bytes", "", M | kHidden, 1024, kIntMax, "2097152"),
    Int("threads", "", I, 0, 1024, "0"),        // Shardis: reactor threads, 0 = CPUs available
    Int("metrics-port", "", I, 0, 65535, "0"),  // Shardis: Prometheus /metrics, 0 = off

    // Unsigned integers (Redis's uint, size_t and unsigned long long storage).
    UInt("maxclients", "", M, 1, UINT_MAX, "10000"),
    UInt("unixsocketperm", "", I, 0, 0777, "0", kOctal),
    UInt("socket-mark-id", "", I, 0, UINT_MAX, "0"),
    UInt("maxmemory", "", M, 0, ULLONG_MAX, "0", kMemory),
    UInt("cluster-link-sendbuf-limit", "", M, 0, ULLONG_MAX, "0", kMemory),
    UInt("hash-max-listpack-entries", "hash-max-ziplist-entries", M, 0, kLongMax, "512"),
    UInt("set-max-intset-entries", "", M, 0, kLongMax, "512"),
    UInt("zset-max-listpack-entries", "zset-max-ziplist-entries", M, 0, kLongMax, "128"),
    UInt("active-defrag-ignore-bytes", "", M, 1, kLongMax, "104857600", kMemory),
    UInt("hash-max-listpack-value", "hash-max-ziplist-value", M, 0, kLongMax, "64", kMemory),
    UInt("stream-node-max-bytes", "", M, 0, kLongMax, "4096", kMemory),
    UInt("zset-max-listpack-value", "zset-max-ziplist-value", M, 0, kLongMax, "64", kMemory),
    UInt("hll-sparse-max-bytes", "", M, 0, kLongMax, "3000", kMemory),
    UInt("tracking-table-max-keys", "", M, 0, kLongMax, "1000000"),
    UInt("client-query-buffer-limit", "", M, 1024 * 1024, kLongMax, "1073741824", kMemory),

    // Special formats.
    Special("dir", "", M | kProtected, "", Rule::kDir),  // default: the working directory
    Special("save", "", M | kMultiArg, "3600 1 300 100 60 10000", Rule::kSave),
    Special("client-output-buffer-limit", "", M | kMultiArg,
            "normal 0 0 0 slave 268435456 67108864 60 pubsub 33554432 8388608 60",
            Rule::kClientOutputBufferLimit),
    Special("oom-score-adj-values", "", M | kMultiArg, "0 200 800", Rule::kOomScoreAdjValues),
    Special("notify-keyspace-events", "", M, "", Rule::kNotifyKeyspaceEvents),
    Special("bind", "", M | kMultiArg, "* -::*", Rule::kBind),
    Special("replicaof", "slaveof", I | kMultiArg, "", Rule::kReplicaof),
    Special("latency-tracking-info-percentiles", "", M | kMultiArg, "50 99 99.9",
            Rule::kPercentiles),
};
constexpr size_t kNumParams = std::size(kParams);

// ---- Lookup -----------------------------------------------------------------------------------

struct Entry {
  size_t index;
  bool alias;
};

const absl::flat_hash_map<std::string, Entry>& NameIndex() {
  static const auto* index = [] {
    auto* m = new absl::flat_hash_map<std::string, Entry>();
    for (size_t i = 0; i < kNumParams; ++i) {
      m->emplace(std::string(kParams[i].name), Entry{i, false});
      if (!kParams[i].alias.empty()) m->emplace(std::string(kParams[i].alias), Entry{i, true});
    }
    return m;
  }();
  return *index;
}

// Case-insensitive lookup of a name or alias. The pointer is stable: the index never changes.
const Entry* Find(std::string_view name) {
  const auto& index = NameIndex();
  auto it = index.find(Lower(name));
  return it == index.end() ? nullptr : &it->second;
}

size_t IndexOf(std::string_view name) { return Find(name)->index; }

std::string_view RegisteredName(const Entry& e) {
  return e.alias ? kParams[e.index].alias : kParams[e.index].name;
}

// ---- Typed parsing ----------------------------------------------------------------------------

bool ParseNumeric(const Param& p, const std::string& v, long long* res, std::string* err) {
  if (p.num & kMemory) {
    unsigned long long u;
    if (MemToUll(v, &u)) {
      *res = static_cast<long long>(u);
      return true;
    }
  }
  if ((p.num & kPercent) && v.size() > 1 && v.back() == '%' &&
      String2ll(std::string_view(v).substr(0, v.size() - 1), res) && *res >= 0) {
    *res = -*res;  // percentages are stored negative
    return true;
  }
  if (p.num & kOctal) {
    char* end;
    errno = 0;
    long long x = std::strtoll(v.c_str(), &end, 8);
    if (errno == 0 && *end == '\0') {
      *res = x;
      return true;
    }
  }
  if (p.num == kInteger && String2ll(v, res)) return true;
  if ((p.num & kMemory) && (p.num & kPercent)) {
    *err = "argument must be a memory or percent value";
  } else if (p.num & kMemory) {
    *err = "argument must be a memory value";
  } else if (p.num & kOctal) {
    *err = "argument couldn't be parsed as an octal number";
  } else {
    *err = "argument couldn't be parsed into an integer";
  }
  return false;
}

bool CheckBounds(const Param& p, long long v, std::string* err) {
  if (p.unsigned_bounds) {
    auto u = static_cast<unsigned long long>(v);
    auto lo = static_cast<unsigned long long>(p.lo);
    auto hi = static_cast<unsigned long long>(p.hi);
    if (u > hi || u < lo) {
      *err = (p.num & kOctal)
                 ? absl::StrFormat("argument must be between %o and %o inclusive", lo, hi)
                 : absl::StrFormat("argument must be between %u and %u inclusive", lo, hi);
      return false;
    }
  } else if ((p.num & kPercent) && v < 0) {
    if (v < p.lo) {
      *err = absl::StrFormat("percentage argument must be less or equal to %d", -p.lo);
      return false;
    }
  } else if (v > p.hi || v < p.lo) {
    *err = absl::StrFormat("argument must be between %d and %d inclusive", p.lo, p.hi);
    return false;
  }
  return true;
}

std::string FormatNumeric(const Param& p, long long v) {
  if ((p.num & kPercent) && v < 0) return absl::StrCat(-v, "%");
  if (p.num & kMemory) return absl::StrCat(static_cast<unsigned long long>(v));
  if (p.num & kOctal) return absl::StrFormat("%o", static_cast<unsigned long long>(v));
  return absl::StrCat(v);
}

// config.c configEnumGetName: an exact value first; bit flags print every set name in table order.
std::string EnumName(const Param& p, int values) {
  bool bitflags = p.flags & kMultiArg;
  std::string names;
  int unmatched = values;
  for (const EnumEntry& e : p.enums) {
    if (values == e.value) return std::string(e.name);
    if (bitflags && e.value && e.value == (unmatched & e.value)) {
      absl::StrAppend(&names, names.empty() ? "" : " ", ToAbsl(e.name));
      unmatched &= ~e.value;
    }
  }
  if (names.empty() || unmatched) return "unknown";
  return names;
}

bool SetEnum(const Param& p, const std::vector<std::string>& args, std::string* out,
             std::string* err) {
  bool bitflags = p.flags & kMultiArg;
  bool ok = !args.empty() && (bitflags || args.size() == 1);
  int values = 0;
  for (size_t i = 0; ok && i < args.size(); ++i) {
    bool matched = false;
    for (const EnumEntry& e : p.enums) {
      if (EqualsNoCase(args[i], e.name)) {
        values |= e.value;
        matched = true;
      }
    }
    ok = matched;
  }
  if (!ok) {
    std::vector<std::string> names;
    for (const EnumEntry& e : p.enums) names.emplace_back(e.name);
    *err = absl::StrCat("argument(s) must be one of the following: ", absl::StrJoin(names, ", "));
    return false;
  }
  if (p.rule == Rule::kShutdownFlags && (values & kShutdownSave) && (values & kShutdownNosave)) {
    *err = "shutdown options SAVE and NOSAVE can't be used simultaneously";
    return false;
  }
  *out = EnumName(p, values);
  return true;
}

bool IsPath(std::string_view s) { return s.find_first_of("/\\") != std::string_view::npos; }

bool ValidHostname(std::string_view v, std::string* err) {
  if (v.size() >= 256) {
    *err = "Hostnames must be less than 256 characters";
    return false;
  }
  for (char c : v) {
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '-' && c != '.') {
      *err = "Hostnames may only contain alphanumeric characters, hyphens or dots";
      return false;
    }
  }
  return true;
}

// server.c redisProcTitleGetVariable, with the values validation sees (title is "").
bool ProcTitleVariable(std::string_view var, const Config& c, std::string* out) {
  std::string value;
  auto get = [&](std::string_view name) {
    c.Get(name, &value);
    return value;
  };
  if (var == "title") {
    out->clear();
  } else if (var == "listen-addr") {
    std::string tls_port = get("tls-port");
    if (c.port != 0 || tls_port != "0") {
      *out = absl::StrCat(c.bind.empty() ? "*" : c.bind[0], ":",
                          c.port != 0 ? absl::StrCat(c.port) : tls_port);
    } else {
      *out = absl::StrCat("unixsocket:", get("unixsocket"));
    }
  } else if (var == "server-mode") {
    *out = get("cluster-enabled") == "yes" ? "[cluster]" : "";
  } else if (var == "config-file") {
    *out = c.config_file.empty() ? "-" : c.config_file;
  } else if (var == "port") {
    *out = absl::StrCat(c.port);
  } else if (var == "tls-port") {
    *out = get("tls-port");
  } else if (var == "unixsocket") {
    *out = get("unixsocket");
  } else {
    return false;
  }
  return true;
}

// sds.c sdstemplate expansion, then trimmed of spaces: it must be valid and not empty.
bool ValidProcTitle(std::string_view t, const Config& c) {
  std::string res;
  size_t p = 0;
  while (p < t.size()) {
    size_t sv = t.find('{', p);
    if (sv == std::string_view::npos) {
      res.append(t.substr(p));
      break;
    }
    res.append(t.substr(p, sv - p));
    if (++sv >= t.size()) return false;
    if (t[sv] == '{') {
      res += '{';
      p = sv + 1;
      continue;
    }
    size_t ev = t.find('}', sv);
    if (ev == std::string_view::npos) return false;
    std::string value;
    if (!ProcTitleVariable(t.substr(sv, ev - sv), c, &value)) return false;
    res += value;
    p = ev + 1;
  }
  size_t b = res.find_first_not_of(' ');
  return b != std::string::npos;
}

bool CheckString(Rule rule, const std::string& v, const Config& c, std::string* err) {
  switch (rule) {
    case Rule::kDbfilename:
      if (IsPath(v)) *err = "dbfilename can't be a path, just a filename";
      break;
    case Rule::kAofFilename:
      if (v.empty()) {
        *err = "appendfilename can't be empty";
      } else if (IsPath(v)) {
        *err = "appendfilename can't be a path, just a filename";
      }
      break;
    case Rule::kAofDirname:
      if (v.empty()) {
        *err = "appenddirname can't be empty";
      } else if (IsPath(v)) {
        *err = "appenddirname can't be a path, just a dirname";
      }
      break;
    case Rule::kHostname:
      ValidHostname(v, err);
      break;
    case Rule::kProcTitle:
      if (!ValidProcTitle(v, c)) *err = "template format is invalid or contains unknown variables";
      break;
    default:
      break;
  }
  return err->empty();
}

// ---- Special formats --------------------------------------------------------------------------

constexpr int kBindAddrMax = 16;
constexpr std::string_view kObufClasses[] = {"normal", "slave", "pubsub"};

struct ObufLimit {
  unsigned long long hard = 0;
  unsigned long long soft = 0;
  long long seconds = 0;
};

bool SetClientOutputBufferLimit(const std::vector<std::string>& args, const std::string& current,
                                std::string* out, std::string* err) {
  if (args.size() % 4) {
    *err = "Wrong number of arguments in buffer limit configuration.";
    return false;
  }
  ObufLimit limits[3];
  std::vector<std::string> cur = absl::StrSplit(current, ' ');
  for (size_t c = 0; c < 3 && cur.size() == 12; ++c) {
    (void)absl::SimpleAtoi(cur[c * 4 + 1], &limits[c].hard);
    (void)absl::SimpleAtoi(cur[c * 4 + 2], &limits[c].soft);
    (void)absl::SimpleAtoi(cur[c * 4 + 3], &limits[c].seconds);
  }
  for (size_t j = 0; j < args.size(); j += 4) {
    int cls = -1;
    if (EqualsNoCase(args[j], "normal")) {
      cls = 0;
    } else if (EqualsNoCase(args[j], "slave") || EqualsNoCase(args[j], "replica")) {
      cls = 1;
    } else if (EqualsNoCase(args[j], "pubsub")) {
      cls = 2;
    }
    if (cls < 0) {
      *err = "Invalid client class specified in buffer limit configuration.";
      return false;
    }
    ObufLimit l;
    long long seconds = 0;
    bool seconds_ok = StrToLL(args[j + 3], &seconds);
    int soft_seconds = static_cast<int>(seconds);  // Redis keeps it in an int
    if (!MemToUll(args[j + 1], &l.hard) || !MemToUll(args[j + 2], &l.soft) || soft_seconds < 0 ||
        !seconds_ok) {
      *err = "Error in hard, soft or soft_seconds setting in buffer limit configuration.";
      return false;
    }
    l.seconds = soft_seconds;
    limits[cls] = l;
  }
  out->clear();
  for (size_t c = 0; c < 3; ++c) {
    absl::StrAppend(out, c ? " " : "", ToAbsl(kObufClasses[c]), " ", limits[c].hard, " ",
                    limits[c].soft, " ", limits[c].seconds);
  }
  return true;
}

bool SetOomScoreAdjValues(const std::vector<std::string>& args, std::string* out,
                          std::string* err) {
  if (args.size() != 3) {
    *err = "wrong number of arguments";
    return false;
  }
  std::vector<long long> values;
  for (const std::string& a : args) {
    long long v;
    if (!StrToLL(a, &v) || v < -2000 || v > 2000) {
      *err = "Invalid oom-score-adj-values, elements must be between -2000 and 2000.";
      return false;
    }
    values.push_back(v);
  }
  *out = absl::StrJoin(values, " ");
  return true;
}

// notify.c flag bits, in keyspaceEventsFlagsToString's output order.
enum Notify : int {
  kNotifyKeyspace = 1 << 0,
  kNotifyKeyevent = 1 << 1,
  kNotifyGeneric = 1 << 2,
  kNotifyString = 1 << 3,
  kNotifyList = 1 << 4,
  kNotifySet = 1 << 5,
  kNotifyHash = 1 << 6,
  kNotifyZset = 1 << 7,
  kNotifyExpired = 1 << 8,
  kNotifyEvicted = 1 << 9,
  kNotifyStream = 1 << 10,
  kNotifyKeyMiss = 1 << 11,
  kNotifyLoaded = 1 << 12,
  kNotifyModule = 1 << 13,
  kNotifyNew = 1 << 14,
  kNotifyAll = kNotifyGeneric | kNotifyString | kNotifyList | kNotifySet | kNotifyHash |
               kNotifyZset | kNotifyExpired | kNotifyEvicted | kNotifyStream | kNotifyModule,
};

bool SetNotifyKeyspaceEvents(const std::vector<std::string>& args, std::string* out,
                             std::string* err) {
  if (args.size() != 1) {
    *err = "wrong number of arguments";
    return false;
  }
  // notify.c keyspaceEventsStringToFlags / keyspaceEventsFlagsToString.
  constexpr std::pair<char, int> kClasses[] = {
      {'g', kNotifyGeneric},  {'$', kNotifyString},   {'l', kNotifyList},    {'s', kNotifySet},
      {'h', kNotifyHash},     {'z', kNotifyZset},     {'x', kNotifyExpired}, {'e', kNotifyEvicted},
      {'t', kNotifyStream},   {'d', kNotifyModule},   {'n', kNotifyNew},     {'A', kNotifyAll},
      {'K', kNotifyKeyspace}, {'E', kNotifyKeyevent}, {'m', kNotifyKeyMiss}};
  int flags = 0;
  for (char c : args[0]) {
    auto it = std::find_if(std::begin(kClasses), std::end(kClasses),
                           [c](const auto& k) { return k.first == c; });
    if (it == std::end(kClasses)) {
      *err = "Invalid event class character. Use 'Ag$lshzxeKEtmdn'.";
      return false;
    }
    flags |= it->second;
  }
  std::string s;
  if ((flags & kNotifyAll) == kNotifyAll) {
    s += 'A';
  } else {
    for (size_t i = 0; i < 11; ++i) {  // the classes, up to 'n'
      if (flags & kClasses[i].second) s += kClasses[i].first;
    }
  }
  if (flags & kNotifyKeyspace) s += 'K';
  if (flags & kNotifyKeyevent) s += 'E';
  if (flags & kNotifyKeyMiss) s += 'm';
  *out = std::move(s);
  return true;
}

bool SetBind(std::vector<std::string> args, std::string* out, std::string* err) {
  if (args.size() > kBindAddrMax) {
    *err = "Too many bind addresses specified.";
    return false;
  }
  if (args.size() == 1 && args[0].empty()) args.clear();
  *out = absl::StrJoin(args, " ");
  return true;
}

bool SetReplicaof(const std::vector<std::string>& args, std::string* out, std::string* err) {
  if (args.size() != 2) {
    *err = "wrong number of arguments";
    return false;
  }
  if (EqualsNoCase(args[0], "no") && EqualsNoCase(args[1], "one")) {
    out->clear();
    return true;
  }
  char* end;
  long port = std::strtol(args[1].c_str(), &end, 10);
  if (port < 0 || port > 65535 || *end != '\0') {
    *err = "Invalid master port";
    return false;
  }
  *out = absl::StrCat(args[0], " ", port);
  return true;
}

bool SetPercentiles(std::vector<std::string> args, std::string* out, std::string* err) {
  if (args.size() == 1 && args[0].empty()) args.clear();
  std::vector<std::string> printed;
  for (const std::string& a : args) {
    double d;
    if (!String2d(a, &d)) {
      *err = "Invalid latency-tracking-info-percentiles parameters";
      return false;
    }
    if (d > 100.0 || d < 0.0) {
      *err = "latency-tracking-info-percentiles parameters should sit between [0.0,100.0]";
      return false;
    }
    std::string s = absl::StrFormat("%f", d);  // then util.c trimDoubleString
    if (s.find('.') != std::string::npos) {
      s.erase(s.find_last_not_of('0') + 1);
      if (s.back() == '.') s.pop_back();
    }
    printed.push_back(std::move(s));
  }
  *out = absl::StrJoin(printed, " ");
  return true;
}

// chdir()'s checks without changing the process's directory; the result is absolute.
bool SetDir(const std::vector<std::string>& args, const std::string& current, std::string* out,
            std::string* err) {
  if (args.size() != 1) {
    *err = "wrong number of arguments";
    return false;
  }
  if (args[0].empty()) {
    *err = ErrnoText(ENOENT);
    return false;
  }
  std::string path = args[0][0] == '/' ? args[0] : absl::StrCat(current, "/", args[0]);
  struct stat st;
  if (stat(path.c_str(), &st) != 0) {
    *err = ErrnoText(errno);
    return false;
  }
  if (!S_ISDIR(st.st_mode)) {
    *err = ErrnoText(ENOTDIR);
    return false;
  }
  if (access(path.c_str(), X_OK) != 0) {
    *err = ErrnoText(errno);
    return false;
  }
  char resolved[PATH_MAX];
  *out = realpath(path.c_str(), resolved) != nullptr ? resolved : path;
  return true;
}

std::string FatalHeader() {
  return absl::StrCat("*** FATAL CONFIG FILE ERROR (Shardis ", SHARDIS_VERSION, ") ***\n");
}

absl::Status Fatal(std::string_view source, size_t line_number, std::string_view line,
                   std::string_view err) {
  return absl::InvalidArgumentError(absl::StrCat(FatalHeader(), "Reading ", ToAbsl(source),
                                                 ", at line ", line_number, "\n>>> '", ToAbsl(line),
                                                 "'\n", ToAbsl(err)));
}

absl::Status ReadWholeFile(const std::string& path, std::string* content) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    return absl::NotFoundError(
        absl::StrCat("Fatal error, can't open config file '", path, "': ", ErrnoText(errno)));
  }
  std::ostringstream ss;
  ss << in.rdbuf();
  *content = ss.str();
  return absl::OkStatus();
}

constexpr int kMaxIncludeDepth = 16;

}  // namespace

// ---- Config -----------------------------------------------------------------------------------

Config::Config() {
  values_.reserve(kNumParams);
  for (const Param& p : kParams) values_.emplace_back(p.def);
  char cwd[PATH_MAX];
  values_[IndexOf("dir")] = getcwd(cwd, sizeof(cwd)) != nullptr ? cwd : ".";
  for (size_t i = 0; i < kNumParams; ++i) SyncTyped(i);
}

// The typed fields, by parameter name (maxmemory, bind and enable-debug-command need more care).
const std::pair<std::string_view, int Config::*> kIntFields[] = {
    {"port", &Config::port},
    {"threads", &Config::threads},
    {"metrics-port", &Config::metrics_port},
    {"databases", &Config::databases},
    {"hz", &Config::hz},
    {"timeout", &Config::timeout},
    {"tcp-keepalive", &Config::tcp_keepalive},
    {"tcp-backlog", &Config::tcp_backlog},
    {"maxclients", &Config::maxclients},
    {"list-max-listpack-size", &Config::list_max_listpack_size},
    {"list-compress-depth", &Config::list_compress_depth},
    {"hash-max-listpack-entries", &Config::hash_max_listpack_entries},
    {"hash-max-listpack-value", &Config::hash_max_listpack_value},
    {"set-max-intset-entries", &Config::set_max_intset_entries},
    {"zset-max-listpack-entries", &Config::zset_max_listpack_entries},
    {"zset-max-listpack-value", &Config::zset_max_listpack_value},
    {"stream-node-max-entries", &Config::stream_node_max_entries},
    {"stream-node-max-bytes", &Config::stream_node_max_bytes},
    {"hll-sparse-max-bytes", &Config::hll_sparse_max_bytes}};
const std::pair<std::string_view, int64_t Config::*> kInt64Fields[] = {
    {"proto-max-bulk-len", &Config::proto_max_bulk_len},
    {"client-query-buffer-limit", &Config::client_query_buffer_limit},
    {"slowlog-log-slower-than", &Config::slowlog_log_slower_than},
    {"slowlog-max-len", &Config::slowlog_max_len},
    {"latency-monitor-threshold", &Config::latency_monitor_threshold},
    {"tracking-table-max-keys", &Config::tracking_table_max_keys},
    {"busy-reply-threshold", &Config::busy_reply_threshold}};
const std::pair<std::string_view, bool Config::*> kBoolFields[] = {
    {"pin", &Config::pin},
    {"protected-mode", &Config::protected_mode},
    {"appendonly", &Config::appendonly},
    {"daemonize", &Config::daemonize},
    {"lazyfree-lazy-user-del", &Config::lazyfree_lazy_user_del},
    {"lazyfree-lazy-user-flush", &Config::lazyfree_lazy_user_flush},
    {"rdbcompression", &Config::rdbcompression},
    {"rdbchecksum", &Config::rdbchecksum},
    {"stop-writes-on-bgsave-error", &Config::stop_writes_on_bgsave_error}};
const std::pair<std::string_view, std::string Config::*> kStringFields[] = {
    {"loglevel", &Config::loglevel},
    {"logfile", &Config::logfile},
    {"unixsocket", &Config::unixsocket},
    {"requirepass", &Config::requirepass},
    {"maxmemory-policy", &Config::maxmemory_policy},
    {"dir", &Config::dir},
    {"dbfilename", &Config::dbfilename},
    {"pidfile", &Config::pidfile},
    {"notify-keyspace-events", &Config::notify_keyspace_events}};

void Config::SyncTyped(size_t index) {
  std::string_view name = kParams[index].name;
  const std::string& v = values_[index];
  long long number = 0;
  for (const auto& [field_name, field] : kIntFields) {
    if (name == field_name && absl::SimpleAtoi(v, &number)) {
      this->*field = static_cast<int>(std::min<long long>(number, INT_MAX));  // maxclients: uint
      return;
    }
  }
  for (const auto& [field_name, field] : kInt64Fields) {
    if (name == field_name && absl::SimpleAtoi(v, &number)) {
      this->*field = number;
      return;
    }
  }
  for (const auto& [field_name, field] : kBoolFields) {
    if (name == field_name) {
      this->*field = v == "yes";
      return;
    }
  }
  for (const auto& [field_name, field] : kStringFields) {
    if (name == field_name) {
      this->*field = v;
      return;
    }
  }
  if (name == "maxmemory") {
    uint64_t bytes = 0;
    (void)absl::SimpleAtoi(v, &bytes);
    maxmemory = static_cast<int64_t>(std::min<uint64_t>(bytes, INT64_MAX));
  } else if (name == "bind") {
    bind = std::vector<std::string>(absl::StrSplit(v, ' ', absl::SkipEmpty()));
  } else if (name == "unixsocketperm") {
    unixsocketperm = static_cast<int>(std::strtol(v.c_str(), nullptr, 8));  // kept as octal text
  } else if (name == "save") {
    // "secs changes secs changes..." (validated by the save rule).
    save_params.clear();
    std::vector<std::string> f = absl::StrSplit(v, ' ', absl::SkipEmpty());
    for (size_t i = 0; i + 1 < f.size(); i += 2) {
      int64_t secs = 0, changes = 0;
      if (absl::SimpleAtoi(f[i], &secs) && absl::SimpleAtoi(f[i + 1], &changes)) {
        save_params.emplace_back(secs, changes);
      }
    }
  } else if (name == "enable-debug-command") {
    enable_debug_command = v != "no";
  } else if (name == "client-output-buffer-limit") {
    // "normal H S T slave H S T pubsub H S T", in bytes as CONFIG GET prints it.
    std::vector<std::string> f = absl::StrSplit(v, ' ', absl::SkipEmpty());
    for (size_t i = 0; i + 3 < f.size(); i += 4) {
      OutputLimit limit;
      if (!absl::SimpleAtoi(f[i + 1], &limit.hard) || !absl::SimpleAtoi(f[i + 2], &limit.soft) ||
          !absl::SimpleAtoi(f[i + 3], &limit.soft_seconds)) {
        continue;
      }
      if (f[i] == "normal") output_limit_normal = limit;
      if (f[i] == "pubsub") output_limit_pubsub = limit;
    }
  }
}

std::string Config::Resolve(const std::string& path) const {
  if (path.empty() || path[0] == '/') return path;
  return absl::StrCat(dir, "/", path);
}

// Validates `args` for parameter `index` and stores the normalised value. `loading`: a config
// file or command-line line (save lines accumulate); else CONFIG SET (save replaces).
absl::Status Config::SetOne(size_t index, std::vector<std::string> args, bool loading) {
  const Param& p = kParams[index];
  std::string out, err;
  bool ok = true;
  switch (p.type) {
    case Type::kBool:
      if (EqualsNoCase(args[0], "yes")) {
        out = "yes";
      } else if (EqualsNoCase(args[0], "no")) {
        out = "no";
      } else {
        err = "argument must be 'yes' or 'no'";
        ok = false;
      }
      break;
    case Type::kNumeric: {
      long long v;
      ok = ParseNumeric(p, args[0], &v, &err) && CheckBounds(p, v, &err);
      if (ok && p.rule == Rule::kHz) v = std::clamp<long long>(v, 1, 500);
      if (ok && p.rule == Rule::kReplBacklogSize && !loading) v = std::max<long long>(v, 16 * 1024);
      if (ok) out = FormatNumeric(p, v);
      break;
    }
    case Type::kEnum:
      ok = SetEnum(p, args, &out, &err);
      break;
    case Type::kString:
      ok = CheckString(p.rule, args[0], *this, &err);
      out = args[0];
      break;
    case Type::kSpecial:
      switch (p.rule) {
        case Rule::kDir:
          ok = SetDir(args, values_[index], &out, &err);
          break;
        case Rule::kSave: {
          bool empty = args.size() == 1 && args[0].empty();
          if (empty) args.clear();
          ok = args.size() % 2 == 0;
          for (size_t j = 0; ok && j < args.size(); ++j) {
            long long v;
            ok = StrToLL(args[j], &v) && v >= (j % 2 == 0 ? 1 : 0);
          }
          if (!ok) {
            err = "Invalid save parameters";
            break;
          }
          // A startup "save" replaces the default list once, then accumulates; CONFIG SET and
          // `save ""` always replace.
          if (loading && !empty && save_loaded_) out = values_[index];
          if (loading) save_loaded_ = true;
          for (size_t j = 0; j < args.size(); j += 2) {
            long long seconds, changes;
            StrToLL(args[j], &seconds);
            StrToLL(args[j + 1], &changes);
            absl::StrAppend(&out, out.empty() ? "" : " ", seconds, " ", static_cast<int>(changes));
          }
          break;
        }
        case Rule::kClientOutputBufferLimit:
          ok = SetClientOutputBufferLimit(args, values_[index], &out, &err);
          break;
        case Rule::kOomScoreAdjValues:
          ok = SetOomScoreAdjValues(args, &out, &err);
          break;
        case Rule::kNotifyKeyspaceEvents:
          ok = SetNotifyKeyspaceEvents(args, &out, &err);
          break;
        case Rule::kBind:
          ok = SetBind(std::move(args), &out, &err);
          break;
        case Rule::kReplicaof:
          ok = SetReplicaof(args, &out, &err);
          break;
        case Rule::kPercentiles:
          ok = SetPercentiles(std::move(args), &out, &err);
          break;
        default:
          break;
      }
      break;
  }
  if (!ok) return absl::InvalidArgumentError(err);
  values_[index] = std::move(out);
  SyncTyped(index);
  return absl::OkStatus();
}

absl::Status Config::Set(std::string_view name, std::string_view value, bool local_client) {
  return SetMany({{std::string(name), std::string(value)}}, local_client);
}

absl::Status Config::SetMany(const std::vector<std::pair<std::string, std::string>>& pairs,
                             bool local_client) {
  // First pass, as configSetCommand: names, mutability and duplicates, before any value.
  std::string protected_mode_setting;
  Get("enable-protected-configs", &protected_mode_setting);
  bool protected_allowed =
      protected_mode_setting == "yes" || (protected_mode_setting == "local" && local_client);
  std::vector<const Entry*> entries(pairs.size(), nullptr);
  bool invalid = false;
  bool unknown = false;
  std::string err_name, err;
  for (size_t i = 0; i < pairs.size(); ++i) {
    const Entry* e = Find(pairs[i].first);
    if (e == nullptr) {
      if (!invalid) {
        unknown = invalid = true;
        err_name = pairs[i].first;
      }
      continue;
    }
    if (invalid) continue;
    const Param& p = kParams[e->index];
    if ((p.flags & kImmutable) || ((p.flags & kProtected) && !protected_allowed)) {
      err = (p.flags & kImmutable) ? "can't set immutable config" : "can't set protected config";
      err_name = pairs[i].first;
      invalid = true;
      continue;
    }
    for (size_t j = 0; j < i; ++j) {
      if (entries[j] == e) {
        err = "duplicate parameter";
        err_name = pairs[i].first;
        invalid = true;
        break;
      }
    }
    entries[i] = e;
  }
  if (unknown) {
    return absl::InvalidArgumentError(
        absl::StrCat("Unknown option or number of arguments for CONFIG SET - '", err_name, "'"));
  }
  if (invalid) {
    return absl::InvalidArgumentError(
        absl::StrCat("CONFIG SET failed (possibly related to argument '", err_name, "') - ", err));
  }
  // Second pass on a copy, committed only when every value is valid.
  Config next = *this;
  for (size_t i = 0; i < pairs.size(); ++i) {
    const Param& p = kParams[entries[i]->index];
    std::vector<std::string> args;
    if (p.flags & kMultiArg) {
      args = SplitOnSpace(pairs[i].second);
    } else {
      args.push_back(pairs[i].second);
    }
    absl::Status s = next.SetOne(entries[i]->index, std::move(args), /*loading=*/false);
    if (!s.ok()) {
      return absl::InvalidArgumentError(
          absl::StrCat("CONFIG SET failed (possibly related to argument '",
                       ToAbsl(RegisteredName(*entries[i])), "') - ", s.message()));
    }
  }
  *this = std::move(next);
  return absl::OkStatus();
}

bool Config::Get(std::string_view name, std::string* value) const {
  const Entry* e = Find(name);
  if (e == nullptr) return false;
  *value = values_[e->index];
  return true;
}

std::vector<std::pair<std::string, std::string>> Config::Match(std::string_view pattern) const {
  std::vector<std::pair<std::string, std::string>> out;
  if (pattern.find_first_of("[*?") == std::string_view::npos) {
    if (const Entry* e = Find(pattern)) out.emplace_back(std::string(pattern), values_[e->index]);
    return out;
  }
  for (size_t i = 0; i < kNumParams; ++i) {
    const Param& p = kParams[i];
    if (p.flags & kHidden) continue;
    if (GlobMatch(pattern, p.name, /*nocase=*/true)) out.emplace_back(p.name, values_[i]);
    if (!p.alias.empty() && GlobMatch(pattern, p.alias, /*nocase=*/true)) {
      out.emplace_back(p.alias, values_[i]);
    }
  }
  return out;
}

bool Config::IsKnown(std::string_view name) { return Find(name) != nullptr; }

std::vector<std::string> Config::Names() {
  std::vector<std::string> names;
  names.reserve(kNumParams);
  for (const Param& p : kParams) names.emplace_back(p.name);
  return names;
}

bool Config::IsSensitive(std::string_view name) {
  const Entry* e = Find(name);
  return e != nullptr && (kParams[e->index].flags & kSensitive);
}

bool Config::DebugCommandAllowed(bool local_client) const {
  const std::string& v = values_[IndexOf("enable-debug-command")];
  return v == "yes" || (v == "local" && local_client);
}

absl::Status Config::ApplyDirective(std::string_view name, const std::vector<std::string>& args) {
  const Entry* e = Find(name);
  if (e == nullptr) return absl::InvalidArgumentError("Bad directive or wrong number of arguments");
  if (!(kParams[e->index].flags & kMultiArg) && args.size() != 1) {
    return absl::InvalidArgumentError("wrong number of arguments");
  }
  return SetOne(e->index, args, /*loading=*/true);
}

absl::Status Config::LoadText(std::string_view text, std::string_view source, int depth) {
  std::vector<absl::string_view> lines;
  if (!text.empty()) lines = absl::StrSplit(ToAbsl(text), '\n');
  std::vector<std::string> argv;
  for (size_t i = 0; i < lines.size(); ++i) {
    std::string_view line = TrimLine(ToStd(lines[i]));
    if (line.empty() || line[0] == '#') continue;
    auto fail = [&](std::string_view err) { return Fatal(source, i + 1, line, err); };
    if (!SplitArgs(line, &argv)) return fail("Unbalanced quotes in configuration line");
    if (argv.empty()) continue;
    std::string name = Lower(argv[0]);
    size_t argc = argv.size();
    if (const Entry* e = Find(name)) {
      if (!(kParams[e->index].flags & kMultiArg) && argc != 2) {
        return fail("wrong number of arguments");
      }
      absl::Status s = SetOne(e->index, std::vector<std::string>(argv.begin() + 1, argv.end()),
                              /*loading=*/true);
      if (!s.ok()) return fail(ToStd(s.message()));
      continue;
    }
    // Directives Redis 7 still accepts and ignores.
    if ((name == "list-max-ziplist-entries" || name == "list-max-ziplist-value" ||
         name == "lua-replicate-commands") &&
        argc == 2) {
      continue;
    }
    if (name == "include" && argc == 2) {
      if (depth >= kMaxIncludeDepth) return fail("include nesting is too deep");
      std::string path = Resolve(argv[1]);
      std::vector<std::string> files;
      if (path.find_first_of("*?[") != std::string::npos) {
        // A pattern that matches nothing is fine (an empty conf.d directory).
        glob_t g;
        if (glob(path.c_str(), 0, nullptr, &g) == 0) {
          files.assign(g.gl_pathv, g.gl_pathv + g.gl_pathc);
          globfree(&g);
        }
      } else {
        files.push_back(path);
      }
      for (const std::string& file : files) {
        std::string content;
        absl::Status s = ReadWholeFile(file, &content);
        if (!s.ok()) return fail(ToStd(s.message()));
        s = LoadText(content, absl::StrCat("the configuration file ", file), depth + 1);
        if (!s.ok()) return s;
      }
      continue;
    }
    if (name == "rename-command" && argc == 3) {
      renamed_commands.emplace_back(argv[1], argv[2]);
      continue;
    }
    if (name == "user" && argc >= 2) {
      acl_users.emplace_back(argv.begin() + 1, argv.end());
      continue;
    }
    if (name == "loadmodule" && argc >= 2) return fail("Shardis cannot load Redis modules");
    if (name == "sentinel") {
      return fail(argc == 1 ? "Shardis has no sentinel mode"
                            : "sentinel directive while not in sentinel mode");
    }
    return fail("Bad directive or wrong number of arguments");
  }
  return absl::OkStatus();
}

// redis-server's checks once the whole configuration is read.
absl::Status Config::FinishLoad() const {
  if (!logfile.empty()) {
    FILE* f = std::fopen(Resolve(logfile).c_str(), "a");
    if (f == nullptr) {
      return absl::InvalidArgumentError(
          absl::StrCat(FatalHeader(), "Can't open the log file: ", ErrnoText(errno)));
    }
    std::fclose(f);
  }
  std::string cluster, replicaof;
  Get("cluster-enabled", &cluster);
  Get("replicaof", &replicaof);
  if (cluster == "yes" && !replicaof.empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat(FatalHeader(), "replicaof directive not allowed in cluster mode"));
  }
  return absl::OkStatus();
}

absl::Status Config::LoadFileImpl(const std::string& path, int depth) {
  std::string content;
  absl::Status s = ReadWholeFile(path, &content);
  if (!s.ok()) return s;
  if (config_file.empty()) {
    char resolved[PATH_MAX];
    if (realpath(path.c_str(), resolved) != nullptr) {
      config_file = resolved;
    } else {
      char cwd[PATH_MAX];
      config_file = path[0] == '/' || getcwd(cwd, sizeof(cwd)) == nullptr
                        ? path
                        : absl::StrCat(cwd, "/", path);
    }
  }
  return LoadText(content, absl::StrCat("the configuration file ", path), depth);
}

absl::Status Config::LoadFile(const std::string& path) {
  absl::Status s = LoadFileImpl(path, 0);
  if (!s.ok()) return s;
  return FinishLoad();
}

absl::Status Config::LoadString(std::string_view text, std::string_view source) {
  absl::Status s = LoadText(text, source, 0);
  if (!s.ok()) return s;
  return FinishLoad();
}

absl::Status Config::LoadCommandLine(const std::vector<std::string>& args) {
  size_t j = 0;
  std::string file;
  bool has_file = false;
  if (!args.empty() && (args[0].empty() || args[0][0] != '-')) {
    file = args[0];
    has_file = true;
    j = 1;
  }
  // server.c main(): "--name value..." becomes the config line "name value...", values quoted.
  bool from_stdin = false;
  bool handled_last_config_arg = true;
  std::string options;
  std::vector<std::string> tmp;
  auto is_option = [](const std::string& a) { return a.size() >= 2 && a[0] == '-' && a[1] == '-'; };
  for (; j < args.size(); ++j) {
    const std::string& a = args[j];
    bool last = j == args.size() - 1;
    if (a == "-" && (j == 0 || last)) {
      from_stdin = true;
    } else if (handled_last_config_arg && is_option(a)) {
      if (!options.empty()) options += "\n";
      absl::StrAppend(&options, a.substr(2), " ");
      bool split_ok = SplitArgs(a, &tmp);
      if (split_ok && tmp.size() == 1) {
        // Only a name: the value follows. A bare --save means `save ""`.
        handled_last_config_arg = false;
        bool is_save = EqualsNoCase(a, "--save");
        if (!last && is_option(args[j + 1]) && is_save) {
          options += "\"\"";
          handled_last_config_arg = true;
        } else if (last && is_save) {
          options += "\"\"";
        } else if (!last && is_option(args[j + 1]) && EqualsNoCase(a, "--sentinel")) {
          handled_last_config_arg = true;
        }
      } else {
        handled_last_config_arg = true;  // "--port 6380" in one argument
      }
    } else {
      absl::StrAppend(&options, Repr(a), " ");
      handled_last_config_arg = true;
    }
  }
  if (has_file) {
    absl::Status s = LoadFileImpl(file, 0);
    if (!s.ok()) return s;
  }
  if (from_stdin) {
    std::string content{std::istreambuf_iterator<char>(std::cin), std::istreambuf_iterator<char>()};
    absl::Status s = LoadText(content, "the configuration from stdin", 0);
    if (!s.ok()) return s;
  }
  absl::Status s = LoadText(options, "the command line options", 0);
  if (!s.ok()) return s;
  return FinishLoad();
}

}  // namespace shardis
