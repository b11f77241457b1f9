// LATENCY LATEST / HISTORY / RESET / DOCTOR / HELP. Runs on the client's thread and visits every
// thread (ForEachThread): each thread records the latency events of the commands it runs
// (server/latency.h); the replies merge their series.
#include <algorithm>
#include <map>
#include <memory>
#include <set>

#include "server/command_table.h"
#include "server/config.h"
#include "server/latency.h"
#include "server/server_context.h"

namespace shardis {
namespace {

using Merged = std::map<std::string, LatencySeries>;

// Collects every thread's series, merged, then calls `finish` with them on this thread.
template <typename Finish>
void WithMergedSeries(ClientCommand& c, Finish finish) {
  auto per_thread = std::make_shared<std::vector<Merged>>(c.shard_count());
  c.server->ForEachThread(
      [per_thread](ServerContext& ctx) {
        (*per_thread)[ctx.thread_index()] = ctx.latency().series();
      },
      [per_thread, finish](ReplyBuilder& reply, FanOutRunner&) {
        Merged merged;
        for (const Merged& m : *per_thread) {
          for (const auto& [event, series] : m) merged[event].Merge(series);
        }
        finish(reply, merged);
      });
}

void CmdLatency(ClientCommand& c) {
  const CommandSpec* sub = CommandTable::Get().ResolveSubcommand(c.args, c.reply);
  if (sub == nullptr) return;
  c.client.last_command = sub->name;
  sub->on_client(c);
}

void CmdLatencyLatest(ClientCommand& c) {
  WithMergedSeries(c, [](ReplyBuilder& reply, const Merged& merged) {
    reply.ArrayHeader(merged.size());
    for (const auto& [event, series] : merged) {
      reply.ArrayHeader(4);
      reply.Bulk(event);
      const LatencySample& last = series.samples.back();
      reply.Integer(last.time);
      reply.Integer(last.latency_ms);
      reply.Integer(series.max_ms);
    }
  });
}

void CmdLatencyHistory(ClientCommand& c) {
  std::string event(c.args[2]);
  WithMergedSeries(c, [event](ReplyBuilder& reply, const Merged& merged) {
    auto it = merged.find(event);
    if (it == merged.end()) {
      reply.ArrayHeader(0);
      return;
    }
    reply.ArrayHeader(it->second.samples.size());
    for (const LatencySample& s : it->second.samples) {
      reply.ArrayHeader(2);
      reply.Integer(s.time);
      reply.Integer(s.latency_ms);
    }
  });
}

void CmdLatencyReset(ClientCommand& c) {
  auto events = std::make_shared<std::vector<std::string>>(c.args.begin() + 2, c.args.end());
  auto per_thread = std::make_shared<std::vector<std::vector<std::string>>>(c.shard_count());
  c.server->ForEachThread(
      [events, per_thread](ServerContext& ctx) {
        // Which of the events exist here (so an event present on several threads counts once).
        auto& mine = (*per_thread)[ctx.thread_index()];
        for (const auto& [event, series] : ctx.latency().series()) {
          if (events->empty() ||
              std::find(events->begin(), events->end(), event) != events->end()) {
            mine.push_back(event);
          }
        }
        ctx.latency().Reset(*events);
      },
      [per_thread](ReplyBuilder& reply, FanOutRunner&) {
        std::set<std::string> reset;
        for (const auto& names : *per_thread) reset.insert(names.begin(), names.end());
        reply.Integer(static_cast<int64_t>(reset.size()));
      });
}

void CmdLatencyDoctor(ClientCommand& c) {
  const Config& config = c.server->config();
  int64_t threshold = config.latency_monitor_threshold;
  int64_t slower_than = config.slowlog_log_slower_than;
  int64_t max_len = config.slowlog_max_len;
  ServerContext* server = c.server;
  WithMergedSeries(c, [=](ReplyBuilder& reply, const Merged& merged) {
    reply.Verbatim(LatencyDoctorReport(merged, threshold, slower_than, max_len,
                                       server->shard().now_ms() / 1000));
  });
}

// LATENCY GRAPH event: Redis's report layout (a title line with the series' high/low, a rule,
// then a chart of the samples, oldest left, with the age of each under its column), drawn by
// this renderer: each sample a column of '#' whose height is its latency relative to the
// series' range.
std::string LatencyGraph(const std::string& event, const LatencySeries& series, int64_t now_sec) {
  constexpr int kCols = 80;
  constexpr int kRows = 4;
  size_t first = series.samples.size() > kCols ? series.samples.size() - kCols : 0;
  uint32_t low = 0;
  uint32_t high = 0;
  std::vector<std::pair<uint32_t, std::string>> cols;
  for (size_t i = first; i < series.samples.size(); ++i) {
    const LatencySample& s = series.samples[i];
    if (cols.empty()) {
      low = high = s.latency_ms;
    } else {
      low = std::min(low, s.latency_ms);
      high = std::max(high, s.latency_ms);
    }
    int64_t elapsed = std::max<int64_t>(0, now_sec - s.time);
    std::string label;
    if (elapsed < 60) {
      label = Cat(elapsed, "s");
    } else if (elapsed < 3600) {
      label = Cat(elapsed / 60, "m");
    } else if (elapsed < 86400) {
      label = Cat(elapsed / 3600, "h");
    } else {
      label = Cat(elapsed / 86400, "d");
    }
    cols.emplace_back(s.latency_ms, std::move(label));
  }
  std::string out = Cat(event, " - high ", high, " ms, low ", low, " ms (all time high ",
                        series.max_ms, " ms)\n", std::string(kCols, '-'), "\n");
  std::vector<int> heights;
  for (const auto& [latency, label] : cols) {
    heights.push_back(high == low ? kRows
                                  : 1 + static_cast<int>(static_cast<uint64_t>(latency - low) *
                                                         (kRows - 1) / (high - low)));
  }
  for (int row = kRows; row >= 1; --row) {
    std::string line;
    for (int h : heights) line.push_back(h >= row ? '#' : ' ');
    while (!line.empty() && line.back() == ' ') line.pop_back();
    CatAppend(&out, line, "\n");
  }
  size_t label_rows = 0;
  for (const auto& col : cols) label_rows = std::max(label_rows, col.second.size());
  for (size_t row = 0; row < label_rows; ++row) {
    std::string line;
    for (const auto& col : cols) line.push_back(row < col.second.size() ? col.second[row] : ' ');
    while (!line.empty() && line.back() == ' ') line.pop_back();
    CatAppend(&out, line, "\n");
  }
  return out;
}

void CmdLatencyGraph(ClientCommand& c) {
  std::string event(c.args[2]);
  ServerContext* server = c.server;
  WithMergedSeries(c, [event, server](ReplyBuilder& reply, const Merged& merged) {
    auto it = merged.find(event);
    if (it == merged.end() || it->second.samples.empty()) {
      reply.Error(Cat("ERR No samples available for event '", event, "'"));
      return;
    }
    reply.Verbatim(LatencyGraph(event, it->second, server->shard().now_ms() / 1000));
  });
}

// LATENCY HISTOGRAM [command ...]: each command's calls and cumulative latency distribution
// (power-of-two microsecond buckets), from every thread's command statistics merged. Names a
// container to get each of its subcommands; unknown or never called commands are left out.
void CmdLatencyHistogram(ClientCommand& c) {
  const CommandTable& table = CommandTable::Get();
  std::vector<size_t> wanted;
  const CommandSpec* base = table.specs().data();
  if (c.args.size() == 2) {
    for (size_t i = 0; i < table.specs().size(); ++i) wanted.push_back(i);
  } else {
    for (size_t i = 2; i < c.args.size(); ++i) {
      std::string_view name = c.args[i];
      const CommandSpec* spec = table.Find(name);
      size_t bar = name.find('|');
      if (spec == nullptr && bar != std::string_view::npos) {
        spec = table.FindSubcommand(name.substr(0, bar), name.substr(bar + 1));
      }
      if (spec == nullptr) continue;
      std::vector<const CommandSpec*> subs;
      if (spec->name.find('|') == std::string_view::npos) subs = table.Subcommands(spec->name);
      if (subs.empty()) subs.push_back(spec);
      for (const CommandSpec* sub : subs) wanted.push_back(static_cast<size_t>(sub - base));
    }
  }
  auto per_thread = std::make_shared<std::vector<std::vector<CommandStat>>>(c.shard_count());
  auto wanted_ptr = std::make_shared<std::vector<size_t>>(std::move(wanted));
  c.server->ForEachThread(
      [per_thread, wanted_ptr](ServerContext& ctx) {
        auto& mine = (*per_thread)[ctx.thread_index()];
        for (size_t i : *wanted_ptr) mine.push_back(ctx.command_stats()[i]);
      },
      [per_thread, wanted_ptr, base](ReplyBuilder& reply, FanOutRunner&) {
        std::vector<std::pair<size_t, CommandStat>> rows;
        for (size_t k = 0; k < wanted_ptr->size(); ++k) {
          CommandStat sum;
          for (const auto& thread : *per_thread) sum.Merge(thread[k]);
          if (sum.calls > 0) rows.emplace_back((*wanted_ptr)[k], sum);
        }
        reply.MapHeader(rows.size());
        for (const auto& [index, stat] : rows) {
          reply.Bulk(base[index].name);
          reply.MapHeader(2);
          reply.Bulk("calls");
          reply.Integer(static_cast<int64_t>(stat.calls));
          reply.Bulk("histogram_usec");
          size_t used = 0;
          for (uint64_t n : stat.latency_buckets) used += n > 0 ? 1 : 0;
          reply.MapHeader(used);
          uint64_t cumulative = 0;
          for (int b = 0; b < CommandStat::kLatencyBuckets; ++b) {
            if (stat.latency_buckets[b] == 0) continue;
            cumulative += stat.latency_buckets[b];
            reply.Integer(int64_t{1} << b);
            reply.Integer(static_cast<int64_t>(cumulative));
          }
        }
      });
}

void CmdLatencyHelp(ClientCommand& c) {
  static constexpr std::string_view kLines[] = {
      "LATENCY <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
      "DOCTOR",
      "    Return a human readable latency analysis report.",
      "GRAPH <event>",
      "    Return an ASCII latency graph for the <event> class.",
      "HISTORY <event>",
      "    Return time-latency samples for the <event> class.",
      "LATEST",
      "    Return the latest latency samples for all events.",
      "RESET [<event> ...]",
      "    Reset latency data of one or more <event> classes.",
      "    (default: reset all data for all event classes)",
      "HISTOGRAM [COMMAND ...]",
      "    Return a cumulative distribution of latencies in the format of a histogram for the "
      "specified command names.",
      "    If no commands are specified then all histograms are replied.",
      "HELP",
      "    Prints this help.",
  };
  c.reply.ArrayHeader(std::size(kLines));
  for (std::string_view line : kLines) c.reply.SimpleString(line);
}

}  // namespace

void RegisterLatencyCommands(std::vector<CommandSpec>* table) {
  auto add = [table](std::string_view name, int arity, uint32_t flags, std::string_view acl,
                     std::string_view summary, std::string_view since, ClientHandler handler) {
    CommandSpec spec{};
    spec.name = name;
    spec.arity = arity;
    spec.flags = flags;
    spec.acl_categories = acl;
    spec.group = "server";
    spec.summary = summary;
    spec.since = since;
    spec.on_client = handler;
    table->push_back(spec);
  };
  constexpr uint32_t kSub = kCmdAdmin | kCmdNoscript | kCmdLoading | kCmdStale;
  constexpr std::string_view kAcl = "@admin @slow @dangerous";
  add("latency", -2, 0, "@slow", "A container for latency diagnostics commands.", "2.8.13",
      CmdLatency);
  add("latency|latest", 2, kSub, kAcl, "Returns the latest latency samples for all events.",
      "2.8.13", CmdLatencyLatest);
  add("latency|history", 3, kSub, kAcl, "Returns timestamp-latency samples for an event.", "2.8.13",
      CmdLatencyHistory);
  add("latency|reset", -2, kSub, kAcl, "Resets the latency data for one or more events.", "2.8.13",
      CmdLatencyReset);
  add("latency|doctor", 2, kSub, kAcl, "Returns a human-readable latency analysis report.",
      "2.8.13", CmdLatencyDoctor);
  add("latency|graph", 3, kSub, kAcl, "Returns a latency graph for an event.", "2.8.13",
      CmdLatencyGraph);
  add("latency|histogram", -2, kSub, kAcl,
      "Returns the cumulative distribution of latencies of a subset or all commands.", "7.0.0",
      CmdLatencyHistogram);
  add("latency|help", 2, kCmdLoading | kCmdStale, "@slow",
      "Returns helpful text about the different subcommands.", "2.8.13", CmdLatencyHelp);
}

}  // namespace shardis
