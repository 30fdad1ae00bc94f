#include "node/stream_slots.h"

#include <absl/time/time.h>

#include <algorithm>

namespace cairn::node {

StreamSlots::StreamSlots(StreamSlotOptions options)
    : options_(options), reaper_([this] { Reap(); }) {}

StreamSlots::~StreamSlots() {
  {
    MutexLock lock(&mutex_);
    stopping_ = true;
  }
  reaper_.join();
}

std::string StreamSlots::HostOf(const std::string& peer) {
  const size_t colon = peer.rfind(':');
  const size_t scheme = peer.find(':');
  if (colon == std::string::npos || colon == scheme || peer.compare(0, 5, "unix:") == 0) {
    return peer;
  }
  return peer.substr(0, colon);
}

std::unique_ptr<StreamSlots::Slot> StreamSlots::Take(grpc::ServerContext* context) {
  return Take(context != nullptr ? HostOf(context->peer()) : "local", context);
}

std::unique_ptr<StreamSlots::Slot> StreamSlots::Take(const std::string& host,
                                                     grpc::ServerContext* context) {
  MutexLock lock(&mutex_);
  size_t& from_host = per_host_[host];
  grpc::Status refusal;
  if (open_.size() >= options_.total) {
    refusal = grpc::Status(grpc::StatusCode::RESOURCE_EXHAUSTED,
                           "the node has " + std::to_string(open_.size()) +
                               " streams open, its limit (half of max_call_threads); try again "
                               "later");
  } else if (from_host >= options_.per_host) {
    refusal = grpc::Status(grpc::StatusCode::RESOURCE_EXHAUSTED,
                           std::to_string(from_host) + " streams are open from " + host +
                               ", the limit per host (max_streams_per_host); try again later");
  }
  if (!refusal.ok()) {
    if (from_host == 0) per_host_.erase(host);
    return std::unique_ptr<Slot>(new Slot(this, open_.end(), refusal));
  }
  ++from_host;
  open_.push_front(Open{context, host, std::nullopt, false});
  return std::unique_ptr<Slot>(new Slot(this, open_.begin(), grpc::Status::OK));
}

void StreamSlots::Release(std::list<Open>::iterator open) {
  MutexLock lock(&mutex_);
  auto host = per_host_.find(open->host);
  if (host != per_host_.end() && --host->second == 0) per_host_.erase(host);
  open_.erase(open);
}

size_t StreamSlots::open() const {
  MutexLock lock(&mutex_);
  return open_.size();
}

size_t StreamSlots::stalled() const {
  MutexLock lock(&mutex_);
  return stalled_;
}

void StreamSlots::Reap() {
  const auto period = std::clamp<std::chrono::milliseconds>(
      options_.stall_timeout / 4, std::chrono::milliseconds(1), std::chrono::milliseconds(1000));
  MutexLock lock(&mutex_);
  while (!mutex_.AwaitWithTimeout(Condition(&stopping_), absl::FromChrono(period))) {
    const auto now = std::chrono::steady_clock::now();
    for (Open& open : open_) {
      if (open.cancelled || !open.writing_since || open.context == nullptr ||
          now - *open.writing_since < options_.stall_timeout) {
        continue;
      }
      // The handler is blocked in Write; cancelling makes it return false, and the handler ends.
      open.context->TryCancel();
      open.cancelled = true;
      ++stalled_;
    }
  }
}

std::unique_ptr<StreamSlots::Slot> TakeStreamSlot(StreamSlots* slots,
                                                  grpc::ServerContext* context) {
  return slots != nullptr ? slots->Take(context) : nullptr;
}

StreamSlots::Slot::Slot(StreamSlots* slots, std::list<Open>::iterator open, grpc::Status refusal)
    : slots_(slots),
      open_(refusal.ok() ? &*open : nullptr),
      position_(open),
      refusal_(std::move(refusal)) {}

StreamSlots::Slot::~Slot() {
  if (open_ != nullptr) slots_->Release(position_);
}

bool StreamSlots::Slot::stalled() const {
  if (open_ == nullptr) return false;
  MutexLock lock(&slots_->mutex_);
  return open_->cancelled;
}

grpc::Status WriteFailed(const StreamSlots::Slot* slot, const std::string& closed) {
  if (slot == nullptr || !slot->stalled()) {
    return grpc::Status(grpc::StatusCode::CANCELLED, closed);
  }
  return grpc::Status(grpc::StatusCode::CANCELLED,
                      "cancelled by the node: the reader took no message for " +
                          std::to_string(slot->stall_timeout().count()) +
                          " ms (stream_stall_timeout_ms)");
}

void StreamSlots::Slot::Writing(bool writing) {
  if (open_ == nullptr) return;
  MutexLock lock(&slots_->mutex_);
  if (writing) {
    open_->writing_since = std::chrono::steady_clock::now();
  } else {
    open_->writing_since.reset();
  }
}

}  // namespace cairn::node
