// LedgerService: the cairn.v1.Ledger gRPC service.
//
// Appends run the stateless checks in the handler thread (AppendValidator), then queue for the
// sequencer's writer, which answers them after COMMIT; reads go to the storage's reader connection.
// An append whose deadline has passed before it is queued is answered DEADLINE_EXCEEDED and
// written nowhere; one cancelled or timed out after it was queued may still commit (the caller
// finds out with GetEvent; appending the same event again returns its entry).
// Every request writes one JSON log line to stderr: {"ts", "level", "msg", "method", "code",
// "event_id"/"index" when known, "duration_us", "error" when refused}. Handlers are called
// concurrently by gRPC's thread pool; the service holds no state of its own.
#pragma once

#include <atomic>
#include <chrono>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>

#include "cairn/v1/ledger.grpc.pb.h"
#include "common/clock.h"
#include "node/logging.h"
#include "node/replica_store.h"
#include "node/replication_wait.h"
#include "node/sequencer.h"
#include "node/storage.h"
#include "node/stream_slots.h"

namespace cairn::node {

// Most events in one AppendBatch.
inline constexpr int kMaxBatchEvents = 1000;

// The system clock, for callers that inject none.
const Clock& DefaultClock();

// Append and AppendBatch use gRPC's callback API: the handler checks the events and queues them,
// and the sequencer's writer finishes the call after the group's COMMIT, so no thread waits for
// the commit. They take the request's bytes (raw methods) and parse them here, so that bytes that
// are no AppendRequest get INVALID_ARGUMENT saying so (gRPC's own parse would answer
// UNIMPLEMENTED with no message). The other methods are synchronous.
class LedgerService final
    : public cairn::v1::Ledger::WithRawCallbackMethod_Append<
          cairn::v1::Ledger::WithRawCallbackMethod_AppendBatch<cairn::v1::Ledger::Service>> {
 public:
  // `storage`, `sequencer`, `validator` and `clock` must remain live while the service is
  // registered. `registry_version` is the trust registry version in force, named in bundles;
  // `max_message_bytes` the largest message the server sends, which bounds an AppendBatch.
  LedgerService(Storage& storage, Sequencer& sequencer, const AppendValidator& validator,
                std::string log_id, uint64_t registry_version = 0,
                const Clock& clock = DefaultClock(), uint64_t max_message_bytes = 4 * 1024 * 1024);

  // A serialized cairn.v1.AppendRequest in, a cairn.v1.AppendResponse out.
  grpc::ServerUnaryReactor* Append(grpc::CallbackServerContext* context,
                                   const grpc::ByteBuffer* request,
                                   grpc::ByteBuffer* response) override;
  // A serialized cairn.v1.AppendBatchRequest in, a cairn.v1.AppendBatchResponse out.
  grpc::ServerUnaryReactor* AppendBatch(grpc::CallbackServerContext* context,
                                        const grpc::ByteBuffer* request,
                                        grpc::ByteBuffer* response) override;
  grpc::Status GetEvent(grpc::ServerContext* context, const cairn::v1::GetEventRequest* request,
                        cairn::v1::GetEventResponse* response) override;
  grpc::Status FindEvents(grpc::ServerContext* context, const cairn::v1::FindEventsRequest* request,
                          cairn::v1::FindEventsResponse* response) override;
  grpc::Status GetEntries(grpc::ServerContext* context, const cairn::v1::GetEntriesRequest* request,
                          grpc::ServerWriter<cairn::v1::EntryRecord>* writer) override;
  grpc::Status GetCheckpoint(grpc::ServerContext* context,
                             const cairn::v1::GetCheckpointRequest* request,
                             cairn::v1::SignedCheckpoint* response) override;
  grpc::Status GetLot(grpc::ServerContext* context, const cairn::v1::GetLotRequest* request,
                      cairn::v1::LotState* response) override;
  grpc::Status GetInclusionProof(grpc::ServerContext* context,
                                 const cairn::v1::GetInclusionProofRequest* request,
                                 cairn::v1::GetInclusionProofResponse* response) override;
  grpc::Status GetConsistencyProof(grpc::ServerContext* context,
                                   const cairn::v1::GetConsistencyProofRequest* request,
                                   cairn::v1::GetConsistencyProofResponse* response) override;
  grpc::Status Trace(grpc::ServerContext* context, const cairn::v1::TraceRequest* request,
                     grpc::ServerWriter<cairn::v1::EvidenceBundle>* writer) override;

  // The verified replicas this node holds, which Trace follows a lineage through. Call before
  // the service is registered; the stores must outlive it.
  void set_replicas(std::vector<const ReplicaStore*> replicas) { replicas_ = std::move(replicas); }
  // The bounds on open streams (GetEntries, Trace); null: none. Call before the service is
  // registered; it must outlive the service.
  void set_stream_slots(StreamSlots* slots) { stream_slots_ = slots; }
  // Appends that refer to events not yet held wait in `wait` (may be null: refused at once by
  // the custody check). Call before the service is registered; `wait` must outlive it.
  void set_replication_wait(ReplicationWait* wait) { wait_ = wait; }

  // Graceful stop, first half: from now on every new request is answered UNAVAILABLE. Thread-safe.
  void StopAccepting();
  // Waits until no handler is running or `deadline` passes; true when idle. Call after
  // StopAccepting(), before grpc::Server::Shutdown(), so that Shutdown need not wait for idle
  // client connections to close (an idle sync client notices GOAWAY only on its 5 s backup poll).
  bool WaitUntilIdle(std::chrono::steady_clock::time_point deadline) const;

 private:
  // One Append or AppendBatch call from arrival to its answer (service.cc).
  class AppendCall;
  // Submits `events` for `call` to the sequencer, after waiting in wait_ for the events they refer
  // to that this node does not hold yet (ids of `events` themselves excepted).
  void SubmitWhenHeld(std::vector<ledger::ParsedEvent> events, std::unique_ptr<AppendCall> call,
                      bool batch);

  Storage& storage_;
  Sequencer& sequencer_;
  const AppendValidator& validator_;
  const std::string log_id_;
  const uint64_t registry_version_;
  const Clock& clock_;
  const uint64_t max_message_bytes_;
  std::vector<const ReplicaStore*> replicas_;
  StreamSlots* stream_slots_ = nullptr;
  ReplicationWait* wait_ = nullptr;
  Gate gate_;
};

}  // namespace cairn::node
