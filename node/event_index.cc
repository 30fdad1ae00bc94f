#include "node/event_index.h"

#include <sodium.h>

#include <algorithm>

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

}  // namespace

EventIndex::EventIndex() : seed_(RandomSeed()) {}

size_t EventIndex::Home(uint64_t key, size_t mask) const {
  return static_cast<size_t>(Mix(key ^ seed_)) & mask;
}

void EventIndex::Place(std::vector<Slot>& slots, uint64_t key, uint64_t index) const {
  const size_t mask = slots.size() - 1;
  size_t at = Home(key, mask);
  while (slots[at].index_plus_one != 0) at = (at + 1) & mask;
  slots[at] = Slot{key, index + 1};
}

void EventIndex::AddLocked(int64_t event_key, uint64_t index) {
  // At most half full: probe runs stay short, and an empty slot always ends a lookup.
  if (2 * (used_ + 1) > slots_.size()) {
    std::vector<Slot> grown(std::max(kMinSlots, 2 * slots_.size()));
    for (const Slot& slot : slots_) {
      if (slot.index_plus_one != 0) Place(grown, slot.key, slot.index_plus_one - 1);
    }
    slots_.swap(grown);
  }
  Place(slots_, static_cast<uint64_t>(event_key), index);
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
  ReaderMutexLock lock(&mutex_);
  if (slots_.empty()) return found;
  const uint64_t key = static_cast<uint64_t>(event_key);
  const size_t mask = slots_.size() - 1;
  for (size_t at = Home(key, mask); slots_[at].index_plus_one != 0; at = (at + 1) & mask) {
    if (slots_[at].key == key) found.push_back(slots_[at].index_plus_one - 1);
  }
  if (found.size() > 1) std::sort(found.begin(), found.end());
  return found;
}

std::vector<uint64_t> EventIndex::FindKeyRange(uint64_t low, uint64_t high, size_t limit) const {
  std::vector<uint64_t> found;
  {
    ReaderMutexLock lock(&mutex_);
    for (const Slot& slot : slots_) {
      if (slot.index_plus_one != 0 && slot.key >= low && slot.key <= high) {
        found.push_back(slot.index_plus_one - 1);
      }
    }
  }
  std::sort(found.begin(), found.end());
  if (found.size() > limit) found.resize(limit);
  return found;
}

std::vector<int64_t> EventIndex::KeysByIndex(uint64_t n) const {
  std::vector<int64_t> keys(n, 0);
  ReaderMutexLock lock(&mutex_);
  for (const Slot& slot : slots_) {
    if (slot.index_plus_one != 0 && slot.index_plus_one <= n) {
      keys[slot.index_plus_one - 1] = static_cast<int64_t>(slot.key);
    }
  }
  return keys;
}

size_t EventIndex::size() const {
  ReaderMutexLock lock(&mutex_);
  return used_;
}

}  // namespace cairn::node
