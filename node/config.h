// cairnd's configuration: defaults, overlaid by a TOML file, overlaid by command-line flags.
//
//   listen                   = "127.0.0.1:7400"   gRPC address; port 0 picks a free port
//   db                       = "node.db"          SQLite database (created when absent)
//   log_id                   = "demo-log"         [a-z0-9-]{2,40}; must be in the registry
//   node_key                 = "keys/demo-log.key" the log's checkpoint signing key file
//   node_key_passphrase_file = "..."              optional, for a sealed node_key
//   registry                 = "registry.json"    the consortium trust registry file
//   participants             = ["pk-fwo", ...]    participant ids this node hosts
//   max_message_bytes        = 4194304            largest gRPC message received or sent
//   writer_nice              = -10                optional: nice value of the writer thread
//                                                 (-20..19); unset leaves it alone
//   log_level                = "info"             trace, debug, info, warn, error, critical, off
//   audit                    = false              serve a stored log read-only, even a broken one
//   replica_dir              = "node.db.replicas" where replicas of followed logs are kept
//   replication_wait_ms      = 5000               how long an append waits for an event of
//                                                 another log it refers to
//   gossip_interval_ms       = 1000               how often checkpoints are exchanged with peers
//   [tls], [[peer]]                               TLS files; logs followed, per peer
//
// Relative paths in the file resolve against the file's directory; relative paths given as flags
// resolve against the working directory. Unknown keys in the file are errors (a typo must not
// silently fall back to a default). Pure values and functions; thread-compatible.
#pragma once

#include <CLI/CLI.hpp>
#include <cstdint>
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
};

// The command line: the config file, overrides for every key, and modes.
struct NodeFlags {
  std::string config_path;
  bool repair_report = false;

  // Overrides; each applies only when its option was given.
  std::string listen, db, log_id, node_key, node_key_passphrase_file, registry, log_level;
  std::string tls_cert, tls_key, tls_ca;
  bool require_client_cert = false;
  std::vector<std::string> participants;
  uint64_t max_message_bytes = 0;
  int writer_nice = 0;
  bool audit = false;
  uint64_t replication_wait_ms = 0;

  // The options, to ask whether each was given. Set by AddNodeFlags; owned by the CLI::App.
  CLI::Option* listen_opt = nullptr;
  CLI::Option* db_opt = nullptr;
  CLI::Option* log_id_opt = nullptr;
  CLI::Option* node_key_opt = nullptr;
  CLI::Option* passphrase_opt = nullptr;
  CLI::Option* registry_opt = nullptr;
  CLI::Option* participants_opt = nullptr;
  CLI::Option* max_message_opt = nullptr;
  CLI::Option* writer_nice_opt = nullptr;
  CLI::Option* log_level_opt = nullptr;
  CLI::Option* audit_opt = nullptr;
  CLI::Option* replication_wait_opt = nullptr;
  CLI::Option* tls_cert_opt = nullptr;
  CLI::Option* tls_key_opt = nullptr;
  CLI::Option* tls_ca_opt = nullptr;
  CLI::Option* require_client_cert_opt = nullptr;
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

// Defaults, then the file named by --config (if any), then the flags given; then validated.
Result<NodeConfig> ResolveConfig(const NodeFlags& flags);

}  // namespace cairn::node
