// Tests for GlobMatch: redis-server 7.0 stringmatchlen() semantics (* ? [..] [^..] ranges,
// backslash escapes, nocase, unterminated classes, the empty string), a truth table taken from
// redis-server's KEYS, and hostile patterns that must finish quickly.
#include "storage/glob.h"

#include <gtest/gtest.h>

#include <set>
#include <string>
#include <vector>

namespace shardis {
namespace {

TEST(GlobTest, Basics) {
  EXPECT_TRUE(GlobMatch("hello", "hello"));
  EXPECT_FALSE(GlobMatch("hello", "hellO"));
  EXPECT_FALSE(GlobMatch("hello", "hello!"));
  EXPECT_FALSE(GlobMatch("hello!", "hello"));
  EXPECT_TRUE(GlobMatch("h?llo", "hallo"));
  EXPECT_FALSE(GlobMatch("h?llo", "hllo"));
  EXPECT_TRUE(GlobMatch("h*llo", "hllo"));
  EXPECT_TRUE(GlobMatch("h*llo", "heeeello"));
  EXPECT_TRUE(GlobMatch("*", "anything"));
  EXPECT_TRUE(GlobMatch("a*", "a"));
  EXPECT_TRUE(GlobMatch("a**", "a"));
  EXPECT_FALSE(GlobMatch("a*?", "a"));
}

TEST(GlobTest, Classes) {
  EXPECT_TRUE(GlobMatch("h[ae]llo", "hello"));
  EXPECT_FALSE(GlobMatch("h[ae]llo", "hillo"));
  EXPECT_TRUE(GlobMatch("h[^e]llo", "hallo"));
  EXPECT_FALSE(GlobMatch("h[^e]llo", "hello"));
  EXPECT_TRUE(GlobMatch("h[a-b]llo", "hbllo"));
  EXPECT_FALSE(GlobMatch("h[a-b]llo", "hcllo"));
  // Reversed ranges are reordered.
  EXPECT_TRUE(GlobMatch("[z-a]", "m"));
  EXPECT_TRUE(GlobMatch("[9-0]", "5"));
  // "[a-]" is the range ']'..'a' (Redis does not treat ']' as closing inside a range).
  EXPECT_TRUE(GlobMatch("[a-]", "^"));
  EXPECT_TRUE(GlobMatch("[a-]", "]"));
  EXPECT_FALSE(GlobMatch("[a-]", "-"));
  // An empty class matches nothing; "[^]" anything.
  EXPECT_FALSE(GlobMatch("[]", "]"));
  EXPECT_TRUE(GlobMatch("[^]", "x"));
  // Escapes inside classes.
  EXPECT_TRUE(GlobMatch("[\\]]", "]"));
  EXPECT_TRUE(GlobMatch("[\\-]", "-"));
  EXPECT_TRUE(GlobMatch("[\\^a]", "^"));
  // Bytes above 0x7f compare as signed chars, as in Redis.
  EXPECT_TRUE(GlobMatch("[\x80-\xff]", "\x90"));
  EXPECT_FALSE(GlobMatch("[\x80-\xff]", "a"));
}

TEST(GlobTest, UnterminatedClassEndsAtPatternEnd) {
  EXPECT_TRUE(GlobMatch("[a", "a"));
  EXPECT_FALSE(GlobMatch("[a", "ab"));
  EXPECT_TRUE(GlobMatch("[a-", "-"));
  EXPECT_TRUE(GlobMatch("[^a", "b"));
  EXPECT_FALSE(GlobMatch("*[", "x"));
  EXPECT_FALSE(GlobMatch("[", "["));
}

TEST(GlobTest, Escapes) {
  EXPECT_TRUE(GlobMatch("\\*", "*"));
  EXPECT_FALSE(GlobMatch("\\*", "a"));
  EXPECT_TRUE(GlobMatch("a\\?c", "a?c"));
  EXPECT_FALSE(GlobMatch("a\\?c", "abc"));
  EXPECT_TRUE(GlobMatch("\\a", "a"));
  // A trailing backslash matches itself.
  EXPECT_TRUE(GlobMatch("\\", "\\"));
  EXPECT_TRUE(GlobMatch("a\\", "a\\"));
  EXPECT_FALSE(GlobMatch("a\\", "a"));
}

TEST(GlobTest, EmptyPatternAndText) {
  EXPECT_TRUE(GlobMatch("", ""));
  EXPECT_FALSE(GlobMatch("", "a"));
  // Redis's matcher never matches an empty string against a non-empty pattern, not even "*"
  // (KEYS and SCAN special-case the pattern "*" before calling it).
  EXPECT_FALSE(GlobMatch("*", ""));
  EXPECT_FALSE(GlobMatch("**", ""));
  EXPECT_FALSE(GlobMatch("?", ""));
}

TEST(GlobTest, NoCase) {
  EXPECT_TRUE(GlobMatch("HELLO", "hello", true));
  EXPECT_TRUE(GlobMatch("h*LLO", "HeLlo", true));
  EXPECT_TRUE(GlobMatch("h[AE]llo", "hello", true));
  EXPECT_TRUE(GlobMatch("h[^E]llo", "hallo", true));
  EXPECT_FALSE(GlobMatch("h[^E]llo", "hello", true));
  EXPECT_TRUE(GlobMatch("[L-M]axmemory", "maxmemory", true));
  EXPECT_FALSE(GlobMatch("[^L-M]axmemory", "maxmemory", true));
  EXPECT_TRUE(GlobMatch("\\Maxmemory", "maxmemory", true));
  // Checked with redis-server's CONFIG GET (which matches with nocase): range bounds are
  // ordered before lowercasing, so [Z-a] and [a-Z] become 'z'..'a' and match nothing...
  EXPECT_FALSE(GlobMatch("[Z-a]axmemory", "maxmemory", true));
  EXPECT_FALSE(GlobMatch("[a-Z]axmemory", "maxmemory", true));
  EXPECT_TRUE(GlobMatch("[Z-a]", "_"));
  // ... and an escaped byte inside a class compares case-sensitively.
  EXPECT_FALSE(GlobMatch("[\\M]axmemory", "maxmemory", true));
  EXPECT_TRUE(GlobMatch("[\\m]axmemory", "maxmemory", true));
  EXPECT_TRUE(GlobMatch("[^\\M]axmemory", "maxmemory", true));
}

// Keys and, for each pattern, the keys redis-server 7.0.15's KEYS returned for it.
const std::vector<std::string>& TableKeys() {
  static const auto* keys = new std::vector<std::string>{
      std::string(),
      "a",
      "b",
      "c",
      "A",
      "Z",
      "ab",
      "abc",
      "aXc",
      "a-c",
      "hello",
      "hallo",
      "hxllo",
      "heeeello",
      "hllo",
      "]",
      "-",
      "^",
      "\\",
      "*",
      "?",
      "[",
      "a*c",
      "a?c",
      "x",
      "xyz",
      "user:1",
      "user:12",
      "User:1",
      "\xff"
      "",
      "\x80"
      "",
      "a\x0a"
      "b",
      "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaab"};
  return *keys;
}

struct TableRow {
  std::string pattern;
  std::set<std::string> matches;
};

const std::vector<TableRow>& Table() {
  static const auto* rows = new std::vector<TableRow>{
      {"**",
       {"*",
        "-",
        "?",
        "A",
        "User:1",
        "Z",
        "[",
        "\\",
        "]",
        "^",
        "a",
        "a\x0a"
        "b",
        "a*c",
        "a-c",
        "a?c",
        "aXc",
        "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaab",
        "ab",
        "abc",
        "b",
        "c",
        "hallo",
        "heeeello",
        "hello",
        "hllo",
        "hxllo",
        "user:1",
        "user:12",
        "x",
        "xyz",
        "\x80"
        "",
        "\xff"
        ""}},
      {"?",
       {"*", "-", "?", "A", "Z", "[", "\\", "]", "^", "a", "b", "c", "x",
        "\x80"
        "",
        "\xff"
        ""}},
      {"??", {"ab"}},
      {"?*",
       {"*",
        "-",
        "?",
        "A",
        "User:1",
        "Z",
        "[",
        "\\",
        "]",
        "^",
        "a",
        "a\x0a"
        "b",
        "a*c",
        "a-c",
        "a?c",
        "aXc",
        "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaab",
        "ab",
        "abc",
        "b",
        "c",
        "hallo",
        "heeeello",
        "hello",
        "hllo",
        "hxllo",
        "user:1",
        "user:12",
        "x",
        "xyz",
        "\x80"
        "",
        "\xff"
        ""}},
      {"*?",
       {"*",
        "-",
        "?",
        "A",
        "User:1",
        "Z",
        "[",
        "\\",
        "]",
        "^",
        "a",
        "a\x0a"
        "b",
        "a*c",
        "a-c",
        "a?c",
        "aXc",
        "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaab",
        "ab",
        "abc",
        "b",
        "c",
        "hallo",
        "heeeello",
        "hello",
        "hllo",
        "hxllo",
        "user:1",
        "user:12",
        "x",
        "xyz",
        "\x80"
        "",
        "\xff"
        ""}},
      {"a*",
       {"a",
        "a\x0a"
        "b",
        "a*c", "a-c", "a?c", "aXc",
        "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaab", "ab", "abc"}},
      {"*c", {"a*c", "a-c", "a?c", "aXc", "abc", "c"}},
      {"a*c", {"a*c", "a-c", "a?c", "aXc", "abc"}},
      {"a?c", {"a*c", "a-c", "a?c", "aXc", "abc"}},
      {"h?llo", {"hallo", "hello", "hxllo"}},
      {"h*llo", {"hallo", "heeeello", "hello", "hllo", "hxllo"}},
      {"h[ae]llo", {"hallo", "hello"}},
      {"h[^e]llo", {"hallo", "hxllo"}},
      {"h[a-b]llo", {"hallo"}},
      {"[a-c]", {"a", "b", "c"}},
      {"[c-a]", {"a", "b", "c"}},
      {"[A-Z]", {"A", "Z"}},
      {"[^a-z]",
       {"*", "-", "?", "A", "Z", "[", "\\", "]", "^",
        "\x80"
        "",
        "\xff"
        ""}},
      {"[a-]", {"]", "^", "a"}},
      {"[a-]]", {"]", "^", "a"}},
      {"[]", {}},
      {"[]a]", {}},
      {"[^]",
       {"*", "-", "?", "A", "Z", "[", "\\", "]", "^", "a", "b", "c", "x",
        "\x80"
        "",
        "\xff"
        ""}},
      {"[a", {"a"}},
      {"[a-", {"-", "a"}},
      {"[\\]", {"]"}},
      {"[\\", {"\\"}},
      {"a\\", {}},
      {"\\", {"\\"}},
      {"\\*", {"*"}},
      {"\\?", {"?"}},
      {"a\\*c", {"a*c"}},
      {"a\\?c", {"a?c"}},
      {"\\a", {"a"}},
      {"[\\a-c]", {"-", "a", "c"}},
      {"[a-\\]]", {}},
      {"", {std::string()}},
      {"*[", {}},
      {"[[]", {"["}},
      {"[\\]]", {"]"}},
      {"[*]", {"*"}},
      {"[?]", {"?"}},
      {"user:*", {"user:1", "user:12"}},
      {"user:?", {"user:1"}},
      {"user:[0-9]", {"user:1"}},
      {"user:[0-9][0-9]", {"user:12"}},
      {"*:*", {"User:1", "user:1", "user:12"}},
      {"[\\x00-\\xff]", {"?", "A", "Z", "[", "\\", "x"}},
      {"[\x80"
       "-\xff"
       "]",
       {"\x80"
        "",
        "\xff"
        ""}},
      {"\xff"
       "",
       {"\xff"
        ""}},
      {std::string("[^\x00-\x7f]", 6),
       {"\x80"
        "",
        "\xff"
        ""}},
      {"a?b",
       {"a\x0a"
        "b"}},
      {"a*b",
       {"a\x0a"
        "b",
        "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaab", "ab"}},
      {"*a*a*a*a*a*a*a*a*a*a*b",
       {"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaab"}},
      {"*a*a*a*a*a*a*a*a*a*a*c", {}},
      {"a[", {}},
      {"[^a",
       {"*", "-", "?", "A", "Z", "[", "\\", "]", "^", "b", "c", "x",
        "\x80"
        "",
        "\xff"
        ""}},
      {"[!a]", {"a"}},
      {"h*l*o", {"hallo", "heeeello", "hello", "hllo", "hxllo"}},
      {"*l*", {"hallo", "heeeello", "hello", "hllo", "hxllo"}},
      {"***",
       {"*",
        "-",
        "?",
        "A",
        "User:1",
        "Z",
        "[",
        "\\",
        "]",
        "^",
        "a",
        "a\x0a"
        "b",
        "a*c",
        "a-c",
        "a?c",
        "aXc",
        "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaab",
        "ab",
        "abc",
        "b",
        "c",
        "hallo",
        "heeeello",
        "hello",
        "hllo",
        "hxllo",
        "user:1",
        "user:12",
        "x",
        "xyz",
        "\x80"
        "",
        "\xff"
        ""}},
      {"x*y*z", {"xyz"}},
      {"?[bc]*", {"ab", "abc"}},
  };
  return *rows;
}

TEST(GlobTest, MatchesRedisKeysTruthTable) {
  for (const TableRow& row : Table()) {
    SCOPED_TRACE("pattern: " + row.pattern);
    std::set<std::string> got;
    for (const std::string& key : TableKeys()) {
      if (GlobMatch(row.pattern, key)) got.insert(key);
    }
    EXPECT_EQ(got, row.matches);
  }
}

TEST(GlobTest, HostilePatternsFinish) {
  // Each of these would take exponential time without the early give-up; bounded here by the
  // test's timeout rather than a timing assertion.
  std::string text(5000, 'a');
  EXPECT_FALSE(GlobMatch("*a*a*a*a*a*a*a*a*a*a*b", text));
  EXPECT_TRUE(GlobMatch("*a*a*a*a*a*a*a*a*a*a*", text));
  EXPECT_FALSE(GlobMatch("a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*b", text));
  EXPECT_FALSE(GlobMatch("*?*?*?*?*?*?*?*?*?*?*b", text, true));
  EXPECT_FALSE(GlobMatch("*[a]*[a]*[a]*[a]*[a]*[a]*[a]*[a]*b", text));
  // Deep nesting is cut off (Redis gives up past 1000 levels) instead of overflowing the stack.
  std::string deep;
  for (int i = 0; i < 5000; ++i) deep += "*a";
  EXPECT_FALSE(GlobMatch(deep + "b", text));
}

}  // namespace
}  // namespace shardis
