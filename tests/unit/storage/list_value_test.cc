// Unit tests of ListValue (storage/list_value.h): fixed cases for each operation, then seeded
// random operation sequences checked step by step against std::deque under every kind of
// list-max-listpack-size (byte caps, entry counts, one entry per node), plus memory and node
// layout checks. Single-threaded, as the class is used.
#include "storage/list_value.h"

#include <algorithm>
#include <cstdint>
#include <deque>
#include <random>
#include <string>
#include <string_view>
#include <vector>

#include "gtest/gtest.h"

namespace shardis {
namespace {

std::vector<std::string> Contents(const ListValue& l) {
  std::vector<std::string> out;
  for (ListValue::Iterator it = l.IteratorAt(0); it.Valid(); it.Next()) {
    out.emplace_back(it.value());
  }
  return out;
}

std::vector<std::string> ContentsBackward(const ListValue& l) {
  std::vector<std::string> out;
  if (l.empty()) return out;
  for (ListValue::Iterator it = l.IteratorAt(l.size() - 1); it.Valid(); it.Prev()) {
    out.emplace_back(it.value());
  }
  std::reverse(out.begin(), out.end());
  return out;
}

std::vector<std::string> Vec(const std::deque<std::string>& d) {
  return std::vector<std::string>(d.begin(), d.end());
}

TEST(ListValueTest, PushPopBothEnds) {
  ListValue l;
  EXPECT_TRUE(l.empty());
  EXPECT_STREQ(l.EncodingName(), "quicklist");
  l.PushBack("b");
  l.PushFront("a");
  l.PushBack("c");
  EXPECT_EQ(l.size(), 3u);
  EXPECT_EQ(l.Front(), "a");
  EXPECT_EQ(l.Back(), "c");
  EXPECT_EQ(l.At(1), "b");
  std::string out;
  l.PopFront(&out);
  EXPECT_EQ(out, "a");
  l.PopBack(&out);
  EXPECT_EQ(out, "c");
  l.PopBack();
  EXPECT_TRUE(l.empty());
  EXPECT_EQ(l.node_count(), 0u);
}

TEST(ListValueTest, EmptyAndBinaryElements) {
  ListValue l;
  std::string bin("a\0b\r\n\xff", 6);
  l.PushBack("");
  l.PushBack(bin);
  l.PushFront("");
  EXPECT_EQ(Contents(l), (std::vector<std::string>{"", "", bin}));
  EXPECT_EQ(l.At(2), bin);
  EXPECT_EQ(l.Find(bin), 2);
  EXPECT_EQ(l.Find(""), 0);
  EXPECT_EQ(l.Find("zz"), -1);
}

TEST(ListValueTest, SetInsertEraseRemove) {
  ListValue l;
  for (const char* s : {"a", "b", "a", "c", "a"}) l.PushBack(s);
  l.Set(1, "bbbbbbbb");
  l.Insert(0, "x");
  l.Insert(6, "y");
  l.Insert(3, "z");
  EXPECT_EQ(Contents(l), (std::vector<std::string>{"x", "a", "bbbbbbbb", "z", "a", "c", "a", "y"}));
  EXPECT_EQ(l.Remove("a", -1), 1u);
  EXPECT_EQ(Contents(l), (std::vector<std::string>{"x", "a", "bbbbbbbb", "z", "a", "c", "y"}));
  EXPECT_EQ(l.Remove("a", 0), 2u);
  EXPECT_EQ(Contents(l), (std::vector<std::string>{"x", "bbbbbbbb", "z", "c", "y"}));
  l.Erase(1, 2);
  EXPECT_EQ(Contents(l), (std::vector<std::string>{"x", "c", "y"}));
  l.Erase(2, 100);
  EXPECT_EQ(Contents(l), (std::vector<std::string>{"x", "c"}));
  l.Erase(5, 1);
  EXPECT_EQ(l.size(), 2u);
  l.Erase(0, 2);
  EXPECT_TRUE(l.empty());
}

TEST(ListValueTest, RemoveCountFromEitherEnd) {
  ListValue l(2);  // two entries per node: matches spread over many nodes
  for (int i = 0; i < 20; ++i) l.PushBack(i % 3 == 0 ? "m" : std::to_string(i));
  EXPECT_EQ(l.Remove("m", 2), 2u);
  EXPECT_EQ(l.Remove("m", -2), 2u);
  std::vector<std::string> got = Contents(l);
  EXPECT_EQ(std::count(got.begin(), got.end(), "m"), 3);
  EXPECT_EQ(got[4], "m");  // 6, 9 and 12 remain; 6 follows 1 2 4 5
  EXPECT_EQ(l.Remove("m", -9223372036854775807LL - 1), 3u);
  EXPECT_EQ(l.Remove("m", 0), 0u);
  EXPECT_EQ(l.size(), 13u);
}

TEST(ListValueTest, ByteCappedNodes) {
  ListValue l(-1);  // 4 KB nodes
  std::string v(100, 'x');
  for (int i = 0; i < 1000; ++i) l.PushBack(v);
  // 102 bytes per entry: 40 entries per 4 KB node.
  EXPECT_EQ(l.node_count(), 25u);
  l.set_fill(-5);
  for (int i = 0; i < 1000; ++i) l.PushFront(v);
  EXPECT_LE(l.node_count(), 25u + 2 + 1000 / 640);
}

TEST(ListValueTest, CountCappedNodesAndClamp) {
  ListValue l(3);
  for (int i = 0; i < 30; ++i) l.PushBack("e");
  EXPECT_EQ(l.node_count(), 10u);
  ListValue one(0);  // fill 0: one entry per node, as in Redis
  for (int i = 0; i < 5; ++i) one.PushFront("e");
  EXPECT_EQ(one.node_count(), 5u);
  ListValue clamped(-100);
  EXPECT_EQ(clamped.fill(), -5);
  clamped.set_fill(1 << 20);
  EXPECT_EQ(clamped.fill(), 32767);
}

TEST(ListValueTest, ElementBiggerThanANode) {
  ListValue l(-1);
  std::string big(10000, 'b');
  l.PushBack("a");
  l.PushBack(big);
  l.PushBack("c");
  l.Insert(1, big);
  l.Set(0, big);
  EXPECT_EQ(l.size(), 4u);
  EXPECT_EQ(l.At(0), big);
  EXPECT_EQ(l.At(1), big);
  EXPECT_EQ(l.At(2), big);
  EXPECT_EQ(l.At(3), "c");
  EXPECT_EQ(ContentsBackward(l), Contents(l));
}

TEST(ListValueTest, CloneIsDeep) {
  ListValue l;
  for (int i = 0; i < 5000; ++i) l.PushBack(std::to_string(i));
  std::unique_ptr<Collection> c = l.Clone();
  auto* copy = static_cast<ListValue*>(c.get());
  l.PopFront();
  l.Set(10, "changed");
  EXPECT_EQ(copy->size(), 5000u);
  EXPECT_EQ(copy->At(0), "0");
  EXPECT_EQ(copy->At(11), "11");
  EXPECT_EQ(copy->At(4999), "4999");
  copy->PushBack("more");
  EXPECT_EQ(l.size(), 4999u);
}

TEST(ListValueTest, CompactForSmallElements) {
  ListValue l;
  for (int i = 0; i < 200000; ++i) l.PushBack(std::to_string(i % 1000));
  // ~3-byte elements take 5 bytes packed; allow for node slack and headers.
  EXPECT_LT(l.AllocatedBytes(), 200000u * 9);
  for (int i = 0; i < 199990; ++i) l.PopFront();
  EXPECT_EQ(l.size(), 10u);
  EXPECT_LT(l.AllocatedBytes(), 2048u);
}

TEST(ListValueTest, QueueAndStackPatterns) {
  ListValue l;
  std::deque<std::string> d;
  for (int round = 0; round < 50000; ++round) {
    std::string v = std::to_string(round);
    if (round % 3 == 2) {
      ASSERT_EQ(l.Back(), d.back());
      l.PopBack();
      d.pop_back();
    } else {
      l.PushFront(v);
      d.push_front(v);
    }
  }
  EXPECT_EQ(Contents(l), Vec(d));
}

// Random operations against std::deque, with a full comparison every few steps.
void RunRandom(int fill, uint64_t seed, int steps) {
  SCOPED_TRACE("fill " + std::to_string(fill) + " seed " + std::to_string(seed));
  std::mt19937_64 rng(seed);
  auto rand = [&](uint64_t n) { return n == 0 ? 0 : rng() % n; };
  auto value = [&]() -> std::string {
    switch (rand(20)) {
      case 0:
        return "";
      case 1:
        return std::string(120 + rand(200), static_cast<char>('a' + rand(3)));  // 2-byte varint
      case 2:
        if (rand(10) == 0) return std::string(9000 + rand(3000), 'B');  // beyond a node
        return "v";
      default:
        return std::string(1, static_cast<char>('a' + rand(4))) + std::to_string(rand(5));
    }
  };
  ListValue l(fill);
  std::deque<std::string> d;
  for (int step = 0; step < steps; ++step) {
    size_t n = d.size();
    switch (rand(14)) {
      case 0:
      case 1: {
        std::string v = value();
        l.PushFront(v);
        d.push_front(v);
        break;
      }
      case 2:
      case 3: {
        std::string v = value();
        l.PushBack(v);
        d.push_back(v);
        break;
      }
      case 4:
        if (n > 0) {
          std::string out;
          l.PopFront(&out);
          ASSERT_EQ(out, d.front());
          d.pop_front();
        }
        break;
      case 5:
        if (n > 0) {
          std::string out;
          l.PopBack(&out);
          ASSERT_EQ(out, d.back());
          d.pop_back();
        }
        break;
      case 6:
        if (n > 0) {
          size_t i = rand(n);
          ASSERT_EQ(l.At(i), d[i]) << "index " << i;
        }
        break;
      case 7:
        if (n > 0) {
          size_t i = rand(n);
          std::string v = value();
          l.Set(i, v);
          d[i] = v;
        }
        break;
      case 8: {
        size_t i = rand(n + 1);
        std::string v = value();
        l.Insert(i, v);
        d.insert(d.begin() + static_cast<std::ptrdiff_t>(i), v);
        break;
      }
      case 9:
        if (n > 0 && rand(3) == 0) {
          size_t first = rand(n);
          size_t count = rand(rand(2) == 0 ? 4 : n + 2);
          l.Erase(first, count);
          size_t last = std::min(n, first + count);
          d.erase(d.begin() + static_cast<std::ptrdiff_t>(first),
                  d.begin() + static_cast<std::ptrdiff_t>(last));
        }
        break;
      case 10: {
        std::string v = value();
        int64_t count = static_cast<int64_t>(rand(7)) - 3;
        size_t expected = 0;
        if (count >= 0) {
          for (auto it = d.begin(); it != d.end();) {
            if (*it == v && (count == 0 || expected < static_cast<size_t>(count))) {
              it = d.erase(it);
              ++expected;
            } else {
              ++it;
            }
          }
        } else {
          for (size_t i = d.size(); i-- > 0;) {
            if (d[i] == v && expected < static_cast<size_t>(-count)) {
              d.erase(d.begin() + static_cast<std::ptrdiff_t>(i));
              ++expected;
            }
          }
        }
        ASSERT_EQ(l.Remove(v, count), expected);
        break;
      }
      case 11: {
        std::string v = value();
        auto it = std::find(d.begin(), d.end(), v);
        int64_t want = it == d.end() ? -1 : it - d.begin();
        ASSERT_EQ(l.Find(v), want);
        break;
      }
      case 12:
        if (n > 0) {
          size_t i = rand(n);
          ListValue::Iterator it = l.IteratorAt(i);
          if (rand(2) == 0) {
            for (int k = 0; k < 50 && it.Valid(); ++k, ++i) {
              ASSERT_EQ(it.value(), d[i]);
              it.Next();
            }
            ASSERT_EQ(it.Valid(), i < n);
          } else {
            for (int k = 0; k < 50; ++k) {
              ASSERT_TRUE(it.Valid());
              ASSERT_EQ(it.value(), d[i]);
              it.Prev();
              if (i == 0) {
                ASSERT_FALSE(it.Valid());
                break;
              }
              --i;
            }
          }
        }
        break;
      case 13:
        if (rand(20) == 0) {
          std::unique_ptr<Collection> c = l.Clone();
          ASSERT_EQ(Contents(*static_cast<ListValue*>(c.get())), Vec(d));
        }
        break;
    }
    ASSERT_EQ(l.size(), d.size());
    if (step % 97 == 0) {
      ASSERT_EQ(Contents(l), Vec(d)) << "step " << step;
      ASSERT_EQ(ContentsBackward(l), Vec(d)) << "step " << step;
    }
  }
  ASSERT_EQ(Contents(l), Vec(d));
  ASSERT_EQ(ContentsBackward(l), Vec(d));
}

TEST(ListValueTest, RandomAgainstDeque) {
  for (int fill : {-1, -2, -5, 0, 1, 2, 7, 128}) {
    for (uint64_t seed = 1; seed <= 3; ++seed) {
      RunRandom(fill, seed * 7919 + static_cast<uint64_t>(fill + 10), 6000);
      if (::testing::Test::HasFatalFailure()) return;
    }
  }
}

}  // namespace
}  // namespace shardis
