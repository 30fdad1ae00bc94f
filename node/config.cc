#include "node/config.h"

#include <toml++/toml.h>

#include <cctype>
#include <charconv>
#include <climits>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>
#include <variant>

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

// Every key of cairnd's configuration, once: its TOML name (a "tls." prefix: in the [tls] table),
// and from it its flag (--name with - for _ and .) and its environment variable (CAIRN_NAME,
// upper case, _ for .), its type and range, an example and its help. [[peer]] tables are the one
// thing only the file can say.
enum class Kind { kString, kPath, kList, kUint, kInt, kBool };

using Value = std::variant<std::string, std::vector<std::string>, int64_t, bool>;

struct Key {
  const char* name;
  Kind kind;
  int64_t min, max;     // kUint, kInt
  const char* example;  // the TOML value shown in --help
  const char* help;
  void (*set)(NodeConfig&, const Value&);
  std::optional<Value> (*get)(const NodeConfig&);  // nullopt: unset
  const char* flag = nullptr;                      // when not derived from the name
};

const std::string& Str(const Value& v) { return std::get<std::string>(v); }

const std::vector<Key>& Keys() {
  static const std::vector<Key> keys = {
      {"listen", Kind::kString, 0, 0, "\"127.0.0.1:7400\"",
       "gRPC listen address (default 127.0.0.1:7400; port 0 picks a free port, printed in the "
       "serving line)",
       [](NodeConfig& c, const Value& v) { c.listen = Str(v); },
       [](const NodeConfig& c) -> std::optional<Value> { return c.listen; }},
      {"db", Kind::kPath, 0, 0, "\"node.db\"", "SQLite database file (created when absent)",
       [](NodeConfig& c, const Value& v) { c.db = Str(v); },
       [](const NodeConfig& c) -> std::optional<Value> { return c.db; }},
      {"log_id", Kind::kString, 0, 0, "\"demo-log\"",
       "id of the log this node runs, [a-z0-9-]{2,40}, as listed in the registry",
       [](NodeConfig& c, const Value& v) { c.log_id = Str(v); },
       [](const NodeConfig& c) -> std::optional<Value> { return c.log_id; }},
      {"node_key", Kind::kPath, 0, 0, "\"keys/demo-log.key\"",
       "key file of the log's checkpoint signing key",
       [](NodeConfig& c, const Value& v) { c.node_key = Str(v); },
       [](const NodeConfig& c) -> std::optional<Value> { return c.node_key; }},
      {"node_key_passphrase_file", Kind::kPath, 0, 0, "\"node-key.pass\"",
       "optional: file whose first line is the passphrase of a sealed node key",
       [](NodeConfig& c, const Value& v) { c.node_key_passphrase_file = Str(v); },
       [](const NodeConfig& c) -> std::optional<Value> { return c.node_key_passphrase_file; }},
      {"registry", Kind::kPath, 0, 0, "\"registry.json\"", "trust registry file",
       [](NodeConfig& c, const Value& v) { c.registry = Str(v); },
       [](const NodeConfig& c) -> std::optional<Value> { return c.registry; }},
      {"participants", Kind::kList, 0, 0, "[\"pk-fwo\", \"us-usm\"]",
       "participant ids this node hosts (comma-separated in a flag or variable)",
       [](NodeConfig& c, const Value& v) {
         c.participants = std::get<std::vector<std::string>>(v);
       },
       [](const NodeConfig& c) -> std::optional<Value> { return c.participants; }},
      {"max_message_bytes", Kind::kUint, 1, INT64_MAX, "4194304",
       "largest gRPC message received or sent (default 4194304)",
       [](NodeConfig& c, const Value& v) { c.max_message_bytes = std::get<int64_t>(v); },
       [](const NodeConfig& c) -> std::optional<Value> {
         return static_cast<int64_t>(c.max_message_bytes);
       }},
      {"writer_nice", Kind::kInt, -20, 19, "-10",
       "optional: nice value of the thread that commits appends, -20..19 (default: unchanged; "
       "below 0 schedules it ahead of the handler threads and needs root or CAP_SYS_NICE, else a "
       "warning)",
       [](NodeConfig& c, const Value& v) {
         c.writer_nice = static_cast<int>(std::get<int64_t>(v));
       },
       [](const NodeConfig& c) -> std::optional<Value> {
         if (!c.writer_nice) return std::nullopt;
         return static_cast<int64_t>(*c.writer_nice);
       }},
      {"log_level", Kind::kString, 0, 0, "\"info\"",
       "trace, debug, info, warn, error, critical or off (default info); logs are JSON lines on "
       "stderr",
       [](NodeConfig& c, const Value& v) { c.log_level = Str(v); },
       [](const NodeConfig& c) -> std::optional<Value> { return c.log_level; }},
      {"audit", Kind::kBool, 0, 0, "false",
       "audit mode: open the database read-only and serve its reads (entries, events, lots, the "
       "last checkpoint the node signed, proofs where computable) even when the log is broken "
       "(the problem is logged as a warning); appends are refused with FAILED_PRECONDITION",
       [](NodeConfig& c, const Value& v) { c.audit = std::get<bool>(v); },
       [](const NodeConfig& c) -> std::optional<Value> { return c.audit; }},
      {"full_start_check", Kind::kBool, 0, 0, "false",
       "check every stored entry at start even after a clean stop (default false: after a clean "
       "stop whose signed record matches the database file, only the entry count, the signed "
       "checkpoint and the stored tree are checked)",
       [](NodeConfig& c, const Value& v) { c.full_start_check = std::get<bool>(v); },
       [](const NodeConfig& c) -> std::optional<Value> { return c.full_start_check; }},
      {"replica_dir", Kind::kPath, 0, 0, "\"node.db.replicas\"",
       "where the replicas of followed logs are kept, one SQLite file per log (default: db + "
       "\".replicas\")",
       [](NodeConfig& c, const Value& v) { c.replica_dir = Str(v); },
       [](const NodeConfig& c) -> std::optional<Value> { return c.replica_dir; }},
      {"replication_wait_ms", Kind::kUint, 0, 3'600'000, "5000",
       "how long an append that refers to an event of another log (a receipt of the mine's "
       "dispatch) waits for that event to be replicated before it is refused (default 5000; 0 "
       "refuses at once)",
       [](NodeConfig& c, const Value& v) { c.replication_wait_ms = std::get<int64_t>(v); },
       [](const NodeConfig& c) -> std::optional<Value> {
         return static_cast<int64_t>(c.replication_wait_ms);
       }},
      {"gossip_interval_ms", Kind::kUint, 50, 3'600'000, "1000",
       "how often checkpoints are exchanged with each peer (default 1000)",
       [](NodeConfig& c, const Value& v) { c.gossip_interval_ms = std::get<int64_t>(v); },
       [](const NodeConfig& c) -> std::optional<Value> {
         return static_cast<int64_t>(c.gossip_interval_ms);
       }},
      {"max_call_threads", Kind::kUint, 4, 100'000, "96",
       "threads for synchronous calls (reads, Follow streams); a call beyond them is refused "
       "RESOURCE_EXHAUSTED at once (default 96)",
       [](NodeConfig& c, const Value& v) { c.max_call_threads = std::get<int64_t>(v); },
       [](const NodeConfig& c) -> std::optional<Value> {
         return static_cast<int64_t>(c.max_call_threads);
       }},
      {"grpc_memory_bytes", Kind::kUint, int64_t{16} << 20, INT64_MAX, "134217728",
       "memory gRPC may use for its buffers; beyond it calls are refused (default 134217728)",
       [](NodeConfig& c, const Value& v) { c.grpc_memory_bytes = std::get<int64_t>(v); },
       [](const NodeConfig& c) -> std::optional<Value> {
         return static_cast<int64_t>(c.grpc_memory_bytes);
       }},
      {"max_streams_per_connection", Kind::kUint, 1, 100'000, "256",
       "calls one client connection may run at once (default 256)",
       [](NodeConfig& c, const Value& v) { c.max_streams_per_connection = std::get<int64_t>(v); },
       [](const NodeConfig& c) -> std::optional<Value> {
         return static_cast<int64_t>(c.max_streams_per_connection);
       }},
      {"max_streams_per_host", Kind::kUint, 1, 100'000, "16",
       "server streams (GetEntries, Trace, Follow) one client host may hold open at once; all "
       "hosts together get half of max_call_threads; beyond, RESOURCE_EXHAUSTED (default 16)",
       [](NodeConfig& c, const Value& v) { c.max_streams_per_host = std::get<int64_t>(v); },
       [](const NodeConfig& c) -> std::optional<Value> {
         return static_cast<int64_t>(c.max_streams_per_host);
       }},
      {"stream_stall_timeout_ms", Kind::kUint, 100, 3'600'000, "30000",
       "a stream whose next message has waited this long for its reader to take it is "
       "cancelled, freeing its thread (default 30000)",
       [](NodeConfig& c, const Value& v) { c.stream_stall_timeout_ms = std::get<int64_t>(v); },
       [](const NodeConfig& c) -> std::optional<Value> {
         return static_cast<int64_t>(c.stream_stall_timeout_ms);
       }},
      {"metrics_listen", Kind::kString, 0, 0, "\"127.0.0.1:9464\"",
       "optional: host:port serving Prometheus metrics over plain HTTP at /metrics (default: "
       "none; keep it on loopback or a monitoring network)",
       [](NodeConfig& c, const Value& v) { c.metrics_listen = Str(v); },
       [](const NodeConfig& c) -> std::optional<Value> {
         if (c.metrics_listen.empty()) return std::nullopt;
         return c.metrics_listen;
       }},
      {"tls.cert", Kind::kPath, 0, 0, "\"tls/node.crt\"",
       "PEM certificate chain of this node: serve TLS (with tls.key)",
       [](NodeConfig& c, const Value& v) { c.tls.cert = Str(v); },
       [](const NodeConfig& c) -> std::optional<Value> { return c.tls.cert; }},
      {"tls.key", Kind::kPath, 0, 0, "\"tls/node.key\"", "PEM private key of tls.cert",
       [](NodeConfig& c, const Value& v) { c.tls.key = Str(v); },
       [](const NodeConfig& c) -> std::optional<Value> { return c.tls.key; }},
      {"tls.ca", Kind::kPath, 0, 0, "\"tls/ca.crt\"",
       "PEM file of the consortium CA: client certificates are asked for and must chain to it",
       [](NodeConfig& c, const Value& v) { c.tls.ca = Str(v); },
       [](const NodeConfig& c) -> std::optional<Value> { return c.tls.ca; }},
      {"tls.require_client_cert", Kind::kBool, 0, 0, "true",
       "refuse clients without a certificate that chains to tls.ca (mutual TLS)",
       [](NodeConfig& c, const Value& v) { c.tls.require_client_cert = std::get<bool>(v); },
       [](const NodeConfig& c) -> std::optional<Value> { return c.tls.require_client_cert; },
       "require-client-cert"},
  };
  return keys;
}

const Key* FindKey(std::string_view name) {
  for (const Key& k : Keys()) {
    if (name == k.name) return &k;
  }
  return nullptr;
}

std::string FlagOf(const Key& key) {
  std::string flag = key.flag != nullptr ? key.flag : key.name;
  for (char& c : flag) {
    if (c == '_' || c == '.') c = '-';
  }
  return "--" + flag;
}

std::string EnvOf(const Key& key) {
  std::string env = "CAIRN_";
  for (const char* p = key.name; *p != '\0'; ++p) {
    env += *p == '.' ? '_' : static_cast<char>(std::toupper(static_cast<unsigned char>(*p)));
  }
  return env;
}

std::string KnownKeys(std::string_view prefix) {
  std::string out;
  for (const Key& k : Keys()) {
    const std::string_view name = k.name;
    if (name.rfind(prefix, 0) != 0 || (prefix.empty() && name.find('.') != std::string::npos)) {
      continue;
    }
    out += (out.empty() ? "" : ", ") + std::string(name.substr(prefix.size()));
  }
  return out;
}

// Checks and stores `value` for `key`; `where` prefixes errors ("node.toml:3: db: ").
Status Assign(const Key& key, Value value, const std::string& where, const std::string& base_dir,
              NodeConfig& config, const std::string& source) {
  if (key.kind == Kind::kPath) {
    std::string& path = std::get<std::string>(value);
    if (path.empty()) return InvalidArgument(where + "empty path");
    path = Resolve(base_dir, path);
  }
  if (key.kind == Kind::kUint || key.kind == Kind::kInt) {
    const int64_t n = std::get<int64_t>(value);
    if (n < key.min || n > key.max) {
      return InvalidArgument(where + "got " + std::to_string(n) + ", want " +
                             (key.max == INT64_MAX ? "a positive integer"
                                                   : "an integer " + std::to_string(key.min) +
                                                         ".." + std::to_string(key.max)));
    }
  }
  key.set(config, value);
  config.sources[key.name] = source;
  return Status::Ok();
}

const char* Want(Kind kind) {
  switch (kind) {
    case Kind::kString:
    case Kind::kPath:
      return "a string";
    case Kind::kList:
      return "an array of strings";
    case Kind::kUint:
    case Kind::kInt:
      return "an integer";
    case Kind::kBool:
      return "true or false";
  }
  return "";
}

// A TOML value of `key`.
Status AssignToml(const Key& key, const toml::node& node, const std::string& source,
                  const std::string& base_dir, NodeConfig& config) {
  const std::string where = Where(source, key.name, node);
  const std::string got =
      "got " + std::string(ledger::TomlTypeName(node)) + ", want " + Want(key.kind);
  switch (key.kind) {
    case Kind::kString:
    case Kind::kPath:
      if (!node.is_string()) return InvalidArgument(where + got);
      return Assign(key, *node.value<std::string>(), where, base_dir, config, source);
    case Kind::kList: {
      const toml::array* array = node.as_array();
      if (array == nullptr) return InvalidArgument(where + got);
      std::vector<std::string> items;
      for (size_t i = 0; i < array->size(); ++i) {
        const toml::node& item = *array->get(i);
        if (!item.is_string()) {
          return InvalidArgument(
              Where(source, std::string(key.name) + "[" + std::to_string(i) + "]", item) + "got " +
              ledger::TomlTypeName(item) + ", want a string");
        }
        items.push_back(*item.value<std::string>());
      }
      return Assign(key, std::move(items), where, base_dir, config, source);
    }
    case Kind::kUint:
    case Kind::kInt:
      if (!node.is_integer()) return InvalidArgument(where + got);
      return Assign(key, *node.value<int64_t>(), where, base_dir, config, source);
    case Kind::kBool:
      if (!node.is_boolean()) return InvalidArgument(where + got);
      return Assign(key, *node.value<bool>(), where, base_dir, config, source);
  }
  return Status::Ok();
}

// A value of `key` written as text: an environment variable or a flag (`source` names it).
// Relative paths resolve against the working directory.
Status AssignText(const Key& key, const std::string& text, const std::string& source,
                  NodeConfig& config) {
  const std::string where = source + ": ";
  switch (key.kind) {
    case Kind::kString:
    case Kind::kPath:
      return Assign(key, text, where, "", config, source);
    case Kind::kList: {
      std::vector<std::string> items;
      size_t start = 0;
      while (start <= text.size()) {
        size_t end = text.find(',', start);
        if (end == std::string::npos) end = text.size();
        std::string item = text.substr(start, end - start);
        item.erase(0, item.find_first_not_of(' '));
        item.erase(item.find_last_not_of(' ') + 1);
        if (!item.empty()) items.push_back(item);
        start = end + 1;
      }
      return Assign(key, std::move(items), where, "", config, source);
    }
    case Kind::kUint:
    case Kind::kInt: {
      int64_t n = 0;
      const char* end = text.data() + text.size();
      const auto [ptr, error] = std::from_chars(text.data(), end, n);
      if (error != std::errc() || ptr != end || text.empty()) {
        return InvalidArgument(where + "got " + Quote(text) + ", want an integer");
      }
      return Assign(key, n, where, "", config, source);
    }
    case Kind::kBool: {
      static const std::set<std::string> yes = {"true", "1", "yes", "on"};
      static const std::set<std::string> no = {"false", "0", "no", "off"};
      if (yes.count(text) == 0 && no.count(text) == 0) {
        return InvalidArgument(where + "got " + Quote(text) + ", want true or false");
      }
      return Assign(key, yes.count(text) > 0, where, "", config, source);
    }
  }
  return Status::Ok();
}

// The keys of `table` (the top level, or [tls] with prefix "tls.").
Status ApplyTable(const toml::table& table, const std::string& prefix, const std::string& source,
                  const std::string& base_dir, NodeConfig& config);

// The [[peer]] tables.
// address = "host:port", logs = ["log-id", ...].
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

Status ApplyTable(const toml::table& table, const std::string& prefix, const std::string& source,
                  const std::string& base_dir, NodeConfig& config) {
  for (auto&& [key_node, node] : table) {
    const std::string key(key_node.str());
    if (prefix.empty() && key == "tls") {
      const toml::table* tls = node.as_table();
      if (tls == nullptr) {
        return InvalidArgument(Where(source, "tls", node) + "got " + ledger::TomlTypeName(node) +
                               ", want a table [tls] with " + KnownKeys("tls."));
      }
      CAIRN_RETURN_IF_ERROR(ApplyTable(*tls, "tls.", source, base_dir, config));
    } else if (prefix.empty() && key == "peer") {
      CAIRN_RETURN_IF_ERROR(ApplyPeerTables(source, node, config.peers));
    } else if (prefix.empty() && key == "receipt_tolerance") {
      return InvalidArgument(Where(source, key, node) +
                             "the receipt tolerance is a consortium rule that nodes and auditors "
                             "apply alike: it is set in the signed registry (cairn registry "
                             "set-rules --receipt-tolerance-ppm N), not in a node's config");
    } else if (const Key* k = FindKey(prefix + key); k != nullptr && key.find('.') == key.npos) {
      CAIRN_RETURN_IF_ERROR(AssignToml(*k, node, source, base_dir, config));
    } else {
      return InvalidArgument(Where(source, prefix + key, node) + "unknown key (known: " +
                             KnownKeys(prefix) + (prefix.empty() ? ", [tls], [[peer]])" : ")"));
    }
  }
  return Status::Ok();
}

std::string Format(const Value& value) {
  if (const auto* s = std::get_if<std::string>(&value)) return Quote(*s);
  if (const auto* list = std::get_if<std::vector<std::string>>(&value)) {
    std::string out = "[";
    for (size_t i = 0; i < list->size(); ++i) out += (i ? ", " : "") + Quote((*list)[i]);
    return out + "]";
  }
  if (const auto* n = std::get_if<int64_t>(&value)) return std::to_string(*n);
  return std::get<bool>(value) ? "true" : "false";
}

}  // namespace

void AddNodeFlags(CLI::App& app, NodeFlags& flags) {
  app.description(
      "cairnd: the Cairn ledger node. Appends signed, hash-chained provenance events for the\n"
      "participants it hosts to one Merkle-tree log in SQLite, and serves the cairn.v1.Ledger,\n"
      "grpc.health.v1.Health and reflection services over gRPC.");
  app.add_option("-c,--config", flags.config_path,
                 "TOML config file; relative paths in it resolve against its directory");
  const std::vector<Key>& keys = Keys();
  // Sized once: the options keep pointers into these.
  flags.values.assign(keys.size(), "");
  flags.counts.assign(keys.size(), 0);
  flags.options.assign(keys.size(), nullptr);
  for (size_t i = 0; i < keys.size(); ++i) {
    const Key& k = keys[i];
    const std::string help = std::string(k.help) + " [" + EnvOf(k) + "]";
    flags.options[i] = k.kind == Kind::kBool ? app.add_flag(FlagOf(k), flags.counts[i], help)
                                             : app.add_option(FlagOf(k), flags.values[i], help);
  }
  app.add_flag("--repair-report", flags.repair_report,
               "check every stored entry, print every problem found, and exit without serving or "
               "changing anything (0: no problems, 1: problems)");
  app.add_flag("--check-config", flags.check_config,
               "resolve the configuration, check it (and that the registry and node key load),\n"
               "print every key with its value and where it came from, and exit (0: valid, 2: "
               "not)");
  std::string footer =
      "Configuration, later sources winning: defaults < TOML file (--config) < environment\n"
      "(CAIRN_<KEY>, e.g. CAIRN_DB, CAIRN_TLS_CERT) < flags (--key with - for _ and .).\n"
      "Config file keys (TOML):\n";
  for (const Key& k : keys) {
    if (std::string_view(k.name).find('.') != std::string_view::npos) continue;
    footer += "  " + std::string(k.name) + " = " + k.example + "\n";
  }
  footer += "  [tls]                          # optional; plaintext without it\n";
  for (const Key& k : keys) {
    const std::string_view name = k.name;
    if (name.rfind("tls.", 0) != 0) continue;
    footer += "  " + std::string(name.substr(4)) + " = " + k.example + "\n";
  }
  footer +=
      "  [[peer]]                       # one per node followed; only in the file\n"
      "  address = \"mine.example:7400\"\n"
      "  logs = [\"pk-fwo-log\"]\n"
      "Plaintext on an address other than loopback is served with a warning.\n"
      "Required: db, log_id, node_key, registry, participants. The receipt tolerance is a\n"
      "consortium rule in the signed registry (cairn registry set-rules), not a node setting.\n"
      "Exit codes: 0 stopped cleanly (SIGTERM/SIGINT), 1 stored log is broken, 2 usage, config or\n"
      "I/O error.";
  app.footer(footer);
}

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
  return ApplyTable(table, "", source, base_dir, config);
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
  const std::vector<Key>& keys = Keys();
  for (const Key& k : keys) config.sources[k.name] = "default";
  if (!flags.config_path.empty()) CAIRN_RETURN_IF_ERROR(ApplyConfigFile(flags.config_path, config));
  for (const Key& k : keys) {
    const std::string env = EnvOf(k);
    const char* text = std::getenv(env.c_str());
    if (text != nullptr && *text != '\0') CAIRN_RETURN_IF_ERROR(AssignText(k, text, env, config));
  }
  for (size_t i = 0; i < keys.size() && i < flags.options.size(); ++i) {
    const Key& k = keys[i];
    if (flags.options[i] == nullptr || flags.options[i]->count() == 0) continue;
    CAIRN_RETURN_IF_ERROR(
        AssignText(k, k.kind == Kind::kBool ? "true" : flags.values[i], FlagOf(k), config));
  }
  CAIRN_RETURN_IF_ERROR(ValidateConfig(config));
  return config;
}

std::string DescribeConfig(const NodeConfig& config) {
  std::string out;
  for (const Key& k : Keys()) {
    const std::optional<Value> value = k.get(config);
    const auto source = config.sources.find(k.name);
    out += std::string(k.name) + " = " + (value ? Format(*value) : "(unset)") + "  # " +
           (source == config.sources.end() ? "default" : source->second) + "\n";
  }
  for (size_t i = 0; i < config.peers.size(); ++i) {
    out += "peer[" + std::to_string(i) + "] = " + Quote(config.peers[i].address) + " logs";
    for (const std::string& log : config.peers[i].logs) out += " " + log;
    out += "  # file\n";
  }
  return out;
}

}  // namespace cairn::node
