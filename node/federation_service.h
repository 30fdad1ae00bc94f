// FederationService: the cairn.v1.Federation gRPC service, what nodes serve each other.
//
// Follow streams the node's own log to a follower: the latest signed checkpoint, the entries up to
// it, and then, as the log grows, each new checkpoint with the entries it adds. The stream waits
// on the sequencer (no polling); a page of entries (at most 1 MiB) is read only when the last one
// was taken by the transport, so a slow follower costs the node at most one page and gRPC's flow
// control window. Handlers run on gRPC's sync thread pool and hold no state of their own.
#pragma once

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "cairn/v1/federation.grpc.pb.h"
#include "node/follower.h"
#include "node/gossip.h"
#include "node/logging.h"
#include "node/sequencer.h"
#include "node/storage.h"
#include "node/stream_slots.h"

namespace cairn::node {

class FederationService final : public cairn::v1::Federation::Service {
 public:
  // `storage`, `sequencer` and `followers` (the replicas this node keeps) must remain live while
  // the service is registered.
  FederationService(Storage& storage, const Sequencer& sequencer, std::string log_id,
                    uint64_t registry_version,
                    const std::vector<std::unique_ptr<Follower>>& followers);

  grpc::Status Follow(grpc::ServerContext* context, const cairn::v1::FollowRequest* request,
                      grpc::ServerWriter<cairn::v1::FollowResponse>* writer) override;
  grpc::Status GetStatus(grpc::ServerContext* context, const cairn::v1::GetStatusRequest* request,
                         cairn::v1::NodeStatus* response) override;
  grpc::Status ExchangeCheckpoints(grpc::ServerContext* context, const cairn::v1::Gossip* request,
                                   cairn::v1::Gossip* response) override;

  // The node's gossip (may stay null: ExchangeCheckpoints is then UNIMPLEMENTED). Call before the
  // service is registered; it must outlive the service.
  void set_gossiper(Gossiper* gossiper) { gossiper_ = gossiper; }
  // The bounds on open streams (Follow); null: none. Call before the service is registered; it
  // must outlive the service.
  void set_stream_slots(StreamSlots* slots) { stream_slots_ = slots; }

  // Graceful stop: new calls are answered UNAVAILABLE and open Follow streams end with
  // UNAVAILABLE within kStopPoll. Thread-safe.
  void StopAccepting() { gate_.Close(); }
  // Waits until no handler is running or `deadline` passes; true when idle.
  bool WaitUntilIdle(std::chrono::steady_clock::time_point deadline) const {
    return gate_.WaitUntilIdle(deadline);
  }

  // How often a waiting stream looks at cancellation and shutdown.
  static constexpr auto kStopPoll = std::chrono::milliseconds(200);

 private:
  Storage& storage_;
  const Sequencer& sequencer_;
  const std::string log_id_;
  const uint64_t registry_version_;
  const std::vector<std::unique_ptr<Follower>>& followers_;
  Gossiper* gossiper_ = nullptr;
  StreamSlots* stream_slots_ = nullptr;
  Gate gate_;
};

}  // namespace cairn::node
