// The clock, injected so tests can fix time. Implementations are thread-safe.
#pragma once

#include <google/protobuf/timestamp.pb.h>

#include <atomic>
#include <cstdint>
#include <string>

#include "common/status.h"

namespace cairn {

class Clock {
 public:
  virtual ~Clock() = default;
  // Microseconds since the Unix epoch.
  virtual int64_t NowMicros() const = 0;
};

class SystemClock final : public Clock {
 public:
  int64_t NowMicros() const override;
};

// A clock that says what it is told; for tests.
class FixedClock final : public Clock {
 public:
  explicit FixedClock(int64_t micros) : micros_(micros) {}
  int64_t NowMicros() const override { return micros_; }

 private:
  const int64_t micros_;
};

// A clock tests set and step, backwards too, from any thread.
class SettableClock final : public Clock {
 public:
  explicit SettableClock(int64_t micros) : micros_(micros) {}
  int64_t NowMicros() const override { return micros_.load(); }
  void Set(int64_t micros) { micros_.store(micros); }

 private:
  std::atomic<int64_t> micros_;
};

int64_t ToMicros(const google::protobuf::Timestamp& ts);
google::protobuf::Timestamp FromMicros(int64_t micros);
// RFC 3339 UTC with seconds, e.g. "2025-10-02T08:00:00Z" (fractions when present).
std::string FormatTime(int64_t micros);
// Parses RFC 3339 ("2025-10-02T08:00:00Z", "2025-10-02T08:00:00.5+05:00") or a date
// ("2027-01-01", midnight UTC).
Result<int64_t> ParseTime(const std::string& text);

}  // namespace cairn
