#include "tests/integration/tcp_proxy.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <stdexcept>

namespace cairn::itest {

struct TcpProxy::Connection {
  int client = -1;
  int upstream = -1;
  std::thread up, down;
};

namespace {

int ListenOnLoopback(int* port) {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  const int one = 1;
  setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t length = sizeof(address);
  if (bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address)) != 0 ||
      listen(fd, 64) != 0 || getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length) != 0) {
    throw std::runtime_error("TcpProxy: cannot listen on loopback");
  }
  *port = ntohs(address.sin_port);
  return fd;
}

int ConnectLoopback(int port) {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  address.sin_port = htons(static_cast<uint16_t>(port));
  if (connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address)) != 0) {
    close(fd);
    return -1;
  }
  const int one = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
  return fd;
}

}  // namespace

TcpProxy::TcpProxy(const std::string& target) {
  target_port_ = std::stoi(target.substr(target.rfind(':') + 1));
  int port = 0;
  listen_fd_ = ListenOnLoopback(&port);
  address_ = "127.0.0.1:" + std::to_string(port);
  acceptor_ = std::thread([this] { Accept(); });
}

TcpProxy::~TcpProxy() {
  stopping_ = true;
  shutdown(listen_fd_, SHUT_RDWR);
  acceptor_.join();
  close(listen_fd_);
  CloseAll();
}

void TcpProxy::Pause() { paused_ = true; }
void TcpProxy::Resume() { paused_ = false; }

void TcpProxy::Cut() {
  cut_ = true;
  CloseAll();
}

void TcpProxy::Restore() { cut_ = false; }

void TcpProxy::FlipByte(uint64_t nth) { flip_at_ = static_cast<int64_t>(downstream_.load() + nth); }

void TcpProxy::CloseAll() {
  std::vector<std::unique_ptr<Connection>> closing;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    closing.swap(connections_);
  }
  for (auto& c : closing) {
    shutdown(c->client, SHUT_RDWR);
    shutdown(c->upstream, SHUT_RDWR);
  }
  for (auto& c : closing) {
    c->up.join();
    c->down.join();
    close(c->client);
    close(c->upstream);
  }
}

void TcpProxy::Accept() {
  while (!stopping_) {
    pollfd p{listen_fd_, POLLIN, 0};
    if (poll(&p, 1, 100) <= 0) continue;
    const int client = accept(listen_fd_, nullptr, nullptr);
    if (client < 0) continue;
    if (cut_ || stopping_) {
      close(client);
      continue;
    }
    const int upstream = ConnectLoopback(target_port_);
    if (upstream < 0) {
      close(client);
      continue;
    }
    const int one = 1;
    setsockopt(client, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    auto c = std::make_unique<Connection>();
    c->client = client;
    c->upstream = upstream;
    c->up = std::thread([this, client, upstream] { Pump(client, upstream, false); });
    c->down = std::thread([this, client, upstream] { Pump(upstream, client, true); });
    std::lock_guard<std::mutex> lock(mutex_);
    connections_.push_back(std::move(c));
  }
}

void TcpProxy::Pump(int from, int to, bool downstream) {
  char buffer[16384];
  while (true) {
    if (paused_) {
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
      if (stopping_ || cut_) break;
      continue;
    }
    pollfd p{from, POLLIN, 0};
    const int ready = poll(&p, 1, 50);
    if (ready == 0) continue;
    if (ready < 0) break;
    if (paused_) continue;
    const ssize_t n = read(from, buffer, sizeof(buffer));
    if (n <= 0) break;
    if (downstream) {
      const uint64_t start = downstream_.fetch_add(static_cast<uint64_t>(n));
      const int64_t flip = flip_at_.load();
      if (flip >= 0 && static_cast<uint64_t>(flip) >= start &&
          static_cast<uint64_t>(flip) < start + static_cast<uint64_t>(n)) {
        buffer[static_cast<uint64_t>(flip) - start] ^= 0x01;
        flip_at_ = -1;
      }
    }
    for (ssize_t sent = 0; sent < n;) {
      const ssize_t w = send(to, buffer + sent, static_cast<size_t>(n - sent), MSG_NOSIGNAL);
      if (w <= 0) return;
      sent += w;
    }
  }
  shutdown(to, SHUT_WR);
}

}  // namespace cairn::itest
