// EventIndex: the in-memory map from event keys to entry indexes.
#include "node/event_index.h"

#include <gtest/gtest.h>

#include <atomic>
#include <random>
#include <thread>
#include <vector>

#include "common/crypto.h"

namespace cairn::node {
namespace {

TEST(EventIndexTest, FindsEveryKeyAddedAndNothingElse) {
  ASSERT_TRUE(InitCrypto().ok());
  EventIndex index;
  EXPECT_TRUE(index.Find(42).empty());  // empty index
  std::mt19937_64 random(20261201);
  std::vector<int64_t> keys(100000);
  for (auto& key : keys) key = static_cast<int64_t>(random());
  for (uint64_t i = 0; i < keys.size(); ++i) index.Add(keys[i], i);
  EXPECT_EQ(index.size(), keys.size());
  for (uint64_t i = 0; i < keys.size(); ++i) {
    ASSERT_EQ(index.Find(keys[i]), std::vector<uint64_t>{i}) << i;
  }
  for (int i = 0; i < 1000; ++i) EXPECT_TRUE(index.Find(static_cast<int64_t>(random())).empty());
}

TEST(EventIndexTest, KeysSharedByEntriesReturnEveryEntryAscending) {
  EventIndex index;
  index.AddAll({{7, 30}, {-1, 2}, {7, 4}, {0, 9}});
  index.Add(7, 12);
  EXPECT_EQ(index.Find(7), (std::vector<uint64_t>{4, 12, 30}));
  EXPECT_EQ(index.Find(-1), std::vector<uint64_t>{2});
  EXPECT_EQ(index.Find(0), std::vector<uint64_t>{9});  // key 0 and index 0 are ordinary values
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
        if (index.Find(key_of(i)) != std::vector<uint64_t>{i}) wrong = true;
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
