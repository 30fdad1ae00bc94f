// Status and Result<T>: how every Cairn function that can fail reports it.
//
// A Status is a code and a message naming the field or rule ("Dispatch.lots[2].mass_g: got 0,
// want > 0"). Codes mirror the gRPC codes the node answers with, so the mapping is one switch.
// Exceptions never cross our interfaces; code that calls a throwing library catches where it calls.
#pragma once

#include <optional>
#include <string>
#include <utility>
#include <variant>

namespace cairn {

enum class StatusCode {
  kOk = 0,
  kInvalidArgument,     // malformed input, schema rule broken
  kNotFound,            // no such event, lot or entry
  kOutOfRange,          // an index or tree size beyond the log
  kAlreadyExists,       // lot created twice, dispatch received twice
  kPermissionDenied,    // key not valid for the author now, role does not permit, not hosted
  kUnauthenticated,     // signature does not verify, key unknown
  kFailedPrecondition,  // custody, remaining mass, unknown reference
  kDataLoss,            // stored data is corrupt
  kUnavailable,         // could not reach a node
  kDeadlineExceeded,    // the caller's deadline passed before the work was done
  kInternal,            // I/O or library failure
};

// Name of a code as gRPC spells it, e.g. "FAILED_PRECONDITION".
const char* StatusCodeName(StatusCode code);

class [[nodiscard]] Status {
 public:
  Status() = default;
  Status(StatusCode code, std::string message) : code_(code), message_(std::move(message)) {}

  static Status Ok() { return Status(); }

  bool ok() const { return code_ == StatusCode::kOk; }
  StatusCode code() const { return code_; }
  const std::string& message() const { return message_; }

  // "FAILED_PRECONDITION: <message>".
  std::string ToString() const;

  // Returns a copy whose message is "<prefix>: <message>" (remote() unchanged).
  Status WithPrefix(const std::string& prefix) const;

  // True for a status another process answered with (a node's refusal), as opposed to one
  // found here; the CLI maps the two to different exit codes.
  bool remote() const { return remote_; }
  Status AsRemote() const {
    Status s = *this;
    s.remote_ = true;
    return s;
  }

 private:
  StatusCode code_ = StatusCode::kOk;
  std::string message_;
  bool remote_ = false;
};

inline Status InvalidArgument(std::string m) {
  return {StatusCode::kInvalidArgument, std::move(m)};
}
inline Status NotFound(std::string m) { return {StatusCode::kNotFound, std::move(m)}; }
inline Status AlreadyExists(std::string m) { return {StatusCode::kAlreadyExists, std::move(m)}; }
inline Status PermissionDenied(std::string m) {
  return {StatusCode::kPermissionDenied, std::move(m)};
}
inline Status Unauthenticated(std::string m) {
  return {StatusCode::kUnauthenticated, std::move(m)};
}
inline Status FailedPrecondition(std::string m) {
  return {StatusCode::kFailedPrecondition, std::move(m)};
}
inline Status OutOfRange(std::string m) { return {StatusCode::kOutOfRange, std::move(m)}; }
inline Status DataLoss(std::string m) { return {StatusCode::kDataLoss, std::move(m)}; }
inline Status Unavailable(std::string m) { return {StatusCode::kUnavailable, std::move(m)}; }
inline Status DeadlineExceeded(std::string m) {
  return {StatusCode::kDeadlineExceeded, std::move(m)};
}
inline Status Internal(std::string m) { return {StatusCode::kInternal, std::move(m)}; }

// A value or the Status saying why there is none.
template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : value_(std::move(value)) {}          // NOLINT: implicit by design
  Result(Status status) : status_(std::move(status)) {}  // NOLINT: implicit by design

  bool ok() const { return status_.ok(); }
  const Status& status() const { return status_; }

  // Valid only when ok().
  T& value() & { return *value_; }
  const T& value() const& { return *value_; }
  T&& value() && { return std::move(*value_); }
  T& operator*() & { return *value_; }
  const T& operator*() const& { return *value_; }
  T* operator->() { return &*value_; }
  const T* operator->() const { return &*value_; }

 private:
  Status status_;
  std::optional<T> value_;
};

}  // namespace cairn

// Returns the Status of `expr` from the enclosing function when it is not ok.
#define CAIRN_RETURN_IF_ERROR(expr)                \
  do {                                             \
    ::cairn::Status cairn_status_ = (expr);        \
    if (!cairn_status_.ok()) return cairn_status_; \
  } while (0)

#define CAIRN_CONCAT_INNER(a, b) a##b
#define CAIRN_CONCAT(a, b) CAIRN_CONCAT_INNER(a, b)

// Declares `lhs` from a Result expression, or returns its Status from the enclosing function.
#define CAIRN_ASSIGN_OR_RETURN(lhs, expr) \
  CAIRN_ASSIGN_OR_RETURN_IMPL(CAIRN_CONCAT(cairn_result_, __LINE__), lhs, expr)
#define CAIRN_ASSIGN_OR_RETURN_IMPL(tmp, lhs, expr) \
  auto tmp = (expr);                                \
  if (!tmp.ok()) return tmp.status();               \
  lhs = std::move(tmp).value()
