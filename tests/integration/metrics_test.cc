// cairnd's Prometheus endpoint (metrics_listen), scraped and parsed by a parser we did not write
// (python3-prometheus-client, tests/metrics/scrape.py), against a real node taking real appends.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <string>

#include "tests/integration/harness.h"
#include "tests/unit/test_world.h"

namespace cairn::itest {
namespace {

using cairn::testing::DispatchOf;
using cairn::testing::PakistanExtraction;

double Sample(const nlohmann::json& samples, const std::string& key) {
  if (!samples.contains(key)) {
    ADD_FAILURE() << "no sample " << key << " in " << samples.dump(1);
    return -1;
  }
  return samples[key].get<double>();
}

// Sum of the samples named `name` whose labels contain `with`.
double SumOf(const nlohmann::json& samples, const std::string& name, const std::string& with) {
  double sum = 0;
  for (const auto& [key, value] : samples.items()) {
    if (key.rfind(name + "{", 0) == 0 && key.find(with) != std::string::npos) {
      sum += value.get<double>();
    }
  }
  return sum;
}

TEST(MetricsTest, CountsAppendsRefusalsAndReadsTheLogsState) {
  TempDir dir;
  World world(dir);
  world.StartNode({"pk-fwo", "us-usm"});
  ASSERT_EQ(world.node().Terminate(), 0);
  const std::string metrics = "127.0.0.1:" + std::to_string(FreePort());
  WriteFile(dir / "metrics.toml",
            "metrics_listen = \"" + metrics + "\"\n" + ReadFile(world.config_path()));
  NodeProcess node;
  std::string error;
  ASSERT_TRUE(node.Start(dir / "metrics.toml", &error)) << error;

  const nlohmann::json before = ScrapeMetrics(metrics);
  EXPECT_EQ(Sample(before, "cairn_log_entries{log=demo-log}"), 0);
  EXPECT_EQ(Sample(before, "cairn_events_appended_total{}"), 0);
  EXPECT_EQ(Sample(before, "cairn_build_info{log=demo-log,version=" CAIRN_VERSION "}"), 1);
  EXPECT_EQ(Sample(before, "cairn_forks_detected{log=demo-log}"), 0);
  EXPECT_GT(Sample(before, "cairn_process_threads{}"), 1);
  EXPECT_GT(Sample(before, "cairn_process_resident_memory_bytes{}"), 1e6);
  EXPECT_GT(Sample(before, "cairn_sqlite_file_bytes{file=db,log=demo-log}"), 0);

  grpc::ChannelArguments args;
  auto stub = cairn::v1::Ledger::NewStub(
      grpc::CreateCustomChannel(node.address(), grpc::InsecureChannelCredentials(), args));
  const auto must_append = [&](const cairn::v1::EventBody& body) {
    const grpc::Status s = AppendSigned(*stub, world.Sign(body));
    ASSERT_TRUE(s.ok()) << s.error_message();
  };
  const cairn::v1::SignedEvent extraction = world.Sign(PakistanExtraction());
  ASSERT_TRUE(AppendSigned(*stub, extraction).ok());
  must_append(DispatchOf("pk-fwo", "us-usm", "pk-fwo:CHG-2025-0001", 8'000'000));
  // The same event again: answered OK as a duplicate, not a new entry.
  ASSERT_TRUE(AppendSigned(*stub, extraction).ok());
  // Signed by a key that is not the author's: refused.
  const grpc::Status refused =
      AppendSigned(*stub, world.Sign(PakistanExtraction("pk-fwo:CHG-2025-0002"), "us-usm"));
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(LogSize(*stub), 2u);

  const nlohmann::json after = ScrapeMetrics(metrics);
  EXPECT_EQ(Sample(after, "cairn_log_entries{log=demo-log}"), 2);
  EXPECT_EQ(Sample(after, "cairn_events_appended_total{}"), 2);
  EXPECT_EQ(Sample(after, "cairn_requests_total{code=OK,method=Append}"), 3);
  EXPECT_EQ(SumOf(after, "cairn_requests_total", "method=Append"), 4);
  // The refusal, under its code: the rulebook's PERMISSION_DENIED for another's key.
  EXPECT_EQ(SumOf(after, "cairn_requests_total", "code=PERMISSION_DENIED"), 1)
      << refused.error_code() << " " << refused.error_message();
  EXPECT_EQ(Sample(after, "cairn_request_duration_seconds_count{method=Append}"), 4);
  EXPECT_GT(Sample(after, "cairn_request_duration_seconds_sum{method=Append}"), 0);
  EXPECT_EQ(Sample(after, "cairn_request_duration_seconds_bucket{le=+Inf,method=Append}"), 4);
  EXPECT_EQ(Sample(after, "cairn_requests_in_flight{method=Append}"), 0);
  EXPECT_GE(Sample(after, "cairn_requests_total{code=OK,method=GetCheckpoint}"), 1);
  EXPECT_GT(Sample(after, "cairn_sqlite_file_bytes{file=wal,log=demo-log}"), 0);
  EXPECT_EQ(node.Terminate(), 0);
}

TEST(MetricsTest, AMetricsAddressInUseStopsTheNodeBeforeItServes) {
  TempDir dir;
  World world(dir);
  world.StartNode({"pk-fwo"});
  ASSERT_EQ(world.node().Terminate(), 0);
  const BusyPort taken;
  const std::string metrics = taken.address();
  const RunResult r =
      RunProcess({CAIRND_PATH, "--config", world.config_path(), "--metrics-listen", metrics});
  EXPECT_EQ(r.exit_code, 2) << r.out << r.err;
  EXPECT_NE(r.err.find("metrics_listen: cannot listen on " + metrics), std::string::npos) << r.err;
}

}  // namespace
}  // namespace cairn::itest
