#include "node/service.h"

#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <bit>
#include <chrono>
#include <cstring>
#include <limits>
#include <thread>
#include <unordered_set>
#include <utility>

#include "common/clock.h"
#include "ledger/event.h"
#include "ledger/lot_state.h"
#include "ledger/validate.h"
#include "node/grpc_status.h"
#include "node/metrics.h"
#include "node/other_logs.h"
#include "node/trace.h"

namespace cairn::node {

namespace {

void FillAppendResponse(const AppendedEvent& event, const AppendOutcome& outcome,
                        cairn::v1::AppendResponse* response) {
  response->set_event_id(event.event_id_hex);
  response->set_index(event.index);
  response->set_entry(event.entry);
  response->set_duplicate(event.duplicate);
  *response->mutable_checkpoint() = outcome.checkpoint;
  auto* inclusion = response->mutable_inclusion();
  inclusion->set_leaf_index(event.index);
  inclusion->set_tree_size(outcome.tree_size);
  for (const Hash& h : event.inclusion) inclusion->add_hashes(HashToString(h));
}

// The id of a body as far as it can be told before parsing; empty for an empty body.
std::string IdForLog(const cairn::v1::SignedEvent& event) {
  if (event.body().empty()) return {};
  return ToHex(ledger::EventId(event.body()));
}

std::string Shown(const std::string& s) { return s.size() > 80 ? s.substr(0, 80) + "..." : s; }

// Whether the caller's deadline has passed: such an append is not queued (nobody waits for its
// answer). A call cancelled or timed out after it was queued may still commit; the caller finds
// out with GetEvent, and appending the same event again is answered with its entry.
// An upper bound of the serialized AppendBatchResponse to `request` on a log of `log_size`
// entries: per event its entry (event, log id, index, previous hash, time), id, index, flags, a
// checkpoint, and an inclusion proof of at most bit_width(size) hashes; then one more checkpoint.
uint64_t BatchAnswerBound(const cairn::v1::AppendBatchRequest& request, const std::string& log_id,
                          uint64_t log_size) {
  constexpr uint64_t kCheckpointBytes = 512;  // Checkpoint (log id, size, root, time) + signature
  constexpr uint64_t kEntryOverhead = 96;     // index, prev hash, appended_at, tags and lengths
  constexpr uint64_t kResultOverhead = 112;   // event id (hex), index, duplicate, tags, lengths
  const uint64_t depth = std::bit_width(log_size + request.events_size());
  uint64_t bytes = kCheckpointBytes;
  for (const auto& event : request.events()) {
    bytes += event.ByteSizeLong() + log_id.size() + kEntryOverhead + kResultOverhead +
             kCheckpointBytes + 34 * (depth + 1);
  }
  return bytes;
}

bool Expired(const grpc::CallbackServerContext* context) {
  return context->deadline() <= std::chrono::system_clock::now();
}

const grpc::Status kExpired(grpc::StatusCode::DEADLINE_EXCEEDED,
                            "the call's deadline passed before the event was queued; nothing "
                            "was written");

}  // namespace

// ---------------------------------------------------------------------------------------------
// LedgerService

const Clock& DefaultClock() {
  static const SystemClock clock;
  return clock;
}

LedgerService::LedgerService(Storage& storage, Sequencer& sequencer,
                             const AppendValidator& validator, std::string log_id,
                             uint64_t registry_version, const Clock& clock,
                             uint64_t max_message_bytes)
    : storage_(storage),
      sequencer_(sequencer),
      validator_(validator),
      log_id_(std::move(log_id)),
      registry_version_(registry_version),
      clock_(clock),
      max_message_bytes_(max_message_bytes) {}

void LedgerService::StopAccepting() { gate_.Close(); }

bool LedgerService::WaitUntilIdle(std::chrono::steady_clock::time_point deadline) const {
  return gate_.WaitUntilIdle(deadline);
}

// Counted in flight and logged from arrival until the call is finished, by the handler when it
// refuses the request, else by the sequencer's writer after COMMIT.
class LedgerService::AppendCall final : public Sequencer::Completion {
 public:
  // `context` and the response must remain live until the call is finished.
  // `batch`: an AppendBatch, else an Append. The answer is serialized into `raw_response`.
  AppendCall(LedgerService& service, const char* method, grpc::CallbackServerContext* context,
             grpc::ByteBuffer* raw_response, bool batch)
      : log_(method, context),
        context_(context),
        in_flight_(service.gate_),
        reactor_(context->DefaultReactor()),
        raw_response_(raw_response),
        batch_(batch) {}

  bool admitted() const { return in_flight_.admitted(); }
  std::chrono::system_clock::time_point deadline() const override { return context_->deadline(); }
  RequestLog& log() { return log_; }
  grpc::ServerUnaryReactor* reactor() const { return reactor_; }

  // Logs and finishes the call.
  void Finish(grpc::Status status) { reactor_->Finish(log_.Finish(std::move(status))); }
  void Finish(const Status& status) { Finish(ToGrpcStatus(status)); }

  void Done(Result<AppendOutcome> outcome) override {
    if (!outcome.ok()) return Finish(outcome.status());
    if (RequestMetrics* metrics = ActiveRequestMetrics()) {
      uint64_t added = 0;
      for (const AppendedEvent& event : outcome->events) added += event.duplicate ? 0 : 1;
      metrics->EventsAppended(added);
    }
    bool own_buffer = false;
    grpc::Status serialized;
    if (!batch_) {
      const AppendedEvent& event = outcome->events.front();
      cairn::v1::AppendResponse response;
      FillAppendResponse(event, *outcome, &response);
      log_.Set("index", event.index);
      log_.Set("duplicate", event.duplicate);
      serialized = grpc::SerializationTraits<cairn::v1::AppendResponse>::Serialize(
          response, raw_response_, &own_buffer);
    } else {
      cairn::v1::AppendBatchResponse response;
      for (const AppendedEvent& event : outcome->events) {
        FillAppendResponse(event, *outcome, response.add_results());
      }
      *response.mutable_checkpoint() = outcome->checkpoint;
      log_.Set("index", outcome->events.front().index);
      log_.Set("tree_size", outcome->tree_size);
      serialized = grpc::SerializationTraits<cairn::v1::AppendBatchResponse>::Serialize(
          response, raw_response_, &own_buffer);
    }
    Finish(serialized);
  }

 private:
  RequestLog log_;
  grpc::CallbackServerContext* const context_;
  const Gate::Pass in_flight_;
  grpc::ServerUnaryReactor* const reactor_;
  grpc::ByteBuffer* const raw_response_;
  const bool batch_;
};

namespace {

// The request's bytes as `message`, or INVALID_ARGUMENT naming the message when they are not one.
template <typename Message>
Status ParseRaw(const grpc::ByteBuffer& raw, Message* message) {
  grpc::ByteBuffer bytes(raw);  // shares the slices; Deserialize consumes its argument
  if (grpc::SerializationTraits<Message>::Deserialize(&bytes, message).ok()) {
    return Status::Ok();
  }
  const std::string& name = Message::descriptor()->full_name();
  return InvalidArgument(Message::descriptor()->name() + ": the request's " +
                         std::to_string(raw.Length()) + " bytes are not a serialized " + name);
}

}  // namespace

grpc::ServerUnaryReactor* LedgerService::Append(grpc::CallbackServerContext* context,
                                                const grpc::ByteBuffer* raw_request,
                                                grpc::ByteBuffer* raw_response) {
  auto call = std::make_unique<AppendCall>(*this, "Append", context, raw_response, false);
  grpc::ServerUnaryReactor* const reactor = call->reactor();
  if (!call->admitted()) {
    call->Finish(Unavailable("cairnd is shutting down"));
    return reactor;
  }
  cairn::v1::AppendRequest parsed_request;
  if (const Status parse = ParseRaw(*raw_request, &parsed_request); !parse.ok()) {
    call->Finish(parse);
    return reactor;
  }
  const cairn::v1::AppendRequest* const request = &parsed_request;
  if (Expired(context)) {
    call->Finish(kExpired);
    return reactor;
  }
  if (!request->has_event()) {
    call->Finish(InvalidArgument("AppendRequest.event: required"));
    return reactor;
  }
  auto parsed = validator_.Check(request->event());
  if (!parsed.ok()) {
    // The id is hashed here only for the log line; on success the parse has computed it.
    if (const std::string id = IdForLog(request->event()); !id.empty()) {
      call->log().Set("event_id", id);
    }
    call->Finish(parsed.status());
    return reactor;
  }
  call->log().Set("event_id", parsed->id_hex);
  if (Expired(context)) {
    call->Finish(kExpired);
    return reactor;
  }
  std::vector<ledger::ParsedEvent> events;
  events.push_back(std::move(parsed).value());
  SubmitWhenHeld(std::move(events), std::move(call), /*batch=*/false);
  return reactor;
}

grpc::ServerUnaryReactor* LedgerService::AppendBatch(grpc::CallbackServerContext* context,
                                                     const grpc::ByteBuffer* raw_request,
                                                     grpc::ByteBuffer* raw_response) {
  auto call = std::make_unique<AppendCall>(*this, "AppendBatch", context, raw_response, true);
  grpc::ServerUnaryReactor* const reactor = call->reactor();
  if (!call->admitted()) {
    call->Finish(Unavailable("cairnd is shutting down"));
    return reactor;
  }
  cairn::v1::AppendBatchRequest parsed_request;
  if (const Status parse = ParseRaw(*raw_request, &parsed_request); !parse.ok()) {
    call->Finish(parse);
    return reactor;
  }
  const cairn::v1::AppendBatchRequest* const request = &parsed_request;
  const int n = request->events_size();
  call->log().Set("events", n);
  if (n == 0) {
    call->Finish(InvalidArgument("AppendBatchRequest.events: got 0, want >= 1"));
    return reactor;
  }
  if (n > kMaxBatchEvents) {
    call->Finish(InvalidArgument("AppendBatchRequest.events: got " + std::to_string(n) +
                                 ", want <= " + std::to_string(kMaxBatchEvents)));
    return reactor;
  }
  // The answer echoes every entry with its proof and a checkpoint: a batch whose answer would not
  // fit in one message is refused before anything is written, so that an OK answer and a commit
  // always go together.
  const uint64_t answer_bytes = BatchAnswerBound(*request, log_id_, sequencer_.size());
  if (answer_bytes > max_message_bytes_) {
    call->Finish(InvalidArgument(
        "AppendBatchRequest.events: the answer to these " + std::to_string(n) +
        " events would take up to " + std::to_string(answer_bytes) +
        " bytes, more than the node's max_message_bytes " + std::to_string(max_message_bytes_) +
        "; nothing was written: send fewer events per batch"));
    return reactor;
  }
  std::vector<ledger::ParsedEvent> events;
  events.reserve(n);
  for (int i = 0; i < n; ++i) {
    auto parsed = validator_.Check(request->events(i));
    if (!parsed.ok()) {
      if (const std::string id = IdForLog(request->events(i)); !id.empty()) {
        call->log().Set("event_id", id);
      }
      call->Finish(parsed.status().WithPrefix("events[" + std::to_string(i) + "]"));
      return reactor;
    }
    events.push_back(std::move(parsed).value());
  }
  if (Expired(context)) {
    call->Finish(kExpired);
    return reactor;
  }
  SubmitWhenHeld(std::move(events), std::move(call), /*batch=*/true);
  return reactor;
}

void LedgerService::SubmitWhenHeld(std::vector<ledger::ParsedEvent> events,
                                   std::unique_ptr<AppendCall> call, bool batch) {
  std::vector<Reference> refs;
  if (wait_ != nullptr) {
    std::unordered_set<std::string> own_ids;
    for (const auto& event : events) own_ids.insert(event.id_hex);
    for (size_t i = 0; i < events.size(); ++i) {
      for (Reference& ref : ReferencesOf(events[i].body)) {
        if (own_ids.count(ref.event_id_hex) != 0) continue;
        if (batch) ref.field = "events[" + std::to_string(i) + "]: " + ref.field;
        refs.push_back(std::move(ref));
      }
    }
  }
  if (!refs.empty()) {
    auto missing = wait_->Missing(refs);
    if (!missing.ok()) return call->Finish(missing.status());
    refs = std::move(missing).value();
  }
  auto submit = [this, batch](std::vector<ledger::ParsedEvent> ready,
                              std::unique_ptr<AppendCall> c) {
    if (batch) {
      sequencer_.SubmitBatch(std::move(ready), std::move(c));
    } else {
      sequencer_.Submit(std::move(ready.front()), std::move(c));
    }
  };
  if (refs.empty()) return submit(std::move(events), std::move(call));
  // Parked until the events referred to arrive by replication, or the wait ends.
  call->log().Set("waited_for", refs.front().event_id_hex);
  struct Held {
    std::vector<ledger::ParsedEvent> events;
    std::unique_ptr<AppendCall> call;
  };
  auto held = std::make_shared<Held>(Held{std::move(events), std::move(call)});
  const auto deadline = held->call->deadline();
  wait_->Park(std::move(refs), deadline, [held, submit](Status status) {
    if (!status.ok()) return held->call->Finish(status);
    submit(std::move(held->events), std::move(held->call));
  });
}

grpc::Status LedgerService::GetEvent(grpc::ServerContext* context,
                                     const cairn::v1::GetEventRequest* request,
                                     cairn::v1::GetEventResponse* response) {
  RequestLog log("GetEvent", context);
  const Gate::Pass in_flight(gate_);
  if (!in_flight.admitted()) return log.Finish(Unavailable("cairnd is shutting down"));
  const std::string& hex = request->event_id();
  auto bytes = FromHex(hex);
  if (!bytes.ok() || bytes->size() != 32) {
    return log.Finish(InvalidArgument("GetEventRequest.event_id: got \"" + Shown(hex) +
                                      "\", want 64 hex characters"));
  }
  Hash id{};
  std::memcpy(id.data(), bytes->data(), id.size());
  const std::string id_hex = ToHex(id);
  log.Set("event_id", id_hex);
  auto found = NodeLogs(&storage_, replicas_).Locate(id_hex);
  if (!found.ok()) return log.Finish(found.status());
  if (!found->has_value()) {
    std::string searched = log_id_;
    for (const ReplicaStore* replica : replicas_) searched += ", " + replica->log_id();
    return log.Finish(
        NotFound("event " + id_hex + " is in none of the logs this node holds (" + searched + ")"));
  }
  response->set_event_id(id_hex);
  response->set_index((*found)->index);
  response->set_entry(std::move((*found)->entry));
  log.Set("index", response->index());
  if (!(*found)->log_id.empty()) log.Set("log_id", (*found)->log_id);
  return log.Finish(grpc::Status::OK);
}

grpc::Status LedgerService::FindEvents(grpc::ServerContext* context,
                                       const cairn::v1::FindEventsRequest* request,
                                       cairn::v1::FindEventsResponse* response) {
  constexpr uint32_t kDefaultLimit = 10;
  constexpr uint32_t kMaxLimit = 100;
  RequestLog log("FindEvents", context);
  const Gate::Pass in_flight(gate_);
  if (!in_flight.admitted()) return log.Finish(Unavailable("cairnd is shutting down"));
  const std::string& hex = request->id_prefix();
  if (hex.size() < 8 || hex.size() > 64 || !IsLowerHexDigits(hex)) {
    return log.Finish(InvalidArgument("FindEventsRequest.id_prefix: got \"" + Shown(hex) +
                                      "\", want 8 to 64 lowercase hex characters"));
  }
  if (request->limit() > kMaxLimit) {
    return log.Finish(InvalidArgument("FindEventsRequest.limit: got " +
                                      std::to_string(request->limit()) + ", want <= 100"));
  }
  const size_t limit = request->limit() == 0 ? kDefaultLimit : request->limit();
  log.Set("id_prefix", hex);
  // The ids the prefix allows: from the prefix padded with 0s to it padded with fs.
  auto low = FromHex(hex + std::string(64 - hex.size(), '0'));
  auto high = FromHex(hex + std::string(64 - hex.size(), 'f'));
  if (!low.ok() || !high.ok()) return log.Finish(InvalidArgument("FindEventsRequest.id_prefix"));
  // One more than the limit says whether there are more.
  auto own = storage_.FindIdRange(*low, *high, limit + 1);
  if (!own.ok()) return log.Finish(own.status());
  for (const StoredEntry& e : *own) {
    cairn::v1::FoundEvent* found = response->add_events();
    found->set_event_id(ToHex(e.event_id));
    found->set_log_id(log_id_);
    found->set_index(e.index);
  }
  for (const ReplicaStore* replica : replicas_) {
    if (static_cast<size_t>(response->events_size()) > limit) break;
    auto held = replica->FindIdRange(*low, *high, limit + 1);
    if (!held.ok()) return log.Finish(held.status());
    for (const ReplicaStore::Found& f : *held) {
      cairn::v1::LogEntry entry;
      if (!entry.ParseFromString(f.entry)) continue;
      cairn::v1::FoundEvent* found = response->add_events();
      found->set_event_id(ToHex(ledger::EventId(entry.event().body())));
      found->set_log_id(replica->log_id());
      found->set_index(f.index);
    }
  }
  if (static_cast<size_t>(response->events_size()) > limit) {
    response->mutable_events()->DeleteSubrange(static_cast<int>(limit),
                                               response->events_size() - static_cast<int>(limit));
    response->set_more(true);
  }
  log.Set("found", response->events_size());
  return log.Finish(grpc::Status::OK);
}

grpc::Status LedgerService::GetEntries(grpc::ServerContext* context,
                                       const cairn::v1::GetEntriesRequest* request,
                                       grpc::ServerWriter<cairn::v1::EntryRecord>* writer) {
  // Pages of at most this many bytes are read under the reader lock, then written without it.
  constexpr size_t kPageBytes = 1 << 20;
  RequestLog log("GetEntries", context);
  const Gate::Pass in_flight(gate_);
  if (!in_flight.admitted()) return log.Finish(Unavailable("cairnd is shutting down"));
  const auto slot = TakeStreamSlot(stream_slots_, context);
  if (slot && !slot->admitted()) return log.Finish(slot->refusal());
  log.Set("start", request->start());
  log.Set("limit", request->limit());
  auto size = storage_.Size();
  if (!size.ok()) return log.Finish(size.status());
  const uint64_t start = request->start();
  uint64_t end = *size;  // the log as it is now; entries appended meanwhile are not sent
  if (request->limit() > 0 && request->limit() < end - std::min(start, end)) {
    end = start + request->limit();
  }
  uint64_t sent = 0;
  for (uint64_t next = start; next < end;) {
    if (context != nullptr && context->IsCancelled()) {
      log.Set("sent", sent);
      return log.Finish(grpc::Status(grpc::StatusCode::CANCELLED, "client cancelled"));
    }
    auto page = storage_.ReadEntries(next, end, kPageBytes);
    if (!page.ok()) return log.Finish(page.status());
    if (page->empty()) break;
    for (StoredEntry& stored : *page) {
      cairn::v1::EntryRecord record;
      record.set_index(stored.index);
      record.set_entry(std::move(stored.entry));
      if (!WriteWatched(slot.get(), writer, record)) {
        log.Set("sent", sent);
        return log.Finish(WriteFailed(slot.get(), "stream closed by client"));
      }
      ++sent;
      next = stored.index + 1;
    }
  }
  log.Set("sent", sent);
  return log.Finish(grpc::Status::OK);
}

grpc::Status LedgerService::GetCheckpoint(grpc::ServerContext* context,
                                          const cairn::v1::GetCheckpointRequest* /*request*/,
                                          cairn::v1::SignedCheckpoint* response) {
  RequestLog log("GetCheckpoint", context);
  const Gate::Pass in_flight(gate_);
  if (!in_flight.admitted()) return log.Finish(Unavailable("cairnd is shutting down"));
  *response = sequencer_.LatestCheckpoint();
  log.Set("tree_size", sequencer_.size());
  return log.Finish(grpc::Status::OK);
}

grpc::Status LedgerService::GetLot(grpc::ServerContext* context,
                                   const cairn::v1::GetLotRequest* request,
                                   cairn::v1::LotState* response) {
  RequestLog log("GetLot", context);
  const Gate::Pass in_flight(gate_);
  if (!in_flight.admitted()) return log.Finish(Unavailable("cairnd is shutting down"));
  const std::string& lot_id = request->lot_id();
  if (lot_id.empty()) return log.Finish(InvalidArgument("GetLotRequest.lot_id: required"));
  if (!ledger::IsLotId(lot_id)) {
    return log.Finish(InvalidArgument("GetLotRequest.lot_id: got \"" + Shown(lot_id) +
                                      "\", want <participant>:<code>"));
  }
  log.Set("lot_id", lot_id);
  // A lot whose events stand in other logs too (created by the mine, received and consumed by
  // the refiner) is added up from its events in every log this node holds.
  std::vector<ledger::LotEvent> events;
  bool elsewhere = false;
  const auto collect = [&](const std::string& log_id, uint64_t index,
                           const std::string& bytes) -> Status {
    cairn::v1::LogEntry entry;
    ledger::LotEvent event;
    if (!entry.ParseFromString(bytes) || !event.body.ParseFromString(entry.event().body())) {
      return DataLoss("entry " + std::to_string(index) + " of log " + log_id + " does not parse");
    }
    event.id_hex = ToHex(ledger::EventId(entry.event().body()));
    event.appended_at_us = ToMicros(entry.appended_at());
    event.log_id = log_id;
    event.index = index;
    events.push_back(std::move(event));
    return Status::Ok();
  };
  for (const ReplicaStore* replica : replicas_) {
    auto indexes = replica->EntryIndexesOfLot(lot_id);
    if (!indexes.ok()) return log.Finish(indexes.status());
    for (uint64_t index : *indexes) {
      auto bytes = replica->ReadEntry(index);
      if (!bytes.ok()) return log.Finish(bytes.status());
      if (!bytes->has_value()) continue;
      if (Status s = collect(replica->log_id(), index, **bytes); !s.ok()) return log.Finish(s);
      elsewhere = true;
    }
  }
  if (elsewhere) {
    auto indexes = storage_.EntryIndexesOfLot(lot_id);
    if (!indexes.ok()) return log.Finish(indexes.status());
    for (uint64_t index : *indexes) {
      auto stored = storage_.ReadEntry(index);
      if (!stored.ok()) return log.Finish(stored.status());
      if (!stored->has_value()) continue;
      if (Status s = collect(log_id_, index, (*stored)->entry); !s.ok()) return log.Finish(s);
    }
    auto merged = ledger::LotStateOf(lot_id, std::move(events));
    if (!merged) {
      return log.Finish(
          NotFound("lot " + lot_id + ": no event creating it is in the logs this node holds"));
    }
    *response = std::move(*merged);
    return log.Finish(grpc::Status::OK);
  }
  auto state = storage_.GetLotState(lot_id);
  if (!state.ok()) return log.Finish(state.status());
  if (!state->has_value()) {
    return log.Finish(NotFound("lot " + lot_id + " is not known to log " + log_id_));
  }
  *response = std::move(**state);
  return log.Finish(grpc::Status::OK);
}

namespace {

// The size of a signed checkpoint (the node's own, so it parses).
uint64_t CheckpointSize(const cairn::v1::SignedCheckpoint& signed_checkpoint) {
  cairn::v1::Checkpoint checkpoint;
  checkpoint.ParseFromString(signed_checkpoint.checkpoint());
  return checkpoint.size();
}

void SetHashes(const std::vector<Hash>& hashes,
               google::protobuf::RepeatedPtrField<std::string>* out) {
  for (const Hash& h : hashes) out->Add(HashToString(h));
}

}  // namespace

grpc::Status LedgerService::GetInclusionProof(grpc::ServerContext* context,
                                              const cairn::v1::GetInclusionProofRequest* request,
                                              cairn::v1::GetInclusionProofResponse* response) {
  RequestLog log("GetInclusionProof", context);
  const Gate::Pass in_flight(gate_);
  if (!in_flight.admitted()) return log.Finish(Unavailable("cairnd is shutting down"));
  uint64_t tree_size = request->tree_size();
  if (tree_size == 0) {
    *response->mutable_checkpoint() = sequencer_.LatestCheckpoint();
    tree_size = CheckpointSize(response->checkpoint());
  }
  std::optional<StoredEntry> stored;
  if (request->leaf_case() == cairn::v1::GetInclusionProofRequest::kEventId) {
    const std::string& hex = request->event_id();
    auto bytes = FromHex(hex);
    if (!bytes.ok() || bytes->size() != 32) {
      return log.Finish(InvalidArgument("GetInclusionProofRequest.event_id: got \"" + Shown(hex) +
                                        "\", want 64 hex characters"));
    }
    Hash id{};
    std::memcpy(id.data(), bytes->data(), id.size());
    log.Set("event_id", ToHex(id));
    auto found = storage_.FindEntry(id);
    if (!found.ok()) return log.Finish(found.status());
    if (!found->has_value()) {
      return log.Finish(NotFound("event " + ToHex(id) + " is not in log " + log_id_));
    }
    stored = std::move(*found);
  } else if (request->leaf_case() == cairn::v1::GetInclusionProofRequest::kLeafIndex) {
    const uint64_t index = request->leaf_index();
    if (index >= tree_size) {
      return log.Finish(Status(StatusCode::kOutOfRange,
                               "GetInclusionProofRequest.leaf_index: got " + std::to_string(index) +
                                   ", want < tree size " + std::to_string(tree_size)));
    }
    auto page = storage_.ReadEntries(index, index + 1, 1);
    if (!page.ok()) return log.Finish(page.status());
    if (page->empty()) return log.Finish(NotFound("entry " + std::to_string(index) + " not found"));
    stored = std::move(page->front());
  } else {
    return log.Finish(
        InvalidArgument("GetInclusionProofRequest.leaf: event_id or leaf_index required"));
  }
  log.Set("index", stored->index);
  log.Set("tree_size", tree_size);
  if (stored->index >= tree_size) {
    return log.Finish(Status(StatusCode::kOutOfRange, "entry " + std::to_string(stored->index) +
                                                          " is not in the tree of size " +
                                                          std::to_string(tree_size)));
  }
  auto proof = sequencer_.InclusionProof(stored->index, tree_size);
  if (!proof.ok()) return log.Finish(proof.status());
  response->set_leaf_index(stored->index);
  response->set_entry(std::move(stored->entry));
  response->mutable_proof()->set_leaf_index(stored->index);
  response->mutable_proof()->set_tree_size(tree_size);
  SetHashes(*proof, response->mutable_proof()->mutable_hashes());
  return log.Finish(grpc::Status::OK);
}

grpc::Status LedgerService::GetConsistencyProof(
    grpc::ServerContext* context, const cairn::v1::GetConsistencyProofRequest* request,
    cairn::v1::GetConsistencyProofResponse* response) {
  RequestLog log("GetConsistencyProof", context);
  const Gate::Pass in_flight(gate_);
  if (!in_flight.admitted()) return log.Finish(Unavailable("cairnd is shutting down"));
  uint64_t new_size = request->new_size();
  if (new_size == 0) {
    *response->mutable_checkpoint() = sequencer_.LatestCheckpoint();
    new_size = CheckpointSize(response->checkpoint());
  }
  log.Set("old_size", request->old_size());
  log.Set("new_size", new_size);
  if (request->old_size() > new_size) {
    return log.Finish(InvalidArgument("GetConsistencyProofRequest.old_size: got " +
                                      std::to_string(request->old_size()) +
                                      ", want <= " + std::to_string(new_size)));
  }
  auto proof = sequencer_.ConsistencyProof(request->old_size(), new_size);
  if (!proof.ok()) return log.Finish(proof.status());
  response->mutable_proof()->set_old_size(request->old_size());
  response->mutable_proof()->set_new_size(new_size);
  SetHashes(*proof, response->mutable_proof()->mutable_hashes());
  return log.Finish(grpc::Status::OK);
}

}  // namespace cairn::node

namespace cairn::node {

grpc::Status LedgerService::Trace(grpc::ServerContext* context,
                                  const cairn::v1::TraceRequest* request,
                                  grpc::ServerWriter<cairn::v1::EvidenceBundle>* writer) {
  RequestLog log("Trace", context);
  const Gate::Pass in_flight(gate_);
  if (!in_flight.admitted()) return log.Finish(Unavailable("cairnd is shutting down"));
  const auto slot = TakeStreamSlot(stream_slots_, context);
  if (slot && !slot->admitted()) return log.Finish(slot->refusal());
  log.Set("lot_id", request->lot_id());
  TraceOptions options;
  options.lot_id = request->lot_id();
  options.direction = request->direction();
  options.registry_version = registry_version_;
  options.now_us = clock_.NowMicros();
  options.replicas = replicas_;
  size_t sent = 0;
  const Status status =
      CollectLineage(storage_, sequencer_, options, [&](const cairn::v1::EvidenceBundle& part) {
        if (context != nullptr && context->IsCancelled()) return false;
        sent += part.entries_size();
        return WriteWatched(slot.get(), writer, part);
      });
  log.Set("entries", sent);
  if (!status.ok() && slot && slot->stalled()) return log.Finish(WriteFailed(slot.get(), ""));
  return log.Finish(status);
}

}  // namespace cairn::node
