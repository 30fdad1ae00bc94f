// The node's side of systemd's service protocol (sd_notify(3), libsystemd): READY=1 once it
// serves, STOPPING=1 when it begins a clean stop, a STATUS= line, and WATCHDOG=1 pings while the
// node is alive when the unit sets WatchdogSec= (deploy/systemd/cairnd.service). Outside systemd
// ($NOTIFY_SOCKET unset) every call does nothing.
#pragma once

#include <atomic>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <string>
#include <thread>

namespace cairn::node {

void NotifyReady(const std::string& status);
void NotifyStopping(const std::string& status);

// Pings systemd's watchdog at half the interval the unit asks for, as long as `alive` says the
// node can still do its work; a node that stops answering is then restarted by systemd. Does
// nothing when the watchdog is off.
class Watchdog {
 public:
  explicit Watchdog(std::function<bool()> alive);
  ~Watchdog();
  Watchdog(const Watchdog&) = delete;
  Watchdog& operator=(const Watchdog&) = delete;

 private:
  std::function<bool()> alive_;
  std::mutex mu_;
  std::condition_variable wake_;
  bool stop_ = false;
  std::thread thread_;
};

}  // namespace cairn::node
