#include "node/federation_service.h"

#include <absl/time/clock.h>
#include <absl/time/time.h>

#include <utility>

#include "cairn/v1/log.pb.h"
#include "common/clock.h"

namespace cairn::node {

namespace {

// Entries are read from storage in pages of at most this many bytes, then written without a lock.
constexpr size_t kPageBytes = 1 << 20;

uint64_t SizeOf(const cairn::v1::SignedCheckpoint& signed_checkpoint) {
  cairn::v1::Checkpoint checkpoint;
  return checkpoint.ParseFromString(signed_checkpoint.checkpoint()) ? checkpoint.size() : 0;
}

}  // namespace

FederationService::FederationService(Storage& storage, const Sequencer& sequencer,
                                     std::string log_id, uint64_t registry_version,
                                     const std::vector<std::unique_ptr<Follower>>& followers)
    : storage_(storage),
      sequencer_(sequencer),
      log_id_(std::move(log_id)),
      registry_version_(registry_version),
      followers_(followers) {}

grpc::Status FederationService::GetStatus(grpc::ServerContext* context,
                                          const cairn::v1::GetStatusRequest* /*request*/,
                                          cairn::v1::NodeStatus* response) {
  RequestLog log("GetStatus", context);
  const Gate::Pass pass(gate_);
  if (!pass.admitted()) return log.Finish(Unavailable("cairnd is shutting down"));
  response->set_log_id(log_id_);
  response->set_size(SizeOf(sequencer_.LatestCheckpoint()));
  response->set_registry_version(registry_version_);
  for (const auto& follower : followers_) {
    const Follower::State state = follower->state();
    auto* replica = response->add_replicas();
    replica->set_log_id(follower->options().log_id);
    replica->set_peer(follower->options().peer);
    replica->set_state(state.state);
    replica->set_size(state.size);
    replica->set_leader_size(state.leader_size);
    replica->set_last_error(state.last_error);
    for (const auto& fork : follower->forks()) *response->add_forks() = fork;
    if (state.last_contact_us > 0)
      *replica->mutable_last_contact() = FromMicros(state.last_contact_us);
  }
  if (gossiper_ != nullptr) {
    for (auto& fork : gossiper_->heard_forks()) *response->add_forks() = std::move(fork);
  }
  return log.Finish(grpc::Status::OK);
}

grpc::Status FederationService::ExchangeCheckpoints(grpc::ServerContext* context,
                                                    const cairn::v1::Gossip* request,
                                                    cairn::v1::Gossip* response) {
  RequestLog log("ExchangeCheckpoints", context);
  const Gate::Pass pass(gate_);
  if (!pass.admitted()) return log.Finish(Unavailable("cairnd is shutting down"));
  if (gossiper_ == nullptr) {
    return log.Finish(grpc::Status(grpc::StatusCode::UNIMPLEMENTED, "this node does not gossip"));
  }
  log.Set("from_log", request->log_id());
  log.Set("checkpoints", request->checkpoints_size());
  if (request->checkpoints_size() > 10000 || request->forks_size() > 10000 ||
      request->registry_file().size() > (8u << 20)) {
    return log.Finish(
        InvalidArgument("Gossip: more than 10000 checkpoints or forks, or a registry over 8 MiB"));
  }
  gossiper_->Take(*request, "node of " + request->log_id() + " at " + context->peer());
  *response = gossiper_->Snapshot(request->registry_version() < registry_version_);
  return log.Finish(grpc::Status::OK);
}

grpc::Status FederationService::Follow(grpc::ServerContext* context,
                                       const cairn::v1::FollowRequest* request,
                                       grpc::ServerWriter<cairn::v1::FollowResponse>* writer) {
  RequestLog log("Follow", context);
  const Gate::Pass pass(gate_);
  if (!pass.admitted()) return log.Finish(Unavailable("cairnd is shutting down"));
  const auto slot = TakeStreamSlot(stream_slots_, context);
  if (slot && !slot->admitted()) return log.Finish(slot->refusal());
  log.Set("log_id", request->log_id());
  log.Set("from_index", request->from_index());
  // The node's own log, or a verified replica it holds (so that an auditor, or a node that does
  // not reach the log's own node, can read every log of the lineage from one node).
  const ReplicaStore* replica = nullptr;
  if (request->log_id() != log_id_) {
    for (const auto& follower : followers_) {
      if (follower->options().log_id == request->log_id()) replica = &follower->store();
    }
    if (replica == nullptr) {
      std::string held = log_id_;
      for (const auto& follower : followers_) held += ", " + follower->options().log_id;
      return log.Finish(NotFound("FollowRequest.log_id: this node holds no log " +
                                 request->log_id() + " (it holds " + held + ")"));
    }
  }
  const auto latest = [&](uint64_t above, absl::Time deadline) {
    if (replica == nullptr) return sequencer_.WaitForCheckpointAbove(above, deadline);
    return replica->WaitForSizeAbove(above, deadline).value_or(cairn::v1::SignedCheckpoint());
  };
  const auto read_page = [&](uint64_t begin, uint64_t end) -> Result<std::vector<StoredEntry>> {
    if (replica == nullptr) return storage_.ReadEntries(begin, end, kPageBytes);
    CAIRN_ASSIGN_OR_RETURN(auto found, replica->ReadEntries(begin, end, kPageBytes));
    std::vector<StoredEntry> page(found.size());
    for (size_t i = 0; i < found.size(); ++i) {
      page[i].index = found[i].index;
      page[i].entry = std::move(found[i].entry);
    }
    return page;
  };
  if (replica != nullptr && !replica->checkpoint()) {
    return log.Finish(Unavailable("FollowRequest.log_id: this node's replica of " +
                                  request->log_id() + " holds no checkpoint yet"));
  }
  cairn::v1::SignedCheckpoint checkpoint =
      replica == nullptr ? sequencer_.LatestCheckpoint() : *replica->checkpoint();
  uint64_t head = SizeOf(checkpoint);
  uint64_t next = request->from_index();
  if (next > head) {
    return log.Finish(OutOfRange("FollowRequest.from_index: " + std::to_string(next) +
                                 " is beyond the log's latest checkpoint, of size " +
                                 std::to_string(head)));
  }
  uint64_t sent = 0;
  // Every way out of the stream is logged with the entries sent.
  const auto finish = [&](const auto& status) {
    log.Set("sent", sent);
    return log.Finish(status);
  };
  cairn::v1::FollowResponse message;
  while (true) {
    // The checkpoint, then the entries it adds.
    *message.mutable_checkpoint() = checkpoint;
    if (!WriteWatched(slot.get(), writer, message))
      return finish(WriteFailed(slot.get(), "stream closed by the follower"));
    while (next < head) {
      auto page = read_page(next, head);
      if (!page.ok()) return finish(page.status());
      if (page->empty()) {
        return finish(DataLoss("entry " + std::to_string(next) + " of a checkpoint of size " +
                               std::to_string(head) + " is missing"));
      }
      for (StoredEntry& stored : *page) {
        auto* record = message.mutable_entry();
        record->set_index(stored.index);
        record->set_entry(std::move(stored.entry));
        if (!WriteWatched(slot.get(), writer, message))
          return finish(WriteFailed(slot.get(), "stream closed by the follower"));
        ++sent;
        next = stored.index + 1;
      }
    }
    // Wait for the log to grow past what was sent.
    while (true) {
      if (context->IsCancelled())
        return finish(grpc::Status(grpc::StatusCode::CANCELLED, "the follower cancelled"));
      if (gate_.closed()) return finish(Unavailable("cairnd is shutting down"));
      checkpoint = latest(head, absl::Now() + absl::FromChrono(kStopPoll));
      const uint64_t size = SizeOf(checkpoint);
      if (size > head) {
        head = size;
        break;
      }
    }
  }
}

}  // namespace cairn::node
