// CallClock: times commands (for INFO commandstats, latencystats, SLOWLOG and LATENCY) with one
// monotonic clock read per command instead of two.
//
// Owned by one reactor, used only on its thread. Commands that run back to back (a pipelined
// connection's input; the batches drained together from the mailbox, and the pipelines their
// replies resume) share reads: the read that ends one command starts the next, so a command's
// time also covers the few instructions of parsing and routing between the two. Break() ends a
// chain; the reactor calls it wherever other work (a system call, a wait in epoll, a socket
// read, a timer) may come between two commands, so no such work is ever charged to a command.
// Pipelined, this saves about 3% of the CPU per command (a vDSO clock_gettime is ~20 ns against
// ~600 ns of work).
#pragma once

#include <time.h>

#include <cstdint>

namespace shardis {

class CallClock {
 public:
  // The start of a command: the end of the previous one when chained, else now.
  uint64_t Start() {
    if (chained_) {
      chained_ = false;
      return last_us_;
    }
    return NowMicros();
  }
  // The end of a command started at `start_us`: returns its duration and chains the next one.
  uint64_t Stop(uint64_t start_us) {
    last_us_ = NowMicros();
    chained_ = true;
    return last_us_ - start_us;
  }
  void Break() { chained_ = false; }

  static uint64_t NowMicros() {
    timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return static_cast<uint64_t>(ts.tv_sec) * 1000000 + static_cast<uint64_t>(ts.tv_nsec) / 1000;
  }

 private:
  uint64_t last_us_ = 0;
  bool chained_ = false;
};

}  // namespace shardis
