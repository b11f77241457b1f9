// INFO: gathers every thread's counters, clients and keyspace sizes (each read on its own
// thread through ForEachThread) and prints them with redis-server 7.0's section and field names,
// plus a per-thread section so SO_REUSEPORT skew and cross-thread traffic are visible.
#include <sys/resource.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <memory>
#include <string_view>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "server/aof.h"
#include "server/command_table.h"
#include "server/config.h"
#include "server/lazy_free.h"
#include "server/memory_accounting.h"
#include "server/metrics_http.h"
#include "server/persistence.h"
#include "server/pubsub.h"
#include "server/scripting/lua_engine.h"
#include "server/server_context.h"

#ifdef SHARDIS_JEMALLOC
#include <jemalloc/jemalloc.h>
#else
#include <malloc.h>
#endif

namespace shardis {
namespace {

struct ThreadSnapshot {
  ThreadCounters counters;
  std::vector<CommandStat> commands;
  ErrorStats errors;
  ShardStats shard_stats;
  size_t connections = 0;
  size_t blocked = 0;
  size_t tracking_keys = 0;
  size_t tracking_items = 0;
  size_t tracking_prefixes = 0;
  std::vector<std::string> pubsub_names[3];    // by SubKind: this thread's channels, patterns...
  std::vector<std::pair<size_t, size_t>> dbs;  // (keys, expires) per db
};

struct MemoryFacts {
  size_t allocated = 0;
  size_t active = 0;
  size_t resident = 0;
  std::string allocator;
};

MemoryFacts ReadMemory() {
  MemoryFacts m;
#ifdef SHARDIS_JEMALLOC
  uint64_t epoch = 1;
  size_t sz = sizeof(epoch);
  mallctl("epoch", &epoch, &sz, &epoch, sz);
  sz = sizeof(size_t);
  mallctl("stats.allocated", &m.allocated, &sz, nullptr, 0);
  mallctl("stats.active", &m.active, &sz, nullptr, 0);
  mallctl("stats.resident", &m.resident, &sz, nullptr, 0);
  const char* version = nullptr;
  sz = sizeof(version);
  std::string v = "unknown";
  if (mallctl("version", &version, &sz, nullptr, 0) == 0 && version != nullptr) {
    v = version;
    size_t dash = v.find('-');
    if (dash != std::string::npos) v.resize(dash);
  }
  m.allocator = "jemalloc-" + v;
#else
  m.allocated = memory::AllocatorAllocated();  // the figure maxmemory uses
  m.active = m.allocated;
  m.resident = m.allocated;
  m.allocator = "libc";
#endif
  return m;
}

size_t ReadRss() {
  std::ifstream statm("/proc/self/statm");
  size_t pages = 0;
  size_t rss = 0;
  statm >> pages >> rss;
  return rss * static_cast<size_t>(sysconf(_SC_PAGESIZE));
}

std::string Human(double bytes) {
  static constexpr const char* kUnits[] = {"B", "K", "M", "G", "T", "P"};
  int unit = 0;
  while (bytes >= 1024 && unit < 5) {
    bytes /= 1024;
    ++unit;
  }
  if (unit == 0) return absl::StrFormat("%dB", static_cast<int64_t>(bytes));
  return absl::StrFormat("%.2f%s", bytes, kUnits[unit]);
}

// The latency (usec) under which `q` percent of the `samples` calls of `stat` fell, from its
// power-of-two histogram: the bucket holding that rank, interpolated linearly inside it (Redis
// reads an HdrHistogram of three significant digits; this is within a bucket's width).
double LatencyPercentile(const CommandStat& stat, uint64_t samples, double q) {
  double rank = q / 100.0 * static_cast<double>(samples);
  uint64_t seen = 0;
  for (int b = 0; b < CommandStat::kLatencyBuckets; ++b) {
    uint64_t n = stat.latency_buckets[b];
    if (n == 0) continue;
    if (static_cast<double>(seen + n) >= rank) {
      // Bucket 0 is "at most 1 usec": Redis's histogram starts at 1 usec too.
      double lo = b == 0 ? 1.0 : static_cast<double>(uint64_t{1} << (b - 1));
      double hi = static_cast<double>(uint64_t{1} << b);
      double within = (rank - static_cast<double>(seen)) / static_cast<double>(n);
      return lo + (hi - lo) * std::clamp(within, 0.0, 1.0);
    }
    seen += n;
  }
  return static_cast<double>(uint64_t{1} << (CommandStat::kLatencyBuckets - 1));
}

class InfoWriter {
 public:
  InfoWriter(const std::vector<std::string>& sections) {
    for (const std::string& s : sections) requested_.insert(s);
    if (requested_.empty() || requested_.contains("default")) {
      for (const char* s : {"server", "clients", "memory", "persistence", "stats", "replication",
                            "cpu", "modules", "errorstats", "cluster", "keyspace", "threads"}) {
        requested_.insert(s);
      }
    }
    if (requested_.contains("all") || requested_.contains("everything")) {
      for (const char* s :
           {"server", "clients", "memory", "persistence", "stats", "replication", "cpu", "modules",
            "commandstats", "errorstats", "latencystats", "cluster", "keyspace", "threads"}) {
        requested_.insert(s);
      }
    }
  }

  bool Wants(std::string_view section) const { return requested_.contains(AV(section)); }

  void Section(std::string_view title) {
    if (!out_.empty()) out_ += "\r\n";
    CatAppend(&out_, "# ", title, "\r\n");
  }
  template <typename T>
  void Field(std::string_view name, const T& value) {
    CatAppend(&out_, name, ":", value, "\r\n");
  }
  std::string& text() { return out_; }

 private:
  absl::flat_hash_set<std::string> requested_;
  std::string out_;
};

std::string InfoText(ServerContext& ctx, const std::vector<ThreadSnapshot>& threads,
                     const std::vector<std::string>& sections) {
  const Config& config = ctx.config();
  const ServerInfo& info = ctx.server_info();
  InfoWriter w(sections);
  ThreadCounters total;
  size_t connections = 0;
  size_t blocked = 0;
  ShardStats shard_total;
  for (const ThreadSnapshot& t : threads) {
    total.connections_received += t.counters.connections_received;
    total.rejected_connections += t.counters.rejected_connections;
    total.commands_processed += t.counters.commands_processed;
    total.net_input_bytes += t.counters.net_input_bytes;
    total.net_output_bytes += t.counters.net_output_bytes;
    total.reads_processed += t.counters.reads_processed;
    total.writes_processed += t.counters.writes_processed;
    total.unexpected_error_replies += t.counters.unexpected_error_replies;
    total.total_error_replies += t.counters.total_error_replies;
    connections += t.connections;
    blocked += t.blocked;
    shard_total.expired_keys += t.shard_stats.expired_keys;
    shard_total.evicted_keys += t.shard_stats.evicted_keys;
    shard_total.keyspace_hits += t.shard_stats.keyspace_hits;
    shard_total.keyspace_misses += t.shard_stats.keyspace_misses;
  }
  int64_t now_ms = ctx.shard().now_ms();
  int64_t uptime = (now_ms - info.start_time_ms) / 1000;
  if (w.Wants("server")) {
    struct utsname uts;
    uname(&uts);
    w.Section("Server");
    w.Field("redis_version", kRedisCompatVersion);
    w.Field("shardis_version", SHARDIS_VERSION);
    w.Field("redis_git_sha1", "00000000");
    w.Field("redis_git_dirty", 0);
    w.Field("redis_build_id", "0");
    w.Field("redis_mode", "standalone");
    w.Field("os", Cat(uts.sysname, " ", uts.release, " ", uts.machine));
    w.Field("arch_bits", sizeof(void*) * 8);
    w.Field("monotonic_clock", "POSIX clock_gettime");
    w.Field("multiplexing_api", "epoll");
    w.Field("atomicvar_api", "c11-builtin");
    w.Field("gcc_version",
            absl::StrFormat("%d.%d.%d", __GNUC__, __GNUC_MINOR__, __GNUC_PATCHLEVEL__));
    w.Field("process_id", info.pid);
    w.Field("process_supervised", "no");
    w.Field("run_id", info.run_id);
    w.Field("tcp_port", config.port);
    w.Field("server_time_usec", now_ms * 1000);
    w.Field("uptime_in_seconds", uptime);
    w.Field("uptime_in_days", uptime / 86400);
    w.Field("hz", config.hz);
    w.Field("configured_hz", config.hz);
    w.Field("lru_clock", (now_ms / 1000) & ((1 << 24) - 1));
    w.Field("executable", info.executable);
    w.Field("config_file", info.config_file);
    w.Field("io_threads_active", 0);
    w.Field("threads", info.thread_count);
  }
  if (w.Wants("clients")) {
    w.Section("Clients");
    w.Field("connected_clients", connections);
    w.Field("cluster_connections", 0);
    w.Field("maxclients", config.maxclients);
    w.Field("client_recent_max_input_buffer", 0);
    w.Field("client_recent_max_output_buffer", 0);
    w.Field("blocked_clients", blocked);
    w.Field("tracking_clients", TrackingClientCount().load(std::memory_order_relaxed));
    w.Field("clients_in_timeout_table", 0);
  }
  if (w.Wants("memory")) {
    MemoryFacts mem = ReadMemory();
    size_t rss = ReadRss();
    long pages = sysconf(_SC_PHYS_PAGES);
    size_t total_memory = static_cast<size_t>(pages) * sysconf(_SC_PAGESIZE);
    w.Section("Memory");
    w.Field("used_memory", mem.allocated);
    w.Field("used_memory_human", Human(mem.allocated));
    w.Field("used_memory_rss", rss);
    w.Field("used_memory_rss_human", Human(rss));
    memory::Observe(static_cast<int64_t>(mem.allocated));
    auto peak = static_cast<size_t>(memory::Peak());
    w.Field("used_memory_peak", peak);
    w.Field("used_memory_peak_human", Human(peak));
    w.Field("used_memory_peak_perc",
            absl::StrFormat("%.2f%%", peak ? 100.0 * mem.allocated / peak : 100.0));
    // No separate accounting of the server's own structures: all of it counts as dataset.
    w.Field("used_memory_overhead", 0);
    w.Field("used_memory_startup", 0);
    w.Field("used_memory_dataset", mem.allocated);
    w.Field("used_memory_dataset_perc", mem.allocated ? "100.00%" : "0.00%");
    w.Field("allocator_allocated", mem.allocated);
    w.Field("allocator_active", mem.active);
    w.Field("allocator_resident", mem.resident);
    w.Field("total_system_memory", total_memory);
    w.Field("total_system_memory_human", Human(total_memory));
    // Scripting: this thread's Lua state (every thread holds the same scripts and libraries).
    scripting::LuaEngine& lua = scripting::LuaEngine::ThisThread();
    w.Field("used_memory_lua", lua.memory_bytes());
    w.Field("used_memory_vm_eval", lua.memory_bytes());
    w.Field("used_memory_lua_human", Human(lua.memory_bytes()));
    w.Field("used_memory_scripts_eval", 0);
    w.Field("number_of_cached_scripts", lua.script_count());
    w.Field("number_of_functions", lua.function_count());
    w.Field("number_of_libraries", lua.libraries().size());
    w.Field("used_memory_vm_functions", 0);  // one Lua state serves EVAL and FUNCTION
    w.Field("used_memory_vm_total", lua.memory_bytes());
    w.Field("used_memory_vm_total_human", Human(lua.memory_bytes()));
    w.Field("used_memory_functions", 0);
    w.Field("used_memory_scripts", 0);
    w.Field("used_memory_scripts_human", "0B");
    w.Field("maxmemory", config.maxmemory);
    w.Field("maxmemory_human", Human(config.maxmemory));
    w.Field("maxmemory_policy", config.maxmemory_policy);
    // Redis's ratios between the allocator's figures and the process's RSS.
    auto ratio = [](size_t num, size_t den) {
      return absl::StrFormat("%.2f", den ? static_cast<double>(num) / den : 0.0);
    };
    auto diff = [](size_t a, size_t b) {
      return static_cast<int64_t>(a) - static_cast<int64_t>(b);
    };
    w.Field("allocator_frag_ratio", ratio(mem.active, mem.allocated));
    w.Field("allocator_frag_bytes", diff(mem.active, mem.allocated));
    w.Field("allocator_rss_ratio", ratio(mem.resident, mem.active));
    w.Field("allocator_rss_bytes", diff(mem.resident, mem.active));
    w.Field("rss_overhead_ratio", ratio(rss, mem.resident));
    w.Field("rss_overhead_bytes", diff(rss, mem.resident));
    w.Field("mem_fragmentation_ratio",
            absl::StrFormat("%.2f", mem.allocated ? static_cast<double>(rss) / mem.allocated : 0));
    w.Field("mem_fragmentation_bytes",
            static_cast<int64_t>(rss) - static_cast<int64_t>(mem.allocated));
    w.Field("mem_not_counted_for_evict", 0);
    // No replication, cluster bus or AOF rewrite buffer; client buffers are not accounted.
    for (const char* f :
         {"mem_replication_backlog", "mem_total_replication_buffers", "mem_clients_slaves",
          "mem_clients_normal", "mem_cluster_links", "mem_aof_buffer"}) {
      w.Field(f, 0);
    }
    w.Field("mem_allocator", mem.allocator);
    w.Field("active_defrag_running", 0);
    w.Field("lazyfree_pending_objects", LazyFreer::pending());
    w.Field("lazyfreed_objects", LazyFreer::freed());
  }
  if (w.Wants("persistence")) {
    w.Section("Persistence");
    PersistenceState& p = Persistence();
    bool bgsave = p.bgsave_in_progress.load();
    int64_t now_s = static_cast<int64_t>(time(nullptr));
    w.Field("loading", 0);
    w.Field("async_loading", 0);
    // No fork: the "copy-on-write" memory of a BGSAVE is its serialized output held in memory
    // until spilled or written (values about to change are serialized first, not copied).
    uint64_t cow = bgsave ? p.snapshot_buffer_bytes.load() : 0;
    uint64_t total_keys = bgsave ? p.snapshot_keys_total.load() : 0;
    uint64_t saved_keys = bgsave ? p.snapshot_keys_saved.load() : 0;
    w.Field("current_cow_peak", bgsave ? p.snapshot_buffer_peak.load() : 0);
    w.Field("current_cow_size", cow);
    w.Field("current_cow_size_age", 0);
    w.Field("current_fork_perc",
            absl::StrFormat("%.2f", total_keys == 0 ? 0.0 : 100.0 * saved_keys / total_keys));
    w.Field("current_save_keys_processed", saved_keys);
    w.Field("current_save_keys_total", total_keys);
    w.Field("rdb_changes_since_last_save", ChangesSinceLastSave());
    w.Field("rdb_bgsave_in_progress", bgsave ? 1 : 0);
    w.Field("rdb_last_save_time", p.last_save_time_s.load());
    w.Field("rdb_last_bgsave_status", p.last_bgsave_ok.load() ? "ok" : "err");
    w.Field("rdb_last_bgsave_time_sec", p.last_bgsave_time_sec.load());
    w.Field("rdb_current_bgsave_time_sec",
            bgsave ? now_s - p.bgsave_start_ms.load() / 1000 : int64_t{-1});
    w.Field("rdb_saves", p.saves.load());
    w.Field("rdb_last_cow_size", p.last_snapshot_bytes.load());
    w.Field("rdb_last_load_keys_expired", p.last_load_expired.load());
    w.Field("rdb_last_load_keys_loaded", p.last_load_keys.load());
    std::vector<std::pair<std::string, std::string>> aof_fields;
    aof::InfoFields(&aof_fields);
    for (const auto& [name, value] : aof_fields) w.Field(name, value);
  }
  if (w.Wants("stats")) {
    w.Section("Stats");
    w.Field("total_connections_received", total.connections_received);
    w.Field("total_commands_processed", total.commands_processed);
    w.Field("instantaneous_ops_per_sec", 0);
    w.Field("total_net_input_bytes", total.net_input_bytes);
    w.Field("total_net_output_bytes", total.net_output_bytes);
    w.Field("total_net_repl_input_bytes", 0);
    w.Field("total_net_repl_output_bytes", 0);
    for (const char* rate : {"instantaneous_input_kbps", "instantaneous_output_kbps",
                             "instantaneous_input_repl_kbps", "instantaneous_output_repl_kbps"}) {
      w.Field(rate, "0.00");
    }
    w.Field("rejected_connections", total.rejected_connections);
    w.Field("sync_full", 0);
    w.Field("sync_partial_ok", 0);
    w.Field("sync_partial_err", 0);
    w.Field("expired_keys", shard_total.expired_keys);
    w.Field("expired_stale_perc", "0.00");
    w.Field("expired_time_cap_reached_count", 0);
    w.Field("expire_cycle_cpu_milliseconds", 0);
    w.Field("evicted_keys", shard_total.evicted_keys);
    w.Field("evicted_clients", 0);
    w.Field("total_eviction_exceeded_time", 0);
    w.Field("current_eviction_exceeded_time", 0);
    w.Field("keyspace_hits", shard_total.keyspace_hits);
    w.Field("keyspace_misses", shard_total.keyspace_misses);
    // Each thread knows its own subscribers: a channel is counted once however many threads
    // have subscribers to it.
    size_t distinct[3];
    for (int kind = 0; kind < 3; ++kind) {
      absl::flat_hash_set<std::string_view> names;
      for (const ThreadSnapshot& t : threads) {
        for (const std::string& name : t.pubsub_names[kind]) names.insert(name);
      }
      distinct[kind] = names.size();
    }
    w.Field("pubsub_channels", distinct[static_cast<int>(SubKind::kChannel)]);
    w.Field("pubsub_patterns", distinct[static_cast<int>(SubKind::kPattern)]);
    w.Field("pubsubshard_channels", distinct[static_cast<int>(SubKind::kShardChannel)]);
    w.Field("latest_fork_usec", 0);
    w.Field("total_forks", 0);
    for (const char* zero :
         {"migrate_cached_sockets", "slave_expires_tracked_keys", "active_defrag_hits",
          "active_defrag_misses", "active_defrag_key_hits", "active_defrag_key_misses",
          "total_active_defrag_time", "current_active_defrag_time"}) {
      w.Field(zero, 0);
    }
    size_t tracking_keys = 0, tracking_items = 0, tracking_prefixes = 0;
    for (const ThreadSnapshot& t : threads) {
      tracking_keys += t.tracking_keys;
      tracking_items += t.tracking_items;
      tracking_prefixes = std::max(tracking_prefixes, t.tracking_prefixes);  // copies
    }
    w.Field("tracking_total_keys", tracking_keys);
    w.Field("tracking_total_items", tracking_items);
    w.Field("tracking_total_prefixes", tracking_prefixes);
    w.Field("unexpected_error_replies", total.unexpected_error_replies);
    w.Field("total_error_replies", total.total_error_replies);
    w.Field("dump_payload_sanitizations", 0);
    w.Field("total_reads_processed", total.reads_processed);
    w.Field("total_writes_processed", total.writes_processed);
    w.Field("io_threaded_reads_processed", 0);
    w.Field("io_threaded_writes_processed", 0);
    w.Field("reply_buffer_shrinks", 0);
    w.Field("reply_buffer_expands", 0);
  }
  if (w.Wants("replication")) {
    w.Section("Replication");
    w.Field("role", "master");
    w.Field("connected_slaves", 0);
    w.Field("master_failover_state", "no-failover");
    w.Field("master_replid", info.run_id);
    w.Field("master_replid2", std::string(40, '0'));
    w.Field("master_repl_offset", 0);
    w.Field("second_repl_offset", -1);
    w.Field("repl_backlog_active", 0);
    w.Field("repl_backlog_size", 1048576);
    w.Field("repl_backlog_first_byte_offset", 0);
    w.Field("repl_backlog_histlen", 0);
  }
  if (w.Wants("cpu")) {
    struct rusage self;
    struct rusage children;
    getrusage(RUSAGE_SELF, &self);
    getrusage(RUSAGE_CHILDREN, &children);
    auto secs = [](const timeval& tv) {
      return absl::StrFormat("%.6f", tv.tv_sec + tv.tv_usec / 1e6);
    };
    w.Section("CPU");
    w.Field("used_cpu_sys", secs(self.ru_stime));
    w.Field("used_cpu_user", secs(self.ru_utime));
    w.Field("used_cpu_sys_children", secs(children.ru_stime));
    w.Field("used_cpu_user_children", secs(children.ru_utime));
    // Redis's main thread: here, the reactor thread answering.
    struct rusage thread;
    getrusage(RUSAGE_THREAD, &thread);
    w.Field("used_cpu_sys_main_thread", secs(thread.ru_stime));
    w.Field("used_cpu_user_main_thread", secs(thread.ru_utime));
  }
  if (w.Wants("modules")) w.Section("Modules");
  if (w.Wants("commandstats")) {
    w.Section("Commandstats");
    const auto& specs = CommandTable::Get().specs();
    for (size_t i = 0; i < specs.size(); ++i) {
      CommandStat sum;
      for (const ThreadSnapshot& t : threads) {
        sum.calls += t.commands[i].calls;
        sum.usec += t.commands[i].usec;
        sum.rejected_calls += t.commands[i].rejected_calls;
        sum.failed_calls += t.commands[i].failed_calls;
      }
      if (sum.calls == 0 && sum.rejected_calls == 0) continue;
      w.Field(Cat("cmdstat_", specs[i].name),
              absl::StrFormat("calls=%d,usec=%d,usec_per_call=%.2f,rejected_calls=%d,"
                              "failed_calls=%d",
                              sum.calls, sum.usec,
                              sum.calls ? static_cast<double>(sum.usec) / sum.calls : 0.0,
                              sum.rejected_calls, sum.failed_calls));
    }
  }
  if (w.Wants("errorstats")) {
    w.Section("Errorstats");
    ErrorStats sum;
    for (const ThreadSnapshot& t : threads) {
      for (const auto& [prefix, count] : t.errors) sum[prefix] += count;
    }
    size_t shown = 0;
    for (const auto& [prefix, count] : sum) {
      if (shown++ == kMaxErrorPrefixes) break;
      w.Field(Cat("errorstat_", prefix), Cat("count=", count));
    }
  }
  if (w.Wants("latencystats")) {
    w.Section("Latencystats");
    std::vector<std::pair<std::string, std::string>> tracking = config.Match("latency-tracking");
    std::vector<std::pair<std::string, std::string>> wanted =
        config.Match("latency-tracking-info-percentiles");
    std::vector<std::string> percentiles;
    if (!tracking.empty() && tracking[0].second == "yes" && !wanted.empty()) {
      percentiles = absl::StrSplit(wanted[0].second, ' ', absl::SkipEmpty());
    }
    const auto& specs = CommandTable::Get().specs();
    for (size_t i = 0; i < specs.size() && !percentiles.empty(); ++i) {
      CommandStat sum;
      for (const ThreadSnapshot& t : threads) sum.Merge(t.commands[i]);
      uint64_t samples = 0;
      for (uint64_t n : sum.latency_buckets) samples += n;
      if (samples == 0) continue;
      std::string line;
      for (const std::string& p : percentiles) {
        double q = 0;
        if (!absl::SimpleAtod(p, &q)) continue;
        if (!line.empty()) line += ',';
        absl::StrAppendFormat(&line, "p%s=%.3f", p, LatencyPercentile(sum, samples, q));
      }
      w.Field(Cat("latency_percentiles_usec_", specs[i].name), line);
    }
  }
  if (w.Wants("cluster")) {
    w.Section("Cluster");
    w.Field("cluster_enabled", 0);
  }
  if (w.Wants("keyspace")) {
    w.Section("Keyspace");
    for (int db = 0; db < config.databases; ++db) {
      size_t keys = 0;
      size_t expires = 0;
      for (const ThreadSnapshot& t : threads) {
        keys += t.dbs[db].first;
        expires += t.dbs[db].second;
      }
      if (keys == 0) continue;
      w.Field(Cat("db", db), absl::StrFormat("keys=%d,expires=%d,avg_ttl=0", keys, expires));
    }
  }
  if (w.Wants("threads")) {
    w.Section("Threads");
    for (size_t i = 0; i < threads.size(); ++i) {
      const ThreadSnapshot& t = threads[i];
      size_t keys = 0;
      for (const auto& [k, e] : t.dbs) keys += k;
      w.Field(Cat("thread", i),
              absl::StrFormat("connections=%d,commands=%d,keys=%d,messages_sent=%d,"
                              "messages_received=%d,remote_batches=%d,loop_turns=%d",
                              t.connections, t.counters.commands_processed, keys,
                              t.counters.messages_sent, t.counters.messages_received,
                              t.counters.batches_executed, t.counters.loop_turns));
    }
  }
  return std::move(w.text());
}

void WriteInfo(ServerContext& ctx, const std::vector<ThreadSnapshot>& threads,
               const std::vector<std::string>& sections, ReplyBuilder& reply) {
  reply.Verbatim(InfoText(ctx, threads, sections));
}

// ---- Prometheus text exposition (server/metrics_http.h serves it) ----

// Writes metric families in the text format: each family's # HELP and # TYPE once, then its
// samples together.
class PromWriter {
 public:
  void Family(std::string_view name, std::string_view type, std::string_view help) {
    CatAppend(&out_, "# HELP ", name, " ", help, "\n# TYPE ", name, " ", type, "\n");
  }
  void Sample(std::string_view name, std::string_view labels, std::string_view value) {
    out_.append(name);
    if (!labels.empty()) CatAppend(&out_, "{", labels, "}");
    CatAppend(&out_, " ", value, "\n");
  }
  std::string& text() { return out_; }

 private:
  std::string out_;
};

std::string PromName(std::string_view s) {
  std::string out;
  for (char ch : s) out.push_back(absl::ascii_isalnum(ch) ? absl::ascii_tolower(ch) : '_');
  return out;
}

std::string PromLabelValue(std::string_view s) {
  std::string out;
  for (char ch : s) {
    if (ch == '\\' || ch == '"') {
      out.push_back('\\');
      out.push_back(ch);
    } else if (ch == '\n') {
      out.append("\\n");
    } else {
      out.push_back(ch);
    }
  }
  return out;
}

bool IsPromNumber(std::string_view v) {
  double d;
  return !v.empty() && absl::SimpleAtod(AV(v), &d) && v.find_first_of("xXnN") == v.npos;
}

// INFO fields that only grow: exported as counters (named ..._total).
bool IsCounterField(std::string_view f) {
  static constexpr std::string_view kCounters[] = {"total_connections_received",
                                                   "total_commands_processed",
                                                   "total_net_input_bytes",
                                                   "total_net_output_bytes",
                                                   "rejected_connections",
                                                   "expired_keys",
                                                   "evicted_keys",
                                                   "keyspace_hits",
                                                   "keyspace_misses",
                                                   "total_error_replies",
                                                   "used_cpu_sys",
                                                   "used_cpu_user",
                                                   "used_cpu_sys_children",
                                                   "used_cpu_user_children",
                                                   "total_reads_processed",
                                                   "total_writes_processed",
                                                   "expired_stale_perc_total",
                                                   "sync_full"};
  for (std::string_view c : kCounters) {
    if (f == c) return true;
  }
  return false;
}

std::string PrometheusText(ServerContext& ctx, const std::vector<ThreadSnapshot>& threads) {
  PromWriter w;
  std::string info = InfoText(
      ctx, threads,
      {"server", "clients", "memory", "persistence", "stats", "cpu", "keyspace", "threads"});
  std::string section;
  std::string server_labels;
  // Labelled families (keyspace dbN, threadN): family -> samples, written after the rest.
  std::vector<std::pair<std::string, std::vector<std::string>>> grouped;
  auto group = [&grouped](const std::string& family) -> std::vector<std::string>& {
    for (auto& [name, lines] : grouped) {
      if (name == family) return lines;
    }
    grouped.emplace_back(family, std::vector<std::string>{});
    return grouped.back().second;
  };
  for (absl::string_view line : absl::StrSplit(AV(info), "\r\n", absl::SkipEmpty())) {
    if (absl::StartsWith(line, "# ")) {
      section = PromName(std::string_view(line.data() + 2, line.size() - 2));
      continue;
    }
    size_t colon = line.find(':');
    if (colon == line.npos) continue;
    std::string_view field(line.data(), colon);
    std::string_view value(line.data() + colon + 1, line.size() - colon - 1);
    if (section == "keyspace" || section == "threads") {
      // db0:keys=1,expires=0,avg_ttl=0 / thread0:connections=1,commands=2,...
      std::string label = section == "keyspace" ? "db" : "thread";
      std::string index(field.substr(label.size()));
      for (absl::string_view kv : absl::StrSplit(AV(value), ',')) {
        size_t eq = kv.find('=');
        if (eq == kv.npos) continue;
        std::string key = PromName(std::string_view(kv.data(), eq));
        std::string_view v(kv.data() + eq + 1, kv.size() - eq - 1);
        if (!IsPromNumber(v)) continue;
        bool counter = section == "threads" && key != "connections" && key != "keys";
        std::string family = Cat("shardis_", label, "_", key, counter ? "_total" : "");
        group(Cat(family, "|", counter ? "counter" : "gauge"))
            .push_back(Cat(family, "{", label, "=\"", index, "\"} ", v));
      }
      continue;
    }
    if (!IsPromNumber(value)) {
      if (section == "server") {
        CatAppend(&server_labels, server_labels.empty() ? "" : ",", PromName(field), "=\"",
                  PromLabelValue(value), "\"");
      }
      continue;
    }
    std::string name = Cat("shardis_", PromName(field));
    if (IsCounterField(field)) {
      if (!absl::EndsWith(name, "_total")) name += "_total";
      w.Family(name, "counter", Cat("INFO ", section, " ", field));
    } else {
      w.Family(name, "gauge", Cat("INFO ", section, " ", field));
    }
    w.Sample(name, "", value);
  }
  w.Family("shardis_server_info", "gauge", "INFO server text fields, as labels");
  w.Sample("shardis_server_info", server_labels, "1");
  for (const auto& [key, lines] : grouped) {
    size_t bar = key.find('|');
    w.Family(key.substr(0, bar), key.substr(bar + 1),
             Cat("INFO ", absl::StrContains(key, "_db_") ? "keyspace" : "threads", " field"));
    for (const std::string& l : lines) CatAppend(&w.text(), l, "\n");
  }

  // Per command: INFO commandstats and the latency histogram (power-of-two microseconds).
  const auto& specs = CommandTable::Get().specs();
  std::vector<std::pair<size_t, CommandStat>> used;
  for (size_t i = 0; i < specs.size(); ++i) {
    CommandStat sum;
    for (const ThreadSnapshot& t : threads) sum.Merge(t.commands[i]);
    if (sum.calls > 0 || sum.rejected_calls > 0 || sum.failed_calls > 0) used.emplace_back(i, sum);
  }
  struct Counter {
    std::string_view name;
    std::string_view help;
    uint64_t CommandStat::*field;
  };
  static constexpr Counter kCounters[] = {
      {"shardis_command_calls_total", "Calls of the command", &CommandStat::calls},
      {"shardis_command_usec_total", "Microseconds spent in the command", &CommandStat::usec},
      {"shardis_command_rejected_calls_total", "Calls refused before running (errors)",
       &CommandStat::rejected_calls},
      {"shardis_command_failed_calls_total", "Calls that replied an error",
       &CommandStat::failed_calls},
  };
  for (const Counter& k : kCounters) {
    w.Family(k.name, "counter", k.help);
    for (const auto& [i, stat] : used) {
      w.Sample(k.name, Cat("cmd=\"", PromLabelValue(specs[i].name), "\""), Cat(stat.*k.field));
    }
  }
  constexpr std::string_view kHist = "shardis_command_latency_usec";
  w.Family(kHist, "histogram", "Command latency in microseconds");
  for (const auto& [i, stat] : used) {
    if (stat.calls == 0) continue;
    std::string cmd_label = Cat("cmd=\"", PromLabelValue(specs[i].name), "\"");
    uint64_t cumulative = 0;
    for (int b = 0; b + 1 < CommandStat::kLatencyBuckets; ++b) {
      cumulative += stat.latency_buckets[b];
      w.Sample(Cat(kHist, "_bucket"), Cat(cmd_label, ",le=\"", uint64_t{1} << b, "\""),
               Cat(cumulative));
    }
    w.Sample(Cat(kHist, "_bucket"), Cat(cmd_label, ",le=\"+Inf\""), Cat(stat.calls));
    w.Sample(Cat(kHist, "_sum"), cmd_label, Cat(stat.usec));
    w.Sample(Cat(kHist, "_count"), cmd_label, Cat(stat.calls));
  }
  return std::move(w.text());
}

void SnapshotThread(ServerContext& ctx, ThreadSnapshot& t) {
  t.counters = ctx.counters();
  t.commands = ctx.command_stats();
  t.errors = ctx.error_stats();
  t.shard_stats = ctx.shard().stats();
  t.connections = ctx.connection_count();
  t.blocked = ctx.blocked_clients();
  t.tracking_keys = ctx.tracking().keys();
  t.tracking_items = ctx.tracking().items();
  t.tracking_prefixes = ctx.tracking().prefixes();
  for (SubKind kind : {SubKind::kChannel, SubKind::kPattern, SubKind::kShardChannel}) {
    t.pubsub_names[static_cast<int>(kind)] = ctx.pubsub().Channels(kind, "");
  }
  for (int i = 0; i < ctx.shard().db_count(); ++i) {
    t.dbs.emplace_back(ctx.shard().db(i).size(), ctx.shard().db(i).expires_count());
  }
}

void CmdInfo(ClientCommand& c) {
  std::vector<std::string> sections;
  for (size_t i = 1; i < c.args.size(); ++i) sections.push_back(cmd::ToLower(c.args[i]));
  auto threads = std::make_shared<std::vector<ThreadSnapshot>>(c.server->thread_count());
  ServerContext* origin = c.server;
  c.server->ForEachThread(
      [threads](ServerContext& ctx) { SnapshotThread(ctx, (*threads)[ctx.thread_index()]); },
      [threads, sections, origin](ReplyBuilder& reply, FanOutRunner&) {
        WriteInfo(*origin, *threads, sections, reply);
      });
}

}  // namespace

void CollectPrometheusMetrics(ServerContext& ctx, std::function<void(std::string)> done) {
  auto threads = std::make_shared<std::vector<ThreadSnapshot>>(ctx.thread_count());
  ServerContext* origin = &ctx;
  ctx.ForEachThread(
      [threads](ServerContext& t) { SnapshotThread(t, (*threads)[t.thread_index()]); },
      [threads, origin, done = std::move(done)](ReplyBuilder&, FanOutRunner&) {
        done(PrometheusText(*origin, *threads));
      });
}

void RegisterInfoCommand(std::vector<CommandSpec>* table) {
  CommandSpec spec{};
  spec.name = "info";
  spec.arity = -1;
  spec.flags = kCmdLoading | kCmdStale;
  spec.acl_categories = "@slow @dangerous";
  spec.group = "server";
  spec.summary = "Returns information and statistics about the server.";
  spec.since = "1.0.0";
  spec.on_client = CmdInfo;
  table->push_back(spec);
}

}  // namespace shardis
