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
  add("latency|help", 2, kCmdLoading | kCmdStale, "@slow",
      "Returns helpful text about the different subcommands.", "2.8.13", CmdLatencyHelp);
}

}  // namespace shardis
