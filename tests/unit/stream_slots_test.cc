// StreamSlots (node/stream_slots.h): the bounds on open server streams. The cancelling of a
// stalled stream needs a real call: HostileTest.AThousandSlowReaders... runs it on a real node.
#include "node/stream_slots.h"

#include <gtest/gtest.h>

#include <memory>
#include <vector>

namespace cairn::node {
namespace {

TEST(StreamSlotsTest, TheHostIsThePeerWithoutItsPort) {
  EXPECT_EQ(StreamSlots::HostOf("ipv4:127.0.0.1:51234"), "ipv4:127.0.0.1");
  EXPECT_EQ(StreamSlots::HostOf("ipv6:[::1]:51234"), "ipv6:[::1]");
  EXPECT_EQ(StreamSlots::HostOf("ipv6:%5B::1%5D:7400"), "ipv6:%5B::1%5D");
  EXPECT_EQ(StreamSlots::HostOf("unix:/run/cairn/node.sock"), "unix:/run/cairn/node.sock");
  EXPECT_EQ(StreamSlots::HostOf("unknown"), "unknown");
}

TEST(StreamSlotsTest, AHostGetsItsShareThenARefusalNamesTheLimit) {
  StreamSlotOptions options;
  options.total = 5;
  options.per_host = 3;
  StreamSlots slots(options);
  std::vector<std::unique_ptr<StreamSlots::Slot>> held;
  for (int i = 0; i < 3; ++i) {
    held.push_back(slots.Take(nullptr));  // host "local"
    EXPECT_TRUE(held.back()->admitted());
  }
  const auto refused = slots.Take(nullptr);
  ASSERT_FALSE(refused->admitted());
  EXPECT_EQ(refused->refusal().error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED);
  EXPECT_NE(refused->refusal().error_message().find("max_streams_per_host"), std::string::npos)
      << refused->refusal().error_message();
  EXPECT_EQ(slots.open(), 3U);
  // A stream that ends gives its slot back.
  held.pop_back();
  EXPECT_EQ(slots.open(), 2U);
  EXPECT_TRUE(slots.Take(nullptr)->admitted());
  EXPECT_EQ(slots.open(), 2U);  // the temporary slot was released again
  EXPECT_FALSE(refused->stalled());
  EXPECT_EQ(WriteFailed(refused.get(), "stream closed by client").error_message(),
            "stream closed by client");
}

TEST(StreamSlotsTest, HostsWithinTheirShareAreRefusedOnceTheNodesTotalIsOpen) {
  StreamSlotOptions options;
  options.total = 5;
  options.per_host = 3;
  StreamSlots slots(options);
  std::vector<std::unique_ptr<StreamSlots::Slot>> held;
  for (const char* host :
       {"ipv4:10.0.0.1", "ipv4:10.0.0.1", "ipv4:10.0.0.1", "ipv4:10.0.0.2", "ipv4:10.0.0.2"}) {
    held.push_back(slots.Take(host, nullptr));
    EXPECT_TRUE(held.back()->admitted()) << host;
  }
  // 10.0.0.2 holds 2 of its 3 and 10.0.0.3 none, but the node's 5 are open.
  for (const char* host : {"ipv4:10.0.0.2", "ipv4:10.0.0.3"}) {
    const auto refused = slots.Take(host, nullptr);
    ASSERT_FALSE(refused->admitted()) << host;
    EXPECT_EQ(refused->refusal().error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED);
    EXPECT_EQ(refused->refusal().error_message(),
              "the node has 5 streams open, its limit (half of max_call_threads); try again later");
  }
  EXPECT_EQ(slots.open(), 5U);
  // Any stream that ends makes room for any host within its share.
  held.erase(held.begin());
  EXPECT_TRUE(slots.Take("ipv4:10.0.0.3", nullptr)->admitted());
  held.push_back(slots.Take("ipv4:10.0.0.2", nullptr));
  EXPECT_TRUE(held.back()->admitted());
  EXPECT_FALSE(slots.Take("ipv4:10.0.0.2", nullptr)->admitted());  // the node's total again
  held.clear();
  EXPECT_EQ(slots.open(), 0U);
}

TEST(StreamSlotsTest, NoSlotsMeansNoLimits) {
  EXPECT_EQ(TakeStreamSlot(nullptr, nullptr), nullptr);
  EXPECT_EQ(WriteFailed(nullptr, "gone").error_code(), grpc::StatusCode::CANCELLED);
}

}  // namespace
}  // namespace cairn::node
