// A POSIX file descriptor closed when it goes out of scope, and errno as text. Internal to keys/.
#pragma once

#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string>

namespace cairn::keys {

class FileDescriptor {
 public:
  explicit FileDescriptor(int fd) : fd_(fd) {}
  ~FileDescriptor() {
    if (fd_ >= 0) ::close(fd_);
  }
  FileDescriptor(const FileDescriptor&) = delete;
  FileDescriptor& operator=(const FileDescriptor&) = delete;
  int get() const { return fd_; }
  // Closes now and reports whether close succeeded.
  bool Close() {
    const int fd = fd_;
    fd_ = -1;
    return fd < 0 || ::close(fd) == 0;
  }

 private:
  int fd_;
};

inline std::string ErrnoText() { return std::strerror(errno); }

}  // namespace cairn::keys
