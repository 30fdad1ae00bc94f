#include "node/replication_wait.h"

#include <algorithm>

namespace cairn::node {

namespace {
constexpr auto kRecheck = std::chrono::milliseconds(50);
}  // namespace

std::vector<Reference> ReferencesOf(const cairn::v1::EventBody& body) {
  std::vector<Reference> refs;
  for (int i = 0; i < body.refs_size(); ++i) {
    refs.push_back({"EventBody.refs[" + std::to_string(i) + "].event_id", body.refs(i).event_id()});
  }
  if (body.has_receipt()) {
    refs.push_back({"Receipt.dispatch_event_id", body.receipt().dispatch_event_id()});
  }
  if (body.has_attestation() && body.attestation().has_event_id()) {
    refs.push_back({"Attestation.event_id", body.attestation().event_id()});
  }
  if (body.has_correction()) refs.push_back({"Correction.event_id", body.correction().event_id()});
  return refs;
}

ReplicationWait::ReplicationWait(Known known, Where where, std::chrono::milliseconds wait)
    : known_(std::move(known)), where_(std::move(where)), wait_(wait) {
  thread_ = std::thread([this] { Run(); });
}

ReplicationWait::~ReplicationWait() { Stop(); }

Result<std::vector<Reference>> ReplicationWait::Missing(const std::vector<Reference>& refs) const {
  std::vector<Reference> missing;
  for (const Reference& ref : refs) {
    CAIRN_ASSIGN_OR_RETURN(const bool held, known_(ref.event_id_hex));
    if (!held) missing.push_back(ref);
  }
  return missing;
}

void ReplicationWait::Park(std::vector<Reference> refs,
                           std::chrono::system_clock::time_point deadline,
                           std::function<void(Status)> then) {
  // The call's deadline may be "never" (time_point::max()): compared, not added.
  const auto now = std::chrono::steady_clock::now();
  auto until = now + wait_;
  const auto left = deadline - std::chrono::system_clock::now();
  if (left < wait_) {
    until = now + std::chrono::duration_cast<std::chrono::steady_clock::duration>(
                      std::max(left, std::chrono::system_clock::duration::zero()));
  }
  {
    MutexLock lock(&mutex_);
    if (!stopping_) {
      parked_.push_back({std::move(refs), until, std::move(then)});
      notified_ = true;
      return;
    }
  }
  then(Unavailable("cairnd is shutting down"));
}

void ReplicationWait::Notify() {
  MutexLock lock(&mutex_);
  notified_ = true;
}

void ReplicationWait::Stop() {
  {
    MutexLock lock(&mutex_);
    stopping_ = true;
  }
  if (thread_.joinable()) thread_.join();
}

void ReplicationWait::Run() {
  while (true) {
    std::list<Parked> batch;
    bool stopping = false;
    {
      MutexLock lock(&mutex_);
      const auto ready = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mutex_) {
        return notified_ || stopping_;
      };
      mutex_.AwaitWithTimeout(Condition(&ready), absl::FromChrono(kRecheck));
      notified_ = false;
      stopping = stopping_;
      batch.swap(parked_);
    }
    const auto now = std::chrono::steady_clock::now();
    std::list<Parked> still;
    for (Parked& p : batch) {
      if (stopping) {
        p.then(Unavailable("cairnd is shutting down"));
        continue;
      }
      auto missing = Missing(p.refs);
      if (!missing.ok()) {
        p.then(missing.status());
      } else if (missing->empty()) {
        p.then(Status::Ok());
      } else if (now >= p.until) {
        const Reference& first = missing->front();
        p.then(FailedPrecondition(
            first.field + ": event " + first.event_id_hex +
            " is not known to this node: it is in " + "none of " + where_() + " after waiting " +
            std::to_string(wait_.count()) +
            " ms for replication (a node appends an event only once it holds every event it "
            "refers to)"));
      } else {
        p.refs = std::move(missing).value();
        still.push_back(std::move(p));
      }
    }
    if (stopping) return;
    MutexLock lock(&mutex_);
    parked_.splice(parked_.begin(), still);
  }
}

}  // namespace cairn::node
