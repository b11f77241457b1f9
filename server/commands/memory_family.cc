// MEMORY USAGE|STATS|DOCTOR|MALLOC-STATS|PURGE|HELP. A container command run on the client's
// thread: USAGE asks the key's shard for an estimate, STATS gathers key counts from every
// shard; the figures come from server/memory_accounting.h and the allocator.
//
// MEMORY USAGE estimates with redis-server's own structures (dictEntry, sds headers, robj,
// jemalloc size classes), so small strings report exactly what redis-server 7.0 does and
// collections a plausible figure from their element count and encoding.
#include <unistd.h>

#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include "server/command.h"
#include "server/command_table.h"
#include "server/config.h"
#include "server/memory_accounting.h"
#include "storage/db.h"
#include "storage/shard_data.h"

#ifdef SHARDIS_JEMALLOC
#include <jemalloc/jemalloc.h>
#endif

namespace shardis {
namespace {

// jemalloc's size class for n bytes (16-byte quantum up to 128, then 4 classes per doubling).
size_t SizeClass(size_t n) {
  if (n <= 8) return 8;
  if (n <= 128) return (n + 15) & ~size_t{15};
  int lg = 63 - __builtin_clzll(n - 1);
  size_t delta = size_t{1} << (lg - 2);
  return (n + delta - 1) & ~(delta - 1);
}

// An sds string of n bytes: header by length class, the bytes, the terminator.
size_t SdsSize(size_t n) {
  size_t header = n < 256 ? 3 : n < 65536 ? 5 : n < (uint64_t{1} << 32) ? 9 : 17;
  return SizeClass(header + n + 1);
}

constexpr size_t kRobj = 16;
constexpr size_t kDictEntry = 24;

size_t ValueUsage(const Entry& e) {
  if (e.type() == ValueType::kString) {
    size_t n = e.str().size();
    switch (e.encoding()) {
      case StringEncoding::kInt:
        return kRobj;
      case StringEncoding::kEmbstr:
        return SizeClass(kRobj + 3 + n + 1);
      case StringEncoding::kRaw:
        return kRobj + SdsSize(n);
    }
  }
  Collection* c = e.collection();
  size_t count = c == nullptr ? 0 : c->ElementCount();
  std::string_view enc = c == nullptr ? "" : c->EncodingName();
  bool pairs = e.type() == ValueType::kHash || e.type() == ValueType::kZSet;
  size_t items = pairs ? count * 2 : count;
  if (enc == "listpack" || enc == "intset") {
    // One compact blob: a 6-byte header, ~4 bytes per small item, an end byte.
    size_t blob = SizeClass(7 + items * 4);
    return kRobj + blob;
  }
  if (enc == "quicklist") {
    // quicklist + one 32-byte node per ~128 items, each with a listpack of ~4 bytes per item.
    size_t nodes = count / 128 + 1;
    return kRobj + SizeClass(40) + nodes * (SizeClass(32) + SizeClass(7 + 128 * 4)) -
           (count < 128 ? SizeClass(7 + 128 * 4) - SizeClass(7 + count * 4) : 0);
  }
  if (enc == "stream") {
    // A radix tree of listpacks: ~3 small fields per entry.
    return kRobj + SizeClass(64) + count * 24;
  }
  // hashtable / skiplist: a bucket array and one dictEntry plus small sds per element (and a
  // skiplist node for sorted sets).
  size_t buckets = 4;
  while (buckets < count) buckets *= 2;
  size_t per = kDictEntry + SdsSize(8) + (pairs ? SdsSize(8) : 0);
  if (e.type() == ValueType::kZSet) per = kDictEntry + SdsSize(8) + SizeClass(48);
  return kRobj + SizeClass(96) + buckets * 8 + count * per;
}

size_t KeyUsage(const Entry& e) { return kDictEntry + SdsSize(e.key().size()) + ValueUsage(e); }

constexpr std::string_view kMemoryHelp[] = {
    "DOCTOR",
    "    Return memory problems reports.",
    "MALLOC-STATS",
    "    Return internal statistics report from the memory allocator.",
    "PURGE",
    "    Attempt to purge dirty pages for reclamation by the allocator.",
    "STATS",
    "    Return information about the memory usage of the server.",
    "USAGE <key> [SAMPLES <count>]",
    "    Return memory in bytes used by <key> and its value. Nested values are",
    "    sampled up to <count> times (default: 5, 0 means sample all).",
    "HELP",
    "    Prints this help.",
};

struct AllocatorFacts {
  size_t allocated = 0;
  size_t active = 0;
  size_t resident = 0;
};

AllocatorFacts ReadAllocator() {
  AllocatorFacts f;
  f.allocated = memory::AllocatorAllocated();
  f.active = f.resident = f.allocated;
#ifdef SHARDIS_JEMALLOC
  size_t sz = sizeof(size_t);
  mallctl("stats.active", &f.active, &sz, nullptr, 0);
  sz = sizeof(size_t);
  mallctl("stats.resident", &f.resident, &sz, nullptr, 0);
#endif
  return f;
}

size_t ReadRssBytes() {
  FILE* f = std::fopen("/proc/self/statm", "r");
  if (f == nullptr) return 0;
  unsigned long pages = 0, rss = 0;
  int n = std::fscanf(f, "%lu %lu", &pages, &rss);
  std::fclose(f);
  return n == 2 ? rss * static_cast<size_t>(sysconf(_SC_PAGESIZE)) : 0;
}

void MemoryUsage(ClientCommand& cmd) {
  for (size_t i = 3; i < cmd.args.size(); i += 2) {
    if (cmd::EqualsIgnoreCase(cmd.args[i], "samples") && i + 1 < cmd.args.size()) {
      int64_t samples = 0;
      if (!cmd::ParseInt64(cmd.args[i + 1], &samples)) {
        cmd.reply.Error("ERR value is not an integer or out of range");
        return;
      }
      if (samples < 0) {
        cmd.reply.Error("ERR syntax error");
        return;
      }
    } else {
      cmd.reply.Error("ERR syntax error");
      return;
    }
  }
  auto key = std::make_shared<const std::string>(cmd.args[2]);
  auto usage = std::make_shared<int64_t>(-1);
  cmd.RunOnShards(
      {cmd.ShardOf(*key)},
      [key, usage](ShardAccess& a) {
        if (Entry* e = a.db.Find(*key)) *usage = static_cast<int64_t>(KeyUsage(*e));
      },
      [usage](ReplyBuilder& reply, FanOutRunner&) {
        if (*usage < 0) {
          reply.Null();
        } else {
          reply.Integer(*usage);
        }
      });
}

struct ShardMemoryFacts {
  std::vector<std::pair<size_t, size_t>> dbs;  // (keys, expires)
  size_t table_bytes = 0;
};

void MemoryStats(ClientCommand& cmd) {
  int n = cmd.shard_count();
  auto facts = std::make_shared<std::vector<ShardMemoryFacts>>(n);
  cmd.RunOnAllShards(
      [facts](ShardAccess& a) {
        ShardMemoryFacts& f = (*facts)[a.shard_index];
        for (int i = 0; i < a.shard.db_count(); ++i) {
          Db& db = a.shard.db(i);
          f.dbs.emplace_back(db.size(), db.expires_count());
          f.table_bytes += db.keyspace().table_bytes();
        }
      },
      [facts](ReplyBuilder& reply, FanOutRunner&) {
        std::vector<std::pair<size_t, size_t>> dbs;
        size_t table_bytes = 0;
        for (const ShardMemoryFacts& f : *facts) {
          if (dbs.size() < f.dbs.size()) dbs.resize(f.dbs.size());
          for (size_t i = 0; i < f.dbs.size(); ++i) {
            dbs[i].first += f.dbs[i].first;
            dbs[i].second += f.dbs[i].second;
          }
          table_bytes += f.table_bytes;
        }
        AllocatorFacts alloc = ReadAllocator();
        auto used = static_cast<size_t>(alloc.allocated);
        memory::Observe(static_cast<int64_t>(used));
        auto peak = static_cast<size_t>(memory::Peak());
        size_t rss = ReadRssBytes();
        size_t keys = 0;
        size_t nonempty = 0;
        for (const auto& d : dbs) {
          keys += d.first;
          if (d.first > 0) ++nonempty;
        }
        size_t overhead = table_bytes;
        size_t dataset = used > overhead ? used - overhead : 0;
        auto ratio = [](size_t a, size_t b) {
          return b == 0 ? 0.0 : static_cast<double>(a) / static_cast<double>(b);
        };
        reply.MapHeader(27 + nonempty);
        auto field = [&](std::string_view name, int64_t v) {
          reply.Bulk(name);
          reply.Integer(v);
        };
        auto dfield = [&](std::string_view name, double v) {
          reply.Bulk(name);
          reply.Double(v);
        };
        field("peak.allocated", static_cast<int64_t>(peak));
        field("total.allocated", static_cast<int64_t>(used));
        field("startup.allocated", 0);
        field("replication.backlog", 0);
        field("clients.slaves", 0);
        field("clients.normal", 0);
        field("cluster.links", 0);
        field("aof.buffer", 0);
        field("lua.caches", 0);
        field("functions.caches", 0);
        for (size_t i = 0; i < dbs.size(); ++i) {
          if (dbs[i].first == 0) continue;
          reply.Bulk(Cat("db.", i));
          reply.MapHeader(3);
          // The segment bytes of the keyspace, split by keys with and without an expiry.
          size_t share = keys == 0 ? 0 : table_bytes * dbs[i].first / keys;
          size_t expires_share = dbs[i].first == 0 ? 0 : share * dbs[i].second / dbs[i].first;
          field("overhead.hashtable.main", static_cast<int64_t>(share - expires_share));
          field("overhead.hashtable.expires", static_cast<int64_t>(expires_share));
          field("overhead.hashtable.slot-to-keys", 0);
        }
        field("overhead.total", static_cast<int64_t>(overhead));
        field("keys.count", static_cast<int64_t>(keys));
        field("keys.bytes-per-key", keys == 0 ? 0 : static_cast<int64_t>(dataset / keys));
        field("dataset.bytes", static_cast<int64_t>(dataset));
        dfield("dataset.percentage", 100.0 * ratio(dataset, used));
        dfield("peak.percentage", 100.0 * ratio(used, peak));
        field("allocator.allocated", static_cast<int64_t>(alloc.allocated));
        field("allocator.active", static_cast<int64_t>(alloc.active));
        field("allocator.resident", static_cast<int64_t>(alloc.resident));
        dfield("allocator-fragmentation.ratio", ratio(alloc.active, alloc.allocated));
        field("allocator-fragmentation.bytes",
              static_cast<int64_t>(alloc.active) - static_cast<int64_t>(alloc.allocated));
        dfield("allocator-rss.ratio", ratio(alloc.resident, alloc.active));
        field("allocator-rss.bytes",
              static_cast<int64_t>(alloc.resident) - static_cast<int64_t>(alloc.active));
        dfield("rss-overhead.ratio", ratio(rss, alloc.resident));
        field("rss-overhead.bytes",
              static_cast<int64_t>(rss) - static_cast<int64_t>(alloc.resident));
        dfield("fragmentation", ratio(rss, used));
        field("fragmentation.bytes", static_cast<int64_t>(rss) - static_cast<int64_t>(used));
      });
}

void MemoryDoctor(ClientCommand& cmd) {
  size_t used = memory::AllocatorAllocated();
  std::string text;
  if (used < 1024 * 1024 * 5) {
    text =
        "Hi Sam, this instance is empty or is using very little memory, my issues detector can't "
        "be used in these conditions. Please, leave for your mission on Earth and fill it with "
        "some data. The new Sam and I will be back to our programming as soon as I finished "
        "rebooting.";
  } else {
    size_t rss = ReadRssBytes();
    if (used > 0 && rss > used && static_cast<double>(rss) / used > 1.4) {
      text = Cat(
          "Sam, I detected a few issues in this Redis instance memory implants:\n\n",
          " * High total RSS: This instance has a memory fragmentation and RSS overhead greater "
          "than 1.4 (this means that the Resident Set Size of the Redis process is much larger "
          "than the sum of the logical allocations Redis performed). This problem is usually due "
          "either to a large peak memory (check if there is a peak memory entry above in the "
          "report) or may result from a workload that causes the allocator to fragment memory a "
          "lot. If the problem is a large peak memory, then there is no issue. Otherwise, make "
          "sure you are using the Jemalloc allocator and not the default libc malloc. Note: The "
          "currently used allocator is \"jemalloc-5.3.0\".\n\n",
          "I'm here to keep you safe, Sam. I want to help you.\n");
    } else {
      text =
          "Hi Sam, I can't find any memory issue in your instance. I can only account for what "
          "occurs on this base.";
    }
  }
  cmd.reply.Verbatim(text);
}

void MemoryMallocStats(ClientCommand& cmd) {
  std::string text;
#ifdef SHARDIS_JEMALLOC
  malloc_stats_print([](void* out, const char* s) { static_cast<std::string*>(out)->append(s); },
                     &text, nullptr);
#else
  text = "Stats not supported for the current allocator";
#endif
  cmd.reply.Verbatim(text);
}

void MemoryPurge(ClientCommand& cmd) {
#ifdef SHARDIS_JEMALLOC
  // Every arena (MALLCTL_ARENAS_ALL = 4096): dirty pages go back to the system.
  mallctl("arena.4096.purge", nullptr, nullptr, nullptr, 0);
#endif
  cmd.reply.Ok();
}

void MemoryCommand(ClientCommand& cmd) {
  std::string sub = cmd::ToLower(cmd.args[1]);
  auto arity = [&](size_t n, bool at_least = false) {
    if (at_least ? cmd.args.size() >= n : cmd.args.size() == n) return true;
    cmd.reply.Error(ArityError("memory|" + sub));
    return false;
  };
  if (sub == "help") {
    if (!arity(2)) return;
    cmd.reply.ArrayHeader(1 + std::size(kMemoryHelp));
    cmd.reply.SimpleString("MEMORY <subcommand> [<arg> [value] [opt] ...]. Subcommands are:");
    for (std::string_view line : kMemoryHelp) cmd.reply.SimpleString(line);
  } else if (sub == "usage") {
    if (arity(3, true)) MemoryUsage(cmd);
  } else if (sub == "stats") {
    if (arity(2)) MemoryStats(cmd);
  } else if (sub == "doctor") {
    if (arity(2)) MemoryDoctor(cmd);
  } else if (sub == "malloc-stats") {
    if (arity(2)) MemoryMallocStats(cmd);
  } else if (sub == "purge") {
    if (arity(2)) MemoryPurge(cmd);
  } else {
    cmd.reply.Error("ERR unknown subcommand '" + std::string(cmd.args[1].substr(0, 128)) +
                    "'. Try MEMORY HELP.");
  }
}

}  // namespace

void RegisterMemoryCommands(std::vector<CommandSpec>* table) {
  std::vector<CommandSpec> specs = {
      {"memory", -2, 0, 0, 0, 0, "@slow", "server", "A container for memory diagnostics commands",
       "4.0.0", nullptr, MemoryCommand},
      {"memory|doctor", 2, 0, 0, 0, 0, "@slow", "server", "Outputs memory problems report",
       "4.0.0"},
      {"memory|help", 2, kCmdLoading | kCmdStale, 0, 0, 0, "@slow", "server",
       "Show helpful text about the different subcommands", "4.0.0"},
      {"memory|malloc-stats", 2, 0, 0, 0, 0, "@slow", "server", "Show allocator internal stats",
       "4.0.0"},
      {"memory|purge", 2, 0, 0, 0, 0, "@slow", "server", "Ask the allocator to release memory",
       "4.0.0"},
      {"memory|stats", 2, 0, 0, 0, 0, "@slow", "server", "Show memory usage details", "4.0.0"},
      {"memory|usage", -3, kCmdReadonly, 2, 2, 1, "@read @slow", "server",
       "Estimate the memory usage of a key", "4.0.0"},
  };
  table->insert(table->end(), specs.begin(), specs.end());
}

}  // namespace shardis
