// cairnd's Prometheus metrics (prometheus-cpp), served as text on an optional HTTP port
// (metrics_listen; off by default).
//
// Two kinds:
//   - counted as they happen: every gRPC request, by RequestLog (requests by method and code,
//     their duration, those in flight — for GetEntries and Follow, the open streams), and the
//     events the writer committed;
//   - read when scraped: the log's size, each replica's size and lag behind its leader, forks
//     recorded, the SQLite files' sizes (the WAL's too), the process's threads and memory.
//
// Names follow Prometheus' conventions: a cairn_ prefix, base units (seconds, bytes), _total on
// counters. Thread-safe.
#pragma once

#include <grpcpp/grpcpp.h>
#include <prometheus/collectable.h>
#include <prometheus/counter.h>
#include <prometheus/family.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/metric_family.h>
#include <prometheus/registry.h>

#include <array>
#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "common/sync.h"

namespace cairn::node {

class Follower;
class Gossiper;
class Sequencer;

// The metrics RequestLog and the writer count. Register them in the registry given.
class RequestMetrics {
 public:
  explicit RequestMetrics(prometheus::Registry& registry);
  RequestMetrics(const RequestMetrics&) = delete;
  RequestMetrics& operator=(const RequestMetrics&) = delete;

  void Started(const char* method);
  void Ended(const char* method);
  void Finished(const char* method, grpc::StatusCode code, double seconds);
  // Events committed to the log (a duplicate of an event already there is not counted).
  void EventsAppended(uint64_t count);

 private:
  // One method's metric objects, looked up in their families once (Family::Add locks the family
  // and hashes the labels each time); the answer counters, one per status code, as codes occur.
  struct MethodMetrics {
    prometheus::Gauge* in_flight = nullptr;
    prometheus::Histogram* duration = nullptr;
    std::array<std::atomic<prometheus::Counter*>, 17> answered{};  // by grpc::StatusCode 0..16
  };
  MethodMetrics& For(const char* method);
  prometheus::Counter& Answered(MethodMetrics& m, const char* method, grpc::StatusCode code);

  prometheus::Family<prometheus::Counter>& requests_;
  prometheus::Family<prometheus::Histogram>& durations_;
  prometheus::Family<prometheus::Gauge>& in_flight_;
  prometheus::Counter& events_appended_;
  Mutex mutex_;
  // Keyed by the method's name; entries are never removed, so the references handed out last.
  std::map<std::string, std::unique_ptr<MethodMetrics>, std::less<>> methods_
      ABSL_GUARDED_BY(mutex_);
};

// The process's request metrics; nullptr when the node serves no metrics. Set before the server
// starts and cleared after it stopped.
RequestMetrics* ActiveRequestMetrics();
void SetActiveRequestMetrics(RequestMetrics* metrics);

// What the scrape-time metrics read. Pointers must outlive the collector.
struct NodeMetricSources {
  std::string log_id;
  std::string db_path;
  const Sequencer* sequencer = nullptr;
  std::vector<const Follower*> followers;
  const Gossiper* gossiper = nullptr;  // may be null
};

// A Collectable computing the node's state when scraped.
class NodeStateMetrics final : public prometheus::Collectable {
 public:
  explicit NodeStateMetrics(NodeMetricSources sources) : sources_(std::move(sources)) {}
  std::vector<prometheus::MetricFamily> Collect() const override;

 private:
  const NodeMetricSources sources_;
};

}  // namespace cairn::node
