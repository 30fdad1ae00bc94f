#include "node/metrics.h"

#include <prometheus/client_metric.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <map>
#include <string_view>
#include <system_error>

#include "node/follower.h"
#include "node/gossip.h"
#include "node/logging.h"
#include "node/sequencer.h"

namespace cairn::node {
namespace {

std::atomic<RequestMetrics*> g_active{nullptr};

// From 100 µs (an append of a warm node) to 10 s (a Follow of a whole log is longer: it lands in
// +Inf).
const prometheus::Histogram::BucketBoundaries& DurationBuckets() {
  static const prometheus::Histogram::BucketBoundaries buckets = {
      0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025,
      0.05,   0.1,     0.25,   0.5,   1,      2.5,   5,    10};
  return buckets;
}

prometheus::MetricFamily Family(const char* name, const char* help, prometheus::MetricType type) {
  prometheus::MetricFamily family;
  family.name = name;
  family.help = help;
  family.type = type;
  return family;
}

void Add(prometheus::MetricFamily& family, double value,
         std::vector<prometheus::ClientMetric::Label> labels = {}) {
  prometheus::ClientMetric metric;
  metric.label = std::move(labels);
  if (family.type == prometheus::MetricType::Counter) {
    metric.counter.value = value;
  } else {
    metric.gauge.value = value;
  }
  family.metric.push_back(std::move(metric));
}

double FileBytes(const std::string& path) {
  std::error_code error;
  const auto size = std::filesystem::file_size(path, error);
  return error ? 0 : static_cast<double>(size);
}

// The "Threads:" and "VmRSS:" (kB) lines of /proc/self/status.
void AddProcess(std::vector<prometheus::MetricFamily>& out) {
  double threads = 0;
  double rss_bytes = 0;
  std::ifstream status("/proc/self/status");
  for (std::string line; std::getline(status, line);) {
    const auto number = [&line](size_t from) { return std::stod(line.substr(from)); };
    if (line.rfind("Threads:", 0) == 0) threads = number(8);
    if (line.rfind("VmRSS:", 0) == 0) rss_bytes = number(6) * 1024;
  }
  double fds = 0;
  std::error_code error;
  for (std::filesystem::directory_iterator it("/proc/self/fd", error), end; !error && it != end;
       it.increment(error)) {
    ++fds;
  }
  auto t = Family("cairn_process_threads", "Threads of the cairnd process.",
                  prometheus::MetricType::Gauge);
  Add(t, threads);
  auto r = Family("cairn_process_resident_memory_bytes", "Resident memory of the cairnd process.",
                  prometheus::MetricType::Gauge);
  Add(r, rss_bytes);
  auto f = Family("cairn_process_open_fds", "Open file descriptors of the cairnd process.",
                  prometheus::MetricType::Gauge);
  Add(f, fds);
  out.push_back(std::move(t));
  out.push_back(std::move(r));
  out.push_back(std::move(f));
}

}  // namespace

RequestMetrics::RequestMetrics(prometheus::Registry& registry)
    : requests_(prometheus::BuildCounter()
                    .Name("cairn_requests_total")
                    .Help("gRPC requests answered, by method and status code (code != OK: "
                          "refused, and why).")
                    .Register(registry)),
      durations_(prometheus::BuildHistogram()
                     .Name("cairn_request_duration_seconds")
                     .Help("Time from a request's arrival to its answer, by method (Append: "
                           "until the event is committed and its checkpoint signed).")
                     .Register(registry)),
      in_flight_(prometheus::BuildGauge()
                     .Name("cairn_requests_in_flight")
                     .Help("Requests being handled, by method; for GetEntries and Follow, the "
                           "open streams.")
                     .Register(registry)),
      events_appended_(prometheus::BuildCounter()
                           .Name("cairn_events_appended_total")
                           .Help("Events committed to this node's log (duplicates not counted).")
                           .Register(registry)
                           .Add({})) {}

RequestMetrics::MethodMetrics& RequestMetrics::For(const char* method) {
  {
    ReaderMutexLock lock(&mutex_);
    if (auto it = methods_.find(std::string_view(method)); it != methods_.end()) return *it->second;
  }
  MutexLock lock(&mutex_);
  std::unique_ptr<MethodMetrics>& m = methods_[std::string(method)];
  if (m == nullptr) {
    m = std::make_unique<MethodMetrics>();
    m->in_flight = &in_flight_.Add({{"method", method}});
    m->duration = &durations_.Add({{"method", method}}, DurationBuckets());
  }
  return *m;
}

prometheus::Counter& RequestMetrics::Answered(MethodMetrics& m, const char* method,
                                              grpc::StatusCode code) {
  const auto slot = static_cast<size_t>(code);
  if (slot >= m.answered.size()) {
    return requests_.Add({{"method", method}, {"code", GrpcCodeName(code)}});
  }
  prometheus::Counter* counter = m.answered[slot].load(std::memory_order_acquire);
  if (counter == nullptr) {
    // Family::Add returns the same counter for the same labels, so two threads racing here agree.
    counter = &requests_.Add({{"method", method}, {"code", GrpcCodeName(code)}});
    m.answered[slot].store(counter, std::memory_order_release);
  }
  return *counter;
}

void RequestMetrics::Started(const char* method) { For(method).in_flight->Increment(); }

void RequestMetrics::Ended(const char* method) { For(method).in_flight->Decrement(); }

void RequestMetrics::Finished(const char* method, grpc::StatusCode code, double seconds) {
  MethodMetrics& m = For(method);
  Answered(m, method, code).Increment();
  m.duration->Observe(seconds);
}

void RequestMetrics::EventsAppended(uint64_t count) {
  events_appended_.Increment(static_cast<double>(count));
}

void CountRequestStarted(const char* method) {
  if (RequestMetrics* metrics = ActiveRequestMetrics()) metrics->Started(method);
}

void CountRequestEnded(const char* method) {
  if (RequestMetrics* metrics = ActiveRequestMetrics()) metrics->Ended(method);
}

void CountRequestFinished(const char* method, grpc::StatusCode code,
                          std::chrono::steady_clock::duration elapsed) {
  if (RequestMetrics* metrics = ActiveRequestMetrics()) {
    metrics->Finished(method, code, std::chrono::duration<double>(elapsed).count());
  }
}

RequestMetrics* ActiveRequestMetrics() { return g_active.load(std::memory_order_acquire); }

void SetActiveRequestMetrics(RequestMetrics* metrics) {
  g_active.store(metrics, std::memory_order_release);
}

std::vector<prometheus::MetricFamily> NodeStateMetrics::Collect() const {
  using prometheus::MetricType;
  std::vector<prometheus::MetricFamily> out;
  auto entries = Family("cairn_log_entries", "Entries in this node's log.", MetricType::Gauge);
  if (sources_.sequencer != nullptr) {
    Add(entries, static_cast<double>(sources_.sequencer->size()), {{"log", sources_.log_id}});
  }
  auto files =
      Family("cairn_sqlite_file_bytes",
             "Size of the node's SQLite files, by log and file (db, wal).", MetricType::Gauge);
  const auto add_files = [&files](const std::string& log, const std::string& path) {
    Add(files, FileBytes(path), {{"log", log}, {"file", "db"}});
    Add(files, FileBytes(path + "-wal"), {{"log", log}, {"file", "wal"}});
  };
  add_files(sources_.log_id, sources_.db_path);

  auto replica = Family("cairn_replica_entries", "Entries in the replica of a followed log.",
                        MetricType::Gauge);
  auto lag = Family("cairn_replication_lag_entries",
                    "Entries the leader has announced that the replica does not hold yet.",
                    MetricType::Gauge);
  auto following = Family("cairn_replication_following",
                          "1 while the stream from the leader is open, else 0.", MetricType::Gauge);
  auto contact =
      Family("cairn_replication_last_contact_timestamp_seconds",
             "When the leader was last heard from (Unix time; 0: never).", MetricType::Gauge);
  auto forks = Family("cairn_forks_detected",
                      "Forks proved (fork evidence recorded), by log; a log that forked is "
                      "never followed again.",
                      MetricType::Gauge);
  std::map<std::string, double> fork_count;
  for (const Follower* follower : sources_.followers) {
    const Follower::State state = follower->state();
    const std::vector<prometheus::ClientMetric::Label> labels = {
        {"log", follower->options().log_id}, {"peer", follower->options().peer}};
    Add(replica, static_cast<double>(state.size), labels);
    Add(lag,
        state.leader_size > state.size ? static_cast<double>(state.leader_size - state.size) : 0,
        labels);
    Add(following, state.state == "following" ? 1 : 0, labels);
    Add(contact, static_cast<double>(state.last_contact_us) / 1e6, labels);
    add_files(follower->options().log_id, follower->store().path());
    fork_count[follower->options().log_id] += static_cast<double>(follower->forks().size());
  }
  if (sources_.gossiper != nullptr) {
    for (const auto& evidence : sources_.gossiper->heard_forks()) {
      fork_count[evidence.log_id()] += 1;
    }
  }
  fork_count.try_emplace(sources_.log_id, 0);
  for (const auto& [log, count] : fork_count) Add(forks, count, {{"log", log}});

  auto info = Family("cairn_build_info", "1, labelled with cairnd's version and its log.",
                     MetricType::Gauge);
  Add(info, 1, {{"version", CAIRN_VERSION}, {"log", sources_.log_id}});

  for (auto* family : {&entries, &files, &replica, &lag, &following, &contact, &forks, &info}) {
    out.push_back(std::move(*family));
  }
  AddProcess(out);
  return out;
}

}  // namespace cairn::node
