// cairnd's configuration: defaults, overlaid by a TOML file, by the environment (CAIRN_<KEY>), and
// by command-line flags. Every key is defined once, in the table in config.cc, which gives its
// TOML name, flag, variable, type, range and help.
//
// `cairnd --help` lists them (the footer is made from the table) and README.md documents them.
//
// Relative paths in the file resolve against the file's directory; relative paths given as flags
// or in the environment resolve against the working directory. Unknown keys in the file are errors
// (a typo must not silently fall back to a default). Pure values and functions; thread-compatible.
#pragma once

#include <CLI/CLI.hpp>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "common/tls.h"

namespace cairn::node {

inline constexpr char kDefaultListen[] = "127.0.0.1:7400";
inline constexpr uint64_t kDefaultMaxMessageBytes = 4 * 1024 * 1024;

struct NodeConfig {
  std::string listen = kDefaultListen;
  std::string db;
  std::string log_id;
  std::string node_key;
  std::string node_key_passphrase_file;  // empty: the key file is not sealed
  std::string registry;
  std::vector<std::string> participants;
  uint64_t max_message_bytes = kDefaultMaxMessageBytes;
  // The writer thread commits every group that the gRPC handler threads fill: whenever it waits
  // for a core, every caller waits. Below 0 needs root or CAP_SYS_NICE (else a warning, and it
  // runs at the process's priority). nullopt: left alone.
  std::optional<int> writer_nice;
  std::string log_level = "info";
  // Audit mode: open the database read-only, serve reads (a broken log too, with a warning),
  // refuse appends.
  bool audit = false;
  // Check every stored entry at start even after a clean stop (node/clean_stop.h).
  bool full_start_check = false;
  // TLS ([tls] table: cert, key, ca, require_client_cert); plaintext when cert and key are empty.
  // Followers connect to peers with the same files: ca to check the peer, cert and key as the
  // client certificate.
  ServerTls tls;
  // The nodes whose logs this node follows ([[peer]] tables: address, logs).
  struct Peer {
    std::string address;
    std::vector<std::string> logs;
  };
  std::vector<Peer> peers;
  // Where the replicas of followed logs are stored: one SQLite file per log. Default: the db
  // path with ".replicas" appended.
  std::string replica_dir;
  // How long an append that refers to an event of another log waits for that event to be
  // replicated before it is refused (FAILED_PRECONDITION); 0 refuses at once.
  uint64_t replication_wait_ms = 5000;
  // How often the node exchanges checkpoints with each peer (gossip; forks found in seconds).
  uint64_t gossip_interval_ms = 1000;
  // Bounds under hostile load (node/main.cc): threads for synchronous calls (reads, Follow;
  // beyond them a call is refused RESOURCE_EXHAUSTED), gRPC's buffer memory, and the calls one
  // connection may run at once.
  uint64_t max_call_threads = 96;
  uint64_t grpc_memory_bytes = uint64_t{128} << 20;
  uint64_t max_streams_per_connection = 256;
  // Server streams (GetEntries, Trace, Follow) get at most half of max_call_threads; one client
  // host at most max_streams_per_host of them; a stream whose message has waited
  // stream_stall_timeout_ms for its reader is cancelled.
  uint64_t max_streams_per_host = 16;
  uint64_t stream_stall_timeout_ms = 30'000;
  // host:port of the Prometheus metrics endpoint (/metrics over HTTP); empty: none.
  std::string metrics_listen;
  // Where each key's value came from: "default", the config file's path, "CAIRN_DB", "--db".
  std::map<std::string, std::string> sources;
};

// The command line: the config file, a flag for every key, and modes.
struct NodeFlags {
  std::string config_path;
  bool repair_report = false;
  bool check_config = false;
  // Per key of the table in config.cc, in its order (set by AddNodeFlags): the flag's text, its
  // count for a boolean flag, and the option, to ask whether it was given.
  std::vector<std::string> values;
  std::vector<int64_t> counts;
  std::vector<CLI::Option*> options;
};

// Adds cairnd's flags, with help text documenting the file's keys, to `app`. `flags` must remain
// live while `app` parses.
void AddNodeFlags(CLI::App& app, NodeFlags& flags);

// Overlays the keys of TOML `text` on `config`. `source` names the text in errors ("node.toml");
// relative paths resolve against `base_dir`. INVALID_ARGUMENT "<source>:<line>:<col>: ..." for a
// syntax error, "<source>: <key>: got ..., want ..." for a wrong type or value, or an unknown key.
Status ApplyConfigToml(std::string_view text, const std::string& source,
                       const std::string& base_dir, NodeConfig& config);

// Reads the file at `path` and applies it as ApplyConfigToml does. INVALID_ARGUMENT when it
// cannot be read.
Status ApplyConfigFile(const std::string& path, NodeConfig& config);

// Checks every value: required keys present, ids well-formed, numbers in range. INVALID_ARGUMENT
// naming the key and the rule, e.g. "log_id: got \"Demo\", want [a-z0-9-]{2,40}".
Status ValidateConfig(const NodeConfig& config);

// Defaults, then the file named by --config (if any), then the environment (CAIRN_<KEY>: CAIRN_DB,
// CAIRN_TLS_CERT; empty variables are ignored), then the flags given; then validated. Errors name
// the source: "node.toml:3: db: ...", "CAIRN_WRITER_NICE: got ...", "--listen: ...".
Result<NodeConfig> ResolveConfig(const NodeFlags& flags);

// Every key with its value and its source, one per line: `db = "/srv/node.db"  # CAIRN_DB`.
std::string DescribeConfig(const NodeConfig& config);

}  // namespace cairn::node
