// EventIndex: which log entries hold an event, by the event's key (the first 8 bytes of its id).
//
// The node looks an event id up on every append (an event already in the log is answered as it
// is) and on GetEvent and proofs by id. Event ids are SHA-256 hashes, so as an SQLite index they
// land on a random B-tree page each: one more 4 KB page written to the WAL and synced per appended
// event, half of all the bytes an append writes. Held in memory instead, the lookup costs one
// probe and the append writes only the entry row. Storage rebuilds it when it opens the database
// (from the entries' event_key column) and adds each entry once its transaction commits.
//
// Open addressing with linear probing over 8-byte slots: the key's upper 32 bits and the entry's
// index, at most three quarters full, about 11-21 bytes per entry (134 MB for 10 million; 16-byte
// slots at most half full took 537 MB). Probe positions are the stored bits mixed with a
// per-process random seed, so that events ground to share bits of their ids cannot pile up in
// one probe run. A lookup returns every entry whose key has the same upper 32 bits (two ids
// sharing their first 4 bytes: at 10 million entries, one lookup in 430 finds a stranger):
// callers compare the whole id. Entries past index 2^32 - 2 are kept in an overflow map.
//
// Thread-safe: lookups take a shared lock, additions an exclusive one. The lock is Abseil's,
// which lets a waiting writer in ahead of new readers (glibc's rwlock, behind std::shared_mutex,
// lets a steady stream of GetEvent readers keep the writer's commit waiting).
#pragma once

#include <absl/base/thread_annotations.h>

#include <cstdint>
#include <map>
#include <utility>
#include <vector>

#include "common/sync.h"

namespace cairn::node {

class EventIndex {
 public:
  EventIndex();
  EventIndex(const EventIndex&) = delete;
  EventIndex& operator=(const EventIndex&) = delete;

  // Records that entry `index` holds an event whose key is `event_key`.
  void Add(int64_t event_key, uint64_t index);
  // The same for every pair, under one lock.
  void AddAll(const std::vector<std::pair<int64_t, uint64_t>>& entries);

  // Indexes of the entries recorded under `event_key` or a key with the same upper 32 bits,
  // ascending; empty when none.
  std::vector<uint64_t> Find(int64_t event_key) const;
  // Indexes of the entries whose key, read as unsigned, may lie in [low, high] (its upper 32 bits
  // do): at most `limit`, ascending. Scans the whole table (for `cairn get` by an id prefix, not
  // for the append path).
  std::vector<uint64_t> FindKeyRange(uint64_t low, uint64_t high, size_t limit) const;
  // Entries recorded.
  size_t size() const;
  // The key of each of entries 0 .. n-1, by index (0 for an index not recorded), as far as it
  // is kept (its upper 32 bits): enough for a later AddAll in another process to rebuild the
  // same index.
  std::vector<int64_t> KeysByIndex(uint64_t n) const;

 private:
  struct Slot {
    uint32_t key_high = 0;
    uint32_t index_plus_one = 0;  // 0: empty
  };

  size_t Home(uint32_t key_high, size_t mask) const;
  // Inserts without growing; `slots_` must have an empty slot.
  void Place(std::vector<Slot>& slots, uint32_t key_high, uint32_t index_plus_one) const;
  void AddLocked(int64_t event_key, uint64_t index) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mutex_);

  const uint64_t seed_;
  mutable Mutex mutex_;
  std::vector<Slot> slots_ ABSL_GUARDED_BY(mutex_);  // size a power of two, or empty
  size_t used_ ABSL_GUARDED_BY(mutex_) = 0;          // slots in use
  // Entries whose index does not fit a slot: key's upper 32 bits -> index.
  std::multimap<uint32_t, uint64_t> overflow_ ABSL_GUARDED_BY(mutex_);
};

}  // namespace cairn::node
