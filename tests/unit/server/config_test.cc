// Tests for Config: defaults (every parameter redis-server 7.0.15 lists in CONFIG GET *), each
// value type's parsing and redis-server's exact CONFIG SET error texts, aliases, glob CONFIG GET,
// multi-pair CONFIG SET atomicity, and redis.conf / command-line loading.
#include "server/config.h"

#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <fstream>
#include <string>
#include <utility>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace shardis {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Pair;
using ::testing::UnorderedElementsAre;

std::string Value(const Config& c, std::string_view name) {
  std::string v;
  EXPECT_TRUE(c.Get(name, &v)) << name;
  return v;
}

// The reply text after "ERR " (or "OK").
std::string SetReply(Config& c, std::string_view name, std::string_view value) {
  absl::Status s = c.Set(name, value);
  return s.ok() ? "OK" : std::string(s.message());
}

std::string SetFailed(std::string_view name, std::string_view why) {
  return std::string("CONFIG SET failed (possibly related to argument '") + std::string(name) +
         "') - " + std::string(why);
}

// A fresh directory for config files, removed with its files at the end of the test.
class TempDir {
 public:
  TempDir() {
    std::string tmpl = ::testing::TempDir() + "/config_test.XXXXXX";
    path_ = mkdtemp(tmpl.data()) != nullptr ? tmpl : "";
    EXPECT_FALSE(path_.empty());
  }
  ~TempDir() {
    for (const std::string& f : files_) unlink(f.c_str());
    for (auto it = dirs_.rbegin(); it != dirs_.rend(); ++it) rmdir(it->c_str());
    rmdir(path_.c_str());
  }
  std::string Write(const std::string& name, const std::string& content) {
    std::string file = path_ + "/" + name;
    std::ofstream(file) << content;
    files_.push_back(file);
    return file;
  }
  std::string Mkdir(const std::string& name) {
    std::string dir = path_ + "/" + name;
    mkdir(dir.c_str(), 0755);
    dirs_.push_back(dir);
    return dir;
  }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
  std::vector<std::string> files_;
  std::vector<std::string> dirs_;
};

// CONFIG GET * on redis-server 7.0.15 (dir, port and save aside), captured from the real server.
constexpr std::pair<const char*, const char*> kRedisDefaults[] = {
    {"acl-pubsub-default", "resetchannels"},
    {"aclfile", ""},
    {"acllog-max-len", "128"},
    {"active-defrag-cycle-max", "25"},
    {"active-defrag-cycle-min", "1"},
    {"active-defrag-ignore-bytes", "104857600"},
    {"active-defrag-max-scan-fields", "1000"},
    {"active-defrag-threshold-lower", "10"},
    {"active-defrag-threshold-upper", "100"},
    {"active-expire-effort", "1"},
    {"activedefrag", "no"},
    {"activerehashing", "yes"},
    {"always-show-logo", "no"},
    {"aof-disable-auto-gc", "no"},
    {"aof-load-truncated", "yes"},
    {"aof-rewrite-incremental-fsync", "yes"},
    {"aof-timestamp-enabled", "no"},
    {"aof-use-rdb-preamble", "yes"},
    {"aof_rewrite_cpulist", ""},
    {"appenddirname", "appendonlydir"},
    {"appendfilename", "appendonly.aof"},
    {"appendfsync", "everysec"},
    {"appendonly", "no"},
    {"auto-aof-rewrite-min-size", "67108864"},
    {"auto-aof-rewrite-percentage", "100"},
    {"bgsave_cpulist", ""},
    {"bind", "* -::*"},
    {"bind-source-addr", ""},
    {"bio_cpulist", ""},
    {"busy-reply-threshold", "5000"},
    {"client-output-buffer-limit",
     "normal 0 0 0 slave 268435456 67108864 60 pubsub 33554432 8388608 60"},
    {"client-query-buffer-limit", "1073741824"},
    {"cluster-allow-pubsubshard-when-down", "yes"},
    {"cluster-allow-reads-when-down", "no"},
    {"cluster-allow-replica-migration", "yes"},
    {"cluster-announce-bus-port", "0"},
    {"cluster-announce-hostname", ""},
    {"cluster-announce-ip", ""},
    {"cluster-announce-port", "0"},
    {"cluster-announce-tls-port", "0"},
    {"cluster-config-file", "nodes.conf"},
    {"cluster-enabled", "no"},
    {"cluster-link-sendbuf-limit", "0"},
    {"cluster-migration-barrier", "1"},
    {"cluster-node-timeout", "15000"},
    {"cluster-port", "0"},
    {"cluster-preferred-endpoint-type", "ip"},
    {"cluster-replica-no-failover", "no"},
    {"cluster-replica-validity-factor", "10"},
    {"cluster-require-full-coverage", "yes"},
    {"cluster-slave-no-failover", "no"},
    {"cluster-slave-validity-factor", "10"},
    {"crash-log-enabled", "yes"},
    {"crash-memcheck-enabled", "yes"},
    {"daemonize", "no"},
    {"databases", "16"},
    {"dbfilename", "dump.rdb"},
    {"disable-thp", "yes"},
    {"dynamic-hz", "yes"},
    {"enable-debug-command", "local"},
    {"enable-module-command", "no"},
    {"enable-protected-configs", "no"},
    {"hash-max-listpack-entries", "512"},
    {"hash-max-listpack-value", "64"},
    {"hash-max-ziplist-entries", "512"},
    {"hash-max-ziplist-value", "64"},
    {"hll-sparse-max-bytes", "3000"},
    {"hz", "10"},
    {"ignore-warnings", ""},
    {"io-threads", "1"},
    {"io-threads-do-reads", "no"},
    {"jemalloc-bg-thread", "yes"},
    {"latency-monitor-threshold", "0"},
    {"latency-tracking", "yes"},
    {"latency-tracking-info-percentiles", "50 99 99.9"},
    {"lazyfree-lazy-eviction", "no"},
    {"lazyfree-lazy-expire", "no"},
    {"lazyfree-lazy-server-del", "no"},
    {"lazyfree-lazy-user-del", "no"},
    {"lazyfree-lazy-user-flush", "no"},
    {"lfu-decay-time", "1"},
    {"lfu-log-factor", "10"},
    {"list-compress-depth", "0"},
    {"list-max-listpack-size", "-2"},
    {"list-max-ziplist-size", "-2"},
    {"logfile", ""},
    {"loglevel", "notice"},
    {"lua-time-limit", "5000"},
    {"masterauth", ""},
    {"masteruser", ""},
    {"maxclients", "10000"},
    {"maxmemory", "0"},
    {"maxmemory-clients", "0"},
    {"maxmemory-eviction-tenacity", "10"},
    {"maxmemory-policy", "noeviction"},
    {"maxmemory-samples", "5"},
    {"min-replicas-max-lag", "10"},
    {"min-replicas-to-write", "0"},
    {"min-slaves-max-lag", "10"},
    {"min-slaves-to-write", "0"},
    {"no-appendfsync-on-rewrite", "no"},
    {"notify-keyspace-events", ""},
    {"oom-score-adj", "no"},
    {"oom-score-adj-values", "0 200 800"},
    {"pidfile", ""},
    {"proc-title-template", "{title} {listen-addr} {server-mode}"},
    {"propagation-error-behavior", "ignore"},
    {"protected-mode", "yes"},
    {"proto-max-bulk-len", "536870912"},
    {"rdb-del-sync-files", "no"},
    {"rdb-save-incremental-fsync", "yes"},
    {"rdbchecksum", "yes"},
    {"rdbcompression", "yes"},
    {"repl-backlog-size", "1048576"},
    {"repl-backlog-ttl", "3600"},
    {"repl-disable-tcp-nodelay", "no"},
    {"repl-diskless-load", "disabled"},
    {"repl-diskless-sync", "yes"},
    {"repl-diskless-sync-delay", "5"},
    {"repl-diskless-sync-max-replicas", "0"},
    {"repl-ping-replica-period", "10"},
    {"repl-ping-slave-period", "10"},
    {"repl-timeout", "60"},
    {"replica-announce-ip", ""},
    {"replica-announce-port", "0"},
    {"replica-announced", "yes"},
    {"replica-ignore-disk-write-errors", "no"},
    {"replica-ignore-maxmemory", "yes"},
    {"replica-lazy-flush", "no"},
    {"replica-priority", "100"},
    {"replica-read-only", "yes"},
    {"replica-serve-stale-data", "yes"},
    {"replicaof", ""},
    {"requirepass", ""},
    {"sanitize-dump-payload", "no"},
    {"server_cpulist", ""},
    {"set-max-intset-entries", "512"},
    {"set-proc-title", "yes"},
    {"shutdown-on-sigint", "default"},
    {"shutdown-on-sigterm", "default"},
    {"shutdown-timeout", "10"},
    {"slave-announce-ip", ""},
    {"slave-announce-port", "0"},
    {"slave-ignore-maxmemory", "yes"},
    {"slave-lazy-flush", "no"},
    {"slave-priority", "100"},
    {"slave-read-only", "yes"},
    {"slave-serve-stale-data", "yes"},
    {"slaveof", ""},
    {"slowlog-log-slower-than", "10000"},
    {"slowlog-max-len", "128"},
    {"socket-mark-id", "0"},
    {"stop-writes-on-bgsave-error", "yes"},
    {"stream-node-max-bytes", "4096"},
    {"stream-node-max-entries", "100"},
    {"supervised", "no"},
    {"syslog-enabled", "no"},
    {"syslog-facility", "local0"},
    {"syslog-ident", "redis"},
    {"tcp-backlog", "511"},
    {"tcp-keepalive", "300"},
    {"timeout", "0"},
    {"tls-auth-clients", "yes"},
    {"tls-ca-cert-dir", ""},
    {"tls-ca-cert-file", ""},
    {"tls-cert-file", ""},
    {"tls-ciphers", ""},
    {"tls-ciphersuites", ""},
    {"tls-client-cert-file", ""},
    {"tls-client-key-file", ""},
    {"tls-client-key-file-pass", ""},
    {"tls-cluster", "no"},
    {"tls-dh-params-file", ""},
    {"tls-key-file", ""},
    {"tls-key-file-pass", ""},
    {"tls-port", "0"},
    {"tls-prefer-server-ciphers", "no"},
    {"tls-protocols", ""},
    {"tls-replication", "no"},
    {"tls-session-cache-size", "20480"},
    {"tls-session-cache-timeout", "300"},
    {"tls-session-caching", "yes"},
    {"tracking-table-max-keys", "1000000"},
    {"unixsocket", ""},
    {"unixsocketperm", "0"},
    {"zset-max-listpack-entries", "128"},
    {"zset-max-listpack-value", "64"},
    {"zset-max-ziplist-entries", "128"},
    {"zset-max-ziplist-value", "64"},
};

TEST(ConfigTest, DefaultsMatchRedis) {
  Config c;
  for (const auto& [name, value] : kRedisDefaults) EXPECT_EQ(Value(c, name), value) << name;
  EXPECT_EQ(Value(c, "port"), "6379");
  EXPECT_EQ(Value(c, "save"), "3600 1 300 100 60 10000");
  char cwd[4096];
  ASSERT_NE(getcwd(cwd, sizeof(cwd)), nullptr);
  EXPECT_EQ(Value(c, "dir"), cwd);
  // Shardis's own.
  EXPECT_EQ(Value(c, "threads"), "0");
  EXPECT_EQ(Value(c, "pin"), "yes");
  EXPECT_EQ(Value(c, "metrics-port"), "0");
  // CONFIG GET * lists every parameter above, plus threads, pin and metrics-port, plus nothing
  // else.
  EXPECT_EQ(c.Match("*").size(), std::size(kRedisDefaults) + 6);
}

TEST(ConfigTest, TypedFieldsStartAtDefaults) {
  Config c;
  EXPECT_EQ(c.port, 6379);
  EXPECT_EQ(c.bind, (std::vector<std::string>{"*", "-::*"}));
  EXPECT_EQ(c.threads, 0);
  EXPECT_TRUE(c.pin);
  EXPECT_EQ(c.maxclients, 10000);
  EXPECT_EQ(c.databases, 16);
  EXPECT_EQ(c.loglevel, "notice");
  EXPECT_EQ(c.proto_max_bulk_len, 512LL << 20);
  EXPECT_EQ(c.client_query_buffer_limit, 1LL << 30);
  EXPECT_EQ(c.hz, 10);
  EXPECT_EQ(c.tcp_keepalive, 300);
  EXPECT_EQ(c.tcp_backlog, 511);
  EXPECT_TRUE(c.protected_mode);
  EXPECT_EQ(c.maxmemory, 0);
  EXPECT_EQ(c.maxmemory_policy, "noeviction");
  EXPECT_EQ(c.dbfilename, "dump.rdb");
  EXPECT_FALSE(c.appendonly);
  EXPECT_EQ(c.slowlog_log_slower_than, 10000);
  EXPECT_EQ(c.slowlog_max_len, 128);
  // Shardis defaults to "local" (Redis: "no") so DEBUG SLEEP/LOG work from loopback.
  EXPECT_TRUE(c.enable_debug_command);
  EXPECT_TRUE(c.DebugCommandAllowed(true));
  EXPECT_FALSE(c.DebugCommandAllowed(false));
  EXPECT_EQ(c.dir[0], '/');
}

TEST(ConfigTest, UnknownParameter) {
  Config c;
  EXPECT_EQ(SetReply(c, "foo", "1"),
            "Unknown option or number of arguments for CONFIG SET - 'foo'");
  EXPECT_EQ(SetReply(c, "threadz", "1"),
            "Unknown option or number of arguments for CONFIG SET - 'threadz'");
  std::string v;
  EXPECT_FALSE(c.Get("foo", &v));
  EXPECT_FALSE(Config::IsKnown("foo"));
  EXPECT_TRUE(Config::IsKnown("MAXMEMORY"));
  EXPECT_TRUE(Config::IsKnown("slaveof"));
}

TEST(ConfigTest, BoolAcceptsOnlyYesOrNo) {
  Config c;
  EXPECT_EQ(SetReply(c, "appendonly", "YES"), "OK");
  EXPECT_EQ(Value(c, "appendonly"), "yes");
  EXPECT_TRUE(c.appendonly);
  EXPECT_EQ(SetReply(c, "appendonly", "No"), "OK");
  EXPECT_FALSE(c.appendonly);
  for (const char* bad : {"1", "0", "true", "on", "maybe", ""}) {
    EXPECT_EQ(SetReply(c, "appendonly", bad),
              SetFailed("appendonly", "argument must be 'yes' or 'no'"))
        << bad;
  }
  EXPECT_EQ(SetReply(c, "lazyfree-lazy-user-del", "yes"), "OK");
  EXPECT_TRUE(c.lazyfree_lazy_user_del);
  EXPECT_EQ(SetReply(c, "lazyfree-lazy-user-flush", "yes"), "OK");
  EXPECT_TRUE(c.lazyfree_lazy_user_flush);
  EXPECT_EQ(SetReply(c, "protected-mode", "no"), "OK");
  EXPECT_FALSE(c.protected_mode);
}

TEST(ConfigTest, IntegersParseStrictlyWithRange) {
  Config c;
  EXPECT_EQ(SetReply(c, "timeout", "30"), "OK");
  EXPECT_EQ(c.timeout, 30);
  EXPECT_EQ(SetReply(c, "tcp-keepalive", "0"), "OK");
  EXPECT_EQ(c.tcp_keepalive, 0);
  for (const char* bad :
       {"abc", "+5", "05", " 7", "7 ", "1.5", "0x10", "", "-", "1k", "99999999999999999999"}) {
    EXPECT_EQ(SetReply(c, "maxclients", bad),
              SetFailed("maxclients", "argument couldn't be parsed into an integer"))
        << bad;
  }
  EXPECT_EQ(SetReply(c, "port", "70000"),
            SetFailed("port", "argument must be between 0 and 65535 inclusive"));
  EXPECT_EQ(SetReply(c, "port", "-1"),
            SetFailed("port", "argument must be between 0 and 65535 inclusive"));
  EXPECT_EQ(SetReply(c, "maxclients", "0"),
            SetFailed("maxclients", "argument must be between 1 and 4294967295 inclusive"));
  EXPECT_EQ(SetReply(c, "maxclients", "-5"),
            SetFailed("maxclients", "argument must be between 1 and 4294967295 inclusive"));
  EXPECT_EQ(SetReply(c, "slowlog-log-slower-than", "-2"),
            SetFailed("slowlog-log-slower-than",
                      "argument must be between -1 and 9223372036854775807 inclusive"));
  EXPECT_EQ(SetReply(c, "slowlog-log-slower-than", "-1"), "OK");
  EXPECT_EQ(c.slowlog_log_slower_than, -1);
  EXPECT_EQ(SetReply(c, "slowlog-max-len", "1000"), "OK");
  EXPECT_EQ(c.slowlog_max_len, 1000);
  EXPECT_EQ(SetReply(c, "list-max-listpack-size", "-2147483649"),
            SetFailed("list-max-listpack-size",
                      "argument must be between -2147483648 and 2147483647 inclusive"));
  EXPECT_EQ(SetReply(c, "port", "7000"), "OK");
  EXPECT_EQ(c.port, 7000);
  EXPECT_EQ(SetReply(c, "maxclients", "50"), "OK");
  EXPECT_EQ(c.maxclients, 50);
}

TEST(ConfigTest, HzIsClampedLikeRedis) {
  Config c;
  EXPECT_EQ(SetReply(c, "hz", "600"), "OK");
  EXPECT_EQ(Value(c, "hz"), "500");
  EXPECT_EQ(c.hz, 500);
  EXPECT_EQ(SetReply(c, "hz", "0"), "OK");
  EXPECT_EQ(Value(c, "hz"), "1");
  EXPECT_EQ(SetReply(c, "hz", "-1"),
            SetFailed("hz", "argument must be between 0 and 2147483647 inclusive"));
  // CONFIG SET raises repl-backlog-size to 16kb; a config file does not.
  EXPECT_EQ(SetReply(c, "repl-backlog-size", "1"), "OK");
  EXPECT_EQ(Value(c, "repl-backlog-size"), "16384");
  ASSERT_TRUE(c.LoadString("repl-backlog-size 1").ok());
  EXPECT_EQ(Value(c, "repl-backlog-size"), "1");
}

TEST(ConfigTest, MemoryValuesAndUnits) {
  Config c;
  const std::pair<const char*, const char*> cases[] = {
      {"0", "0"},
      {"100", "100"},
      {"1b", "1"},
      {"1k", "1000"},
      {"1K", "1000"},
      {"1kb", "1024"},
      {"1KB", "1024"},
      {"1kB", "1024"},
      {"1m", "1000000"},
      {"1mb", "1048576"},
      {"1g", "1000000000"},
      {"1gb", "1073741824"},
      {"2GB", "2147483648"},
      {"007k", "7000"},
      {"", "0"},
      {"99999999999999999999", "18446744073709551615"}};
  for (const auto& [in, out] : cases) {
    EXPECT_EQ(SetReply(c, "maxmemory", in), "OK") << in;
    EXPECT_EQ(Value(c, "maxmemory"), out) << in;
  }
  EXPECT_EQ(c.maxmemory, INT64_MAX);  // the typed field clamps what CONFIG GET still prints
  ASSERT_EQ(SetReply(c, "maxmemory", "1gb"), "OK");
  EXPECT_EQ(c.maxmemory, 1LL << 30);
  for (const char* bad : {"1x", "1t", "-1", "+1", " 1", "1.5gb", "0x10", "1 gb"}) {
    EXPECT_EQ(SetReply(c, "maxmemory", bad),
              SetFailed("maxmemory", "argument must be a memory value"))
        << bad;
  }
  EXPECT_EQ(SetReply(c, "proto-max-bulk-len", "1kb"),
            SetFailed("proto-max-bulk-len",
                      "argument must be between 1048576 and 9223372036854775807 inclusive"));
  EXPECT_EQ(SetReply(c, "proto-max-bulk-len", "2mb"), "OK");
  EXPECT_EQ(c.proto_max_bulk_len, 2 << 20);
  EXPECT_EQ(SetReply(c, "client-query-buffer-limit", "2gb"), "OK");
  EXPECT_EQ(c.client_query_buffer_limit, 2LL << 30);
  EXPECT_EQ(Value(c, "client-query-buffer-limit"), "2147483648");
}

TEST(ConfigTest, PercentAndOctalValues) {
  Config c;
  EXPECT_EQ(SetReply(c, "maxmemory-clients", "10%"), "OK");
  EXPECT_EQ(Value(c, "maxmemory-clients"), "10%");
  EXPECT_EQ(SetReply(c, "maxmemory-clients", "1kb"), "OK");
  EXPECT_EQ(Value(c, "maxmemory-clients"), "1024");
  EXPECT_EQ(SetReply(c, "maxmemory-clients", "101%"),
            SetFailed("maxmemory-clients", "percentage argument must be less or equal to 100"));
  EXPECT_EQ(SetReply(c, "maxmemory-clients", "-5%"),
            SetFailed("maxmemory-clients", "argument must be a memory or percent value"));
  // unixsocketperm is immutable: octal parsing shows at startup.
  EXPECT_TRUE(c.LoadString("unixsocketperm 700").ok());
  EXPECT_EQ(Value(c, "unixsocketperm"), "700");
  absl::Status s = c.LoadString("unixsocketperm 888");
  EXPECT_THAT(s.message(), HasSubstr("argument couldn't be parsed as an octal number"));
  s = c.LoadString("unixsocketperm 1000");
  EXPECT_THAT(s.message(), HasSubstr("argument must be between 0 and 777 inclusive"));
}

TEST(ConfigTest, EnumsNormaliseAndListChoices) {
  Config c;
  EXPECT_EQ(SetReply(c, "maxmemory-policy", "ALLKEYS-LRU"), "OK");
  EXPECT_EQ(Value(c, "maxmemory-policy"), "allkeys-lru");
  EXPECT_EQ(c.maxmemory_policy, "allkeys-lru");
  EXPECT_EQ(SetReply(c, "maxmemory-policy", "bogus"),
            SetFailed("maxmemory-policy",
                      "argument(s) must be one of the following: volatile-lru, volatile-lfu, "
                      "volatile-random, volatile-ttl, allkeys-lru, allkeys-lfu, allkeys-random, "
                      "noeviction"));
  EXPECT_EQ(SetReply(c, "loglevel", "warning"), "OK");
  EXPECT_EQ(c.loglevel, "warning");
  EXPECT_EQ(SetReply(c, "loglevel", "notice warning"),
            SetFailed("loglevel",
                      "argument(s) must be one of the following: debug, verbose, notice, warning"));
  // Two names for one value print as the first.
  EXPECT_EQ(SetReply(c, "oom-score-adj", "relative"), "OK");
  EXPECT_EQ(Value(c, "oom-score-adj"), "yes");
  // Flag enums take several words and print them in table order.
  EXPECT_EQ(SetReply(c, "shutdown-on-sigint", "force save"), "OK");
  EXPECT_EQ(Value(c, "shutdown-on-sigint"), "save force");
  EXPECT_EQ(SetReply(c, "shutdown-on-sigint", "default now"), "OK");
  EXPECT_EQ(Value(c, "shutdown-on-sigint"), "now");
  EXPECT_EQ(SetReply(c, "shutdown-on-sigterm", "save nosave"),
            SetFailed("shutdown-on-sigterm",
                      "shutdown options SAVE and NOSAVE can't be used simultaneously"));
  EXPECT_EQ(SetReply(c, "shutdown-on-sigterm", "save  now"),
            SetFailed("shutdown-on-sigterm",
                      "argument(s) must be one of the following: default, save, nosave, now, "
                      "force"));
}

TEST(ConfigTest, ImmutableAndProtectedParameters) {
  Config c;
  for (const char* name : {"daemonize", "databases", "tcp-backlog", "logfile", "pidfile",
                           "unixsocket", "io-threads", "threads", "pin", "slaveof"}) {
    EXPECT_EQ(SetReply(c, name, "1"), SetFailed(name, "can't set immutable config")) << name;
  }
  // The name is echoed as typed.
  EXPECT_EQ(SetReply(c, "DAEMONIZE", "yes"), SetFailed("DAEMONIZE", "can't set immutable config"));
  // dir and dbfilename need enable-protected-configs.
  EXPECT_EQ(SetReply(c, "dir", "/tmp"), SetFailed("dir", "can't set protected config"));
  EXPECT_EQ(SetReply(c, "dbfilename", "x.rdb"),
            SetFailed("dbfilename", "can't set protected config"));
  ASSERT_TRUE(c.LoadString("enable-protected-configs local").ok());
  EXPECT_EQ(SetReply(c, "dbfilename", "x.rdb"),
            SetFailed("dbfilename", "can't set protected config"));
  EXPECT_TRUE(c.Set("dbfilename", "x.rdb", /*local_client=*/true).ok());
  EXPECT_EQ(c.dbfilename, "x.rdb");
  ASSERT_TRUE(c.LoadString("enable-protected-configs yes").ok());
  EXPECT_EQ(SetReply(c, "dbfilename", "a/b.rdb"),
            SetFailed("dbfilename", "dbfilename can't be a path, just a filename"));
}

TEST(ConfigTest, DirIsValidatedAndStoredAbsolute) {
  TempDir tmp;
  std::string sub = tmp.Mkdir("sub");
  std::string file = tmp.Write("afile", "x");
  Config c;
  ASSERT_TRUE(c.LoadString("enable-protected-configs yes").ok());
  EXPECT_EQ(SetReply(c, "dir", "/nonexistent/dir"), SetFailed("dir", "No such file or directory"));
  EXPECT_EQ(SetReply(c, "dir", file), SetFailed("dir", "Not a directory"));
  EXPECT_EQ(SetReply(c, "dir", ""), SetFailed("dir", "No such file or directory"));
  ASSERT_EQ(SetReply(c, "dir", tmp.path()), "OK");
  char real[4096];
  ASSERT_NE(realpath(tmp.path().c_str(), real), nullptr);
  EXPECT_EQ(c.dir, real);
  // Relative to the current dir, normalised.
  ASSERT_EQ(SetReply(c, "dir", "sub"), "OK");
  EXPECT_EQ(Value(c, "dir"), std::string(real) + "/sub");
  ASSERT_EQ(SetReply(c, "dir", ".."), "OK");
  EXPECT_EQ(Value(c, "dir"), real);
}

TEST(ConfigTest, StringValidators) {
  Config c;
  EXPECT_EQ(SetReply(c, "cluster-announce-hostname", "a b"),
            SetFailed("cluster-announce-hostname",
                      "Hostnames may only contain alphanumeric characters, hyphens or dots"));
  EXPECT_EQ(SetReply(c, "cluster-announce-hostname", "host-1.example"), "OK");
  EXPECT_EQ(
      SetReply(c, "proc-title-template", "{title}"),
      SetFailed("proc-title-template", "template format is invalid or contains unknown variables"));
  EXPECT_EQ(
      SetReply(c, "proc-title-template", "{bogus}"),
      SetFailed("proc-title-template", "template format is invalid or contains unknown variables"));
  EXPECT_EQ(SetReply(c, "proc-title-template", "{title} {port}"), "OK");
  EXPECT_EQ(SetReply(c, "requirepass", "secret"), "OK");
  EXPECT_EQ(c.requirepass, "secret");
  EXPECT_TRUE(Config::IsSensitive("requirepass"));
  EXPECT_TRUE(Config::IsSensitive("MASTERAUTH"));
  EXPECT_FALSE(Config::IsSensitive("port"));
  absl::Status s = c.LoadString("appendfilename \"\"");
  EXPECT_THAT(s.message(), HasSubstr("appendfilename can't be empty"));
}

TEST(ConfigTest, SaveParameter) {
  Config c;
  EXPECT_EQ(SetReply(c, "save", "900 1 300 10"), "OK");
  EXPECT_EQ(Value(c, "save"), "900 1 300 10");
  EXPECT_EQ(SetReply(c, "save", ""), "OK");
  EXPECT_EQ(Value(c, "save"), "");
  for (const char* bad : {"900", "0 1", "1 -1", "abc", "900 1 300", "  "}) {
    EXPECT_EQ(SetReply(c, "save", bad), SetFailed("save", "Invalid save parameters")) << bad;
  }
  // Redis quirks: empty words between double spaces read as 0; changes is an int.
  EXPECT_EQ(SetReply(c, "save", "3600  1 "), "OK");
  EXPECT_EQ(Value(c, "save"), "3600 0 1 0");
  EXPECT_EQ(SetReply(c, "save", "1 99999999999"), "OK");
  EXPECT_EQ(Value(c, "save"), "1 1215752191");
}

TEST(ConfigTest, ClientOutputBufferLimit) {
  Config c;
  EXPECT_EQ(SetReply(c, "client-output-buffer-limit", "pubsub 1mb 2MB 3"), "OK");
  EXPECT_EQ(Value(c, "client-output-buffer-limit"),
            "normal 0 0 0 slave 268435456 67108864 60 pubsub 1048576 2097152 3");
  EXPECT_EQ(SetReply(c, "client-output-buffer-limit", "replica 1 2 3 slave 4 5 6"), "OK");
  EXPECT_EQ(Value(c, "client-output-buffer-limit"),
            "normal 0 0 0 slave 4 5 6 pubsub 1048576 2097152 3");
  EXPECT_EQ(SetReply(c, "client-output-buffer-limit", "master 1 2 3"),
            SetFailed("client-output-buffer-limit",
                      "Invalid client class specified in buffer limit configuration."));
  EXPECT_EQ(SetReply(c, "client-output-buffer-limit", "normal 1 2"),
            SetFailed("client-output-buffer-limit",
                      "Wrong number of arguments in buffer limit configuration."));
  EXPECT_EQ(SetReply(c, "client-output-buffer-limit", "normal 1 2 -3"),
            SetFailed("client-output-buffer-limit",
                      "Error in hard, soft or soft_seconds setting in buffer limit "
                      "configuration."));
}

TEST(ConfigTest, BindNotifyOomPercentiles) {
  Config c;
  EXPECT_EQ(SetReply(c, "bind", "127.0.0.1 ::1"), "OK");
  EXPECT_EQ(c.bind, (std::vector<std::string>{"127.0.0.1", "::1"}));
  EXPECT_EQ(Value(c, "bind"), "127.0.0.1 ::1");
  EXPECT_EQ(SetReply(c, "bind", "a b c d e f g h i j k l m n o p q"),
            SetFailed("bind", "Too many bind addresses specified."));

  const std::pair<const char*, const char*> events[] = {
      {"KEA", "AKE"}, {"Ex", "xE"}, {"AKEmn", "AKEm"}, {"g$lshzxetd", "A"}, {"mK", "Km"}, {"", ""}};
  for (const auto& [in, out] : events) {
    EXPECT_EQ(SetReply(c, "notify-keyspace-events", in), "OK");
    EXPECT_EQ(Value(c, "notify-keyspace-events"), out) << in;
  }
  EXPECT_EQ(
      SetReply(c, "notify-keyspace-events", "Q"),
      SetFailed("notify-keyspace-events", "Invalid event class character. Use 'Ag$lshzxeKEtmdn'."));

  EXPECT_EQ(SetReply(c, "oom-score-adj-values", "+1 2 3"), "OK");
  EXPECT_EQ(Value(c, "oom-score-adj-values"), "1 2 3");
  EXPECT_EQ(SetReply(c, "oom-score-adj-values", "1 2"),
            SetFailed("oom-score-adj-values", "wrong number of arguments"));
  EXPECT_EQ(SetReply(c, "oom-score-adj-values", "1 2 3000"),
            SetFailed("oom-score-adj-values",
                      "Invalid oom-score-adj-values, elements must be between -2000 and 2000."));

  EXPECT_EQ(SetReply(c, "latency-tracking-info-percentiles", "1.50 99.900 100"), "OK");
  EXPECT_EQ(Value(c, "latency-tracking-info-percentiles"), "1.5 99.9 100");
  EXPECT_EQ(SetReply(c, "latency-tracking-info-percentiles", "50 101"),
            SetFailed("latency-tracking-info-percentiles",
                      "latency-tracking-info-percentiles parameters should sit between "
                      "[0.0,100.0]"));
  EXPECT_EQ(SetReply(c, "latency-tracking-info-percentiles", ""), "OK");
  EXPECT_EQ(Value(c, "latency-tracking-info-percentiles"), "");
}

TEST(ConfigTest, AliasesInGetSetAndErrors) {
  Config c;
  EXPECT_EQ(Value(c, "hash-max-ziplist-entries"), "512");
  EXPECT_EQ(SetReply(c, "hash-max-ziplist-entries", "100"), "OK");
  EXPECT_EQ(Value(c, "hash-max-listpack-entries"), "100");
  EXPECT_EQ(SetReply(c, "slave-read-only", "no"), "OK");
  EXPECT_EQ(Value(c, "replica-read-only"), "no");
  EXPECT_EQ(SetReply(c, "lua-time-limit", "100"), "OK");
  EXPECT_EQ(Value(c, "busy-reply-threshold"), "100");
  EXPECT_EQ(SetReply(c, "list-max-ziplist-size", "5"), "OK");
  EXPECT_EQ(Value(c, "list-max-listpack-size"), "5");
  // Value errors name the parameter as registered, lowercase, alias included.
  EXPECT_EQ(SetReply(c, "LIST-MAX-ZIPLIST-SIZE", "a"),
            SetFailed("list-max-ziplist-size", "argument couldn't be parsed into an integer"));
  EXPECT_EQ(SetReply(c, "HZ", "a"), SetFailed("hz", "argument couldn't be parsed into an integer"));
  EXPECT_EQ(SetReply(c, "slaveof", "no one"), SetFailed("slaveof", "can't set immutable config"));
}

TEST(ConfigTest, MatchGlobPatterns) {
  Config c;
  EXPECT_THAT(c.Match("hash-max-*"), UnorderedElementsAre(Pair("hash-max-listpack-entries", "512"),
                                                          Pair("hash-max-ziplist-entries", "512"),
                                                          Pair("hash-max-listpack-value", "64"),
                                                          Pair("hash-max-ziplist-value", "64")));
  EXPECT_THAT(c.Match("HZ*"), ElementsAre(Pair("hz", "10")));
  EXPECT_THAT(c.Match("h?"), ElementsAre(Pair("hz", "10")));
  EXPECT_THAT(c.Match("*ziplist*"), UnorderedElementsAre(Pair("list-max-ziplist-size", "-2"),
                                                         Pair("hash-max-ziplist-entries", "512"),
                                                         Pair("hash-max-ziplist-value", "64"),
                                                         Pair("zset-max-ziplist-entries", "128"),
                                                         Pair("zset-max-ziplist-value", "64")));
  EXPECT_THAT(c.Match("[pt]?rt"), ElementsAre(Pair("port", "6379")));
  EXPECT_TRUE(c.Match("nomatch*").empty());
  // No glob characters: an exact lookup that echoes the name as given.
  EXPECT_THAT(c.Match("Hash-Max-Ziplist-Entries"),
              ElementsAre(Pair("Hash-Max-Ziplist-Entries", "512")));
  EXPECT_TRUE(c.Match("nosuchparam").empty());
  // Hidden parameters answer only to their exact name.
  EXPECT_THAT(c.Match("key-load-delay"), ElementsAre(Pair("key-load-delay", "0")));
  EXPECT_TRUE(c.Match("key-load-*").empty());
  // No duplicates across a whole listing.
  auto all = c.Match("*");
  std::vector<std::string> names;
  for (const auto& [name, value] : all) names.push_back(name);
  std::sort(names.begin(), names.end());
  EXPECT_EQ(std::adjacent_find(names.begin(), names.end()), names.end());
}

TEST(ConfigTest, SetManyIsAllOrNothing) {
  Config c;
  absl::Status s = c.SetMany({{"hz", "5"}, {"maxclients", "abc"}});
  EXPECT_EQ(s.message(), SetFailed("maxclients", "argument couldn't be parsed into an integer"));
  EXPECT_EQ(c.hz, 10);
  EXPECT_EQ(Value(c, "hz"), "10");
  ASSERT_TRUE(c.SetMany({{"hz", "5"}, {"timeout", "7"}}).ok());
  EXPECT_EQ(c.hz, 5);
  EXPECT_EQ(c.timeout, 7);
  // Duplicates (case-insensitive) are refused; an alias and its name are two parameters.
  EXPECT_EQ(c.SetMany({{"hz", "5"}, {"HZ", "6"}}).message(),
            SetFailed("HZ", "duplicate parameter"));
  EXPECT_TRUE(
      c.SetMany({{"hash-max-ziplist-entries", "1"}, {"hash-max-listpack-entries", "2"}}).ok());
  EXPECT_EQ(Value(c, "hash-max-ziplist-entries"), "2");
  // Which error wins: the first problem found by name, before any value is parsed.
  EXPECT_EQ(c.SetMany({{"hz", "x"}, {"foo", "1"}}).message(),
            "Unknown option or number of arguments for CONFIG SET - 'foo'");
  EXPECT_EQ(c.SetMany({{"daemonize", "yes"}, {"foo", "1"}}).message(),
            SetFailed("daemonize", "can't set immutable config"));
  EXPECT_EQ(c.SetMany({{"hz", "x"}, {"daemonize", "yes"}}).message(),
            SetFailed("daemonize", "can't set immutable config"));
  EXPECT_EQ(c.SetMany({{"hz", "7"}, {"hz", "8"}, {"bar", "1"}}).message(),
            SetFailed("hz", "duplicate parameter"));
  EXPECT_EQ(c.hz, 5);
}

TEST(ConfigTest, LoadFileWithCommentsQuotesAndMultiArgs) {
  TempDir tmp;
  std::string path = tmp.Write("redis.conf",
                               "# A comment\n"
                               "\n"
                               "   port 7001   \r\n"
                               "BIND 127.0.0.1 ::1\n"
                               "save 900 1\n"
                               "save 300 10\n"
                               "requirepass \"pa ss\\n\\x41\"\n"
                               "masterauth 'it\\'s'\n"
                               "databases 4\n"
                               "daemonize no\n"
                               "threads 3\n"
                               "pin no\n"
                               "maxmemory 2mb\n"
                               "list-max-ziplist-entries 5\n"
                               "rename-command FLUSHALL \"\"\n"
                               "user alice on >pw ~* +@all\n"
                               "\t# indented comment\n");
  Config c;
  absl::Status s = c.LoadFile(path);
  ASSERT_TRUE(s.ok()) << s.message();
  EXPECT_EQ(c.port, 7001);
  EXPECT_EQ(c.bind, (std::vector<std::string>{"127.0.0.1", "::1"}));
  EXPECT_EQ(Value(c, "save"), "900 1 300 10");
  EXPECT_EQ(c.requirepass, "pa ss\nA");
  EXPECT_EQ(Value(c, "masterauth"), "it's");
  EXPECT_EQ(c.databases, 4);
  EXPECT_EQ(c.threads, 3);
  EXPECT_FALSE(c.pin);
  EXPECT_EQ(c.maxmemory, 2 << 20);
  EXPECT_THAT(c.renamed_commands, ElementsAre(Pair("FLUSHALL", "")));
  ASSERT_EQ(c.acl_users.size(), 1u);
  EXPECT_THAT(c.acl_users[0], ElementsAre("alice", "on", ">pw", "~*", "+@all"));
  char real[4096];
  ASSERT_NE(realpath(path.c_str(), real), nullptr);
  EXPECT_EQ(c.config_file, real);
}

TEST(ConfigTest, LoadFileErrorsNameFileLineAndText) {
  TempDir tmp;
  struct Case {
    const char* line;
    const char* error;
  };
  const Case cases[] = {
      {"foo bar", "Bad directive or wrong number of arguments"},
      {"port 6379 # comment", "wrong number of arguments"},
      {"port", "wrong number of arguments"},
      {"port \"6379", "Unbalanced quotes in configuration line"},
      {"port \"63\"79", "Unbalanced quotes in configuration line"},
      {"hz abc", "argument couldn't be parsed into an integer"},
      {"save 1", "Invalid save parameters"},
      {"daemonize maybe", "argument must be 'yes' or 'no'"},
      {"replicaof a b", "Invalid master port"},
      {"dir /nonexistent/dir", "No such file or directory"},
      {"sentinel monitor x", "sentinel directive while not in sentinel mode"},
      {"list-max-ziplist-entries 1 2", "Bad directive or wrong number of arguments"},
      {"threads -1", "argument must be between 0 and 1024 inclusive"},
  };
  for (const Case& k : cases) {
    std::string path = tmp.Write("bad.conf", std::string("hz 10\n# two\n") + k.line + "\n");
    Config c;
    absl::Status s = c.LoadFile(path);
    ASSERT_FALSE(s.ok()) << k.line;
    EXPECT_EQ(s.message(), std::string("*** FATAL CONFIG FILE ERROR (Shardis ") + SHARDIS_VERSION +
                               ") ***\nReading the configuration file " + path +
                               ", at line 3\n>>> '" + k.line + "'\n" + k.error);
  }
  Config c;
  absl::Status s = c.LoadFile(tmp.path() + "/missing.conf");
  EXPECT_THAT(s.message(), HasSubstr("Fatal error, can't open config file '" + tmp.path() +
                                     "/missing.conf': No such file or directory"));
  std::string path = tmp.Write("log.conf", "logfile /nonexistent/dir/x.log\n");
  s = c.LoadFile(path);
  EXPECT_THAT(s.message(), HasSubstr("Can't open the log file: No such file or directory"));
}

TEST(ConfigTest, LoadFileIncludes) {
  TempDir tmp;
  std::string confd = tmp.Mkdir("conf.d");
  tmp.Write("conf.d/a.conf", "maxclients 100\n");
  tmp.Write("conf.d/b.conf", "timeout 9\n");
  tmp.Write("common.conf", "port 7100\nhz 20\n");
  std::string main_conf = tmp.Write("main.conf", "dir " + tmp.path() +
                                                     "\n"
                                                     "include common.conf\n"
                                                     "hz 30\n"
                                                     "include " +
                                                     confd +
                                                     "/*.conf\n"
                                                     "include " +
                                                     tmp.path() + "/empty.d/*.conf\n");
  Config c;
  absl::Status s = c.LoadFile(main_conf);
  ASSERT_TRUE(s.ok()) << s.message();
  EXPECT_EQ(c.port, 7100);
  EXPECT_EQ(c.hz, 30);  // later lines win
  EXPECT_EQ(c.maxclients, 100);
  EXPECT_EQ(c.timeout, 9);

  // An error inside an included file names that file and its line.
  std::string bad = tmp.Write("bad.conf", "\nbogus 1\n");
  std::string outer = tmp.Write("outer.conf", "port 1\ninclude " + bad + "\n");
  s = c.LoadFile(outer);
  EXPECT_THAT(s.message(), HasSubstr("Reading the configuration file " + bad +
                                     ", at line 2\n>>> 'bogus 1'\nBad directive"));
  std::string missing = tmp.Write("missing.conf", "include " + tmp.path() + "/nope.conf\n");
  s = c.LoadFile(missing);
  EXPECT_THAT(s.message(), HasSubstr("at line 1\n>>> 'include " + tmp.path() +
                                     "/nope.conf'\nFatal error, can't open config file"));
  std::string loop = tmp.Write("loop.conf", "include loop.conf\n");
  s = c.LoadFile(loop);
  EXPECT_THAT(s.message(), HasSubstr("include nesting is too deep"));
}

TEST(ConfigTest, SaveLinesAccumulateAtStartup) {
  TempDir tmp;
  std::string path = tmp.Write("s.conf", "save 900 1\nsave 300 10\n");
  {
    Config c;
    ASSERT_TRUE(c.LoadCommandLine({path, "--save", "60", "5"}).ok());
    EXPECT_EQ(Value(c, "save"), "900 1 300 10 60 5");
  }
  {
    Config c;
    ASSERT_TRUE(c.LoadCommandLine({path, "--save", ""}).ok());
    EXPECT_EQ(Value(c, "save"), "");
  }
  {
    Config c;  // a bare --save means save ""
    ASSERT_TRUE(c.LoadCommandLine({path, "--save", "--port", "7002"}).ok());
    EXPECT_EQ(Value(c, "save"), "");
    EXPECT_EQ(c.port, 7002);
  }
  {
    Config c;  // without a save line the defaults stay
    ASSERT_TRUE(c.LoadCommandLine({"--port", "7003"}).ok());
    EXPECT_EQ(Value(c, "save"), "3600 1 300 100 60 10000");
  }
}

TEST(ConfigTest, CommandLineOptions) {
  TempDir tmp;
  std::string path = tmp.Write("c.conf", "port 7004\nhz 20\n");
  Config c;
  absl::Status s = c.LoadCommandLine({path, "--hz", "40", "--bind", "127.0.0.1", "::1",
                                      "--requirepass", "a \"quoted\" pass", "--databases", "8",
                                      "--threads", "2", "--daemonize", "no"});
  ASSERT_TRUE(s.ok()) << s.message();
  EXPECT_EQ(c.port, 7004);  // from the file
  EXPECT_EQ(c.hz, 40);      // the command line comes after the file
  EXPECT_EQ(c.bind, (std::vector<std::string>{"127.0.0.1", "::1"}));
  EXPECT_EQ(c.requirepass, "a \"quoted\" pass");
  EXPECT_EQ(c.databases, 8);
  EXPECT_EQ(c.threads, 2);
  // A value may start with "--" right after a bare option name.
  Config d;
  ASSERT_TRUE(d.LoadCommandLine({"--requirepass", "--secret"}).ok());
  EXPECT_EQ(d.requirepass, "--secret");
  // "--name value" in one argument.
  ASSERT_TRUE(d.LoadCommandLine({"--port 7005"}).ok());
  EXPECT_EQ(d.port, 7005);
  s = d.LoadCommandLine({"--port", "1", "2"});
  EXPECT_THAT(s.message(), HasSubstr("Reading the command line options, at line 1\n>>> 'port "
                                     "\"1\" \"2\"'\nwrong number of arguments"));
  s = d.LoadCommandLine({"--nosuch", "1"});
  EXPECT_THAT(s.message(), HasSubstr("Bad directive or wrong number of arguments"));
}

TEST(ConfigTest, ApplyDirectiveIgnoresMutability) {
  Config c;
  EXPECT_TRUE(c.ApplyDirective("databases", {"32"}).ok());
  EXPECT_EQ(c.databases, 32);
  EXPECT_TRUE(c.ApplyDirective("replicaof", {"127.0.0.1", "6380"}).ok());
  EXPECT_EQ(Value(c, "slaveof"), "127.0.0.1 6380");
  EXPECT_TRUE(c.ApplyDirective("replicaof", {"no", "one"}).ok());
  EXPECT_EQ(Value(c, "replicaof"), "");
  EXPECT_EQ(c.ApplyDirective("port", {"1", "2"}).message(), "wrong number of arguments");
  EXPECT_EQ(c.ApplyDirective("nosuch", {"1"}).message(),
            "Bad directive or wrong number of arguments");
  EXPECT_TRUE(c.ApplyDirective("enable-debug-command", {"local"}).ok());
  EXPECT_TRUE(c.enable_debug_command);
  EXPECT_TRUE(c.DebugCommandAllowed(true));
  EXPECT_FALSE(c.DebugCommandAllowed(false));
}

TEST(ConfigTest, NamesListsCanonicalNames) {
  std::vector<std::string> names = Config::Names();
  EXPECT_NE(std::find(names.begin(), names.end(), "replicaof"), names.end());
  EXPECT_EQ(std::find(names.begin(), names.end(), "slaveof"), names.end());
  EXPECT_NE(std::find(names.begin(), names.end(), "threads"), names.end());
  for (const std::string& n : names) EXPECT_TRUE(Config::IsKnown(n)) << n;
}

}  // namespace
}  // namespace shardis
