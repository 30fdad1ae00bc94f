#include "common/clock.h"

#include <google/protobuf/util/time_util.h>

#include <chrono>

namespace cairn {

int64_t SystemClock::NowMicros() const {
  return std::chrono::duration_cast<std::chrono::microseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

int64_t ToMicros(const google::protobuf::Timestamp& ts) {
  return ts.seconds() * 1000000 + ts.nanos() / 1000;
}

google::protobuf::Timestamp FromMicros(int64_t micros) {
  google::protobuf::Timestamp ts;
  int64_t secs = micros / 1000000;
  int64_t rem = micros % 1000000;
  if (rem < 0) {
    rem += 1000000;
    secs -= 1;
  }
  ts.set_seconds(secs);
  ts.set_nanos(static_cast<int32_t>(rem * 1000));
  return ts;
}

std::string FormatTime(int64_t micros) {
  return google::protobuf::util::TimeUtil::ToString(FromMicros(micros));
}

Result<int64_t> ParseTime(const std::string& text) {
  std::string t = text;
  if (t.size() == 10 && t[4] == '-' && t[7] == '-') t += "T00:00:00Z";
  google::protobuf::Timestamp ts;
  if (!google::protobuf::util::TimeUtil::FromString(t, &ts)) {
    return InvalidArgument("time \"" + text +
                           "\": want RFC 3339 like 2025-10-02T08:00:00Z or a date like 2027-01-01");
  }
  return ToMicros(ts);
}

}  // namespace cairn
