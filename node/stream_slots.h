// StreamSlots: bounds the server streams open at once (GetEntries, Trace, Follow), in all and per
// client host, and cancels a stream whose reader stops reading.
//
// Each synchronous stream holds one of the node's max_call_threads call threads for as long as
// its reader takes. A thousand readers that never read would otherwise take every thread (and
// gRPC refuses each call beyond them), so that an honest GetEvent or proof is refused while they
// hang on. So streams get at most `total` threads (half of them by default: unary reads keep the
// rest), one host at most `per_host` of those, and a stream whose message has waited
// `stall_timeout` for its reader to take it is cancelled, which frees its thread and its buffers.
// A refused stream ends RESOURCE_EXHAUSTED at once, naming the limit.
//
// Thread-safe. The reaper thread wakes every stall_timeout / 4 (at most once a second).
#pragma once

#include <absl/base/thread_annotations.h>
#include <grpcpp/grpcpp.h>

#include <chrono>
#include <cstddef>
#include <list>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <thread>

#include "common/sync.h"

namespace cairn::node {

struct StreamSlotOptions {
  size_t total = 48;
  size_t per_host = 16;
  std::chrono::milliseconds stall_timeout{30'000};
};

class StreamSlots {
  struct Open;

 public:
  explicit StreamSlots(StreamSlotOptions options);
  ~StreamSlots();  // the slots must all have been released
  StreamSlots(const StreamSlots&) = delete;
  StreamSlots& operator=(const StreamSlots&) = delete;

  // One admitted stream, or a refusal; released when destroyed.
  class Slot {
   public:
    ~Slot();
    Slot(const Slot&) = delete;
    Slot& operator=(const Slot&) = delete;
    bool admitted() const { return open_ != nullptr; }
    // Why the stream was refused (RESOURCE_EXHAUSTED), when it was.
    const grpc::Status& refusal() const { return refusal_; }
    // True once the node cancelled the stream for stalling.
    bool stalled() const;
    std::chrono::milliseconds stall_timeout() const { return slots_->options_.stall_timeout; }
    // writer->Write(message), watched: a write that waits past the stall timeout for the reader
    // is cancelled. False when the stream is closed or cancelled.
    template <typename Writer, typename Message>
    bool Write(Writer* writer, const Message& message) {
      Writing(true);
      const bool written = writer->Write(message);
      Writing(false);
      return written;
    }

   private:
    friend class StreamSlots;
    Slot(StreamSlots* slots, std::list<Open>::iterator open, grpc::Status refusal);
    void Writing(bool writing);

    StreamSlots* slots_;
    Open* open_;  // null when refused
    std::list<Open>::iterator position_;
    grpc::Status refusal_;
  };

  // A slot for the stream of `context` (its host is context->peer() without the port; "local"
  // without a context).
  std::unique_ptr<Slot> Take(grpc::ServerContext* context);
  // The same for a stream from `host` (context may be null: nothing to cancel).
  std::unique_ptr<Slot> Take(const std::string& host, grpc::ServerContext* context);

  // Streams open now, and the streams cancelled for stalling so far.
  size_t open() const;
  size_t stalled() const;

  // "ipv4:127.0.0.1:51234" -> "ipv4:127.0.0.1"; "ipv6:[::1]:51234" -> "ipv6:[::1]"; anything
  // without a port (unix sockets) is itself.
  static std::string HostOf(const std::string& peer);

 private:
  struct Open {
    grpc::ServerContext* context;
    std::string host;
    // When the write now waiting for the reader began; unset between writes.
    std::optional<std::chrono::steady_clock::time_point> writing_since;
    bool cancelled = false;
  };

  void Release(std::list<Open>::iterator open);
  void Reap();

  const StreamSlotOptions options_;
  mutable Mutex mutex_;
  std::list<Open> open_ ABSL_GUARDED_BY(mutex_);
  std::map<std::string, size_t> per_host_ ABSL_GUARDED_BY(mutex_);
  size_t stalled_ ABSL_GUARDED_BY(mutex_) = 0;
  bool stopping_ ABSL_GUARDED_BY(mutex_) = false;
  std::thread reaper_;
};

// A slot from `slots` for the stream of `context`; null when `slots` is (no limits).
std::unique_ptr<StreamSlots::Slot> TakeStreamSlot(StreamSlots* slots, grpc::ServerContext* context);

// The status a stream ends with when a write failed: CANCELLED, saying that the node cancelled it
// for stalling when it did, else `closed` (the reader went away).
grpc::Status WriteFailed(const StreamSlots::Slot* slot, const std::string& closed);

// writer->Write(message), through `slot` when there is one.
template <typename Writer, typename Message>
bool WriteWatched(StreamSlots::Slot* slot, Writer* writer, const Message& message) {
  return slot != nullptr ? slot->Write(writer, message) : writer->Write(message);
}

}  // namespace cairn::node
