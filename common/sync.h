// The locks Cairn's threads share: Abseil's Mutex, MutexLock, ReaderMutexLock, Condition and
// CondVar, under cairn:: names.
//
// In a ThreadSanitizer build (CAIRN_SANITIZE=thread) they are instead built on std::mutex and
// std::condition_variable, which TSan sees through its pthread interceptors: Debian's Abseil is
// not built with TSan, so TSan cannot see absl::Mutex's hand-offs and reports every Await'ed
// condition as a race. Same interface and the same thread-safety annotations (clang
// -Wthread-safety checks both); only the subset Cairn uses.
#pragma once

#include <absl/base/thread_annotations.h>
#include <absl/synchronization/mutex.h>
#include <absl/time/clock.h>
#include <absl/time/time.h>

#if CAIRN_TSAN
#include <chrono>
#include <condition_variable>
#include <mutex>
#endif

namespace cairn {

#if !CAIRN_TSAN

using Mutex = absl::Mutex;
using MutexLock = absl::MutexLock;
using ReaderMutexLock = absl::ReaderMutexLock;
using Condition = absl::Condition;
using CondVar = absl::CondVar;

#else

// Evaluated by Mutex with the lock held (the functor's lock requirement is the caller's, as with
// absl::Condition).
class Condition {
 public:
  explicit Condition(const bool* flag) : eval_(&ReadFlag), arg_(flag) {}
  template <typename F>
  explicit Condition(const F* functor) : eval_(&Call<F>), arg_(functor) {}
  bool Eval() const { return eval_(arg_); }

 private:
  static bool ReadFlag(const void* flag) ABSL_NO_THREAD_SAFETY_ANALYSIS {
    return *static_cast<const bool*>(flag);
  }
  template <typename F>
  static bool Call(const void* functor) ABSL_NO_THREAD_SAFETY_ANALYSIS {
    return (*static_cast<const F*>(functor))();
  }
  bool (*eval_)(const void*);
  const void* arg_;
};

class ABSL_LOCKABLE Mutex {
 public:
  void Lock() ABSL_EXCLUSIVE_LOCK_FUNCTION() { mutex_.lock(); }
  // Every unlock may have made some waiter's condition true.
  void Unlock() ABSL_UNLOCK_FUNCTION() {
    mutex_.unlock();
    changed_.notify_all();
  }
  void ReaderLock() ABSL_SHARED_LOCK_FUNCTION() { mutex_.lock(); }
  void ReaderUnlock() ABSL_UNLOCK_FUNCTION() { Unlock(); }
  void AssertHeld() const ABSL_ASSERT_EXCLUSIVE_LOCK() {}
  void AssertReaderHeld() const ABSL_ASSERT_SHARED_LOCK() {}

  void Await(const Condition& condition) ABSL_EXCLUSIVE_LOCKS_REQUIRED(this) {
    std::unique_lock<std::mutex> held(mutex_, std::adopt_lock);
    changed_.wait(held, [&] { return condition.Eval(); });
    held.release();
  }
  bool AwaitWithDeadline(const Condition& condition, absl::Time deadline)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(this) {
    std::unique_lock<std::mutex> held(mutex_, std::adopt_lock);
    const bool met =
        changed_.wait_until(held, absl::ToChronoTime(deadline), [&] { return condition.Eval(); });
    held.release();
    return met;
  }
  bool AwaitWithTimeout(const Condition& condition, absl::Duration timeout)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(this) {
    return AwaitWithDeadline(condition, absl::Now() + timeout);
  }

 private:
  friend class CondVar;
  std::mutex mutex_;
  std::condition_variable changed_;
};

class ABSL_SCOPED_LOCKABLE MutexLock {
 public:
  explicit MutexLock(Mutex* mutex) ABSL_EXCLUSIVE_LOCK_FUNCTION(mutex) : mutex_(mutex) {
    mutex_->Lock();
  }
  ~MutexLock() ABSL_UNLOCK_FUNCTION() { mutex_->Unlock(); }
  MutexLock(const MutexLock&) = delete;
  MutexLock& operator=(const MutexLock&) = delete;

 private:
  Mutex* const mutex_;
};

class ABSL_SCOPED_LOCKABLE ReaderMutexLock {
 public:
  explicit ReaderMutexLock(Mutex* mutex) ABSL_SHARED_LOCK_FUNCTION(mutex) : mutex_(mutex) {
    mutex_->ReaderLock();
  }
  ~ReaderMutexLock() ABSL_UNLOCK_FUNCTION() { mutex_->ReaderUnlock(); }
  ReaderMutexLock(const ReaderMutexLock&) = delete;
  ReaderMutexLock& operator=(const ReaderMutexLock&) = delete;

 private:
  Mutex* const mutex_;
};

class CondVar {
 public:
  void Wait(Mutex* mutex) {
    std::unique_lock<std::mutex> held(mutex->mutex_, std::adopt_lock);
    cv_.wait(held);
    held.release();
  }
  void Signal() { cv_.notify_one(); }
  void SignalAll() { cv_.notify_all(); }

 private:
  std::condition_variable cv_;
};

#endif

}  // namespace cairn
