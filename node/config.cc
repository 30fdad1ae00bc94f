#include "node/config.h"

#include <toml++/toml.h>

#include <climits>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

#include "ledger/toml_names.h"
#include "ledger/validate.h"

namespace cairn::node {

namespace {

namespace fs = std::filesystem;

constexpr uint64_t kMinMessageBytes = 128 * 1024;  // an event body may be 64 KiB
constexpr uint64_t kMaxMessageBytes = INT_MAX;     // gRPC takes an int

const std::set<std::string>& LogLevels() {
  static const std::set<std::string> levels = {"trace", "debug",    "info", "warn",
                                               "error", "critical", "off"};
  return levels;
}

std::string Quote(std::string_view s) {
  std::string out = "\"";
  for (char c : s.substr(0, 80)) {
    if (c == '"' || c == '\\') out.push_back('\\');
    out.push_back(c);
  }
  if (s.size() > 80) out += "...";
  return out + "\"";
}

std::string Resolve(const std::string& base_dir, const std::string& path) {
  if (path.empty() || base_dir.empty() || fs::path(path).is_absolute()) return path;
  return (fs::path(base_dir) / path).lexically_normal().string();
}

// "<source>:<line>: <key>: "
std::string Where(const std::string& source, const std::string& key, const toml::node& node) {
  return source + ":" + std::to_string(node.source().begin.line) + ": " + key + ": ";
}

Status WantString(const std::string& source, const std::string& key, const toml::node& node,
                  std::string& out) {
  if (!node.is_string()) {
    return InvalidArgument(Where(source, key, node) + "got " + ledger::TomlTypeName(node) +
                           ", want a string");
  }
  out = *node.value<std::string>();
  return Status::Ok();
}

}  // namespace

void AddNodeFlags(CLI::App& app, NodeFlags& flags) {
  app.description(
      "cairnd: the Cairn ledger node. Appends signed, hash-chained provenance events for the\n"
      "participants it hosts to one Merkle-tree log in SQLite, and serves the cairn.v1.Ledger,\n"
      "grpc.health.v1.Health and reflection services over gRPC.");
  app.add_option("-c,--config", flags.config_path,
                 "TOML config file; flags override its keys, relative paths in it resolve "
                 "against its directory");
  flags.listen_opt = app.add_option("--listen", flags.listen,
                                    "gRPC listen address (default 127.0.0.1:7400; port 0 picks a "
                                    "free port, printed in the serving line)");
  flags.db_opt = app.add_option("--db", flags.db, "SQLite database file (created when absent)");
  flags.log_id_opt = app.add_option("--log-id", flags.log_id,
                                    "id of the log this node runs, [a-z0-9-]{2,40}, as listed in "
                                    "the registry");
  flags.node_key_opt =
      app.add_option("--node-key", flags.node_key, "key file of the log's checkpoint signing key");
  flags.passphrase_opt =
      app.add_option("--node-key-passphrase-file", flags.node_key_passphrase_file,
                     "file whose first line is the passphrase of a sealed node key");
  flags.registry_opt = app.add_option("--registry", flags.registry, "trust registry file");
  flags.participants_opt = app.add_option("--participants", flags.participants,
                                          "participant ids this node hosts (comma-separated)")
                               ->delimiter(',');
  flags.max_message_opt = app.add_option("--max-message-bytes", flags.max_message_bytes,
                                         "largest gRPC message received or sent (default "
                                         "4194304)");
  flags.replication_wait_opt = app.add_option(
      "--replication-wait-ms", flags.replication_wait_ms,
      "how long an append that refers to an event of another log (a receipt of the mine's "
      "dispatch) waits for that event to be replicated before it is refused (default 5000; 0 "
      "refuses at once)");
  flags.writer_nice_opt = app.add_option(
      "--writer-nice", flags.writer_nice,
      "nice value of the thread that commits appends, -20..19 (default: unchanged; below 0 "
      "schedules it ahead of the handler threads and needs root or CAP_SYS_NICE, else a "
      "warning)");
  flags.log_level_opt = app.add_option(
      "--log-level", flags.log_level,
      "trace, debug, info, warn, error, critical or off (default info); logs are JSON lines on "
      "stderr");
  flags.audit_opt = app.add_flag(
      "--audit", flags.audit,
      "audit mode: open the database read-only and serve its reads (entries, events, lots, the "
      "last checkpoint the node signed, proofs where computable) even when the log is broken "
      "(the problem is logged as a warning); appends are refused with FAILED_PRECONDITION");
  flags.tls_cert_opt = app.add_option("--tls-cert", flags.tls_cert,
                                      "PEM certificate chain of this node: serve TLS (with "
                                      "--tls-key)");
  flags.tls_key_opt = app.add_option("--tls-key", flags.tls_key, "PEM private key of --tls-cert");
  flags.tls_ca_opt = app.add_option(
      "--tls-ca", flags.tls_ca,
      "PEM file of the consortium CA: client certificates are asked for and must chain to it");
  flags.require_client_cert_opt =
      app.add_flag("--require-client-cert", flags.require_client_cert,
                   "refuse clients without a certificate that chains to --tls-ca (mutual TLS)");
  app.add_flag("--repair-report", flags.repair_report,
               "check every stored entry, print every problem found, and exit without serving or "
               "changing anything (0: no problems, 1: problems)");
  app.footer(
      "Config file keys (TOML); each has the flag of the same name with - for _:\n"
      "  listen = \"127.0.0.1:7400\"\n"
      "  db = \"node.db\"\n"
      "  log_id = \"demo-log\"\n"
      "  node_key = \"keys/demo-log.key\"\n"
      "  node_key_passphrase_file = \"node-key.pass\"   # optional\n"
      "  registry = \"registry.json\"\n"
      "  participants = [\"pk-fwo\", \"us-usm\"]\n"
      "  max_message_bytes = 4194304\n"
      "  writer_nice = -10                            # optional\n"
      "  log_level = \"info\"\n"
      "  audit = false\n"
      "  replica_dir = \"node.db.replicas\"             # default: db + \".replicas\"\n"
      "  replication_wait_ms = 5000                   # an append waits this long for an event\n"
      "                                               # of another log it refers to\n"
      "  gossip_interval_ms = 1000                    # checkpoints exchanged with each peer\n"
      "  [tls]                                        # optional; plaintext without it\n"
      "  cert = \"tls/node.crt\"\n"
      "  key = \"tls/node.key\"\n"
      "  ca = \"tls/ca.crt\"                           # asks for client certificates\n"
      "  require_client_cert = true                   # refuses clients without one\n"
      "  [[peer]]                                     # one per node followed\n"
      "  address = \"mine.example:7400\"\n"
      "  logs = [\"pk-fwo-log\"]\n"
      "Flags for [tls]: --tls-cert, --tls-key, --tls-ca, --require-client-cert. Plaintext on an\n"
      "address other than loopback is served with a warning.\n"
      "Required: db, log_id, node_key, registry, participants. The receipt tolerance is a\n"
      "consortium rule in the signed registry (cairn registry set-rules), not a node setting.\n"
      "Exit codes: 0 stopped cleanly (SIGTERM/SIGINT), 1 stored log is broken, 2 usage, config or\n"
      "I/O error.");
}

namespace {

// The [tls] table.
Status ApplyTlsTable(const std::string& source, const std::string& base_dir, const toml::node& node,
                     ServerTls& tls) {
  const toml::table* table = node.as_table();
  if (table == nullptr) {
    return InvalidArgument(Where(source, "tls", node) + "got " + ledger::TomlTypeName(node) +
                           ", want a table [tls] with cert, key, ca, require_client_cert");
  }
  for (auto&& [key_node, value] : *table) {
    const std::string key = "tls." + std::string(key_node.str());
    if (key == "tls.cert" || key == "tls.key" || key == "tls.ca") {
      std::string path;
      CAIRN_RETURN_IF_ERROR(WantString(source, key, value, path));
      if (path.empty()) return InvalidArgument(Where(source, key, value) + "empty path");
      path = Resolve(base_dir, path);
      if (key == "tls.cert") tls.cert = path;
      if (key == "tls.key") tls.key = path;
      if (key == "tls.ca") tls.ca = path;
    } else if (key == "tls.require_client_cert") {
      if (!value.is_boolean()) {
        return InvalidArgument(Where(source, key, value) + "got " + ledger::TomlTypeName(value) +
                               ", want true or false");
      }
      tls.require_client_cert = *value.value<bool>();
    } else {
      return InvalidArgument(Where(source, key, value) +
                             "unknown key (known: cert, key, ca, require_client_cert)");
    }
  }
  return Status::Ok();
}

// The [[peer]] tables: address = "host:port", logs = ["log-id", ...].
Status ApplyPeerTables(const std::string& source, const toml::node& node,
                       std::vector<NodeConfig::Peer>& peers) {
  const toml::array* array = node.as_array();
  if (array == nullptr || !array->is_array_of_tables()) {
    return InvalidArgument(Where(source, "peer", node) + "got " + ledger::TomlTypeName(node) +
                           ", want [[peer]] tables with address and logs");
  }
  for (size_t i = 0; i < array->size(); ++i) {
    const toml::table& table = *array->get(i)->as_table();
    const std::string at = "peer[" + std::to_string(i) + "]";
    NodeConfig::Peer peer;
    for (auto&& [key_node, value] : table) {
      const std::string key = at + "." + std::string(key_node.str());
      if (key_node.str() == "address") {
        CAIRN_RETURN_IF_ERROR(WantString(source, key, value, peer.address));
      } else if (key_node.str() == "logs") {
        const toml::array* logs = value.as_array();
        if (logs == nullptr) {
          return InvalidArgument(Where(source, key, value) + "got " + ledger::TomlTypeName(value) +
                                 ", want an array of log ids");
        }
        for (size_t j = 0; j < logs->size(); ++j) {
          const toml::node& item = *logs->get(j);
          if (!item.is_string()) {
            return InvalidArgument(Where(source, key + "[" + std::to_string(j) + "]", item) +
                                   "got " + ledger::TomlTypeName(item) + ", want a string");
          }
          peer.logs.push_back(*item.value<std::string>());
        }
      } else {
        return InvalidArgument(Where(source, key, value) + "unknown key (known: address, logs)");
      }
    }
    if (peer.address.empty()) return InvalidArgument(source + ": " + at + ".address: required");
    if (peer.logs.empty()) {
      return InvalidArgument(source + ": " + at + ".logs: required (the log ids to follow)");
    }
    peers.push_back(std::move(peer));
  }
  return Status::Ok();
}

}  // namespace

Status ApplyConfigToml(std::string_view text, const std::string& source,
                       const std::string& base_dir, NodeConfig& config) {
  toml::table table;
  try {
    table = toml::parse(text, source);
  } catch (const toml::parse_error& e) {
    return InvalidArgument(source + ":" + std::to_string(e.source().begin.line) + ":" +
                           std::to_string(e.source().begin.column) + ": " +
                           std::string(e.description()));
  }
  for (auto&& [key_node, node] : table) {
    const std::string key(key_node.str());
    if (key == "listen") {
      CAIRN_RETURN_IF_ERROR(WantString(source, key, node, config.listen));
    } else if (key == "db" || key == "node_key" || key == "node_key_passphrase_file" ||
               key == "registry") {
      std::string value;
      CAIRN_RETURN_IF_ERROR(WantString(source, key, node, value));
      if (value.empty()) return InvalidArgument(Where(source, key, node) + "empty path");
      value = Resolve(base_dir, value);
      if (key == "db") config.db = value;
      if (key == "node_key") config.node_key = value;
      if (key == "node_key_passphrase_file") config.node_key_passphrase_file = value;
      if (key == "registry") config.registry = value;
    } else if (key == "log_id") {
      CAIRN_RETURN_IF_ERROR(WantString(source, key, node, config.log_id));
    } else if (key == "log_level") {
      CAIRN_RETURN_IF_ERROR(WantString(source, key, node, config.log_level));
    } else if (key == "participants") {
      const toml::array* array = node.as_array();
      if (array == nullptr) {
        return InvalidArgument(Where(source, key, node) + "got " + ledger::TomlTypeName(node) +
                               ", want an array of participant ids");
      }
      config.participants.clear();
      for (size_t i = 0; i < array->size(); ++i) {
        const toml::node& item = *array->get(i);
        if (!item.is_string()) {
          return InvalidArgument(Where(source, key + "[" + std::to_string(i) + "]", item) + "got " +
                                 ledger::TomlTypeName(item) + ", want a string");
        }
        config.participants.push_back(*item.value<std::string>());
      }
    } else if (key == "max_message_bytes") {
      if (!node.is_integer() || *node.value<int64_t>() <= 0) {
        return InvalidArgument(Where(source, key, node) + "want a positive integer");
      }
      config.max_message_bytes = static_cast<uint64_t>(*node.value<int64_t>());
    } else if (key == "receipt_tolerance") {
      return InvalidArgument(Where(source, key, node) +
                             "the receipt tolerance is a consortium rule that nodes and auditors "
                             "apply alike: it is set in the signed registry (cairn registry "
                             "set-rules --receipt-tolerance-ppm N), not in a node's config");
    } else if (key == "writer_nice") {
      if (!node.is_integer()) {
        return InvalidArgument(Where(source, key, node) + "got " + ledger::TomlTypeName(node) +
                               ", want an integer -20..19");
      }
      const int64_t nice = *node.value<int64_t>();
      if (nice < -20 || nice > 19) {
        return InvalidArgument(Where(source, key, node) + "got " + std::to_string(nice) +
                               ", want -20..19");
      }
      config.writer_nice = static_cast<int>(nice);
    } else if (key == "peer") {
      CAIRN_RETURN_IF_ERROR(ApplyPeerTables(source, node, config.peers));
    } else if (key == "replication_wait_ms") {
      if (!node.is_integer() || *node.value<int64_t>() < 0 || *node.value<int64_t>() > 3'600'000) {
        return InvalidArgument(Where(source, key, node) + "want an integer 0..3600000");
      }
      config.replication_wait_ms = static_cast<uint64_t>(*node.value<int64_t>());
    } else if (key == "gossip_interval_ms") {
      if (!node.is_integer() || *node.value<int64_t>() < 50 || *node.value<int64_t>() > 3'600'000) {
        return InvalidArgument(Where(source, key, node) + "want an integer 50..3600000");
      }
      config.gossip_interval_ms = static_cast<uint64_t>(*node.value<int64_t>());
    } else if (key == "replica_dir") {
      std::string value;
      CAIRN_RETURN_IF_ERROR(WantString(source, key, node, value));
      if (value.empty()) return InvalidArgument(Where(source, key, node) + "empty path");
      config.replica_dir = Resolve(base_dir, value);
    } else if (key == "tls") {
      CAIRN_RETURN_IF_ERROR(ApplyTlsTable(source, base_dir, node, config.tls));
    } else if (key == "audit") {
      if (!node.is_boolean()) {
        return InvalidArgument(Where(source, key, node) + "got " + ledger::TomlTypeName(node) +
                               ", want true or false");
      }
      config.audit = *node.value<bool>();
    } else {
      return InvalidArgument(
          Where(source, key, node) +
          "unknown key (known: listen, db, log_id, node_key, "
          "node_key_passphrase_file, registry, participants, "
          "max_message_bytes, writer_nice, log_level, "
          "audit, replica_dir, replication_wait_ms, gossip_interval_ms, [tls], [[peer]])");
    }
  }
  return Status::Ok();
}

Status ApplyConfigFile(const std::string& path, NodeConfig& config) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return InvalidArgument("cannot read config file " + path);
  std::ostringstream text;
  text << in.rdbuf();
  if (in.bad()) return InvalidArgument("cannot read config file " + path);
  const std::string base_dir = fs::path(path).parent_path().string();
  return ApplyConfigToml(text.str(), path, base_dir.empty() ? "." : base_dir, config);
}

Status ValidateConfig(const NodeConfig& config) {
  if (config.listen.empty()) return InvalidArgument("listen: required");
  if (config.listen.rfind("unix:", 0) != 0) {
    const size_t colon = config.listen.rfind(':');
    const std::string port = colon == std::string::npos ? "" : config.listen.substr(colon + 1);
    bool digits = !port.empty() && port.size() <= 5;
    for (char c : port) digits = digits && c >= '0' && c <= '9';
    if (!digits || std::stoul(port) > 65535 || colon == 0) {
      return InvalidArgument("listen: got " + Quote(config.listen) +
                             ", want HOST:PORT like \"127.0.0.1:7400\" (port 0..65535)");
    }
  }
  if (config.db.empty()) return InvalidArgument("db: required (the SQLite database file)");
  if (config.log_id.empty()) return InvalidArgument("log_id: required");
  if (!ledger::IsLogId(config.log_id)) {
    return InvalidArgument("log_id: got " + Quote(config.log_id) + ", want [a-z0-9-]{2,40}");
  }
  if (config.node_key.empty()) {
    return InvalidArgument("node_key: required (the log's checkpoint key file)");
  }
  if (config.registry.empty()) return InvalidArgument("registry: required (the registry file)");
  std::set<std::string> followed;
  for (size_t i = 0; i < config.peers.size(); ++i) {
    for (size_t j = 0; j < config.peers[i].logs.size(); ++j) {
      const std::string& log = config.peers[i].logs[j];
      const std::string at = "peer[" + std::to_string(i) + "].logs[" + std::to_string(j) + "]";
      if (!ledger::IsLogId(log)) {
        return InvalidArgument(at + ": got " + Quote(log) + ", want [a-z0-9-]{2,40}");
      }
      if (log == config.log_id) return InvalidArgument(at + ": " + log + " is this node's own log");
      if (!followed.insert(log).second) {
        return InvalidArgument(at + ": log " + log + " is followed twice (one peer per log)");
      }
    }
  }
  if (config.participants.empty()) {
    return InvalidArgument("participants: required (the participant ids this node hosts)");
  }
  std::set<std::string> seen;
  for (size_t i = 0; i < config.participants.size(); ++i) {
    const std::string& id = config.participants[i];
    const std::string field = "participants[" + std::to_string(i) + "]";
    if (!ledger::IsParticipantId(id)) {
      return InvalidArgument(field + ": got " + Quote(id) + ", want [a-z0-9-]{2,40}");
    }
    if (!seen.insert(id).second) return InvalidArgument(field + ": " + id + " is listed twice");
  }
  if (config.max_message_bytes < kMinMessageBytes || config.max_message_bytes > kMaxMessageBytes) {
    return InvalidArgument("max_message_bytes: got " + std::to_string(config.max_message_bytes) +
                           ", want " + std::to_string(kMinMessageBytes) + ".." +
                           std::to_string(kMaxMessageBytes));
  }
  if (config.writer_nice && (*config.writer_nice < -20 || *config.writer_nice > 19)) {
    return InvalidArgument("writer_nice: got " + std::to_string(*config.writer_nice) +
                           ", want -20..19");
  }
  if (LogLevels().count(config.log_level) == 0) {
    return InvalidArgument("log_level: got " + Quote(config.log_level) +
                           ", want trace, debug, info, warn, error, critical or off");
  }
  return Status::Ok();
}

Result<NodeConfig> ResolveConfig(const NodeFlags& flags) {
  NodeConfig config;
  if (!flags.config_path.empty()) CAIRN_RETURN_IF_ERROR(ApplyConfigFile(flags.config_path, config));
  const auto given = [](const CLI::Option* option) {
    return option != nullptr && option->count() > 0;
  };
  if (given(flags.listen_opt)) config.listen = flags.listen;
  if (given(flags.db_opt)) config.db = flags.db;
  if (given(flags.log_id_opt)) config.log_id = flags.log_id;
  if (given(flags.node_key_opt)) config.node_key = flags.node_key;
  if (given(flags.passphrase_opt)) config.node_key_passphrase_file = flags.node_key_passphrase_file;
  if (given(flags.registry_opt)) config.registry = flags.registry;
  if (given(flags.participants_opt)) config.participants = flags.participants;
  if (given(flags.max_message_opt)) config.max_message_bytes = flags.max_message_bytes;
  if (given(flags.writer_nice_opt)) config.writer_nice = flags.writer_nice;
  if (given(flags.log_level_opt)) config.log_level = flags.log_level;
  if (given(flags.audit_opt)) config.audit = flags.audit;
  if (given(flags.replication_wait_opt)) config.replication_wait_ms = flags.replication_wait_ms;
  if (given(flags.tls_cert_opt)) config.tls.cert = flags.tls_cert;
  if (given(flags.tls_key_opt)) config.tls.key = flags.tls_key;
  if (given(flags.tls_ca_opt)) config.tls.ca = flags.tls_ca;
  if (given(flags.require_client_cert_opt)) config.tls.require_client_cert = true;
  CAIRN_RETURN_IF_ERROR(ValidateConfig(config));
  return config;
}

}  // namespace cairn::node
