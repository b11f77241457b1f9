#include "server/call_clock.h"

#include <gtest/gtest.h>

namespace shardis {
namespace {

TEST(CallClockTest, BackToBackCommandsShareTheRead) {
  CallClock clock;
  uint64_t first = clock.Start();
  uint64_t first_duration = clock.Stop(first);
  // The next command starts where the first ended: no second read.
  uint64_t second = clock.Start();
  EXPECT_EQ(second, first + first_duration);
}

TEST(CallClockTest, BreakStartsFromANewRead) {
  CallClock clock;
  uint64_t first = clock.Start();
  uint64_t end = first + clock.Stop(first);
  clock.Break();
  uint64_t second = clock.Start();
  EXPECT_GE(second, end);  // a fresh read (monotonic), not the chained value by construction
  // A chain is used once: after a Start, the next Start without Stop reads again.
  uint64_t third = clock.Start();
  EXPECT_GE(third, second);
}

TEST(CallClockTest, DurationsAreNeverNegative) {
  CallClock clock;
  for (int i = 0; i < 1000; ++i) {
    uint64_t start = clock.Start();
    EXPECT_LT(clock.Stop(start), uint64_t{1} << 40);  // would wrap if time went backwards
  }
}

}  // namespace
}  // namespace shardis
