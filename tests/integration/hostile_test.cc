// A hostile client we did not write (tests/hostile/hostile.py: Debian's python3-grpcio sending
// raw bytes) against a real cairnd while an honest client appends: the node's threads stay
// bounded, refused requests write nothing, and it serves normally afterwards.
#include <gtest/gtest.h>
#include <sys/resource.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <functional>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "tests/integration/harness.h"
#include "tests/unit/test_world.h"

namespace cairn::itest {
namespace {

// The node's memory bound under attack: 300 MB. Under AddressSanitizer (tests/run.sh --sanitize)
// its shadow memory and quarantine of freed blocks take ~650 MB more of the same attack, so the
// bound there only catches growth without bound (before the fix: 6,496 threads).
#if defined(__has_feature)
#if __has_feature(address_sanitizer)
#define CAIRN_UNDER_ASAN 1
#endif
#endif
#ifdef CAIRN_UNDER_ASAN
constexpr int64_t kRssBound = int64_t{1536} << 20;
#else
constexpr int64_t kRssBound = int64_t{300} << 20;
#endif

// `cairn submit` of extraction `n` by pk-fwo, as an honest partner system appends; its exit code.
int SubmitExtraction(World& world, const TempDir& dir, int n) {
  const std::string file = dir / ("x-" + std::to_string(n) + ".json");
  WriteFile(file, R"({"extraction": {"lot_id": "pk-fwo:CHG-)" + std::to_string(n) +
                      R"(", "site": {"id": "pk-fwo-chagai-01", "name": "Chagai", "country":
                      "PK"}, "material": "REE concentrate", "mass_g": "20000000"}})");
  return Cairn(
             {"submit", "--node", world.node().address(), "--key", world.key_path("pk-fwo"), file})
      .exit_code;
}

// An honest partner system appending extractions with `cairn submit` from its own thread, from
// construction until Stop().
class HonestAppender {
 public:
  HonestAppender(World& world, const TempDir& dir)
      : thread_([this, &world, &dir] {
          for (int n = 1; !done_; ++n) (SubmitExtraction(world, dir, n) == 0 ? ok_ : failed_)++;
        }) {}
  ~HonestAppender() { Stop(); }
  HonestAppender(const HonestAppender&) = delete;
  HonestAppender& operator=(const HonestAppender&) = delete;

  void Stop() {
    done_ = true;
    if (thread_.joinable()) thread_.join();
  }
  int ok() const { return ok_; }
  int failed() const { return failed_; }

 private:
  std::atomic<bool> done_{false};
  std::atomic<int> ok_{0}, failed_{0};
  std::thread thread_;  // declared last: it starts once the counters exist
};

// Runs tests/hostile/hostile.py with `args` against the node while `honest` appends, then stops
// `honest`; the figures the client printed (null when it failed).
nlohmann::json RunHostileClient(World& world, HonestAppender& honest,
                                const std::vector<std::string>& args) {
  std::vector<std::string> argv = {"/usr/bin/python3", HOSTILE_CLIENT, world.node().address(),
                                   std::to_string(world.node().pid())};
  argv.insert(argv.end(), args.begin(), args.end());
  const RunResult r = RunProcess(argv);
  honest.Stop();
  EXPECT_EQ(r.exit_code, 0) << r.err;
  if (r.exit_code != 0) return nullptr;
  nlohmann::json figures = nlohmann::json::parse(r.out);
  std::cout << "hostile " << args[0] << ": " << figures.dump()
            << "; honest appends meanwhile: " << honest.ok() << " ok, " << honest.failed()
            << " failed\n";
  return figures;
}

TEST(HostileTest, OpenedAndCancelledStreamsAndGarbageLeaveTheNodeBoundedAndServing) {
  TempDir dir;
  World world(dir);
  world.StartNode({"pk-fwo"});
  auto submit = [&](int n) { return SubmitExtraction(world, dir, n); };
  ASSERT_EQ(submit(0), 0);
  auto stub = world.Stub();
  HonestAppender honest(world, dir);  // appends throughout
  const nlohmann::json figures = RunHostileClient(world, honest, {"--calls", "10000"});
  ASSERT_FALSE(figures.is_null());
  EXPECT_LT(figures["peak_threads"].get<int>(), 200) << figures;
  EXPECT_LT(figures["final_threads"].get<int>(), 200) << figures;
  EXPECT_LT(figures["peak_rss_bytes"].get<int64_t>(), kRssBound) << figures;
  // Bytes that are no request: INVALID_ARGUMENT, saying so.
  EXPECT_EQ(figures["append_garbage"], "INVALID_ARGUMENT") << figures;
  EXPECT_NE(figures["append_garbage_message"].get<std::string>().find(
                "are not a serialized cairn.v1.AppendRequest"),
            std::string::npos)
      << figures;
  EXPECT_EQ(figures["append_batch_garbage"], "INVALID_ARGUMENT") << figures;
  EXPECT_EQ(figures["append_nested"], "INVALID_ARGUMENT") << figures;
  EXPECT_EQ(figures["append_batch_huge_repeated"], "INVALID_ARGUMENT") << figures;
  EXPECT_NE(figures["append_batch_huge_repeated_message"].get<std::string>().find(
                "got 100000, want <= 1000"),
            std::string::npos)
      << figures;
  EXPECT_NE(figures["append_oversized"], "OK");
  // Reads too: gRPC's own parse of the request fails, and the caller is told it sent garbage.
  EXPECT_EQ(figures["get_entries_garbage"], "INVALID_ARGUMENT") << figures;
  EXPECT_NE(figures["get_entries_garbage_message"].get<std::string>().find(
                "are not a serialized request message of /cairn.v1.Ledger/GetEntries"),
            std::string::npos)
      << figures;
  EXPECT_EQ(figures["get_event_garbage"], "INVALID_ARGUMENT") << figures;
  EXPECT_EQ(honest.failed(), 0);
  EXPECT_GT(honest.ok(), 0);
  // Nothing a refused request sent was written: the log holds the honest appends only.
  EXPECT_EQ(LogSize(*stub), static_cast<uint64_t>(1 + honest.ok()));
  // And the node serves normally afterwards.
  EXPECT_EQ(submit(100000), 0);
  EXPECT_EQ(world.node().Terminate(), 0);
}

// 2,000 idle connections, each its own socket in the node, while an honest client appends. The
// node starts under the soft limit on open files that a service gets by default (1,024, as under
// systemd): it must raise it to the hard limit, or it cannot accept the connections past ~1,000
// and honest clients are turned away.
TEST(HostileTest, TwoThousandIdleConnectionsLeaveTheNodeBoundedAndServing) {
  rlimit saved{};
  ASSERT_EQ(getrlimit(RLIMIT_NOFILE, &saved), 0);
  if (saved.rlim_max < 4096) GTEST_SKIP() << "hard limit on open files below 4096";
  TempDir dir;
  World world(dir);
  rlimit low = saved;
  low.rlim_cur = 1024;
  ASSERT_EQ(setrlimit(RLIMIT_NOFILE, &low), 0);
  world.StartNode({"pk-fwo"});
  ASSERT_EQ(setrlimit(RLIMIT_NOFILE, &saved), 0);
  ASSERT_EQ(SubmitExtraction(world, dir, 0), 0);
  HonestAppender honest(world, dir);
  const nlohmann::json figures = RunHostileClient(world, honest, {"--idle", "2000"});
  ASSERT_FALSE(figures.is_null());
  EXPECT_EQ(figures["idle_connected"], 2000) << figures;
  EXPECT_GT(figures["peak_fds"].get<int>(), 2000) << figures;
  EXPECT_LT(figures["peak_threads"].get<int>(), 200) << figures;
  EXPECT_LT(figures["peak_rss_bytes"].get<int64_t>(), kRssBound) << figures;
  EXPECT_EQ(honest.failed(), 0);
  EXPECT_GT(honest.ok(), 0);
  EXPECT_EQ(SubmitExtraction(world, dir, 100000), 0);
  EXPECT_EQ(world.node().Terminate(), 0);
}

// 1,000 GetEntries streams that never read, from one host, while an honest client appends and
// reads. Before the stream limits they took every call thread (and 1.9-2.1 GB, never given
// back): honest reads were refused or took seconds. Now the host gets 16 streams, the rest are
// refused at once, the 16 are cancelled once their reader has stalled past the timeout, and the
// honest client's calls all succeed (their p99 is printed: a figure, not a test).
TEST(HostileTest, AThousandSlowReadersAreRefusedOrCancelledAndHonestCallsGoOn) {
  TempDir dir;
  World world(dir);
  world.StartNode({"pk-fwo"});
  ASSERT_EQ(world.node().Terminate(), 0);
  WriteFile(world.config_path(),
            ReadFile(world.config_path()) + "stream_stall_timeout_ms = 2000\n");
  std::string error;
  ASSERT_TRUE(world.node().Start(world.config_path(), &error)) << error;
  auto stub = world.Stub();
  // A log no reader takes in one flow-control window: 400 entries of ~700 bytes.
  std::vector<cairn::v1::SignedEvent> events;
  for (int n = 0; n < 2400; ++n) {
    events.push_back(world.Sign(cairn::testing::PakistanExtraction(
        "pk-fwo:CHG-2025-" + std::to_string(10000 + n), 20'000'000)));
  }
  for (int n = 0; n < 400; ++n) ASSERT_TRUE(AppendSigned(*stub, events[n]).ok());

  // The honest partner system: appends, and reads back each event it appended. Like any gRPC
  // client it asks again, 10 ms later, a call refused RESOURCE_EXHAUSTED: that is how the node
  // sheds load, and in the burst of 1,000 stream calls gRPC may find no free call thread for a
  // moment (under ASan it did, once in 846 calls). Such refusals are counted apart; any other
  // failure, or a refusal that lasts a second, fails the test.
  std::atomic<bool> done{false};
  std::vector<double> latencies_ms;
  int failed = 0;
  int refused = 0;
  std::string first_failure;
  const auto call = [&](const std::function<grpc::Status()>& once) {
    for (int attempt = 0;; ++attempt) {
      const grpc::Status status = once();
      if (status.error_code() != grpc::StatusCode::RESOURCE_EXHAUSTED || attempt == 100) {
        if (!status.ok() && first_failure.empty()) {
          first_failure = std::to_string(status.error_code()) + ": " + status.error_message();
        }
        return status.ok();
      }
      ++refused;
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
  };
  std::thread honest([&] {
    auto own = world.Stub();
    for (size_t n = 400; n < events.size() && !done; ++n) {
      const auto begin = std::chrono::steady_clock::now();
      cairn::v1::AppendResponse appended;
      const bool ok = call([&] { return AppendSigned(*own, events[n], &appended); });
      const auto middle = std::chrono::steady_clock::now();
      const bool read =
          ok && call([&] {
            grpc::ClientContext context;
            context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(5));
            cairn::v1::GetEventRequest request;
            request.set_event_id(appended.event_id());
            cairn::v1::GetEventResponse event;
            return own->GetEvent(&context, request, &event);
          });
      const auto end = std::chrono::steady_clock::now();
      if (!ok || !read) ++failed;
      latencies_ms.push_back(std::chrono::duration<double, std::milli>(middle - begin).count());
      latencies_ms.push_back(std::chrono::duration<double, std::milli>(end - middle).count());
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
  });
  std::vector<std::string> argv = {"/usr/bin/python3",
                                   HOSTILE_CLIENT,
                                   world.node().address(),
                                   std::to_string(world.node().pid()),
                                   "--slow-readers",
                                   "1000",
                                   "--hold",
                                   "5"};
  const RunResult r = RunProcess(argv);
  done = true;
  honest.join();
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const nlohmann::json figures = nlohmann::json::parse(r.out);
  std::sort(latencies_ms.begin(), latencies_ms.end());
  const double p99 = latencies_ms.empty() ? 0 : latencies_ms[latencies_ms.size() * 99 / 100];
  std::cout << "hostile --slow-readers: " << figures.dump()
            << "; honest calls meanwhile: " << latencies_ms.size() << ", " << failed << " failed, "
            << refused << " refusals asked again, p99 " << p99 << " ms\n";
  // One host holds at most 16 streams; the other 984 are refused at once, and say why.
  EXPECT_EQ(figures["not_refused"], 16) << figures;
  EXPECT_EQ(figures["refused_at_once"], 984) << figures;
  EXPECT_EQ(figures["refusal_codes"], nlohmann::json({"RESOURCE_EXHAUSTED"})) << figures;
  // The 16 stalled readers are cancelled by the node, freeing their threads (the client sees
  // that only once it reads: its log of the calls says it).
  std::istringstream log(ReadFile(world.node().stderr_path()));
  int stalled = 0;
  for (std::string line; std::getline(log, line);) {
    if (line.find("\"GetEntries\"") != std::string::npos &&
        line.find("cancelled by the node: the reader took no message for 2000 ms") !=
            std::string::npos) {
      ++stalled;
    }
  }
  EXPECT_EQ(stalled, 16);
  EXPECT_EQ(figures["reader_after"], "OK") << figures;
  EXPECT_LT(figures["peak_threads"].get<int>(), 200) << figures;
  EXPECT_LT(figures["peak_rss_bytes"].get<int64_t>(), kRssBound) << figures;
  EXPECT_EQ(failed, 0) << first_failure;
  EXPECT_GT(latencies_ms.size(), 100U);
  EXPECT_EQ(LogSize(*stub), 400 + latencies_ms.size() / 2);
  EXPECT_EQ(world.node().Terminate(), 0);
}

// grpc.health.v1 per service, as a client we did not write sees it: the server (""), its Ledger
// and its Federation serve; an unknown service is unknown; in audit mode the node serves reads of
// a log it cannot vouch for and refuses appends, so every service says NOT_SERVING.
TEST(HostileTest, HealthIsReportedPerServiceAndIsNotServingInAuditMode) {
  TempDir dir;
  World world(dir);
  world.StartNode({"pk-fwo"});
  auto health = [&](const std::string& address) {
    const RunResult r = RunProcess({"/usr/bin/python3", HEALTH_CLIENT, address, "",
                                    "cairn.v1.Ledger", "cairn.v1.Federation", "cairn.v1.Nothing"});
    EXPECT_EQ(r.exit_code, 0) << r.err;
    return r.out;
  };
  EXPECT_EQ(health(world.node().address()),
            "(server) SERVING\ncairn.v1.Ledger SERVING\ncairn.v1.Federation SERVING\n"
            "cairn.v1.Nothing NOT_FOUND\n");
  ASSERT_EQ(world.node().Terminate(), 0);
  WriteFile(dir / "audit.toml", "audit = true\n" + ReadFile(world.config_path()));
  NodeProcess audit;
  std::string error;
  ASSERT_TRUE(audit.Start(dir / "audit.toml", &error)) << error;
  EXPECT_EQ(health(audit.address()),
            "(server) NOT_SERVING\ncairn.v1.Ledger NOT_SERVING\ncairn.v1.Federation NOT_SERVING\n"
            "cairn.v1.Nothing NOT_FOUND\n");
  EXPECT_EQ(audit.Terminate(), 0);
}

}  // namespace
}  // namespace cairn::itest
