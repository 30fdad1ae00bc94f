// `cairn-bench` against a real cairnd: the events it sends are appended and counted, its figures
// are measured rather than assumed, and a refused load is an error exit.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "tests/integration/harness.h"

namespace cairn::itest {
namespace {

class BenchTest : public WorldTest {
 protected:
  uint64_t LogSize() { return itest::LogSize(*world_->Stub()); }
};

TEST_F(BenchTest, RoundsAppendEveryEventAndReportMeasuredFigures) {
  const uint64_t before = LogSize();
  const RunResult run =
      CairnBench({"--node", world_->node().address(), "--key", world_->key_path("pk-fwo"),
                  "--clients", "4", "--events", "150", "--rounds", "3", "--baseline", "--node-pid",
                  std::to_string(world_->node().pid()), "--json"});
  ASSERT_EQ(run.exit_code, 0) << run.err;
  const auto j = nlohmann::json::parse(run.out);
  ASSERT_EQ(j.at("rounds").size(), 3u) << run.out;
  double lowest = 1e18, highest = 0;
  for (const auto& round : j.at("rounds")) {
    EXPECT_EQ(round.at("events").get<int>(), 150);
    EXPECT_EQ(round.at("failures").get<int>(), 0);
    const double rate = round.at("events_per_s").get<double>();
    EXPECT_GT(rate, 0);
    lowest = std::min(lowest, rate);
    highest = std::max(highest, rate);
    EXPECT_GT(round.at("node_cpu_us_per_event").get<double>(), 0);
    EXPECT_GT(round.at("baseline_before_per_s").get<double>(), 0);
    EXPECT_GT(round.at("baseline_after_per_s").get<double>(), 0);
    EXPECT_NEAR(round.at("ratio_to_baseline").get<double>(),
                rate / round.at("baseline_verify_per_s").get<double>(), 1e-9);
    EXPECT_LE(round.at("p50_ms").get<double>(), round.at("p99_ms").get<double>());
  }
  const auto& summary = j.at("summary");
  EXPECT_EQ(summary.at("min_events_per_s").get<double>(), lowest);
  EXPECT_EQ(summary.at("max_events_per_s").get<double>(), highest);
  const double median = summary.at("median_events_per_s").get<double>();
  EXPECT_GE(median, lowest);
  EXPECT_LE(median, highest);
  // Every round's events are in the log: fresh lot ids each round, none refused.
  EXPECT_EQ(LogSize(), before + 450);
}

TEST_F(BenchTest, BatchesAreAppendedToo) {
  const uint64_t before = LogSize();
  const RunResult run =
      CairnBench({"--node", world_->node().address(), "--key", world_->key_path("pk-fwo"),
                  "--clients", "2", "--events", "250", "--batch", "100"});
  ASSERT_EQ(run.exit_code, 0) << run.err;
  EXPECT_NE(run.out.find("250 events, 2 clients, batch 100:"), std::string::npos) << run.out;
  EXPECT_EQ(LogSize(), before + 250);
}

TEST_F(BenchTest, EventsTheNodeRefusesMakeAnErrorExitNamingTheFirstError) {
  // The node does not host au-lynas: every append is refused, nothing is appended.
  const uint64_t before = LogSize();
  const RunResult run =
      CairnBench({"--node", world_->node().address(), "--key", world_->key_path("au-lynas"),
                  "--clients", "2", "--events", "20"});
  EXPECT_NE(run.exit_code, 0);
  EXPECT_NE(run.err.find("20 events refused"), std::string::npos) << run.err;
  EXPECT_NE(run.err.find("au-lynas"), std::string::npos) << run.err;
  EXPECT_EQ(LogSize(), before);
}

}  // namespace
}  // namespace cairn::itest
