#include "server/latency.h"

#include <algorithm>
#include <cstdio>

namespace shardis {

void LatencySeries::Add(int64_t now_sec, uint32_t latency_ms) {
  if (latency_ms > max_ms) max_ms = latency_ms;
  if (!samples.empty() && samples.back().time == now_sec) {
    samples.back().latency_ms = std::max(samples.back().latency_ms, latency_ms);
    return;
  }
  samples.push_back({now_sec, latency_ms});
  if (samples.size() > kLen) samples.erase(samples.begin());
}

void LatencySeries::Merge(const LatencySeries& other) {
  max_ms = std::max(max_ms, other.max_ms);
  std::vector<LatencySample> merged;
  merged.reserve(samples.size() + other.samples.size());
  std::merge(samples.begin(), samples.end(), other.samples.begin(), other.samples.end(),
             std::back_inserter(merged),
             [](const LatencySample& a, const LatencySample& b) { return a.time < b.time; });
  samples.clear();
  for (const LatencySample& s : merged) {
    if (!samples.empty() && samples.back().time == s.time) {
      samples.back().latency_ms = std::max(samples.back().latency_ms, s.latency_ms);
    } else {
      samples.push_back(s);
    }
  }
  if (samples.size() > kLen) samples.erase(samples.begin(), samples.end() - kLen);
}

int LatencyMonitor::Reset(const std::vector<std::string>& events) {
  if (events.empty()) {
    int n = static_cast<int>(series_.size());
    series_.clear();
    return n;
  }
  int n = 0;
  for (const std::string& e : events) n += static_cast<int>(series_.erase(e));
  return n;
}

std::string LatencyDoctorReport(const std::map<std::string, LatencySeries>& series,
                                int64_t threshold_ms, int64_t slowlog_log_slower_than,
                                int64_t slowlog_max_len, int64_t now_sec) {
  if (series.empty() && threshold_ms == 0) {
    return "I'm sorry, Dave, I can't do that. Latency monitoring is disabled in this Redis "
           "instance. You may use \"CONFIG SET latency-monitor-threshold <milliseconds>.\" in "
           "order to enable it. If we weren't in a deep space mission I'd suggest to take a look "
           "at https://redis.io/topics/latency-monitor.\n";
  }
  if (series.empty()) {
    return "Dave, no latency spike was observed during the lifetime of this Redis instance, not "
           "in the slightest bit. I honestly think you ought to sit down calmly, take a stress "
           "pill, and think things over.\n";
  }
  std::string report =
      "Dave, I have observed latency spikes in this Redis instance. You don't mind talking "
      "about it, do you Dave?\n\n";
  bool slowlog_enabled = false, slowlog_tuning = false, slowlog_inspect = false,
       large_objects = false, scheduler = false;
  int advices = 0;
  int n = 1;
  for (const auto& [event, ts] : series) {
    // Redis's analyzeLatencyForEvent.
    uint64_t sum = 0;
    int64_t oldest = 0;
    size_t count = 0;
    for (const LatencySample& s : ts.samples) {
      if (s.time == 0) continue;
      ++count;
      sum += s.latency_ms;
      if (oldest == 0 || s.time < oldest) oldest = s.time;
    }
    uint64_t avg = count ? sum / count : 0;
    int64_t period = 0;
    if (count) {
      period = now_sec - oldest;
      if (period == 0) period = 1;
    }
    uint64_t dev = 0;
    for (const LatencySample& s : ts.samples) {
      int64_t delta = static_cast<int64_t>(avg) - static_cast<int64_t>(s.latency_ms);
      dev += static_cast<uint64_t>(delta < 0 ? -delta : delta);
    }
    uint64_t mad = count ? dev / count : 0;
    char line[512];
    snprintf(line, sizeof(line),
             "%d. %s: %zu latency spikes (average %llums, mean deviation %llums, period %.2f "
             "sec). Worst all time event %ums.",
             n++, event.c_str(), count, static_cast<unsigned long long>(avg),
             static_cast<unsigned long long>(mad),
             count ? static_cast<double>(period) / count : 0.0, ts.max_ms);
    report += line;
    report += "\n";
    if (event == "command") {
      if (slowlog_log_slower_than < 0 || slowlog_max_len == 0) {
        slowlog_enabled = true;
      } else if (slowlog_log_slower_than / 1000 > threshold_ms) {
        slowlog_tuning = true;
      }
      slowlog_inspect = true;
      large_objects = true;
      advices += 2;
    }
    if (event == "fast-command") {
      scheduler = true;
      ++advices;
    }
  }
  report += "\n";
  if (advices == 0) {
    report +=
        "While there are latency events logged, I'm not able to suggest any easy fix. Please use "
        "the Redis community to get some help, providing this report in your help request.\n";
    return report;
  }
  report += "I have a few advices for you:\n\n";
  if (slowlog_enabled) {
    char line[512];
    snprintf(line, sizeof(line),
             "- There are latency issues with potentially slow commands you are using. Try to "
             "enable the Slow Log Redis feature using the command 'CONFIG SET "
             "slowlog-log-slower-than %llu'. If the Slow log is disabled Redis is not able to "
             "log slow commands execution for you.\n",
             static_cast<unsigned long long>(threshold_ms * 1000));
    report += line;
  }
  if (slowlog_tuning) {
    char line[512];
    snprintf(line, sizeof(line),
             "- Your current Slow Log configuration only logs events that are slower than your "
             "configured latency monitor threshold. Please use 'CONFIG SET "
             "slowlog-log-slower-than %llu'.\n",
             static_cast<unsigned long long>(threshold_ms * 1000));
    report += line;
  }
  if (slowlog_inspect) {
    report +=
        "- Check your Slow Log to understand what are the commands you are running which are too "
        "slow to execute. Please check https://redis.io/commands/slowlog for more "
        "information.\n";
  }
  if (scheduler) {
    report +=
        "- The system is slow to execute Redis code paths not containing system calls. This "
        "usually means the system does not provide Redis CPU time to run for long periods. You "
        "should try to:\n"
        "  1) Lower the system load.\n"
        "  2) Use a computer / VM just for Redis if you are running other software in the same "
        "system.\n"
        "  3) Check if you have a \"noisy neighbour\" problem.\n"
        "  4) Check with 'redis-cli --intrinsic-latency 100' what is the intrinsic latency in "
        "your system.\n"
        "  5) Check if the problem is allocator-related by recompiling Redis with "
        "MALLOC=libc, if you are using Jemalloc. However this may create fragmentation "
        "problems.\n";
  }
  if (large_objects) {
    report +=
        "- Deleting, expiring or evicting (because of maxmemory policy) large objects is a "
        "blocking operation. If you have very large objects that are often deleted, expired, or "
        "evicted, try to fragment those objects into multiple smaller objects.\n";
  }
  return report;
}

}  // namespace shardis
