// StreamId: a stream entry's ID (<ms>-<seq>) and its parsing, shared by streams and their
// consumer groups. Plain values, any thread.
#pragma once

#include <compare>
#include <cstdint>
#include <string>
#include <string_view>

namespace shardis {

struct StreamId {
  uint64_t ms = 0;
  uint64_t seq = 0;

  friend auto operator<=>(const StreamId&, const StreamId&) = default;
  static constexpr StreamId Max() { return {UINT64_MAX, UINT64_MAX}; }
  bool IsZero() const { return ms == 0 && seq == 0; }
  // The next / previous ID (Redis's streamIncrID / streamDecrID): false at the end of the ID
  // space, where the ID wraps to 0-0 (Incr) or to the maximum (Decr).
  bool Incr();
  bool Decr();
  // "<ms>-<seq>".
  std::string ToString() const;
};

// Parses a stream ID as Redis's streamGenericParseIDOrReply does: "-" and "+" (the extremes)
// unless `strict`; "<ms>-<seq>"; "<ms>" (seq = missing_seq); and, when `seq_given` is not null,
// "<ms>-*" (sets *seq_given to false). Each number is read like Redis's string2ull (strtoull
// quirks included). False for an invalid ID.
bool ParseStreamId(std::string_view text, bool strict, uint64_t missing_seq, StreamId* id,
                   bool* seq_given = nullptr);

}  // namespace shardis
