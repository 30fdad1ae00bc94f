// ReplicationWait: an append that refers to an event this node has not replicated yet waits for
// it, a bounded time.
//
// In a federation a receipt on the refiner's node answers a dispatch on the mine's log, which the
// refiner's node may not hold yet: the mine's client was answered, the refiner's follower is a
// few milliseconds behind. Rather than refuse the receipt at once, the node parks it until every
// event it refers to is in its own log or a verified replica, or until `wait` (config
// replication_wait_ms) or the call's deadline passes; then FAILED_PRECONDITION names the field,
// the event and the logs searched. One thread re-checks the parked calls whenever a replica
// stores entries (Notify) and at least every 50 ms (for the node's own commits).
//
// Thread-safe.
#pragma once

#include <absl/base/thread_annotations.h>

#include <chrono>
#include <functional>
#include <list>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "cairn/v1/event.pb.h"
#include "common/status.h"
#include "common/sync.h"

namespace cairn::node {

// An event id a body refers to, with the field that names it.
struct Reference {
  std::string field;  // e.g. "Receipt.dispatch_event_id", "EventBody.refs[0].event_id"
  std::string event_id_hex;
};
// Every event `body` refers to: refs, a receipt's dispatch, an attestation's or a correction's
// event.
std::vector<Reference> ReferencesOf(const cairn::v1::EventBody& body);

class ReplicationWait {
 public:
  // Whether the event is held (own log or replica). Called from any thread.
  using Known = std::function<Result<bool>(const std::string& event_id_hex)>;
  // `where` describes the logs searched for an error message, e.g. "log us-usm-log and the
  // replicas of pk-fwo-log (2 entries)".
  using Where = std::function<std::string()>;

  ReplicationWait(Known known, Where where, std::chrono::milliseconds wait);
  ~ReplicationWait();  // Stop()s
  ReplicationWait(const ReplicationWait&) = delete;
  ReplicationWait& operator=(const ReplicationWait&) = delete;

  std::chrono::milliseconds wait() const { return wait_; }

  // The references among `refs` not held now (an error of `known` is returned).
  Result<std::vector<Reference>> Missing(const std::vector<Reference>& refs) const;

  // Calls `then` once, from the waiter's thread: OK when every reference is held; otherwise, at
  // min(now + wait, deadline), FAILED_PRECONDITION naming the first one still missing (or the
  // error `known` returned); UNAVAILABLE when the node stops first.
  void Park(std::vector<Reference> refs, std::chrono::system_clock::time_point deadline,
            std::function<void(Status)> then);

  // A replica stored entries: re-check the parked calls now.
  void Notify();
  // Answers every parked call UNAVAILABLE and joins the thread. Idempotent.
  void Stop();

 private:
  struct Parked {
    std::vector<Reference> refs;
    std::chrono::steady_clock::time_point until;
    std::function<void(Status)> then;
  };
  void Run();

  const Known known_;
  const Where where_;
  const std::chrono::milliseconds wait_;

  Mutex mutex_;
  std::list<Parked> parked_ ABSL_GUARDED_BY(mutex_);
  bool notified_ ABSL_GUARDED_BY(mutex_) = false;
  bool stopping_ ABSL_GUARDED_BY(mutex_) = false;
  std::thread thread_;
};

}  // namespace cairn::node
