// A fault-injecting SQLite VFS for tests: SQLite's default VFS, except that while armed every
// fsync (xSync) of a file it opened fails with SQLITE_IOERR_FSYNC, and every write (xWrite) with
// SQLITE_IOERR_WRITE when writes are armed. The seam below our storage (StorageOptions::vfs), so
// that the writer's failure paths run against real SQLite files.
#pragma once

#include <sqlite3.h>

#include <atomic>
#include <cstring>

namespace cairn::testing {

class FaultyVfs {
 public:
  static constexpr const char* kName = "cairn-faulty";

  // Registers the VFS once (not as the default).
  static void Register() {
    static const bool registered = [] {
      sqlite3_vfs* base = sqlite3_vfs_find(nullptr);
      Base() = base;
      static sqlite3_vfs vfs = *base;
      vfs.zName = kName;
      vfs.szOsFile = static_cast<int>(sizeof(File)) + base->szOsFile;
      vfs.xOpen = &Open;
      vfs.pNext = nullptr;
      return sqlite3_vfs_register(&vfs, /*makeDflt=*/0) == SQLITE_OK;
    }();
    (void)registered;
  }

  static std::atomic<bool>& fail_sync() {
    static std::atomic<bool> flag{false};
    return flag;
  }
  static std::atomic<bool>& fail_write() {
    static std::atomic<bool> flag{false};
    return flag;
  }

 private:
  // Our file header, followed in memory by the base VFS's file.
  struct File {
    sqlite3_file base;  // pMethods = our methods
    sqlite3_file* real() { return reinterpret_cast<sqlite3_file*>(this + 1); }
  };

  static sqlite3_vfs*& Base() {
    static sqlite3_vfs* base = nullptr;
    return base;
  }
  static sqlite3_file* Real(sqlite3_file* f) { return reinterpret_cast<File*>(f)->real(); }

  static int Open(sqlite3_vfs*, sqlite3_filename name, sqlite3_file* file, int flags,
                  int* out_flags) {
    File* f = reinterpret_cast<File*>(file);
    std::memset(f, 0, sizeof(File));
    const int rc = Base()->xOpen(Base(), name, f->real(), flags, out_flags);
    if (rc != SQLITE_OK) {
      f->base.pMethods = nullptr;
      return rc;
    }
    // The io methods of the base file, with xSync and xWrite wrapped. Version and shared-memory
    // methods are those of the base (the WAL needs them).
    static sqlite3_io_methods methods = [&] {
      sqlite3_io_methods m = *f->real()->pMethods;
      m.xClose = [](sqlite3_file* p) {
        sqlite3_file* real = Real(p);
        const int closed = real->pMethods != nullptr ? real->pMethods->xClose(real) : SQLITE_OK;
        p->pMethods = nullptr;
        return closed;
      };
      m.xRead = [](sqlite3_file* p, void* buf, int n, sqlite3_int64 at) {
        return Real(p)->pMethods->xRead(Real(p), buf, n, at);
      };
      m.xWrite = [](sqlite3_file* p, const void* buf, int n, sqlite3_int64 at) {
        if (fail_write()) return SQLITE_IOERR_WRITE;
        return Real(p)->pMethods->xWrite(Real(p), buf, n, at);
      };
      m.xTruncate = [](sqlite3_file* p, sqlite3_int64 size) {
        return Real(p)->pMethods->xTruncate(Real(p), size);
      };
      m.xSync = [](sqlite3_file* p, int flags) {
        if (fail_sync()) return SQLITE_IOERR_FSYNC;
        return Real(p)->pMethods->xSync(Real(p), flags);
      };
      m.xFileSize = [](sqlite3_file* p, sqlite3_int64* size) {
        return Real(p)->pMethods->xFileSize(Real(p), size);
      };
      m.xLock = [](sqlite3_file* p, int level) { return Real(p)->pMethods->xLock(Real(p), level); };
      m.xUnlock = [](sqlite3_file* p, int level) {
        return Real(p)->pMethods->xUnlock(Real(p), level);
      };
      m.xCheckReservedLock = [](sqlite3_file* p, int* out) {
        return Real(p)->pMethods->xCheckReservedLock(Real(p), out);
      };
      m.xFileControl = [](sqlite3_file* p, int op, void* arg) {
        return Real(p)->pMethods->xFileControl(Real(p), op, arg);
      };
      m.xSectorSize = [](sqlite3_file* p) { return Real(p)->pMethods->xSectorSize(Real(p)); };
      m.xDeviceCharacteristics = [](sqlite3_file* p) {
        return Real(p)->pMethods->xDeviceCharacteristics(Real(p));
      };
      m.xShmMap = [](sqlite3_file* p, int page, int size, int extend, void volatile** out) {
        return Real(p)->pMethods->xShmMap(Real(p), page, size, extend, out);
      };
      m.xShmLock = [](sqlite3_file* p, int offset, int n, int flags) {
        return Real(p)->pMethods->xShmLock(Real(p), offset, n, flags);
      };
      m.xShmBarrier = [](sqlite3_file* p) { Real(p)->pMethods->xShmBarrier(Real(p)); };
      m.xShmUnmap = [](sqlite3_file* p, int del) {
        return Real(p)->pMethods->xShmUnmap(Real(p), del);
      };
      m.xFetch = [](sqlite3_file* p, sqlite3_int64 at, int n, void** out) {
        return Real(p)->pMethods->xFetch(Real(p), at, n, out);
      };
      m.xUnfetch = [](sqlite3_file* p, sqlite3_int64 at, void* ptr) {
        return Real(p)->pMethods->xUnfetch(Real(p), at, ptr);
      };
      return m;
    }();
    f->base.pMethods = &methods;
    return SQLITE_OK;
  }
};

}  // namespace cairn::testing
