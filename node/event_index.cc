#include "node/event_index.h"

#include <sodium.h>

#include <algorithm>
#include <limits>

namespace cairn::node {
namespace {

uint64_t RandomSeed() {
  uint64_t seed = 0;
  randombytes_buf(&seed, sizeof seed);
  return seed;
}

// splitmix64's finalizer: every bit of the input moves every bit of the output.
uint64_t Mix(uint64_t x) {
  x ^= x >> 30;
  x *= 0xbf58476d1ce4e5b9ULL;
  x ^= x >> 27;
  x *= 0x94d049bb133111ebULL;
  x ^= x >> 31;
  return x;
}

constexpr size_t kMinSlots = 1024;

uint32_t HighOf(int64_t event_key) {
  return static_cast<uint32_t>(static_cast<uint64_t>(event_key) >> 32);
}

}  // namespace

EventIndex::EventIndex() : seed_(RandomSeed()) {}

size_t EventIndex::Home(uint32_t key_high, size_t mask) const {
  return static_cast<size_t>(Mix(key_high ^ seed_)) & mask;
}

void EventIndex::Place(std::vector<Slot>& slots, uint32_t key_high, uint32_t index_plus_one) const {
  const size_t mask = slots.size() - 1;
  size_t at = Home(key_high, mask);
  while (slots[at].index_plus_one != 0) at = (at + 1) & mask;
  slots[at] = Slot{key_high, index_plus_one};
}

void EventIndex::AddLocked(int64_t event_key, uint64_t index) {
  const uint32_t key_high = HighOf(event_key);
  if (index >= std::numeric_limits<uint32_t>::max()) {
    overflow_.emplace(key_high, index);
    return;
  }
  // At most three quarters full: probe runs stay short, and an empty slot always ends a lookup.
  if (4 * (used_ + 1) > 3 * slots_.size()) {
    std::vector<Slot> grown(std::max(kMinSlots, 2 * slots_.size()));
    for (const Slot& slot : slots_) {
      if (slot.index_plus_one != 0) Place(grown, slot.key_high, slot.index_plus_one);
    }
    slots_.swap(grown);
  }
  Place(slots_, key_high, static_cast<uint32_t>(index + 1));
  ++used_;
}

void EventIndex::Add(int64_t event_key, uint64_t index) {
  MutexLock lock(&mutex_);
  AddLocked(event_key, index);
}

void EventIndex::AddAll(const std::vector<std::pair<int64_t, uint64_t>>& entries) {
  MutexLock lock(&mutex_);
  for (const auto& [event_key, index] : entries) AddLocked(event_key, index);
}

std::vector<uint64_t> EventIndex::Find(int64_t event_key) const {
  std::vector<uint64_t> found;
  const uint32_t key_high = HighOf(event_key);
  ReaderMutexLock lock(&mutex_);
  if (!slots_.empty()) {
    const size_t mask = slots_.size() - 1;
    for (size_t at = Home(key_high, mask); slots_[at].index_plus_one != 0; at = (at + 1) & mask) {
      if (slots_[at].key_high == key_high) found.push_back(slots_[at].index_plus_one - 1);
    }
  }
  const auto range = overflow_.equal_range(key_high);
  for (auto it = range.first; it != range.second; ++it) found.push_back(it->second);
  if (found.size() > 1) std::sort(found.begin(), found.end());
  return found;
}

std::vector<uint64_t> EventIndex::FindKeyRange(uint64_t low, uint64_t high, size_t limit) const {
  std::vector<uint64_t> found;
  const uint32_t low_high = HighOf(static_cast<int64_t>(low));
  const uint32_t high_high = HighOf(static_cast<int64_t>(high));
  {
    ReaderMutexLock lock(&mutex_);
    for (const Slot& slot : slots_) {
      if (slot.index_plus_one != 0 && slot.key_high >= low_high && slot.key_high <= high_high) {
        found.push_back(slot.index_plus_one - 1);
      }
    }
    for (auto it = overflow_.lower_bound(low_high); it != overflow_.end() && it->first <= high_high;
         ++it) {
      found.push_back(it->second);
    }
  }
  std::sort(found.begin(), found.end());
  if (found.size() > limit) found.resize(limit);
  return found;
}

std::vector<int64_t> EventIndex::KeysByIndex(uint64_t n) const {
  std::vector<int64_t> keys(n, 0);
  const auto kept = [](uint32_t key_high) {
    return static_cast<int64_t>(static_cast<uint64_t>(key_high) << 32);
  };
  ReaderMutexLock lock(&mutex_);
  for (const Slot& slot : slots_) {
    if (slot.index_plus_one != 0 && slot.index_plus_one <= n) {
      keys[slot.index_plus_one - 1] = kept(slot.key_high);
    }
  }
  for (const auto& [key_high, index] : overflow_) {
    if (index < n) keys[index] = kept(key_high);
  }
  return keys;
}

size_t EventIndex::size() const {
  ReaderMutexLock lock(&mutex_);
  return used_ + overflow_.size();
}

}  // namespace cairn::node
