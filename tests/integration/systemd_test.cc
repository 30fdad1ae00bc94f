// cairnd's side of systemd's service protocol, against a real cairnd: the test plays systemd,
// with a datagram socket in $NOTIFY_SOCKET and $WATCHDOG_USEC set, and reads what the node says.
#include <gtest/gtest.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <chrono>
#include <string>
#include <vector>

#include "tests/integration/harness.h"

namespace cairn::itest {
namespace {

// A bound AF_UNIX datagram socket, as systemd's notify socket.
class NotifySocket {
 public:
  explicit NotifySocket(const std::string& path) : path_(path) {
    fd_ = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    path.copy(addr.sun_path, sizeof(addr.sun_path) - 1);
    bound_ = fd_ >= 0 && bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0;
  }
  ~NotifySocket() {
    if (fd_ >= 0) close(fd_);
    unlink(path_.c_str());
  }
  bool bound() const { return bound_; }

  // Messages received until one contains `want` or `timeout` passes.
  std::vector<std::string> ReadUntil(const std::string& want, std::chrono::milliseconds timeout) {
    std::vector<std::string> got;
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < deadline) {
      pollfd p{fd_, POLLIN, 0};
      const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
          deadline - std::chrono::steady_clock::now());
      if (poll(&p, 1, static_cast<int>(std::max<int64_t>(left.count(), 1))) <= 0) continue;
      char buffer[4096];
      const ssize_t n = recv(fd_, buffer, sizeof(buffer), 0);
      if (n <= 0) continue;
      got.emplace_back(buffer, n);
      if (got.back().find(want) != std::string::npos) break;
    }
    return got;
  }

 private:
  std::string path_;
  int fd_ = -1;
  bool bound_ = false;
};

bool Contains(const std::vector<std::string>& messages, const std::string& want) {
  for (const auto& m : messages) {
    if (m.find(want) != std::string::npos) return true;
  }
  return false;
}

TEST(SystemdTest, TheNodeSaysReadyWhenItServesPingsTheWatchdogAndSaysStopping) {
  TempDir dir;
  World world(dir);
  NotifySocket notify(dir / "notify.sock");
  ASSERT_TRUE(notify.bound());
  setenv("NOTIFY_SOCKET", (dir / "notify.sock").c_str(), 1);
  setenv("WATCHDOG_USEC", "400000", 1);  // pings every 200 ms
  world.StartNode({"pk-fwo"});
  unsetenv("NOTIFY_SOCKET");
  unsetenv("WATCHDOG_USEC");
  ASSERT_TRUE(world.node().running());

  // READY=1 once it serves, with a status line naming the log.
  const auto ready = notify.ReadUntil("READY=1", std::chrono::seconds(10));
  ASSERT_TRUE(Contains(ready, "READY=1")) << ::testing::PrintToString(ready);
  EXPECT_TRUE(Contains(ready, "STATUS=serving log demo-log")) << ::testing::PrintToString(ready);
  // Then the watchdog, more than once.
  const auto first = notify.ReadUntil("WATCHDOG=1", std::chrono::seconds(3));
  const auto second = notify.ReadUntil("WATCHDOG=1", std::chrono::seconds(3));
  EXPECT_TRUE(Contains(first, "WATCHDOG=1") && Contains(second, "WATCHDOG=1"))
      << ::testing::PrintToString(first) << ::testing::PrintToString(second);
  // STOPPING=1 when SIGTERM starts the clean stop.
  EXPECT_EQ(world.node().Terminate(), 0);
  const auto stopping = notify.ReadUntil("STOPPING=1", std::chrono::seconds(5));
  EXPECT_TRUE(Contains(stopping, "STOPPING=1")) << ::testing::PrintToString(stopping);
}

}  // namespace
}  // namespace cairn::itest
