// cairnd: the Cairn ledger node.
//
// Startup: config (flags over file over defaults), registry, node key, database, then an integrity
// scan of every stored entry, of the stored tree and of the last signed checkpoint; a broken log
// is refused (exit 1). In audit mode (--audit) the database is opened read-only, a broken log is
// served anyway with a warning, and appends are refused. Then the sequencer's writer and
// the gRPC server. SIGTERM/SIGINT are blocked in every thread and awaited by one: it flips health
// to NOT_SERVING, shuts the server down (5 s deadline), and main drains the sequencer.
#include <absl/synchronization/mutex.h>
#if CAIRN_TCMALLOC
#include <gperftools/malloc_extension_c.h>
#endif
#include <grpc/support/log.h>
#include <grpcpp/ext/proto_server_reflection_plugin.h>
#include <grpcpp/grpcpp.h>
#include <grpcpp/health_check_service_interface.h>
#include <grpcpp/resource_quota.h>
#include <netdb.h>
#include <netinet/in.h>
#include <prometheus/exposer.h>
#include <prometheus/registry.h>
#include <pthread.h>
#include <signal.h>
#include <spdlog/spdlog.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <iostream>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <thread>

#include "common/clock.h"
#include "common/crypto.h"
#include "common/tls.h"
#include "keys/key_file.h"
#include "keys/registry.h"
#include "ledger/rulebook.h"
#include "node/clean_stop.h"
#include "node/config.h"
#include "node/federation_service.h"
#include "node/follower.h"
#include "node/gossip.h"
#include "node/metrics.h"
#include "node/other_logs.h"
#include "node/replica_store.h"
#include "node/replication_wait.h"
#include "node/request_parse.h"
#include "node/sequencer.h"
#include "node/service.h"
#include "node/startup_check.h"
#include "node/storage.h"
#include "node/systemd.h"

namespace cairn::node {
namespace {

// Set when the gossip adopted a newer registry: after the clean stop, Main re-executes cairnd.
std::atomic<bool> g_restart_requested{false};

enum ExitCode : int {
  kExitOk = 0,
  kExitBrokenLog = 1,
  kExitUsage = 2,  // usage, config or I/O error
};

constexpr auto kShutdownDeadline = std::chrono::seconds(5);

int Fail(ExitCode code, const std::string& message) {
  std::cerr << "cairnd: " << message << "\n";
  return code;
}

// Whether `listen` (host:port, not unix:) can be bound, tried before gRPC does: gRPC reports a
// port in use in several log lines of its own; this says it in one. Ok when it can, or when the
// address is not one this check understands (gRPC then decides).
Status ProbeListen(const std::string& listen) {
  if (listen.rfind("unix:", 0) == 0) return Status::Ok();
  const size_t colon = listen.rfind(':');
  if (colon == std::string::npos) return Status::Ok();
  std::string host = listen.substr(0, colon);
  const std::string port = listen.substr(colon + 1);
  if (port == "0") return Status::Ok();
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  }
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
  addrinfo* found = nullptr;
  if (getaddrinfo(host.empty() ? nullptr : host.c_str(), port.c_str(), &hints, &found) != 0) {
    return Status::Ok();
  }
  Status result;
  for (addrinfo* a = found; a != nullptr && result.ok(); a = a->ai_next) {
    const int fd = socket(a->ai_family, a->ai_socktype | SOCK_CLOEXEC, a->ai_protocol);
    if (fd < 0) continue;
    const int one = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (bind(fd, a->ai_addr, a->ai_addrlen) != 0 && errno == EADDRINUSE) {
      result = Unavailable("listen: " + listen +
                           " is already in use (another cairnd, or another program; choose "
                           "another with listen or --listen)");
    }
    close(fd);
  }
  freeaddrinfo(found);
  return result;
}

// Routes gRPC's own log lines into the JSON log.
void GrpcLogToJson(gpr_log_func_args* args) {
  spdlog::level::level_enum level = spdlog::level::info;
  if (args->severity == GPR_LOG_SEVERITY_DEBUG) level = spdlog::level::debug;
  if (args->severity == GPR_LOG_SEVERITY_ERROR) level = spdlog::level::err;
  LogFields(level, {{"msg", args->message != nullptr ? args->message : ""},
                    {"component", "grpc"},
                    {"file", args->file != nullptr ? args->file : ""},
                    {"line", args->line}});
}

// `listen` with its port replaced by the one actually bound ("127.0.0.1:0" -> "127.0.0.1:41234").
std::string BoundAddress(const std::string& listen, int port) {
  if (listen.rfind("unix:", 0) == 0) return listen;
  return listen.substr(0, listen.rfind(':') + 1) + std::to_string(port);
}

std::string BrokenLine(const std::string& log_id, const LogProblem& problem) {
  return "log " + log_id + " is broken at index " + std::to_string(problem.index) + ": " +
         problem.what;
}

// --repair-report: every problem, nothing changed.
int RepairReport(const NodeConfig& config) {
  auto registry = keys::TrustRegistry::Load(config.registry);
  if (!registry.ok()) return Fail(kExitUsage, "registry: " + registry.status().message());
  StorageOptions options;
  options.read_only = true;
  auto storage = Storage::Open(config.db, options);
  if (!storage.ok()) return Fail(kExitUsage, "db: " + storage.status().message());
  if (const Status bound = (*storage)->BindLogId(config.log_id); !bound.ok()) {
    return Fail(kExitUsage, "db: " + bound.message());
  }
  auto scanned = ScanLog(**storage, config.log_id, *registry, /*find_all=*/true);
  if (!scanned.ok()) return Fail(kExitUsage, "db: " + scanned.status().message());
  auto size = (*storage)->Size();
  const uint64_t entries = size.ok() ? *size : 0;
  for (const LogProblem& warning : scanned->warnings) {
    std::cout << "cairnd: warning: log " << config.log_id << ", entry " << warning.index << ": "
              << warning.what << "\n";
  }
  if (scanned->problems.empty()) {
    std::cout << "cairnd: log " << config.log_id << ": " << entries
              << " entries checked, no problems found\n";
    return kExitOk;
  }
  for (const LogProblem& problem : scanned->problems) {
    std::cout << "cairnd: " << BrokenLine(config.log_id, problem) << "\n";
  }
  std::cout << "cairnd: log " << config.log_id << ": " << scanned->problems.size()
            << " problem(s) in " << entries << " entries; the first " << scanned->sound
            << " entries are sound; nothing was changed\n";
  return kExitBrokenLog;
}

// What the node needs before it opens any file, each checked: its TLS credentials, the registry
// (which must list its log and its participants, each at home here or nowhere) and its node key
// (a key of its log there). INVALID_ARGUMENT naming the key at fault.
struct NodeInputs {
  std::shared_ptr<grpc::ServerCredentials> credentials;
  std::optional<keys::TrustRegistry> registry;
  std::optional<keys::SigningKey> node_key;
};

Result<NodeInputs> LoadNodeInputs(const NodeConfig& config) {
  NodeInputs inputs;
  auto credentials = ServerCredentials(config.tls);
  if (!credentials.ok()) return credentials.status();
  inputs.credentials = *credentials;

  auto registry = keys::TrustRegistry::Load(config.registry);
  if (!registry.ok()) return InvalidArgument("registry: " + registry.status().message());
  inputs.registry.emplace(*registry);
  const cairn::v1::LogOperator* log = registry->FindLog(config.log_id);
  if (log == nullptr) {
    return InvalidArgument("log_id: log " + config.log_id + " is not in registry version " +
                           std::to_string(registry->version()) + " (" + config.registry + ")");
  }
  for (size_t i = 0; i < config.participants.size(); ++i) {
    if (registry->FindParticipant(config.participants[i]) == nullptr) {
      return InvalidArgument("participants[" + std::to_string(i) + "]: " + config.participants[i] +
                             " is not in registry version " + std::to_string(registry->version()));
    }
    // A participant with a home log is appended there and nowhere else.
    const std::string* home = registry->HomeLogOf(config.participants[i]);
    if (home != nullptr && *home != config.log_id) {
      return InvalidArgument("participants[" + std::to_string(i) + "]: " + config.participants[i] +
                             "'s home log is " + *home + " in registry version " +
                             std::to_string(registry->version()) + ", not this node's log " +
                             config.log_id);
    }
  }

  std::optional<std::string> passphrase;
  if (!config.node_key_passphrase_file.empty()) {
    auto p = keys::ReadPassphraseFile(config.node_key_passphrase_file);
    if (!p.ok()) return InvalidArgument("node_key_passphrase_file: " + p.status().message());
    passphrase = std::move(p).value();
  }
  auto node_key = keys::ReadSigningKey(config.node_key, passphrase);
  if (!node_key.ok()) return InvalidArgument("node_key: " + node_key.status().message());
  inputs.node_key = *node_key;
  bool listed = false;
  std::string log_keys;
  for (const auto& key : log->keys()) {
    listed =
        listed || (key.key_id() == node_key->key_id && key.public_key() == node_key->public_key);
    log_keys += (log_keys.empty() ? "" : ", ") + key.key_id();
  }
  if (!listed) {
    return InvalidArgument("node_key: key " + node_key->key_id + " in " + config.node_key +
                           " is not a key of log " + config.log_id + " in the registry (" +
                           (log_keys.empty() ? "it lists none" : "it lists " + log_keys) + ")");
  }

  return inputs;
}

// --check-config: the resolved configuration, each key with its source, and the inputs it names.
int CheckConfig(const NodeConfig& config) {
  if (!InitCrypto().ok()) return Fail(kExitUsage, "cannot initialize libsodium");
  auto inputs = LoadNodeInputs(config);
  std::cout << DescribeConfig(config);
  if (!inputs.ok()) return Fail(kExitUsage, inputs.status().message());
  std::cout << "cairnd: configuration valid: log " << config.log_id << " in registry version "
            << inputs->registry->version() << ", node key " << inputs->node_key->key_id << "\n";
  return kExitOk;
}

// What a clean stop leaves for Main to record once every database connection is closed
// (node/clean_stop.h).
struct CleanStop {
  CleanStopState state;
  keys::SigningKey node_key;
};

// Serves until a stop signal. On a clean stop of a node that served (not in audit mode), sets
// `clean_stop`.
int Serve(const NodeConfig& config, const sigset_t& stop_signals,
          std::optional<CleanStop>& clean_stop) {
  if (!InitCrypto().ok()) return Fail(kExitUsage, "cannot initialize libsodium");
  const SystemClock clock;
  // Counted from the first request on; outlives everything that counts (the server, the writer).
  const auto metrics_registry = std::make_shared<prometheus::Registry>();
  std::optional<RequestMetrics> request_metrics;
  if (!config.metrics_listen.empty()) request_metrics.emplace(*metrics_registry);
  struct ClearMetrics {
    ~ClearMetrics() { SetActiveRequestMetrics(nullptr); }
  } clear_metrics;
  if (request_metrics) SetActiveRequestMetrics(&*request_metrics);
  // Read before anything is opened, so that a bad certificate changes no file.
  auto inputs = LoadNodeInputs(config);
  if (!inputs.ok()) return Fail(kExitUsage, inputs.status().message());
  const std::shared_ptr<grpc::ServerCredentials> credentials = inputs->credentials;
  std::optional<keys::TrustRegistry>& registry = inputs->registry;
  const std::optional<keys::SigningKey>& node_key = inputs->node_key;

  // After a clean stop, its signed record stands in for re-reading every entry, when the
  // database is exactly as that stop left it. Read before the database is opened; audit mode
  // checks everything and changes nothing, the record included.
  std::optional<CleanStopState> stopped_clean;
  std::string full_check_why = "audit mode";
  if (!config.audit) {
    full_check_why = "full_start_check = true";
    if (!config.full_start_check) {
      auto read = ReadCleanStop(config.db, config.log_id, registry->version(), *node_key);
      if (!read.ok()) return Fail(kExitUsage, "db: " + read.status().message());
      full_check_why = read->why_not;
      stopped_clean = std::move(read->state);
    }
  }

  StorageOptions storage_options;
  storage_options.read_only = config.audit;
  if (stopped_clean) storage_options.event_keys = &stopped_clean->event_keys;
  auto storage = Storage::Open(config.db, storage_options);
  if (stopped_clean) std::vector<int64_t>().swap(stopped_clean->event_keys);  // in the index now
  if (!storage.ok()) return Fail(kExitUsage, "db: " + storage.status().message());
  if (const Status bound = (*storage)->BindLogId(config.log_id); !bound.ok()) {
    return Fail(kExitUsage, "db: " + bound.message());
  }
  // Never back to an older registry: it could revive keys a newer version revoked.
  auto highest = (*storage)->HighestRegistryVersion();
  if (!highest.ok()) return Fail(kExitUsage, "db: " + highest.status().message());
  if (*highest > registry->version()) {
    return Fail(kExitUsage, "registry: " + config.registry + " is version " +
                                std::to_string(registry->version()) + ", older than version " +
                                std::to_string(*highest) +
                                ", which this node has already served under; a node never goes "
                                "back to an older registry (a rollback could revive revoked keys)");
  }
  // The replicas of the logs this node follows, each verified again before it is served. Opened
  // before the own log's check: this log's events refer to theirs (a receipt of a dispatch on the
  // mine's log).
  std::vector<std::unique_ptr<ReplicaStore>> replicas;
  std::vector<std::unique_ptr<NodeLogs>> follower_logs;  // what each follower checks against
  std::vector<std::unique_ptr<Follower>> followers;
  std::shared_ptr<grpc::ChannelCredentials> peer_credentials = grpc::InsecureChannelCredentials();
  if (!config.peers.empty()) {
    if (!config.tls.cert.empty()) {
      auto tls = ClientCredentials({config.tls.ca, config.tls.cert, config.tls.key});
      if (!tls.ok()) return Fail(kExitUsage, "tls: " + tls.status().message());
      peer_credentials = *tls;
    }
    const std::string dir =
        config.replica_dir.empty() ? config.db + ".replicas" : config.replica_dir;
    std::error_code created;
    std::filesystem::create_directories(dir, created);
    if (created)
      return Fail(kExitUsage, "replica_dir: cannot create " + dir + ": " + created.message());
    for (const auto& peer : config.peers) {
      for (const std::string& log_id : peer.logs) {
        if (registry->FindLog(log_id) == nullptr) {
          return Fail(kExitUsage, "peer " + peer.address + ": log " + log_id +
                                      " is not in registry version " +
                                      std::to_string(registry->version()));
        }
        if (log_id == config.log_id) {
          return Fail(kExitUsage, "peer " + peer.address + ": log " + log_id +
                                      " is this node's own log; a node does not follow itself");
        }
        auto replica = ReplicaStore::Open(dir + "/" + log_id + ".db", log_id);
        if (!replica.ok()) return Fail(kExitUsage, replica.status().message());
        replicas.push_back(std::move(replica).value());
      }
    }
  }
  std::vector<const ReplicaStore*> all_replicas;
  for (const auto& replica : replicas) all_replicas.push_back(replica.get());
  NodeLogs writer_logs(nullptr, all_replicas);
  {
    size_t next = 0;
    for (const auto& peer : config.peers) {
      for (const std::string& log_id : peer.logs) {
        ReplicaStore& replica = *replicas[next++];
        std::vector<const ReplicaStore*> others;
        for (const ReplicaStore* other : all_replicas) {
          if (other != &replica) others.push_back(other);
        }
        follower_logs.push_back(std::make_unique<NodeLogs>(storage->get(), std::move(others),
                                                           /*missing_is_not_found=*/true));
        FollowerOptions options;
        options.peer = peer.address;
        options.log_id = log_id;
        options.credentials = peer_credentials;
        options.max_message_bytes = config.max_message_bytes;
        options.others = follower_logs.back().get();
        auto follower = std::make_unique<Follower>(replica, *registry, std::move(options));
        if (const Status primed = follower->Prime(); !primed.ok()) {
          return Fail(kExitBrokenLog, primed.message());
        }
        followers.push_back(std::move(follower));
      }
    }
  }
  auto scanned = [&]() -> Result<ScannedLog> {
    if (stopped_clean) {
      CAIRN_ASSIGN_OR_RETURN(
          auto quick, CheckAfterCleanStop(**storage, config.log_id, *registry, *stopped_clean));
      if (quick.tree) {
        ScannedLog clean;
        clean.entries = clean.sound = stopped_clean->entries;
        clean.tree = std::move(quick.tree);
        full_check_why.clear();
        return clean;
      }
      full_check_why = "the log differs from the clean-stop record: " + quick.why_not;
    }
    return ScanLog(**storage, config.log_id, *registry, /*find_all=*/false, &writer_logs);
  }();
  if (!scanned.ok()) return Fail(kExitUsage, "db: " + scanned.status().message());
    // The check's replay state is gone; give its memory back rather than keep it for reuse.
#if CAIRN_TCMALLOC
  MallocExtension_ReleaseFreeMemory();
#endif
  for (const LogProblem& warning : scanned->warnings) {
    std::cerr << "cairnd: warning: log " << config.log_id << ", entry " << warning.index << ": "
              << warning.what << "\n";
  }
  std::optional<TreeHashes> tree = std::move(scanned->tree);
  if (!scanned->problems.empty()) {
    const std::string broken = BrokenLine(config.log_id, scanned->problems.front());
    if (!config.audit) {
      return Fail(kExitBrokenLog, broken + " (cairnd --repair-report lists every problem)");
    }
    std::cerr << "cairnd: warning: " << broken << "; serving it read-only for audit\n";
    LogFields(spdlog::level::warn, {{"msg", "log is broken; serving read-only for audit"},
                                    {"index", scanned->problems.front().index},
                                    {"problem", scanned->problems.front().what}});
    // Proofs as of the last checkpoint the node signed, when its tree is still stored.
    auto stored = (*storage)->StoredCheckpoint();
    cairn::v1::Checkpoint checkpoint;
    if (stored.ok() && stored->has_value() && checkpoint.ParseFromString((*stored)->checkpoint())) {
      auto loaded = TreeHashes::Load(**storage, checkpoint.size());
      if (loaded.ok()) {
        tree = std::move(loaded).value();
      } else {
        std::cerr << "cairnd: warning: no proofs: " << loaded.status().message() << "\n";
      }
    }
  }

  SequencerOptions sequencer_options;
  sequencer_options.log_id = config.log_id;
  sequencer_options.log_key = *node_key;
  sequencer_options.rules = ledger::RulesOf(*registry);
  sequencer_options.audit = config.audit;
  sequencer_options.writer_nice = config.writer_nice;
  sequencer_options.other_logs = &writer_logs;
  Sequencer sequencer(**storage, *registry, clock, std::move(sequencer_options),
                      tree ? std::move(*tree) : TreeHashes());
  tree.reset();
  Storage& store = **storage;
  const AppendValidator validator(
      *registry, clock, config.log_id,
      std::set<std::string>(config.participants.begin(), config.participants.end()),
      [&store](const Hash& event_id) -> Result<bool> {
        CAIRN_ASSIGN_OR_RETURN(const auto found, store.FindEntry(event_id));
        return found.has_value();
      });
  // Streams (GetEntries, Trace, Follow) get half the call threads, a host at most
  // max_streams_per_host of them, and a stream whose reader stops reading is cancelled
  // (node/stream_slots.h). Outlives the services.
  StreamSlotOptions stream_options;
  stream_options.total = std::max<size_t>(1, config.max_call_threads / 2);
  stream_options.per_host = config.max_streams_per_host;
  stream_options.stall_timeout = std::chrono::milliseconds(config.stream_stall_timeout_ms);
  StreamSlots stream_slots(stream_options);
  LedgerService service(**storage, sequencer, validator, config.log_id, registry->version(), clock,
                        config.max_message_bytes);
  service.set_replicas(all_replicas);
  service.set_stream_slots(&stream_slots);
  // An append referring to an event of a followed log waits for it to be replicated.
  NodeLogs held_logs(storage->get(), all_replicas);
  std::optional<ReplicationWait> replication_wait;
  if (!replicas.empty() && config.replication_wait_ms > 0 && !config.audit) {
    replication_wait.emplace(
        [&held_logs](const std::string& id) -> Result<bool> {
          CAIRN_ASSIGN_OR_RETURN(const auto found, held_logs.Locate(id));
          return found.has_value();
        },
        [&config, &all_replicas] {
          std::string where = "log " + config.log_id + " and the replicas of ";
          for (size_t i = 0; i < all_replicas.size(); ++i) {
            where += (i == 0 ? "" : ", ") + all_replicas[i]->log_id() + " (" +
                     std::to_string(all_replicas[i]->size()) + " entries)";
          }
          return where;
        },
        std::chrono::milliseconds(config.replication_wait_ms));
    for (auto& replica : replicas) {
      replica->set_on_append([&replication_wait] { replication_wait->Notify(); });
    }
    service.set_replication_wait(&*replication_wait);
  }
  // Gossip: checkpoints exchanged with every peer, so that a fork is caught by every node.
  std::vector<std::string> peer_addresses;
  for (const auto& peer : config.peers) peer_addresses.push_back(peer.address);
  // A newer registry a peer gossips, once it verifies and extends ours, is written to the
  // registry file and applied by restarting (the node re-executes itself after a clean stop).
  GossipOptions gossip_options{
      config.log_id,    peer_addresses,
      peer_credentials, std::chrono::milliseconds(config.gossip_interval_ms),
      config.registry,  {}};
  if (!config.audit) {
    gossip_options.adopted = [](uint64_t) {
      g_restart_requested = true;
      kill(getpid(), SIGTERM);
    };
  }
  Gossiper gossiper(sequencer, *registry, followers, std::move(gossip_options));
  FederationService federation(**storage, sequencer, config.log_id, registry->version(), followers);
  federation.set_stream_slots(&stream_slots);
  federation.set_gossiper(&gossiper);

  grpc::EnableDefaultHealthCheckService(true);
  grpc::reflection::InitProtoReflectionServerBuilderPlugin();
  grpc::ServerBuilder builder;
  int port = 0;
  // gRPC sets SO_REUSEPORT by default: a second cairnd on the same address would then share the
  // traffic silently instead of failing to start.
  builder.AddChannelArgument(GRPC_ARG_ALLOW_REUSEPORT, 0);
  if (config.tls.cert.empty() && !IsLoopbackAddress(config.listen)) {
    LogFields(spdlog::level::warn,
              {{"msg",
                "serving plaintext on an address other than loopback: anyone on the "
                "network can read and alter the traffic; configure [tls]"},
               {"listen", config.listen}});
  }
  if (const Status free = ProbeListen(config.listen); !free.ok()) {
    sequencer.Stop();
    return Fail(kExitUsage, free.message());
  }
  std::shared_ptr<NodeStateMetrics> node_metrics;
  std::unique_ptr<prometheus::Exposer> exposer;
  std::string metrics_address;
  if (!config.metrics_listen.empty()) {
    NodeMetricSources sources{config.log_id, config.db, &sequencer, {}, &gossiper};
    for (const auto& follower : followers) sources.followers.push_back(follower.get());
    node_metrics = std::make_shared<NodeStateMetrics>(std::move(sources));
    try {
      exposer = std::make_unique<prometheus::Exposer>(config.metrics_listen, 1);
    } catch (const std::exception& e) {
      sequencer.Stop();
      return Fail(kExitUsage,
                  "metrics_listen: cannot listen on " + config.metrics_listen + ": " + e.what());
    }
    exposer->RegisterCollectable(metrics_registry);
    exposer->RegisterCollectable(node_metrics);
    const std::vector<int> ports = exposer->GetListeningPorts();
    metrics_address = BoundAddress(config.metrics_listen, ports.empty() ? 0 : ports.front());
  }
  builder.AddListeningPort(config.listen, credentials, &port);
  // Bounds under hostile load. Each synchronous call (the reads, Follow) runs on a thread of its
  // own: at most max_call_threads of them, and gRPC refuses a call beyond that with
  // RESOURCE_EXHAUSTED instead of starting a thread for it (10,000 streams opened at once took
  // 6,496 threads and 426 MB before). Appends run on the callback API and need no such thread, so
  // a flood of reads does not stop them. gRPC's buffers draw on a grpc_memory_bytes quota, and one
  // connection runs at most max_streams_per_connection calls at a time.
  grpc::ResourceQuota quota("cairnd");
  quota.SetMaxThreads(static_cast<int>(config.max_call_threads));
  quota.Resize(config.grpc_memory_bytes);
  builder.SetResourceQuota(quota);
  builder.AddChannelArgument(GRPC_ARG_MAX_CONCURRENT_STREAMS,
                             static_cast<int>(config.max_streams_per_connection));
  builder.SetMaxReceiveMessageSize(static_cast<int>(config.max_message_bytes));
  builder.SetMaxSendMessageSize(static_cast<int>(config.max_message_bytes));
  {
    // Requests that do not parse: INVALID_ARGUMENT, not gRPC's INTERNAL (node/request_parse.h).
    std::vector<std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface>> creators;
    creators.push_back(std::make_unique<RequestParseInterceptorFactory>());
    builder.experimental().SetInterceptorCreators(std::move(creators));
  }
  builder.RegisterService(&service);
  builder.RegisterService(&federation);
  std::unique_ptr<grpc::Server> server = builder.BuildAndStart();
  if (server == nullptr || (port == 0 && config.listen.rfind("unix:", 0) != 0)) {
    sequencer.Stop();
    return Fail(kExitUsage, "listen: cannot listen on " + config.listen);
  }
  // Serving for sure: only now is anything written (the registry version, then the writer). The
  // clean-stop record is spent: the next start checks everything unless this one stops cleanly.
  if (!config.audit) {
    if (const Status removed = RemoveCleanStop(config.db); !removed.ok()) {
      server->Shutdown();
      sequencer.Stop();
      return Fail(kExitUsage, "db: " + removed.message());
    }
    if (const Status recorded = (*storage)->RecordRegistryVersion(registry->version());
        !recorded.ok()) {
      server->Shutdown();
      sequencer.Stop();
      return Fail(kExitUsage, "db: cannot record the registry version: " + recorded.message());
    }
  }
  sequencer.Start();
  for (auto& follower : followers) follower->Start();
  if (!config.audit) gossiper.Start();
  const std::string address = BoundAddress(config.listen, port);
  LogFields(spdlog::level::info,
            {{"msg", "serving"},
             {"log_id", config.log_id},
             {"entries", sequencer.size()},
             {"address", address},
             {"start_check", full_check_why.empty() ? "clean-stop record" : "full"},
             {"full_check_why", full_check_why},
             {"participants", config.participants},
             {"tls", config.tls.cert.empty()          ? "off"
                     : config.tls.require_client_cert ? "mutual"
                                                      : "on"},
             {"metrics", metrics_address.empty() ? "off" : metrics_address}});
  // Health per service (grpc.health.v1): the node as a whole (""), its Ledger and its
  // Federation serve once it is up. Before that, while its stored log is checked, nothing listens;
  // in audit mode the node serves reads of a log it cannot vouch for and refuses appends, so a
  // load balancer or probe must not take it for a serving node: NOT_SERVING; and when it stops,
  // everything turns NOT_SERVING first (the stopper below).
  if (auto* health = server->GetHealthCheckService()) {
    for (const char* name : {"", "cairn.v1.Ledger", "cairn.v1.Federation"}) {
      health->SetServingStatus(name, !config.audit);
    }
  }
  if (config.audit) std::cout << "cairnd: audit mode: read-only, appends are refused\n";
  std::cout << "cairnd: serving log " << config.log_id << " (" << sequencer.size()
            << " entries) on " << address << std::endl;
  if (!metrics_address.empty()) {
    std::cout << "cairnd: metrics on http://" << metrics_address << "/metrics" << std::endl;
  }
  NotifyReady("serving log " + config.log_id + " (" + std::to_string(sequencer.size()) +
              " entries) on " + address + (config.audit ? ", audit mode: read-only" : ""));
  // systemd's watchdog (WatchdogSec=): pinged while the writer's checkpoint lock can be taken.
  Watchdog watchdog([&sequencer] {
    (void)sequencer.LatestCheckpoint();
    return true;
  });

  std::thread stopper([&] {
    int signal_number = 0;
    sigwait(&stop_signals, &signal_number);
    LogFields(spdlog::level::info, {{"msg", "stopping"}, {"signal", strsignal(signal_number)}});
    NotifyStopping(std::string("stopping on ") + strsignal(signal_number));
    if (auto* health = server->GetHealthCheckService()) health->SetServingStatus(false);
    // Let running handlers answer (up to the deadline), then shut down at once: waiting the
    // whole deadline would only wait for idle clients to notice GOAWAY.
    service.StopAccepting();
    if (replication_wait) replication_wait->Stop();  // parked appends end UNAVAILABLE
    federation.StopAccepting();  // open Follow streams end within FederationService::kStopPoll
    const auto deadline = std::chrono::steady_clock::now() + kShutdownDeadline;
    const bool idle = service.WaitUntilIdle(deadline) && federation.WaitUntilIdle(deadline);
    if (!idle) LogFields(spdlog::level::warn, {{"msg", "cancelling requests still running"}});
    server->Shutdown(std::chrono::system_clock::now());
  });
  server->Wait();
  stopper.join();
  gossiper.Stop();
  for (auto& follower : followers) follower->Stop();
  sequencer.Stop();  // answers anything still queued, then joins the writer
  LogFields(spdlog::level::info, {{"msg", "stopped"}, {"entries", sequencer.size()}});
  if (!config.audit) {
    // The record vouches for what the last checkpoint covers, which is every entry.
    CleanStopState state{config.log_id, sequencer.size(), Hash{}, registry->version(),
                         (*storage)->EventKeys(sequencer.size())};
    cairn::v1::Checkpoint last;
    if (last.ParseFromString(sequencer.LatestCheckpoint().checkpoint()) &&
        last.size() == state.entries && last.root_hash().size() == state.root.size()) {
      std::copy(last.root_hash().begin(), last.root_hash().end(), state.root.begin());
      clean_stop = CleanStop{std::move(state), *node_key};
    } else if (state.entries == 0) {
      clean_stop = CleanStop{std::move(state), *node_key};
    }
  }
  return kExitOk;
}

int Main(int argc, char** argv) {
  // Debian's Abseil is built with Mutex deadlock detection on, which makes every lock gRPC takes
  // update a global lock graph (~2% of the node's CPU under load). A release server has no use
  // for it.
  absl::SetMutexDeadlockDetectionMode(absl::OnDeadlockCycle::kIgnore);
  // Blocked before any thread starts, so every thread (gRPC's included) inherits the mask and
  // only the stopper's sigwait receives them.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGTERM);
  sigaddset(&stop_signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);

  // Every client connection is a descriptor: take the hard limit on open files, not the soft
  // limit of 1,024 a service gets by default, past which connections are turned away (2,000 idle
  // connections refused honest clients before; HostileTest).
  if (rlimit files{}; getrlimit(RLIMIT_NOFILE, &files) == 0 && files.rlim_cur < files.rlim_max) {
    files.rlim_cur = files.rlim_max;
    (void)setrlimit(RLIMIT_NOFILE, &files);
  }

  CLI::App app("", "cairnd");
  app.set_version_flag("--version", "cairnd " CAIRN_VERSION);
  NodeFlags flags;
  AddNodeFlags(app, flags);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    const int code = app.exit(e);  // prints help, or the error
    return code == 0 ? kExitOk : kExitUsage;
  }
  auto config = ResolveConfig(flags);
  if (!config.ok()) return Fail(kExitUsage, config.status().message());

  InstallJsonLogger(config->log_level);
  gpr_set_log_function(GrpcLogToJson);

  if (flags.check_config) return CheckConfig(*config);
  if (flags.repair_report) return RepairReport(*config);
  std::optional<CleanStop> clean_stop;
  const int code = Serve(*config, stop_signals, clean_stop);
  // Every connection to the database is closed now, its write-ahead log checkpointed: the file is
  // as the next start will find it, unless something else writes it.
  if (code == kExitOk && clean_stop && !g_restart_requested) {
    if (const Status written = WriteCleanStop(config->db, clean_stop->state, clean_stop->node_key);
        !written.ok()) {
      LogFields(spdlog::level::warn,
                {{"msg", "no clean-stop record; the next start checks every entry"},
                 {"error", written.message()}});
    }
  }
  if (code == kExitOk && g_restart_requested) {
    // A newer trust registry was adopted: start again with it, same arguments, same pid.
    LogFields(spdlog::level::info, {{"msg", "restarting with the adopted registry"}});
    execv("/proc/self/exe", argv);
    return Fail(kExitUsage, std::string("cannot restart: execv: ") + strerror(errno));
  }
  return code;
}

}  // namespace
}  // namespace cairn::node

int main(int argc, char** argv) { return cairn::node::Main(argc, argv); }
