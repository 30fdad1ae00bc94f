// cairn-bench: a load generator for a node's append path (kept out of the auditor's `cairn`).
//
// Pre-signs M valid Extraction events (one new lot each) with the given mine key before timing,
// then sends them from N concurrent clients, one Append per event or AppendBatch of K, and prints
// throughput and latency percentiles. --baseline also measures libsodium's Ed25519 verification
// rate on one core in the same run, the ceiling a node that verifies every signature works under
// (before and after the timed run; the ratio uses their mean).
// With --node-pid (a node on this machine) it also prints the node's CPU time per event, read from
// /proc/PID/stat around the timed phase, next to the load generator's own (getrusage). --proofs N
// then times N GetInclusionProof round trips for random leaf indexes from one client, checking
// each proof against the checkpoint it came with.
//
// --lineage STEPS (lineage mode, instead of the above) pre-signs a chain world with the MINE key
// (--key) and a PROCESSOR key (--processor-key), both hosted by the node: per step an extraction
// of a new mine lot, its dispatch to the processor, the receipt, and a transformation blending it
// with 1 kg of the previous step's product, so the last product's backward lineage holds
// 2 x STEPS lots and 4 x STEPS events. It appends them in order (AppendBatch of 100), then times
// Ledger.Trace of the last product (3 runs; the client merges the streamed parts) and
// ledger::VerifyLineage of the bundle against --registry.
#include <absl/synchronization/mutex.h>
#include <fmt/format.h>
#include <sys/resource.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <fstream>
#include <iostream>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <random>
#include <sstream>
#include <thread>
#include <vector>

#include "cairn/v1/federation.grpc.pb.h"
#include "client/bundle_io.h"
#include "client/command.h"
#include "client/node_client.h"
#include "common/clock.h"
#include "common/crypto.h"
#include "keys/key_file.h"
#include "keys/registry.h"
#include "ledger/event.h"
#include "ledger/lineage_verifier.h"
#include "ledger/proofs.h"

namespace cairn::client {
namespace {

using Clock = std::chrono::steady_clock;

struct BenchOptions {
  NodeOptions node;
  std::string key_file;
  int clients = 8;
  int events = 10000;
  int batch = 1;
  // Timed runs of --events each (append mode), each with its own baseline measurements.
  int rounds = 1;
  // 0: no node-side figures.
  int node_pid = 0;
  // GetInclusionProof round trips to time after the appends; 0: none.
  int proofs = 0;
  bool baseline = false;
  bool json = false;
  // Lineage mode: steps of the chain world (0: off), the processor's key, the auditor's registry.
  int lineage = 0;
  std::string processor_key_file;
  std::string registry_file;
  // Replication modes: the follower's address (a node that follows --node's log).
  std::string lag_follower;  // --lag-follower: paced appends, lag to the follower's replica
  std::string catch_up;      // --catch-up: time until the follower holds the node's whole log
  int rate = 1000;           // --lag-follower: events per second
};

cairn::v1::EventBody BenchExtraction(const std::string& author, const std::string& lot_id,
                                     int64_t now_us) {
  cairn::v1::EventBody body;
  body.set_author(author);
  *body.mutable_occurred_at() = FromMicros(now_us);
  auto* x = body.mutable_extraction();
  x->set_lot_id(lot_id);
  auto* site = x->mutable_site();
  site->set_id("bench-site-01");
  site->set_name("Mt Weld concentration plant");
  site->set_country("AU");
  site->set_region("Western Australia");
  site->set_lat(-28.86);
  site->set_lon(122.55);
  x->set_material("REE concentrate");
  x->set_mass_g(25'000'000);
  (*x->mutable_composition_ppm())["TREO"] = 400000;
  (*x->mutable_composition_ppm())["Nd"] = 80000;
  (*x->mutable_composition_ppm())["Pr"] = 25000;
  return body;
}

// Ed25519 verifications per second on this thread, over ~1 s.
double VerifyRate() {
  const KeyPair kp = GenerateKeyPair();
  const std::string message(300, 'm');
  const std::string sig = Sign(kp.secret_key, kEventDomain, message);
  int n = 0;
  const auto start = Clock::now();
  while (Clock::now() - start < std::chrono::seconds(1)) {
    for (int i = 0; i < 100; ++i) n += Verify(kp.public_key, kEventDomain, message, sig) ? 1 : 0;
  }
  return n / std::chrono::duration<double>(Clock::now() - start).count();
}

// libsodium Ed25519 verifications per second on `threads` cores at once (their sum): the ceiling
// of a node that verifies every entry it replicates, on this machine, now.
double VerifyRateOn(int threads) {
  std::vector<double> rates(threads);
  std::vector<std::thread> pool;
  for (int t = 0; t < threads; ++t) pool.emplace_back([&rates, t] { rates[t] = VerifyRate(); });
  for (auto& thread : pool) thread.join();
  double sum = 0;
  for (double r : rates) sum += r;
  return sum;
}

double Percentile(std::vector<double>& sorted, double p) {
  if (sorted.empty()) return 0;
  const size_t i = std::min(sorted.size() - 1, static_cast<size_t>(p * sorted.size()));
  return sorted[i];
}

// User + system CPU time of process `pid` so far, from /proc/PID/stat (fields 14 and 15, in clock
// ticks). NOT_FOUND when the process does not exist or its stat does not parse.
Result<double> ProcessCpuSeconds(int pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  std::string stat;
  std::getline(in, stat);
  // The command name (field 2) is in parentheses and may hold spaces: fields restart after ')'.
  const size_t close = stat.rfind(')');
  if (!in || close == std::string::npos) {
    return NotFound("--node-pid: cannot read /proc/" + std::to_string(pid) + "/stat");
  }
  std::istringstream fields(stat.substr(close + 1));
  std::string field;
  unsigned long long utime = 0, stime = 0;
  try {
    for (int n = 3; n <= 15 && fields >> field; ++n) {
      if (n == 14) utime = std::stoull(field);
      if (n == 15) stime = std::stoull(field);
    }
  } catch (const std::exception&) {
    fields.setstate(std::ios::failbit);
  }
  if (!fields) return NotFound("--node-pid: /proc/" + std::to_string(pid) + "/stat does not parse");
  return static_cast<double>(utime + stime) / static_cast<double>(sysconf(_SC_CLK_TCK));
}

// Resident set size of process `pid` in KiB (VmRSS of /proc/PID/status), or -1.
int64_t ProcessRssKib(int pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("VmRSS:", 0) != 0) continue;
    try {
      return std::stoll(line.substr(6));
    } catch (const std::exception&) {
      return -1;
    }
  }
  return -1;
}

// User + system CPU time of this process (every thread) so far.
double SelfCpuSeconds() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  auto seconds = [](const timeval& t) { return t.tv_sec + t.tv_usec / 1e6; };
  return seconds(usage.ru_utime) + seconds(usage.ru_stime);
}

// CPU seconds of this process and, with --node-pid, of the node, at one instant.
struct CpuSample {
  double self_s = 0;
  double node_s = 0;
};

Result<CpuSample> SampleCpu(const BenchOptions& opt) {
  CpuSample sample;
  sample.self_s = SelfCpuSeconds();
  if (opt.node_pid > 0) {
    CAIRN_ASSIGN_OR_RETURN(sample.node_s, ProcessCpuSeconds(opt.node_pid));
  }
  return sample;
}

struct AppendFigures {
  int failures = 0;
  std::string first_error;
  double seconds = 0;
  double rate = 0;
  double p50 = 0, p99 = 0, p999 = 0;
  CpuSample cpu;  // used over the timed phase
};

// The calls of one timed run, built before the clock starts: a request of opt.batch events each.
struct CallPlan {
  std::vector<cairn::v1::AppendRequest> singles;       // batch == 1
  std::vector<cairn::v1::AppendBatchRequest> batches;  // batch > 1
  size_t calls() const { return singles.empty() ? batches.size() : singles.size(); }
};

CallPlan PlanCalls(const std::vector<cairn::v1::SignedEvent>& events, int batch) {
  CallPlan plan;
  if (batch <= 1) {
    plan.singles.resize(events.size());
    for (size_t i = 0; i < events.size(); ++i) *plan.singles[i].mutable_event() = events[i];
    return plan;
  }
  for (size_t begin = 0; begin < events.size(); begin += static_cast<size_t>(batch)) {
    auto& request = plan.batches.emplace_back();
    const size_t end = std::min(events.size(), begin + static_cast<size_t>(batch));
    for (size_t i = begin; i < end; ++i) *request.add_events() = events[i];
  }
  return plan;
}

// One simulated partner system: its own channel, one call in flight at a time. Each call is issued
// from the previous call's completion (gRPC's callback API), so the load generator needs no thread
// per client and spends little CPU of the machine it shares with the node.
class BenchClient {
 public:
  struct Shared {
    Shared(const BenchOptions& o, const CallPlan& p) : opt(o), plan(p) {}
    const BenchOptions& opt;
    const CallPlan& plan;
    std::atomic<size_t> next{0};
    std::atomic<int> failures{0};
    std::mutex mu;
    std::condition_variable all_done;
    int running = 0;          // GUARDED_BY(mu)
    std::string first_error;  // GUARDED_BY(mu)
  };

  BenchClient(Shared& shared, int number) : shared_(shared) {
    grpc::ChannelArguments args;
    args.SetInt("cairn.bench.client", number);  // distinct channel args: no subchannel sharing
    // No transparent retries: a load generator must not resend, and gRPC's retry filter copies
    // every outgoing message for a possible retry: 8k of the 77k instructions a call costs the
    // generator (callgrind, 16 clients), CPU taken from the node it shares the machine with.
    args.SetInt(GRPC_ARG_ENABLE_RETRIES, 0);
    stub_ = cairn::v1::Ledger::NewStub(
        grpc::CreateCustomChannel(shared.opt.node.node, CredentialsFor(shared.opt.node), args));
  }
  void Start() { Next(); }
  std::vector<double>& latencies_ms() { return latencies_ms_; }

 private:
  void Next() {
    const size_t call = shared_.next.fetch_add(1);
    if (call >= shared_.plan.calls()) {
      std::lock_guard<std::mutex> lock(shared_.mu);
      if (--shared_.running == 0) shared_.all_done.notify_all();
      return;
    }
    context_ = std::make_unique<grpc::ClientContext>();
    context_->set_deadline(std::chrono::system_clock::now() +
                           std::chrono::seconds(shared_.opt.node.timeout_s));
    started_ = Clock::now();
    if (shared_.plan.singles.empty()) {
      const auto& request = shared_.plan.batches[call];
      batch_response_.Clear();
      stub_->async()->AppendBatch(
          context_.get(), &request, &batch_response_,
          [this, n = request.events_size()](const grpc::Status& s) { Done(s, n); });
    } else {
      response_.Clear();
      stub_->async()->Append(context_.get(), &shared_.plan.singles[call], &response_,
                             [this](const grpc::Status& s) { Done(s, 1); });
    }
  }

  void Done(const grpc::Status& status, int events) {
    latencies_ms_.push_back(
        std::chrono::duration<double, std::milli>(Clock::now() - started_).count());
    if (!status.ok()) {
      shared_.failures += events;
      std::lock_guard<std::mutex> lock(shared_.mu);
      if (shared_.first_error.empty()) shared_.first_error = status.error_message();
    }
    Next();
  }

  Shared& shared_;
  std::unique_ptr<cairn::v1::Ledger::Stub> stub_;
  std::unique_ptr<grpc::ClientContext> context_;
  cairn::v1::AppendResponse response_;
  cairn::v1::AppendBatchResponse batch_response_;
  Clock::time_point started_;
  std::vector<double> latencies_ms_;
};

// Sends `events` from opt.clients concurrent channels, opt.batch per call; CPU is counted from
// just before the first call (the requests are built before).
Result<AppendFigures> SendEvents(const BenchOptions& opt,
                                 const std::vector<cairn::v1::SignedEvent>& events) {
  const CallPlan plan = PlanCalls(events, opt.batch);
  BenchClient::Shared shared(opt, plan);
  std::vector<std::unique_ptr<BenchClient>> clients;
  for (int c = 0; c < opt.clients; ++c) clients.push_back(std::make_unique<BenchClient>(shared, c));
  shared.running = opt.clients;
  AppendFigures f;
  CAIRN_ASSIGN_OR_RETURN(const CpuSample before, SampleCpu(opt));
  const auto start = Clock::now();
  for (auto& client : clients) client->Start();
  {
    std::unique_lock<std::mutex> lock(shared.mu);
    shared.all_done.wait(lock, [&] { return shared.running == 0; });
    f.first_error = shared.first_error;
  }
  f.seconds = std::chrono::duration<double>(Clock::now() - start).count();
  auto after = SampleCpu(opt);
  if (after.ok()) {
    f.cpu = {after->self_s - before.self_s, after->node_s - before.node_s};
  } else {
    f.cpu = {SelfCpuSeconds() - before.self_s, -1};  // the node went away during the run
  }
  std::vector<double> all;
  for (auto& client : clients) {
    all.insert(all.end(), client->latencies_ms().begin(), client->latencies_ms().end());
  }
  std::sort(all.begin(), all.end());
  f.failures = shared.failures.load();
  f.rate = (static_cast<double>(events.size()) - f.failures) / f.seconds;
  f.p50 = Percentile(all, 0.50);
  f.p99 = Percentile(all, 0.99);
  f.p999 = Percentile(all, 0.999);
  return f;
}

struct ProofFigures {
  int proofs = 0;
  int failures = 0;
  std::string first_error;
  uint64_t tree_size = 0;
  double seconds = 0;
  double p50 = 0, p99 = 0, p999 = 0;
  CpuSample cpu;  // used over the timed phase
};

// `n` GetInclusionProof calls, one at a time from one channel, for uniformly random leaf indexes
// below the node's tree size at the start; each proof is checked against the root of the
// checkpoint it came with (outside the timed round trip). Fails when the log is empty.
Result<ProofFigures> TimeProofs(const BenchOptions& opt, int n) {
  auto channel = grpc::CreateChannel(opt.node.node, CredentialsFor(opt.node));
  auto stub = cairn::v1::Ledger::NewStub(channel);
  ProofFigures f;
  {
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() +
                         std::chrono::seconds(opt.node.timeout_s));
    cairn::v1::SignedCheckpoint signed_checkpoint;
    const grpc::Status s =
        stub->GetCheckpoint(&context, cairn::v1::GetCheckpointRequest(), &signed_checkpoint);
    if (!s.ok()) return Unavailable("GetCheckpoint: " + s.error_message());
    cairn::v1::Checkpoint checkpoint;
    if (!checkpoint.ParseFromString(signed_checkpoint.checkpoint())) {
      return DataLoss("node sent a checkpoint that does not parse");
    }
    f.tree_size = checkpoint.size();
  }
  if (f.tree_size == 0) return FailedPrecondition("--proofs: the node's log is empty");
  std::mt19937_64 rng(std::random_device{}());
  std::vector<double> latencies;
  latencies.reserve(n);
  CAIRN_ASSIGN_OR_RETURN(const CpuSample before, SampleCpu(opt));
  const auto start = Clock::now();
  for (int i = 0; i < n; ++i) {
    cairn::v1::GetInclusionProofRequest request;
    request.set_leaf_index(rng() % f.tree_size);
    cairn::v1::GetInclusionProofResponse response;
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() +
                         std::chrono::seconds(opt.node.timeout_s));
    const auto t0 = Clock::now();
    const grpc::Status s = stub->GetInclusionProof(&context, request, &response);
    latencies.push_back(std::chrono::duration<double, std::milli>(Clock::now() - t0).count());
    Status checked = s.ok() ? Status::Ok() : Unavailable(s.error_message());
    if (checked.ok()) {
      cairn::v1::Checkpoint checkpoint;
      auto path = ledger::HashesFromProto(response.proof().hashes(), "InclusionProof.hashes");
      if (!checkpoint.ParseFromString(response.checkpoint().checkpoint()) || !path.ok()) {
        checked =
            DataLoss("leaf " + std::to_string(request.leaf_index()) + ": response does not parse");
      } else {
        auto root = ledger::HashFromBytes(checkpoint.root_hash(), "Checkpoint.root_hash");
        if (!root.ok() || response.leaf_index() != request.leaf_index() ||
            !ledger::VerifyInclusion(ledger::LeafHash(response.entry()), response.leaf_index(),
                                     checkpoint.size(), *path, *root)) {
          checked = DataLoss("leaf " + std::to_string(request.leaf_index()) +
                             ": inclusion proof does not lead to the checkpoint's root");
        }
      }
    }
    if (!checked.ok()) {
      ++f.failures;
      if (f.first_error.empty()) f.first_error = checked.message();
    }
  }
  f.seconds = std::chrono::duration<double>(Clock::now() - start).count();
  CAIRN_ASSIGN_OR_RETURN(const CpuSample after, SampleCpu(opt));
  f.cpu = {after.self_s - before.self_s, after.node_s - before.node_s};
  std::sort(latencies.begin(), latencies.end());
  f.proofs = n;
  f.p50 = Percentile(latencies, 0.50);
  f.p99 = Percentile(latencies, 0.99);
  f.p999 = Percentile(latencies, 0.999);
  return f;
}

// ---- Lineage mode ----

// The chain world of --lineage: 4 signed events per step, in append order.
struct LineageWorld {
  std::vector<cairn::v1::SignedEvent> events;
  std::string last_product;
};

LineageWorld BuildLineageWorld(const keys::SigningKey& mine, const keys::SigningKey& processor,
                               const std::string& run, int steps, int64_t now_us) {
  constexpr uint64_t kMineLotG = 20'000'000;  // 20 t of concentrate per step
  constexpr uint64_t kPreviousG = 1000;       // 1 kg of the previous product, blended in
  constexpr uint64_t kProductG = 2'000'000;   // 2 t of carbonate out
  LineageWorld world;
  world.events.reserve(static_cast<size_t>(steps) * 4);
  auto sign = [&](cairn::v1::EventBody& body, const keys::SigningKey& key) {
    *body.mutable_occurred_at() = FromMicros(now_us);
    const std::string bytes = body.SerializeAsString();
    world.events.push_back(ledger::SignEvent(bytes, key.key_id, key.secret_key));
    return ToHex(ledger::EventId(bytes));
  };
  std::string previous;
  for (int i = 0; i < steps; ++i) {
    const std::string lot = fmt::format("{}:LIN-{}-{}", mine.participant, run, i);
    cairn::v1::EventBody x;
    x.set_author(mine.participant);
    auto* e = x.mutable_extraction();
    e->set_lot_id(lot);
    auto* site = e->mutable_site();
    site->set_id("pk-chagai-01");
    site->set_name("Chagai hills");
    site->set_country("PK");
    site->set_region("Balochistan");
    site->set_lat(29.3);
    site->set_lon(64.7);
    e->set_material("REE concentrate");
    e->set_mass_g(kMineLotG);
    // Per 20 t: 1,200 kg Nd and 360 kg Pr.
    (*e->mutable_composition_ppm())["Nd"] = 60000;
    (*e->mutable_composition_ppm())["Pr"] = 18000;
    sign(x, mine);

    cairn::v1::EventBody d;
    d.set_author(mine.participant);
    auto* dispatch = d.mutable_dispatch();
    dispatch->set_shipment_id(fmt::format("LIN-{}-{}", run, i));
    dispatch->set_recipient(processor.participant);
    auto* shipped = dispatch->add_lots();
    shipped->set_lot_id(lot);
    shipped->set_mass_g(kMineLotG);
    dispatch->mutable_transport()->set_mode("sea");
    dispatch->set_hs_code("2846.90");
    const std::string dispatch_id = sign(d, mine);

    cairn::v1::EventBody r;
    r.set_author(processor.participant);
    r.mutable_receipt()->set_dispatch_event_id(dispatch_id);
    *r.mutable_receipt()->add_lots() = *shipped;
    sign(r, processor);

    cairn::v1::EventBody t;
    t.set_author(processor.participant);
    auto* tr = t.mutable_transformation();
    auto* facility = tr->mutable_facility();
    facility->set_id("us-usm-missouri-01");
    facility->set_name("USSM Missouri");
    facility->set_country("US");
    facility->set_region("Missouri");
    tr->set_stage(cairn::v1::STAGE_REFINED);
    tr->set_process("cracking and leaching, blended with the previous batch");
    auto* in = tr->add_inputs();
    in->set_lot_id(lot);
    in->set_mass_g(kMineLotG);
    if (!previous.empty()) {
      auto* prev = tr->add_inputs();
      prev->set_lot_id(previous);
      prev->set_mass_g(kPreviousG);
    }
    const std::string product = fmt::format("{}:LINP-{}-{}", processor.participant, run, i);
    auto* out = tr->add_outputs();
    out->set_lot_id(product);
    out->set_material("mixed RE carbonate");
    out->set_mass_g(kProductG);
    // 200 kg Nd and 60 kg Pr out of the 1,200 kg and 360 kg the mine lot alone brings in.
    (*out->mutable_composition_ppm())["Nd"] = 100000;
    (*out->mutable_composition_ppm())["Pr"] = 30000;
    sign(t, processor);
    previous = product;
  }
  world.last_product = previous;
  return world;
}

// Appends `events` in order from one client, AppendBatch of `batch`; progress on stderr.
Status AppendInOrder(const BenchOptions& opt, const std::vector<cairn::v1::SignedEvent>& events,
                     size_t batch) {
  NodeClient client(opt.node);
  const size_t report_every = std::max<size_t>(batch, events.size() / 10);
  size_t reported = 0;
  for (size_t begin = 0; begin < events.size(); begin += batch) {
    const size_t end = std::min(events.size(), begin + batch);
    cairn::v1::AppendBatchRequest request;
    for (size_t i = begin; i < end; ++i) *request.add_events() = events[i];
    cairn::v1::AppendBatchResponse response;
    grpc::ClientContext context;
    client.Prepare(context);
    const grpc::Status s = client.stub().AppendBatch(&context, request, &response);
    if (!s.ok()) {
      return Status(client.FromGrpc(s).code(), fmt::format("AppendBatch of events [{}, {}): {}",
                                                           begin, end, s.error_message()));
    }
    if (end - reported >= report_every || end == events.size()) {
      std::cerr << fmt::format("lineage: appended {}/{} events\n", end, events.size());
      reported = end;
    }
  }
  return Status();
}

int RunLineage(const BenchOptions& opt, double baseline) {
  if (opt.key_file.empty() || opt.processor_key_file.empty() || opt.registry_file.empty()) {
    std::cerr << "cairn-bench: --lineage needs --key (MINE), --processor-key (PROCESSOR) and "
                 "--registry\n";
    return kExitUsage;
  }
  auto mine = keys::ReadSigningKey(opt.key_file, std::nullopt);
  if (!mine.ok()) {
    std::cerr << "cairn-bench: " << mine.status().message() << "\n";
    return kExitUsage;
  }
  auto processor = keys::ReadSigningKey(opt.processor_key_file, std::nullopt);
  if (!processor.ok()) {
    std::cerr << "cairn-bench: " << processor.status().message() << "\n";
    return kExitUsage;
  }
  if (mine->participant == processor->participant) {
    std::cerr << "cairn-bench: --key and --processor-key must belong to different participants\n";
    return kExitUsage;
  }
  auto registry = keys::TrustRegistry::Load(opt.registry_file);
  if (!registry.ok()) {
    std::cerr << "cairn-bench: " << registry.status().message() << "\n";
    return kExitUsage;
  }

  // Pre-sign the world; lot ids are unique to this run, so the log may already hold others.
  std::mt19937_64 rng(std::random_device{}());
  const std::string run = fmt::format("{:012x}", rng() & 0xffffffffffffULL);
  const auto sign_start = Clock::now();
  const LineageWorld world =
      BuildLineageWorld(*mine, *processor, run, opt.lineage, SystemClock().NowMicros());
  const double sign_s = std::chrono::duration<double>(Clock::now() - sign_start).count();
  const size_t lots = static_cast<size_t>(opt.lineage) * 2;
  std::cerr << fmt::format("lineage: signed {} events ({} steps, {} lots) in {:.2f} s\n",
                           world.events.size(), opt.lineage, lots, sign_s);
  const auto append_start = Clock::now();
  if (Status s = AppendInOrder(opt, world.events, 100); !s.ok()) {
    return ReportError("bench", s);
  }
  const double append_s = std::chrono::duration<double>(Clock::now() - append_start).count();
  std::cerr << fmt::format("lineage: last product {}\n", world.last_product);

  // (a) Ledger.Trace of the last product, merged as `cairn export` merges it.
  constexpr int kTraceRuns = 3;
  NodeClient client(opt.node);
  std::vector<double> trace_ms;
  cairn::v1::EvidenceBundle bundle;
  for (int i = 0; i < kTraceRuns; ++i) {
    const auto t0 = Clock::now();
    auto fetched = FetchBundle(client, world.last_product, cairn::v1::TRACE_DIRECTION_BACKWARD);
    trace_ms.push_back(std::chrono::duration<double, std::milli>(Clock::now() - t0).count());
    if (!fetched.ok()) return ReportError("bench", fetched.status());
    bundle = std::move(fetched).value();
  }
  std::vector<double> sorted = trace_ms;
  std::sort(sorted.begin(), sorted.end());
  const double trace_p50 = Percentile(sorted, 0.5);
  const double trace_max = sorted.back();
  const size_t bundle_bytes = bundle.ByteSizeLong();
  const size_t bundle_entries = static_cast<size_t>(bundle.entries_size());

  // (b) The auditor's offline check of that bundle.
  ledger::LineageOptions options;
  options.as_of_us = SystemClock().NowMicros();
  const auto verify_start = Clock::now();
  const ledger::LineageReport report = ledger::VerifyLineage(bundle, *registry, options);
  const double verify_s = std::chrono::duration<double>(Clock::now() - verify_start).count();
  const int verify_exit = report.ExitCode();
  const double verify_rate = static_cast<double>(report.entries_checked) / verify_s;

  if (opt.json) {
    nlohmann::json j = {{"steps", opt.lineage},
                        {"lots", lots},
                        {"events", world.events.size()},
                        {"append_s", append_s},
                        {"append_events_per_s", world.events.size() / append_s},
                        {"trace_runs_ms", trace_ms},
                        {"trace_p50_ms", trace_p50},
                        {"trace_max_ms", trace_max},
                        {"bundle_entries", bundle_entries},
                        {"bundle_bytes", bundle_bytes},
                        {"bundle_lots", report.lineage_lots.size()},
                        {"verify_entries", report.entries_checked},
                        {"verify_s", verify_s},
                        {"verify_events_per_s", verify_rate},
                        {"verify_exit_code", verify_exit},
                        {"verify_findings", report.findings.size()}};
    if (opt.baseline) j["baseline_verify_per_s"] = baseline;
    std::cout << nlohmann::json({{"lineage", j}}).dump(2) << "\n";
  } else {
    std::cout << fmt::format(
        "append {} events in order (AppendBatch of 100, 1 client): {:.2f} s "
        "= {:.0f} events/s\n",
        world.events.size(), append_s, world.events.size() / append_s);
    std::cout << fmt::format(
        "trace {}-lot lineage ({} events): {:.0f} ms p50 (max {:.0f}) over {} runs, {:.1f} MB\n",
        report.lineage_lots.size(), bundle_entries, trace_p50, trace_max, kTraceRuns,
        bundle_bytes / 1e6);
    std::cout << fmt::format("verify bundle: {} events in {:.2f} s = {:.0f} events/s (exit {})\n",
                             report.entries_checked, verify_s, verify_rate, verify_exit);
  }
  if (verify_exit != kExitOk) {
    for (const auto& f : report.findings) {
      std::cerr << "  " << ledger::SeverityName(f.severity) << " [" << f.check << "] " << f.message
                << "\n";
    }
  }
  if (report.lineage_lots.size() != lots) {
    std::cerr << fmt::format("cairn-bench: the bundle's lineage holds {} lots, want {}\n",
                             report.lineage_lots.size(), lots);
    return kExitIntegrity;
  }
  return verify_exit;
}

// The figures of one timed append run; `json` is filled only with --json.
struct RoundFigures {
  double rate = 0;
  double ratio = 0;  // to the mean baseline; 0 without --baseline
  int failures = 0;
  nlohmann::json json;
};

// One timed run of opt.events single Appends (or AppendBatches): pre-signs fresh extractions
// before the clock starts (lot ids unique to the round), sends them, prints the figures (or
// returns them as JSON). `baseline` is the verify rate measured just before; with --baseline it
// is measured again after the run, the ratio is taken against the mean, and `baseline` becomes
// the after-rate (the next round's before-rate).
Result<RoundFigures> RunAppendRound(const BenchOptions& opt, const keys::SigningKey& key,
                                    double& baseline) {
  std::mt19937_64 rng(std::random_device{}());
  const std::string run = fmt::format("{:012x}", rng() & 0xffffffffffffULL);
  const int64_t now = SystemClock().NowMicros();
  std::vector<cairn::v1::SignedEvent> events;
  events.reserve(opt.events);
  for (int i = 0; i < opt.events; ++i) {
    const auto body =
        BenchExtraction(key.participant, fmt::format("{}:B{}-{}", key.participant, run, i), now);
    events.push_back(ledger::SignEvent(body.SerializeAsString(), key.key_id, key.secret_key));
  }
  CAIRN_ASSIGN_OR_RETURN(const AppendFigures f, SendEvents(opt, events));
  // This VM's verify rate drifts by a quarter within a minute: the ratio is taken against the
  // mean of the rates measured just before and just after the timed run.
  const double baseline_before = baseline;
  const double baseline_after = opt.baseline ? VerifyRate() : 0;
  const double mean_baseline = opt.baseline ? (baseline_before + baseline_after) / 2 : 0;
  if (opt.baseline) baseline = baseline_after;
  const int batch = std::max(1, opt.batch);
  const double appended = opt.events - f.failures;
  const double client_us = appended > 0 ? f.cpu.self_s * 1e6 / appended : 0;
  const double node_us = appended > 0 && f.cpu.node_s >= 0 ? f.cpu.node_s * 1e6 / appended : 0;
  const int64_t rss_kib = opt.node_pid > 0 ? ProcessRssKib(opt.node_pid) : -1;
  RoundFigures out;
  out.rate = f.rate;
  out.ratio = opt.baseline ? f.rate / mean_baseline : 0;
  out.failures = f.failures;
  if (opt.json) {
    nlohmann::json& j = out.json;
    j = {{"events", opt.events}, {"clients", opt.clients},
         {"batch", batch},       {"failures", f.failures},
         {"seconds", f.seconds}, {"events_per_s", f.rate},
         {"p50_ms", f.p50},      {"p99_ms", f.p99},
         {"p999_ms", f.p999},    {"client_cpu_us_per_event", client_us}};
    if (opt.baseline) {
      j["baseline_verify_per_s"] = mean_baseline;
      j["baseline_before_per_s"] = baseline_before;
      j["baseline_after_per_s"] = baseline_after;
      j["ratio_to_baseline"] = out.ratio;
    }
    if (opt.node_pid > 0 && f.cpu.node_s >= 0) {
      j["node_cpu_us_per_event"] = node_us;
      if (opt.baseline) j["node_cpu_per_event_in_verifies"] = node_us * mean_baseline / 1e6;
    }
    if (rss_kib >= 0) j["node_rss_kib"] = rss_kib;
  } else {
    std::cout << fmt::format(
        "{} events, {} clients, batch {}: {:.0f} events/s over {:.2f} s; latency per call p50 "
        "{:.2f} ms, p99 {:.2f} ms, p999 {:.2f} ms; {} failed\n",
        opt.events, opt.clients, batch, f.rate, f.seconds, f.p50, f.p99, f.p999, f.failures);
    if (opt.baseline) {
      std::cout << fmt::format(
          "ratio to one-core verify baseline: {:.2f} (verify {:.0f}/s before the run, {:.0f}/s "
          "after, mean {:.0f}/s)\n",
          out.ratio, baseline_before, baseline_after, mean_baseline);
    }
    if (opt.node_pid > 0 && f.cpu.node_s >= 0) {
      std::cout << fmt::format("node CPU per event: {:.1f} µs", node_us);
      if (opt.baseline)
        std::cout << fmt::format(" ({:.2f}× one Ed25519 verify)", node_us * mean_baseline / 1e6);
      if (rss_kib >= 0) std::cout << fmt::format("; node RSS {:.1f} MiB", rss_kib / 1024.0);
      std::cout << "\n";
    }
    std::cout << fmt::format("load generator CPU per event: {:.1f} µs\n", client_us);
  }
  if (f.failures > 0) {
    std::cerr << "cairn-bench: " << f.failures << " events refused; first error: " << f.first_error
              << "\n";
  }
  return out;
}

// The follower's replica of `log_id`: its size (0 when it holds none).
Result<uint64_t> ReplicaSize(cairn::v1::Federation::Stub& follower, const std::string& log_id) {
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(5));
  cairn::v1::NodeStatus status;
  const grpc::Status s = follower.GetStatus(&context, cairn::v1::GetStatusRequest(), &status);
  if (!s.ok()) return Unavailable("follower: " + s.error_message());
  for (const auto& replica : status.replicas()) {
    if (replica.log_id() == log_id) return replica.size();
  }
  return NotFound("the follower does not follow log " + log_id);
}

// The node's log id and size by its checkpoint.
Result<std::pair<std::string, uint64_t>> LogOf(NodeClient& client) {
  grpc::ClientContext context;
  client.Prepare(context);
  cairn::v1::SignedCheckpoint signed_checkpoint;
  const grpc::Status s = client.stub().GetCheckpoint(&context, {}, &signed_checkpoint);
  if (!s.ok()) return client.FromGrpc(s);
  cairn::v1::Checkpoint checkpoint;
  if (!checkpoint.ParseFromString(signed_checkpoint.checkpoint())) {
    return DataLoss("the node's checkpoint does not parse");
  }
  return std::make_pair(checkpoint.log_id(), checkpoint.size());
}

// --catch-up: how long the follower takes to hold every entry of the node's log (started just
// before this runs), against the two-core verify rate measured right after.
int RunCatchUp(const BenchOptions& opt) {
  const auto start = Clock::now();
  NodeClient client(opt.node);
  auto log = LogOf(client);
  if (!log.ok()) {
    std::cerr << "cairn-bench: " << log.status().ToString() << "\n";
    return kExitUsage;
  }
  auto follower =
      cairn::v1::Federation::NewStub(grpc::CreateChannel(opt.catch_up, CredentialsFor(opt.node)));
  uint64_t held = 0;
  auto last_report = Clock::now();
  while (held < log->second) {
    auto size = ReplicaSize(*follower, log->first);
    if (size.ok()) held = *size;
    if (Clock::now() - start > std::chrono::minutes(10)) {
      std::cerr << "cairn-bench: the follower holds " << held << " of " << log->second
                << " entries after 10 minutes\n";
      return kExitIntegrity;
    }
    if (Clock::now() - last_report > std::chrono::seconds(1)) {
      std::cerr << "catch-up: " << held << "/" << log->second << " entries\n";
      last_report = Clock::now();
    }
    if (held < log->second) std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  const double seconds = std::chrono::duration<double>(Clock::now() - start).count();
  const double rate = log->second / seconds;
  const double one = VerifyRate();
  const double two = VerifyRateOn(2);
  if (opt.json) {
    std::cout << nlohmann::json({{"log_id", log->first},
                                 {"entries", log->second},
                                 {"seconds", seconds},
                                 {"entries_per_s", rate},
                                 {"verify_one_core_per_s", one},
                                 {"verify_two_cores_per_s", two},
                                 {"ratio_to_two_core_verify", rate / two}})
                     .dump(2)
              << "\n";
  } else {
    std::cout << fmt::format(
        "catch-up of {} entries of {}: {:.2f} s, {:.0f} entries/s; libsodium verify {:.0f}/s on "
        "one core, {:.0f}/s on two; ratio to the two-core verify limit {:.2f}\n",
        log->second, log->first, seconds, rate, one, two, rate / two);
  }
  return kExitOk;
}

// --lag-follower: appends --events at --rate events/s (single Append calls from --clients
// threads on a fixed schedule) and measures, per event, the time from the node's answer to the
// entry's arrival in the follower's replica (a Follow stream on the follower, which pushes each
// group as the replica stores it).
int RunLag(const BenchOptions& opt) {
  auto key = keys::ReadSigningKey(opt.key_file, std::nullopt);
  if (!key.ok()) {
    std::cerr << "cairn-bench: " << key.status().message() << "\n";
    return kExitUsage;
  }
  NodeClient client(opt.node);
  auto log = LogOf(client);
  if (!log.ok()) {
    std::cerr << "cairn-bench: " << log.status().ToString() << "\n";
    return kExitUsage;
  }
  auto channel = grpc::CreateChannel(opt.lag_follower, CredentialsFor(opt.node));
  auto follower = cairn::v1::Federation::NewStub(channel);
  // The follower first holds the whole log as it is.
  for (int i = 0;; ++i) {
    auto size = ReplicaSize(*follower, log->first);
    if (size.ok() && *size >= log->second) break;
    if (i > 6000) {
      std::cerr << "cairn-bench: the follower does not catch up with " << log->first << "\n";
      return kExitUsage;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  const uint64_t first = log->second;
  const int n = opt.events;
  std::vector<Clock::time_point> arrived(n);
  std::vector<char> seen(n, 0);
  std::atomic<int> arrivals{0};
  grpc::ClientContext follow_context;
  cairn::v1::FollowRequest request;
  request.set_log_id(log->first);
  request.set_from_index(first);
  auto reader = follower->Follow(&follow_context, request);
  std::thread watcher([&] {
    cairn::v1::FollowResponse message;
    while (reader->Read(&message)) {
      if (!message.has_entry()) continue;
      const uint64_t index = message.entry().index();
      if (index < first || index >= first + n) continue;
      arrived[index - first] = Clock::now();
      seen[index - first] = 1;
      if (arrivals.fetch_add(1) + 1 == n) break;
    }
  });

  std::mt19937_64 rng(std::random_device{}());
  const std::string run = fmt::format("{:012x}", rng() & 0xffffffffffffULL);
  const int64_t now = SystemClock().NowMicros();
  std::vector<cairn::v1::SignedEvent> events;
  events.reserve(n);
  for (int i = 0; i < n; ++i) {
    const auto body =
        BenchExtraction(key->participant, fmt::format("{}:L{}-{}", key->participant, run, i), now);
    events.push_back(ledger::SignEvent(body.SerializeAsString(), key->key_id, key->secret_key));
  }
  std::vector<Clock::time_point> acked(n);
  std::vector<int64_t> index_of(n, -1);
  std::atomic<int> failures{0};
  const auto t0 = Clock::now() + std::chrono::milliseconds(50);
  const auto period = std::chrono::duration<double>(1.0 / opt.rate);
  std::vector<std::thread> senders;
  for (int c = 0; c < opt.clients; ++c) {
    senders.emplace_back([&, c] {
      NodeClient sender(opt.node);
      for (int i = c; i < n; i += opt.clients) {
        std::this_thread::sleep_until(t0 + std::chrono::duration_cast<Clock::duration>(period * i));
        cairn::v1::AppendRequest append;
        *append.mutable_event() = events[i];
        cairn::v1::AppendResponse response;
        grpc::ClientContext context;
        sender.Prepare(context);
        const grpc::Status s = sender.stub().Append(&context, append, &response);
        acked[i] = Clock::now();
        if (s.ok()) {
          index_of[i] = static_cast<int64_t>(response.index());
        } else {
          failures.fetch_add(1);
        }
      }
    });
  }
  for (auto& t : senders) t.join();
  const double send_seconds = std::chrono::duration<double>(Clock::now() - t0).count();
  const auto deadline = Clock::now() + std::chrono::seconds(30);
  while (arrivals.load() < n - failures.load() && Clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  follow_context.TryCancel();
  watcher.join();
  (void)reader->Finish();
  std::vector<double> lags;
  int missing = 0;
  for (int i = 0; i < n; ++i) {
    if (index_of[i] < 0) continue;
    const uint64_t slot = static_cast<uint64_t>(index_of[i]) - first;
    if (slot >= static_cast<uint64_t>(n) || !seen[slot]) {
      ++missing;
      continue;
    }
    lags.push_back(std::chrono::duration<double, std::milli>(arrived[slot] - acked[i]).count());
  }
  std::sort(lags.begin(), lags.end());
  const double p50 = Percentile(lags, 0.50), p99 = Percentile(lags, 0.99);
  const double max = lags.empty() ? 0 : lags.back();
  if (opt.json) {
    std::cout << nlohmann::json({{"events", n},
                                 {"rate_asked", opt.rate},
                                 {"rate_sent", n / send_seconds},
                                 {"failures", failures.load()},
                                 {"not_replicated_in_30s", missing},
                                 {"lag_p50_ms", p50},
                                 {"lag_p99_ms", p99},
                                 {"lag_max_ms", max}})
                     .dump(2)
              << "\n";
  } else {
    std::cout << fmt::format(
        "{} events at {:.0f}/s (asked {}/s), {} refused, {} not replicated within 30 s; "
        "replication lag from the leader's answer to the follower's replica: p50 {:.2f} ms, p99 "
        "{:.2f} ms, max {:.2f} ms\n",
        n, n / send_seconds, opt.rate, failures.load(), missing, p50, p99, max);
  }
  return failures.load() == 0 && missing == 0 ? kExitOk : kExitIntegrity;
}

int Run(const BenchOptions& opt) {
  if (!opt.catch_up.empty()) return RunCatchUp(opt);
  if (!opt.lag_follower.empty()) {
    if (opt.key_file.empty() || opt.events == 0) {
      std::cerr << "cairn-bench: --lag-follower needs --key and --events\n";
      return kExitUsage;
    }
    return RunLag(opt);
  }
  if (opt.lineage == 0 && opt.events == 0 && opt.proofs == 0) {
    std::cerr << "cairn-bench: --events 0 needs --proofs N\n";
    return kExitUsage;
  }
  if (opt.lineage == 0 && opt.events > 0 && opt.key_file.empty()) {
    std::cerr << "cairn-bench: --key is required to send events\n";
    return kExitUsage;
  }
  if (opt.node_pid > 0) {
    auto probe = ProcessCpuSeconds(opt.node_pid);
    if (!probe.ok()) {
      std::cerr << "cairn-bench: " << probe.status().message() << "\n";
      return kExitUsage;
    }
  }
  double baseline = 0;
  if (opt.baseline) {
    baseline = VerifyRate();
    if (!opt.json)
      std::cout << fmt::format("baseline: libsodium Ed25519 verify {:.0f}/s on one core\n",
                               baseline);
  }
  if (opt.lineage > 0) return RunLineage(opt, baseline);
  nlohmann::json j;
  int exit_code = kExitOk;
  if (opt.events > 0) {
    auto key = keys::ReadSigningKey(opt.key_file, std::nullopt);
    if (!key.ok()) {
      std::cerr << "cairn-bench: " << key.status().message() << "\n";
      return kExitUsage;
    }
    std::vector<double> rates, ratios;
    nlohmann::json rounds = nlohmann::json::array();
    for (int r = 0; r < opt.rounds; ++r) {
      if (opt.rounds > 1 && !opt.json) std::cout << fmt::format("round {}:\n", r + 1);
      auto round = RunAppendRound(opt, *key, baseline);
      if (!round.ok()) {
        std::cerr << "cairn-bench: " << round.status().message() << "\n";
        return kExitUsage;
      }
      if (round->failures > 0) exit_code = kExitIntegrity;
      rates.push_back(round->rate);
      if (opt.baseline) ratios.push_back(round->ratio);
      rounds.push_back(std::move(round->json));
    }
    if (opt.rounds == 1) {
      j = std::move(rounds[0]);
    } else {
      // The VM's speed drifts between rounds; the median is the figure to quote.
      const auto median = [](std::vector<double> v) {
        std::sort(v.begin(), v.end());
        return v.size() % 2 == 1 ? v[v.size() / 2] : (v[v.size() / 2 - 1] + v[v.size() / 2]) / 2;
      };
      const auto [rate_min, rate_max] = std::minmax_element(rates.begin(), rates.end());
      nlohmann::json summary = {{"rounds", opt.rounds},
                                {"median_events_per_s", median(rates)},
                                {"min_events_per_s", *rate_min},
                                {"max_events_per_s", *rate_max}};
      std::string line = fmt::format("over {} rounds: {:.0f} events/s median ({:.0f}-{:.0f})",
                                     opt.rounds, median(rates), *rate_min, *rate_max);
      if (opt.baseline) {
        const auto [ratio_min, ratio_max] = std::minmax_element(ratios.begin(), ratios.end());
        summary["median_ratio_to_baseline"] = median(ratios);
        summary["min_ratio_to_baseline"] = *ratio_min;
        summary["max_ratio_to_baseline"] = *ratio_max;
        line += fmt::format("; ratio to one-core verify median {:.3f} ({:.2f}-{:.2f})",
                            median(ratios), *ratio_min, *ratio_max);
      }
      if (opt.json) {
        j = {{"rounds", std::move(rounds)}, {"summary", std::move(summary)}};
      } else {
        std::cout << line << "\n";
      }
    }
  }
  if (opt.proofs > 0) {
    auto p = TimeProofs(opt, opt.proofs);
    if (!p.ok()) {
      std::cerr << "cairn-bench: " << p.status().message() << "\n";
      return kExitUsage;
    }
    const double node_us = opt.node_pid > 0 ? p->cpu.node_s * 1e6 / p->proofs : 0;
    if (opt.json) {
      nlohmann::json pj = {{"proofs", p->proofs},
                           {"tree_size", p->tree_size},
                           {"failures", p->failures},
                           {"seconds", p->seconds},
                           {"proofs_per_s", p->proofs / p->seconds},
                           {"p50_ms", p->p50},
                           {"p99_ms", p->p99},
                           {"p999_ms", p->p999}};
      if (opt.node_pid > 0) pj["node_cpu_us_per_proof"] = node_us;
      j["inclusion_proofs"] = pj;
    } else {
      std::cout << fmt::format(
          "{} GetInclusionProof calls, 1 client, random leaves of {}: {:.0f} proofs/s; round trip "
          "p50 {:.3f} ms, p99 {:.3f} ms, p999 {:.3f} ms; {} failed\n",
          p->proofs, p->tree_size, p->proofs / p->seconds, p->p50, p->p99, p->p999, p->failures);
      if (opt.node_pid > 0) std::cout << fmt::format("node CPU per proof: {:.1f} µs\n", node_us);
    }
    if (p->failures > 0) {
      std::cerr << "cairn-bench: " << p->failures
                << " inclusion proofs failed; first error: " << p->first_error << "\n";
      exit_code = kExitIntegrity;
    }
  }
  if (opt.json) std::cout << j.dump(2) << "\n";
  return exit_code;
}

void SetupBench(CLI::App* cmd, BenchOptions* opt) {
  cmd->description(
      "Load generator: pre-signs --events valid extractions with a MINE key hosted by the node,\n"
      "sends them from --clients concurrent connections, prints events/s and latency, and with\n"
      "--node-pid the node's CPU time per event. --proofs N times inclusion-proof round trips.\n"
      "--lineage STEPS (with --processor-key and --registry) instead times Ledger.Trace and\n"
      "VerifyLineage of a 2 x STEPS-lot chain lineage.");
  AddNodeOptions(*cmd, opt->node, /*key_means_signing_key=*/true);
  cmd->add_option(
      "--key", opt->key_file,
      "secret key file of a MINE participant the node hosts (needed when --events > 0)");
  cmd->add_option("--clients", opt->clients, "concurrent clients")
      ->capture_default_str()
      ->check(CLI::Range(1, 1024));
  cmd->add_option("--events", opt->events, "events to send (0: only --proofs)")
      ->capture_default_str()
      ->check(CLI::Range(0, 100000000));
  cmd->add_option("--batch", opt->batch, "events per AppendBatch (1: single Append calls)")
      ->capture_default_str()
      ->check(CLI::Range(1, 10000));
  cmd->add_option("--rounds", opt->rounds,
                  "timed runs of --events each, then the median (the VM's speed drifts; with "
                  "--baseline each ratio is against the verify rate measured around its run)")
      ->capture_default_str()
      ->check(CLI::Range(1, 1000));
  cmd->add_option("--node-pid", opt->node_pid,
                  "pid of the node (same machine): also print its CPU time per event (/proc)")
      ->check(CLI::PositiveNumber);
  cmd->add_option("--proofs", opt->proofs,
                  "after the appends, time this many GetInclusionProof calls for random leaves")
      ->capture_default_str()
      ->check(CLI::Range(0, 10000000));
  cmd->add_option("--lineage", opt->lineage,
                  "lineage mode: append a STEPS-step chain (2 x STEPS lots, 4 x STEPS events), "
                  "then time Ledger.Trace of its last product and VerifyLineage of the bundle")
      ->check(CLI::Range(1, 1000000));
  cmd->add_option("--processor-key", opt->processor_key_file,
                  "lineage mode: secret key file of a PROCESSOR participant the node hosts");
  cmd->add_option("--registry", opt->registry_file,
                  "lineage mode: the trust registry file to verify the bundle against");
  cmd->add_option("--catch-up", opt->catch_up,
                  "replication mode: ADDR of a node just started to follow --node's log; times "
                  "until it holds every entry, against the two-core verify limit");
  cmd->add_option("--lag-follower", opt->lag_follower,
                  "replication mode: ADDR of a node that follows --node's log; appends --events "
                  "at --rate/s and prints the lag from each answer to its arrival in the replica");
  cmd->add_option("--rate", opt->rate, "with --lag-follower: events per second")
      ->capture_default_str()
      ->check(CLI::Range(1, 1000000));
  cmd->add_flag("--baseline", opt->baseline, "also measure libsodium Ed25519 verify/s on one core");
  cmd->add_flag("--json", opt->json, "print as JSON");
}

}  // namespace
}  // namespace cairn::client

int main(int argc, char** argv) {
  // Debian's Abseil checks every Mutex lock gRPC takes for deadlock cycles; a load generator
  // needs none of that bookkeeping.
  absl::SetMutexDeadlockDetectionMode(absl::OnDeadlockCycle::kIgnore);
  if (!cairn::InitCrypto().ok()) {
    std::cerr << "cairn-bench: libsodium failed to initialize\n";
    return cairn::client::kExitUsage;
  }
  CLI::App app;
  app.name("cairn-bench");
  app.set_version_flag("--version", "cairn-bench " CAIRN_VERSION);
  cairn::client::BenchOptions opt;
  cairn::client::SetupBench(&app, &opt);
  CLI11_PARSE(app, argc, argv);
  return cairn::client::Run(opt);
}
