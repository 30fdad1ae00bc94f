// EventIndex: the in-memory map from event keys to entry indexes.
#include "node/event_index.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <random>
#include <thread>
#include <vector>

#include "common/crypto.h"

namespace cairn::node {
namespace {

TEST(EventIndexTest, FindsEveryKeyAddedAndOnlyKeysSharingItsUpper32Bits) {
  ASSERT_TRUE(InitCrypto().ok());
  EventIndex index;
  EXPECT_TRUE(index.Find(42).empty());  // empty index
  std::mt19937_64 random(20261201);
  std::vector<int64_t> keys(100000);
  for (auto& key : keys) key = static_cast<int64_t>(random());
  for (uint64_t i = 0; i < keys.size(); ++i) index.Add(keys[i], i);
  EXPECT_EQ(index.size(), keys.size());
  // Every key added finds its entry, and (for a pair of these 100,000 keys) the entries whose
  // keys share its upper 32 bits.
  size_t shared = 0;
  for (uint64_t i = 0; i < keys.size(); ++i) {
    const auto found = index.Find(keys[i]);
    ASSERT_NE(std::find(found.begin(), found.end(), i), found.end()) << i;
    for (const uint64_t other : found) {
      ASSERT_EQ(static_cast<uint64_t>(keys[other]) >> 32, static_cast<uint64_t>(keys[i]) >> 32);
    }
    shared += found.size() - 1;
  }
  EXPECT_LT(shared, 20U);
  // A key not added finds nothing, or (one time in 43,000 here) entries whose keys share its
  // upper 32 bits, the part of a key the index keeps; callers compare the whole id.
  for (int i = 0; i < 1000; ++i) {
    const auto key = static_cast<int64_t>(random());
    for (const uint64_t found : index.Find(key)) {
      EXPECT_EQ(static_cast<uint64_t>(keys[found]) >> 32, static_cast<uint64_t>(key) >> 32);
    }
  }
}

TEST(EventIndexTest, KeysByIndexRebuildTheSameIndexElsewhere) {
  EventIndex index;
  std::mt19937_64 random(20261207);
  std::vector<int64_t> keys(5000);
  for (uint64_t i = 0; i < keys.size(); ++i) {
    keys[i] = static_cast<int64_t>(random());
    index.Add(keys[i], i);
  }
  const std::vector<int64_t> kept = index.KeysByIndex(keys.size());
  ASSERT_EQ(kept.size(), keys.size());
  EventIndex rebuilt;
  std::vector<std::pair<int64_t, uint64_t>> pairs;
  for (uint64_t i = 0; i < kept.size(); ++i) pairs.emplace_back(kept[i], i);
  rebuilt.AddAll(pairs);
  EXPECT_EQ(rebuilt.size(), keys.size());
  for (uint64_t i = 0; i < keys.size(); ++i) {
    ASSERT_EQ(rebuilt.Find(keys[i]), index.Find(keys[i])) << i;
  }
}

TEST(EventIndexTest, IndexesPastTheSlotsLimitAreKeptToo) {
  EventIndex index;
  const int64_t key = int64_t{0x1234} << 32;
  index.Add(key, 5'000'000'000);
  index.Add(key, 3);
  EXPECT_EQ(index.Find(key), (std::vector<uint64_t>{3, 5'000'000'000}));
  EXPECT_EQ(index.FindKeyRange(0, UINT64_MAX, 10), (std::vector<uint64_t>{3, 5'000'000'000}));
  EXPECT_EQ(index.size(), 2U);
}

TEST(EventIndexTest, KeysSharedByEntriesReturnEveryEntryAscending) {
  EventIndex index;
  const int64_t seven = int64_t{7} << 32;
  index.AddAll({{seven, 30}, {-1, 2}, {seven, 4}, {0, 9}});
  index.Add(seven, 12);
  EXPECT_EQ(index.Find(seven), (std::vector<uint64_t>{4, 12, 30}));
  EXPECT_EQ(index.Find(-1), std::vector<uint64_t>{2});
  EXPECT_EQ(index.Find(0), std::vector<uint64_t>{9});  // key 0 and index 0 are ordinary values
  // Keys that differ only in their lower 32 bits are the same to the index.
  EXPECT_EQ(index.Find(seven + 99), (std::vector<uint64_t>{4, 12, 30}));
}

// Readers look up while the writer adds (and the table grows under them).
TEST(EventIndexTest, LookupsDuringAdditionsSeeEveryEntryAddedBefore) {
  EventIndex index;
  constexpr uint64_t kEntries = 200000;
  std::atomic<uint64_t> added{0};
  std::atomic<bool> wrong{false};
  auto key_of = [](uint64_t i) { return static_cast<int64_t>(i * 0x9e3779b97f4a7c15ULL); };
  std::vector<std::thread> readers;
  for (int r = 0; r < 2; ++r) {
    readers.emplace_back([&, r] {
      std::mt19937_64 random(r);
      while (added.load() < kEntries) {
        const uint64_t limit = added.load();
        if (limit == 0) continue;
        const uint64_t i = random() % limit;
        const auto found = index.Find(key_of(i));
        if (std::find(found.begin(), found.end(), i) == found.end()) wrong = true;
      }
    });
  }
  for (uint64_t i = 0; i < kEntries; ++i) {
    index.Add(key_of(i), i);
    added.store(i + 1);
  }
  for (auto& reader : readers) reader.join();
  EXPECT_FALSE(wrong.load());
  EXPECT_EQ(index.size(), kEntries);
}

}  // namespace
}  // namespace cairn::node
