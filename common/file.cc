#include "common/file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>

namespace cairn {
namespace {

Status WriteAll(int fd, std::string_view data) {
  while (!data.empty()) {
    const ssize_t n = ::write(fd, data.data(), data.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      return Internal(ErrnoText());
    }
    data.remove_prefix(static_cast<size_t>(n));
  }
  return Status::Ok();
}

}  // namespace

Status WriteFileAtomically(const std::string& path, std::string_view data, mode_t mode,
                           bool replace, std::string_view what) {
  const std::string name = std::string(what) + " " + path + ": ";
  std::string tmp = path + ".tmp-XXXXXX";
  FileDescriptor fd(::mkstemp(tmp.data()));
  if (fd.get() < 0) return Internal(name + "cannot create a temporary file: " + ErrnoText());
  auto fail = [&](const std::string& step) {
    ::unlink(tmp.c_str());
    return Internal(name + step);
  };
  // mkstemp made the file 0600.
  if (::fchmod(fd.get(), mode) != 0) return fail("chmod: " + ErrnoText());
  if (Status s = WriteAll(fd.get(), data); !s.ok()) return fail("write: " + s.message());
  if (::fsync(fd.get()) != 0) return fail("fsync: " + ErrnoText());
  if (!fd.Close()) return fail("close: " + ErrnoText());
  if (replace) {
    if (::rename(tmp.c_str(), path.c_str()) != 0) return fail("rename: " + ErrnoText());
  } else {
    if (::link(tmp.c_str(), path.c_str()) != 0) {
      const int err = errno;
      ::unlink(tmp.c_str());
      if (err == EEXIST) return AlreadyExists(name + "already exists; not overwriting it");
      return Internal(name + std::strerror(err));
    }
    ::unlink(tmp.c_str());
  }
  std::string dir = std::filesystem::path(path).parent_path().string();
  if (dir.empty()) dir = ".";
  FileDescriptor dir_fd(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (dir_fd.get() < 0 || ::fsync(dir_fd.get()) != 0) {
    return Internal(name + "written, but syncing directory " + dir + " failed: " + ErrnoText());
  }
  return Status::Ok();
}

}  // namespace cairn
