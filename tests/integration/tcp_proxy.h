// TcpProxy: a small TCP proxy between two real processes, for network faults in integration
// tests. It listens on a free loopback port and forwards every connection to `target`, byte for
// byte, until told otherwise:
//   Pause()/Resume()   stop forwarding (connections stay open, bytes wait) and go on: a slow link
//   Cut()/Restore()    close every connection and refuse new ones (accepted, then closed at
//                      once), then accept again: a partition and its healing
//   FlipByte(n)        flip one bit of the n-th byte from now flowing target -> client: an entry
//                      altered in transit
// Threads: one accepting, two per connection. Thread-safe.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace cairn::itest {

class TcpProxy {
 public:
  // `target` is host:port of a loopback address.
  explicit TcpProxy(const std::string& target);
  ~TcpProxy();
  TcpProxy(const TcpProxy&) = delete;
  TcpProxy& operator=(const TcpProxy&) = delete;

  const std::string& address() const { return address_; }
  void Pause();
  void Resume();
  void Cut();
  void Restore();
  void FlipByte(uint64_t nth);
  // Bytes forwarded target -> client so far.
  uint64_t downstream_bytes() const { return downstream_.load(); }

 private:
  struct Connection;
  void Accept();
  void Pump(int from, int to, bool downstream);
  void CloseAll();

  int target_port_ = 0;
  int listen_fd_ = -1;
  std::string address_;
  std::atomic<bool> stopping_{false};
  std::atomic<bool> paused_{false};
  std::atomic<bool> cut_{false};
  std::atomic<int64_t> flip_at_{-1};  // downstream byte count at which to flip; -1: none
  std::atomic<uint64_t> downstream_{0};
  std::thread acceptor_;
  std::mutex mutex_;
  std::vector<std::unique_ptr<Connection>> connections_;
};

}  // namespace cairn::itest
