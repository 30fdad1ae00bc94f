#include "tests/integration/harness.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include "common/crypto.h"
#include "ledger/event.h"

namespace cairn::itest {

namespace fs = std::filesystem;

TempDir::TempDir() {
  std::string tmpl = (fs::temp_directory_path() / "cairn-itest-XXXXXX").string();
  char* made = mkdtemp(tmpl.data());
  EXPECT_NE(made, nullptr);
  path_ = tmpl;
  // The cairn CLI remembers verified checkpoints under $XDG_STATE_HOME: each test its own.
  setenv("XDG_STATE_HOME", (path_ + "/cli-state").c_str(), 1);
}

TempDir::~TempDir() {
  std::error_code ec;
  fs::remove_all(path_, ec);
}

void WriteFile(const std::string& path, const std::string& content) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << content;
  ASSERT_TRUE(out.good()) << "cannot write " << path;
}

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream buf;
  buf << in.rdbuf();
  return buf.str();
}

namespace {

// Forks and execs argv with stdin/stdout/stderr redirected to the given files; the child dies
// with the test process.
int Spawn(const std::vector<std::string>& argv, const std::string& in_path,
          const std::string& out_path, const std::string& err_path) {
  const pid_t pid = fork();
  if (pid != 0) return pid;
  prctl(PR_SET_PDEATHSIG, SIGKILL);
  const int in = open(in_path.c_str(), O_RDONLY);
  const int out = open(out_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
  const int err = open(err_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
  if (in < 0 || out < 0 || err < 0) _exit(127);
  dup2(in, 0);
  dup2(out, 1);
  dup2(err, 2);
  std::vector<char*> args;
  for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  execv(args[0], args.data());
  _exit(127);
}

std::string ScratchPath(const std::string& tag) {
  static int counter = 0;
  return (fs::temp_directory_path() /
          ("cairn-itest-" + std::to_string(getpid()) + "-" + std::to_string(++counter) + tag))
      .string();
}

}  // namespace

RunResult RunProcess(const std::vector<std::string>& argv, const std::string& stdin_data) {
  const std::string in = ScratchPath(".in"), out = ScratchPath(".out"), err = ScratchPath(".err");
  WriteFile(in, stdin_data);
  RunResult result;
  const int pid = Spawn(argv, in, out, err);
  int status = 0;
  waitpid(pid, &status, 0);
  result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  result.out = ReadFile(out);
  result.err = ReadFile(err);
  fs::remove(in);
  fs::remove(out);
  fs::remove(err);
  return result;
}

RunResult ValidateEpcis(const std::vector<std::string>& files) {
  std::vector<std::string> argv = {"/bin/bash", CAIRN_EPCIS_VALIDATOR, CAIRN_EPCIS_CACHE};
  argv.insert(argv.end(), files.begin(), files.end());
  return RunProcess(argv);
}

nlohmann::json ParseCsvDirectory(const std::string& dir) {
  const RunResult r = RunProcess({"/usr/bin/python3", "-c",
                                  "import csv, json, pathlib, sys\n"
                                  "out = {}\n"
                                  "for p in sorted(pathlib.Path(sys.argv[1]).glob('*.csv')):\n"
                                  "    with open(p, newline='', encoding='utf-8') as f:\n"
                                  "        out[p.stem] = list(csv.reader(f, strict=True))\n"
                                  "print(json.dumps(out))\n",
                                  dir});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  return r.exit_code == 0 ? nlohmann::json::parse(r.out) : nlohmann::json::object();
}

RunResult Cairn(const std::vector<std::string>& args, const std::string& stdin_data) {
  std::vector<std::string> argv{CAIRN_CLI_PATH};
  argv.insert(argv.end(), args.begin(), args.end());
  return RunProcess(argv, stdin_data);
}

RunResult CairnBench(const std::vector<std::string>& args) {
  std::vector<std::string> argv{CAIRN_BENCH_PATH};
  argv.insert(argv.end(), args.begin(), args.end());
  return RunProcess(argv);
}

NodeProcess::~NodeProcess() {
  if (pid_ > 0) Kill9();
}

bool NodeProcess::Start(const std::string& config_path, std::string* error) {
  const std::string out = config_path + ".stdout";
  stderr_path_ = config_path + ".stderr";
  std::ofstream(out, std::ios::trunc).close();
  pid_ = Spawn({CAIRND_PATH, "--config", config_path}, "/dev/null", out, stderr_path_);
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  while (std::chrono::steady_clock::now() < deadline) {
    const std::string text = ReadFile(out);
    const size_t at = text.find("cairnd: serving");
    const size_t eol = text.find('\n', at);
    if (at != std::string::npos && eol != std::string::npos) {
      const std::string line = text.substr(at, eol - at);
      address_ = line.substr(line.rfind(' ') + 1);
      return true;
    }
    int status = 0;
    if (waitpid(pid_, &status, WNOHANG) == pid_) {
      pid_ = -1;
      *error = "cairnd exited early: " + text + ReadFile(stderr_path_);
      return false;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  *error = "cairnd did not start within 20 s: " + ReadFile(stderr_path_);
  Kill9();
  return false;
}

void NodeProcess::Kill9() {
  if (pid_ <= 0) return;
  kill(pid_, SIGKILL);
  int status = 0;
  waitpid(pid_, &status, 0);
  pid_ = -1;
}

int NodeProcess::Terminate() {
  if (pid_ <= 0) return -1;
  kill(pid_, SIGTERM);
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(15);
  while (std::chrono::steady_clock::now() < deadline) {
    int status = 0;
    if (waitpid(pid_, &status, WNOHANG) == pid_) {
      pid_ = -1;
      return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  Kill9();
  return -1;
}

namespace {

struct ParticipantSpec {
  const char* id;
  const char* name;
  const char* country;
  const char* roles;
};

constexpr ParticipantSpec kParticipants[] = {
    {"cairn-registrar", "Cairn Consortium Registrar", "CH", "REGISTRAR"},
    {"pk-fwo", "Frontier Works Organisation", "PK", "MINE"},
    {"us-usm", "US Strategic Metals", "US", "PROCESSOR"},
    {"jp-magnets", "Nippon Magnet Works", "JP", "BUYER,PROCESSOR"},
    {"mm-kia-trading", "Kachin Trading Co", "MM", "TRADER"},
    {"au-assay-lab", "Perth Assay Laboratory", "AU", "LAB"},
    {"au-lynas", "Lynas Rare Earths (Mt Weld)", "AU", "MINE"},
    {"my-lynas", "Lynas Malaysia (Gebeng)", "MY", "PROCESSOR"},
    {"mm-chipwi", "Chipwi Mining", "MM", "MINE"},
    {"ch-audit", "Helvetic Minerals Audit AG", "CH", "AUDITOR"},
};

}  // namespace

World::World(const TempDir& dir)
    : World(dir, {{"demo-log", "us-usm", {}}, {"au-log", "au-lynas", {}}}) {}

World::World(const TempDir& dir, const std::vector<LogSpec>& logs)
    : dir_(dir), registry_path_(dir / "registry.json") {
  const std::string keys_dir = dir / "keys";
  for (const auto& p : kParticipants) {
    const RunResult r = Cairn({"keygen", "--participant", p.id, "--out", keys_dir});
    EXPECT_EQ(r.exit_code, 0) << r.err;
  }
  for (const LogSpec& log : logs) {
    const RunResult node_key = Cairn({"keygen", "--participant", log.id, "--out", keys_dir});
    EXPECT_EQ(node_key.exit_code, 0) << node_key.err;
  }
  auto check = [](const RunResult& r) { EXPECT_EQ(r.exit_code, 0) << r.out << r.err; };
  check(Cairn({"registry", "init", "--registry", registry_path_, "--consortium", "cairn-itest",
               "--threshold", "1"}));
  for (const auto& p : kParticipants) {
    check(Cairn({"registry", "add", "--registry", registry_path_, "--participant", p.id, "--name",
                 p.name, "--country", p.country, "--roles", p.roles, "--pub",
                 keys_dir + "/" + p.id + ".pub", "--valid-from", "2020-01-01"}));
  }
  for (const LogSpec& log : logs) {
    std::vector<std::string> args = {"registry",   "add-log",
                                     "--registry", registry_path_,
                                     "--log-id",   log.id,
                                     "--operator", log.operator_id,
                                     "--pub",      keys_dir + "/" + log.id + ".pub"};
    std::string hosts;
    for (const std::string& host : log.hosts) hosts += (hosts.empty() ? "" : ",") + host;
    if (!hosts.empty()) {
      args.push_back("--hosts");
      args.push_back(hosts);
    }
    check(Cairn(args));
  }
  check(Cairn({"registry", "sign", "--registry", registry_path_, "--key",
               keys_dir + "/cairn-registrar.key"}));
}

std::string World::key_path(const std::string& participant) const {
  return dir_ / ("keys/" + participant + ".key");
}

const keys::SigningKey& World::key(const std::string& participant) {
  std::lock_guard<std::mutex> lock(keys_mu_);
  auto it = keys_.find(participant);
  if (it == keys_.end()) {
    auto k = keys::ReadSigningKey(key_path(participant), std::nullopt);
    EXPECT_TRUE(k.ok()) << k.status().ToString();
    it = keys_.emplace(participant, std::move(k).value()).first;
  }
  return it->second;
}

cairn::v1::SignedEvent World::Sign(const cairn::v1::EventBody& body, const std::string& signer) {
  const keys::SigningKey& k = key(signer.empty() ? body.author() : signer);
  return ledger::SignEvent(body.SerializeAsString(), k.key_id, k.secret_key);
}

void World::StartNode(const std::vector<std::string>& hosted) {
  std::string participants;
  for (const std::string& id : hosted) {
    participants += (participants.empty() ? "\"" : ", \"") + id + "\"";
  }
  WriteFile(config_path(),
            "listen = \"127.0.0.1:0\"\n"
            "db = \"node.db\"\n"
            "log_id = \"demo-log\"\n"
            "node_key = \"keys/demo-log.key\"\n"
            "registry = \"registry.json\"\n"
            "participants = [" +
                participants + "]\n");
  std::string error;
  ASSERT_TRUE(node_.Start(config_path(), &error)) << error;
}

std::unique_ptr<cairn::v1::Ledger::Stub> World::Stub() const {
  return cairn::v1::Ledger::NewStub(
      grpc::CreateChannel(node_.address(), grpc::InsecureChannelCredentials()));
}

nlohmann::json ScrapeMetrics(const std::string& address) {
  const RunResult r =
      RunProcess({"/usr/bin/python3", METRICS_SCRAPER, "http://" + address + "/metrics"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  if (r.exit_code != 0) return nlohmann::json::object();
  return nlohmann::json::parse(r.out);
}

BusyPort::BusyPort() : fd_(socket(AF_INET, SOCK_STREAM, 0)) {
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t length = sizeof(address);
  const bool bound =
      fd_ >= 0 && bind(fd_, reinterpret_cast<sockaddr*>(&address), sizeof(address)) == 0 &&
      listen(fd_, 1) == 0 && getsockname(fd_, reinterpret_cast<sockaddr*>(&address), &length) == 0;
  EXPECT_TRUE(bound) << "cannot listen on a loopback port";
  address_ = "127.0.0.1:" + std::to_string(bound ? ntohs(address.sin_port) : 0);
}

BusyPort::~BusyPort() {
  if (fd_ >= 0) close(fd_);
}

int FreePort() {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  address.sin_port = 0;
  socklen_t length = sizeof(address);
  int port = 0;
  if (bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address)) == 0 &&
      getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length) == 0) {
    port = ntohs(address.sin_port);
  }
  close(fd);
  EXPECT_NE(port, 0) << "no free port";
  return port;
}

TestPki MakeTestPki(const std::string& dir, const std::string& name) {
  std::filesystem::create_directories(dir);
  const auto openssl = [](const std::vector<std::string>& args) {
    std::vector<std::string> argv = {"/usr/bin/openssl"};
    argv.insert(argv.end(), args.begin(), args.end());
    const RunResult r = RunProcess(argv);
    EXPECT_EQ(r.exit_code, 0) << "openssl " << args.front() << ": " << r.err;
  };
  TestPki pki{dir + "/ca.crt", dir + "/node.crt", dir + "/node.key", dir + "/client.crt",
              dir + "/client.key"};
  const std::string ca_key = dir + "/ca.key";
  openssl({"ecparam", "-name", "prime256v1", "-genkey", "-noout", "-out", ca_key});
  openssl({"req", "-x509", "-new", "-key", ca_key, "-subj", "/CN=" + name + "-ca", "-days", "2",
           "-addext", "basicConstraints=critical,CA:TRUE", "-addext",
           "keyUsage=critical,keyCertSign,cRLSign", "-out", pki.ca});
  const std::string ext = dir + "/leaf.ext";
  WriteFile(ext,
            "basicConstraints=critical,CA:FALSE\n"
            "keyUsage=critical,digitalSignature\n"
            "extendedKeyUsage=serverAuth,clientAuth\n"
            "subjectAltName=IP:127.0.0.1,DNS:localhost\n");
  const auto leaf = [&](const std::string& cn, const std::string& cert, const std::string& key) {
    const std::string csr = cert + ".csr";
    openssl({"ecparam", "-name", "prime256v1", "-genkey", "-noout", "-out", key});
    openssl({"req", "-new", "-key", key, "-subj", "/CN=" + cn, "-out", csr});
    openssl({"x509", "-req", "-in", csr, "-CA", pki.ca, "-CAkey", ca_key, "-CAcreateserial",
             "-days", "2", "-extfile", ext, "-out", cert});
  };
  leaf(name + "-node", pki.node_cert, pki.node_key);
  leaf(name + "-client", pki.client_cert, pki.client_key);
  return pki;
}

void SetDeadline(grpc::ClientContext& context, int seconds) {
  context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(seconds));
}

void WorldTest::SetUp() {
  ASSERT_TRUE(InitCrypto().ok());
  world_ = std::make_unique<World>(dir_);
  world_->StartNode();
}

uint64_t LogSize(cairn::v1::Ledger::Stub& stub) {
  cairn::v1::SignedCheckpoint signed_checkpoint;
  grpc::ClientContext context;
  SetDeadline(context);
  const grpc::Status s = stub.GetCheckpoint(&context, {}, &signed_checkpoint);
  EXPECT_TRUE(s.ok()) << s.error_message();
  cairn::v1::Checkpoint checkpoint;
  EXPECT_TRUE(checkpoint.ParseFromString(signed_checkpoint.checkpoint()));
  return checkpoint.size();
}

grpc::Status AppendSigned(cairn::v1::Ledger::Stub& stub, const cairn::v1::SignedEvent& event,
                          cairn::v1::AppendResponse* response) {
  cairn::v1::AppendRequest request;
  *request.mutable_event() = event;
  cairn::v1::AppendResponse local;
  grpc::ClientContext context;
  SetDeadline(context);
  return stub.Append(&context, request, response != nullptr ? response : &local);
}

}  // namespace cairn::itest
