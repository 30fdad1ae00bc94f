// Files: descriptors closed on scope exit, and files written whole or not at all.
#pragma once

#include <sys/types.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string>
#include <string_view>

#include "common/status.h"

namespace cairn {

// A POSIX file descriptor closed when it goes out of scope.
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

// errno as text.
inline std::string ErrnoText() { return std::strerror(errno); }

// Writes `data` to a temporary file beside `path` with permissions `mode`, syncs it, then renames
// it over `path` (or, when !replace, links it to `path`, which fails ALREADY_EXISTS if `path`
// exists), and syncs the directory: afterwards `path` is the old file or the whole new one, on
// disk. Errors are INTERNAL and begin "<what> <path>: ".
Status WriteFileAtomically(const std::string& path, std::string_view data, mode_t mode,
                           bool replace, std::string_view what);

}  // namespace cairn
