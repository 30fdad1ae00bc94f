// Integration-test harness: fresh temp dirs, the real `cairn` CLI run as a child process, and real
// `cairnd` processes on free loopback ports. Nothing here is a stand-in: keys are made by
// `cairn keygen`, the registry by `cairn registry`, and the node stores to a real SQLite file.
#pragma once

#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>

#include <map>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "cairn/v1/ledger.grpc.pb.h"
#include "keys/key_file.h"

namespace cairn::itest {

// A directory under $TMPDIR removed (recursively) when the object dies.
// A fresh directory, removed with everything in it at the end. Also points $XDG_STATE_HOME (where
// the cairn CLI remembers verified checkpoints) into it, so no test sees another's state.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::string& path() const { return path_; }
  std::string operator/(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

struct RunResult {
  int exit_code = -1;
  std::string out;
  std::string err;
};

// Runs `argv` (argv[0] is a path) with optional stdin, waits, and captures stdout and stderr.
RunResult RunProcess(const std::vector<std::string>& argv, const std::string& stdin_data = "");

// GS1's community EPCIS 2.0 validator (npm epcis2.js, installed by tests/epcis/validate.sh) on
// `files`: exit 0 when every document is valid, its verdicts as JSON lines on stdout.
RunResult ValidateEpcis(const std::vector<std::string>& files);

// The CSV files of directory `dir` (a report's tables) parsed back by Python's csv module, strict:
// {"origin": [[header...], [row...]], ...}. An empty object, and a test failure, when one does
// not parse.
nlohmann::json ParseCsvDirectory(const std::string& dir);

// Runs the cairn CLI.
RunResult Cairn(const std::vector<std::string>& args, const std::string& stdin_data = "");
// Runs the load generator tools/cairn-bench.
RunResult CairnBench(const std::vector<std::string>& args);

void WriteFile(const std::string& path, const std::string& content);
std::string ReadFile(const std::string& path);

// A cairnd child process.
class NodeProcess {
 public:
  NodeProcess() = default;
  ~NodeProcess();
  NodeProcess(const NodeProcess&) = delete;
  NodeProcess& operator=(const NodeProcess&) = delete;

  // Starts `cairnd --config config_path` and waits (up to 20 s) for its "serving" line. On
  // failure returns false with what the node printed in `error`.
  bool Start(const std::string& config_path, std::string* error);
  // SIGKILL, then reap.
  void Kill9();
  // SIGTERM and wait; returns the exit status (or -1 on timeout, after which it is killed).
  int Terminate();
  bool running() const { return pid_ > 0; }
  int pid() const { return pid_; }
  const std::string& address() const { return address_; }
  const std::string& stderr_path() const { return stderr_path_; }

 private:
  int pid_ = -1;
  std::string address_;
  std::string stderr_path_;
};

// A consortium on disk: keys from `cairn keygen`, a registry signed by its registrar with
// `cairn registry` (logs demo-log, operated by us-usm, and au-log, by au-lynas), and a node hosting
// (by default) pk-fwo (mine, PK), us-usm (processor, US), jp-magnets (buyer and magnet maker, JP)
// and au-assay-lab (lab, AU). The registry also lists mines au-lynas (Mt Weld, AU) and mm-chipwi
// (Kachin, MM), processor my-lynas (Gebeng, MY) and trader mm-kia-trading (MM), which the default
// node does not host.
// A log the registry names: its id, the participant that runs its node, and the participants
// whose home log it is.
struct LogSpec {
  std::string id;
  std::string operator_id;
  std::vector<std::string> hosts;
};

class World {
 public:
  explicit World(const TempDir& dir);
  // The same participants, with `logs` instead of demo-log and au-log (their node keys are
  // keys/<log id>.key).
  World(const TempDir& dir, const std::vector<LogSpec>& logs);

  // Writes node.toml (listen on a free port) hosting `hosted` and starts the node.
  void StartNode(const std::vector<std::string>& hosted = {"pk-fwo", "us-usm", "jp-magnets",
                                                           "au-assay-lab"});
  NodeProcess& node() { return node_; }
  const std::string& registry_path() const { return registry_path_; }
  std::string key_path(const std::string& participant) const;
  const keys::SigningKey& key(const std::string& participant);
  // `body` signed with its author's key (or `signer`'s, to sign as someone else).
  cairn::v1::SignedEvent Sign(const cairn::v1::EventBody& body, const std::string& signer = "");
  std::string config_path() const { return dir_ / "node.toml"; }
  std::string db_path() const { return dir_ / "node.db"; }

  // A stub on the node with a fresh channel.
  std::unique_ptr<cairn::v1::Ledger::Stub> Stub() const;

 private:
  const TempDir& dir_;
  std::string registry_path_;
  // Tests sign from several threads at once (concurrent submitters, the kill -9 test), so the
  // cache is locked; map nodes do not move, so the references handed out stay valid.
  std::mutex keys_mu_;
  std::map<std::string, keys::SigningKey> keys_;
  NodeProcess node_;
};

// Deadline helper: a context with `seconds` to run.
void SetDeadline(grpc::ClientContext& context, int seconds = 10);

// The size of the node's log by its latest checkpoint (0, with a test failure, if it cannot say).
uint64_t LogSize(cairn::v1::Ledger::Stub& stub);
// Ledger.Append of `event` with a 10 s deadline; the answer in `response` when given.
grpc::Status AppendSigned(cairn::v1::Ledger::Stub& stub, const cairn::v1::SignedEvent& event,
                          cairn::v1::AppendResponse* response = nullptr);

// A TCP socket listening on a free loopback port, to make an address busy; closed when destroyed.
class BusyPort {
 public:
  BusyPort();
  ~BusyPort();
  BusyPort(const BusyPort&) = delete;
  BusyPort& operator=(const BusyPort&) = delete;
  const std::string& address() const { return address_; }  // "127.0.0.1:PORT"

 private:
  int fd_ = -1;
  std::string address_;
};

// The cairn_ samples of the Prometheus page at http://ADDRESS/metrics, parsed by Debian's
// python3-prometheus-client (tests/metrics/scrape.py): {"name{label=value,...}": value}, labels
// sorted. An empty object, with a test failure, when it cannot be read or parsed.
nlohmann::json ScrapeMetrics(const std::string& address);

// A TCP port on 127.0.0.1 that was free a moment ago, for a node that must keep its address
// across restarts.
int FreePort();

// A consortium CA and certificates made with `openssl` (EC P-256, valid 2 days), in `dir`:
// ca.crt; node.crt/node.key (SANs 127.0.0.1, localhost; server and client auth) for nodes;
// client.crt/client.key for the CLI and followers.
struct TestPki {
  std::string ca, node_cert, node_key, client_cert, client_key;
};
// `name` prefixes the CN, so that two PKIs (e.g. a rogue CA) are told apart.
TestPki MakeTestPki(const std::string& dir, const std::string& name = "cairn-test");

// A test with its own World and the default node started.
class WorldTest : public ::testing::Test {
 protected:
  void SetUp() override;

  TempDir dir_;
  std::unique_ptr<World> world_;
};

}  // namespace cairn::itest
