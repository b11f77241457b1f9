// The latency monitor (LATENCY LATEST / HISTORY / RESET / DOCTOR), as Redis's latency.c.
//
// Each reactor thread owns one LatencyMonitor and records the events of the commands it runs
// ("command", or "fast-command" for commands flagged fast) when they take at least
// `latency-monitor-threshold` milliseconds (0: off). A series keeps one sample per second (the
// worst of that second) for the last 160 samples, and its all-time maximum. The LATENCY
// commands fan out to every thread and merge the series: samples of the same second keep the
// worst, the merged history keeps the latest 160 seconds that have samples.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace shardis {

struct LatencySample {
  int64_t time = 0;  // unix seconds
  uint32_t latency_ms = 0;
};

struct LatencySeries {
  static constexpr int kLen = 160;     // LATENCY_TS_LEN
  std::vector<LatencySample> samples;  // oldest first, at most kLen
  uint32_t max_ms = 0;                 // all-time worst

  void Add(int64_t now_sec, uint32_t latency_ms);
  // Merges another thread's series of the same event into this one.
  void Merge(const LatencySeries& other);
};

class LatencyMonitor {
 public:
  // Records `latency_ms` for `event` when the threshold (ms, 0: off) says so.
  void AddIfNeeded(const char* event, int64_t threshold_ms, uint64_t latency_ms, int64_t now_sec) {
    if (threshold_ms > 0 && latency_ms >= static_cast<uint64_t>(threshold_ms)) {
      series_[event].Add(now_sec, static_cast<uint32_t>(latency_ms));
    }
  }
  // Drops the listed events (all when empty); returns how many existed.
  int Reset(const std::vector<std::string>& events);
  const std::map<std::string, LatencySeries>& series() const { return series_; }

 private:
  std::map<std::string, LatencySeries> series_;
};

// LATENCY DOCTOR's report for merged series (Redis's wording).
std::string LatencyDoctorReport(const std::map<std::string, LatencySeries>& series,
                                int64_t threshold_ms, int64_t slowlog_log_slower_than,
                                int64_t slowlog_max_len, int64_t now_sec);

}  // namespace shardis
