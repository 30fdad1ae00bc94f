// cairnd's logging: JSON lines on stderr, one per request; and the admission gate that lets a
// service stop taking requests and wait for the running ones before the server shuts down.
#pragma once

#include <grpcpp/grpcpp.h>
#include <spdlog/formatter.h>
#include <spdlog/spdlog.h>

#include <atomic>
#include <chrono>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>

#include "common/status.h"
#include "node/grpc_status.h"

namespace cairn::node {

// An spdlog formatter writing one JSON object per line, built and escaped by nlohmann::json:
// {"ts": RFC 3339 UTC, "level": ..., then the fields given to LogFields, or "msg": the text of any
// other spdlog call}.
class JsonLogFormatter final : public spdlog::formatter {
 public:
  void format(const spdlog::details::log_msg& msg, spdlog::memory_buf_t& dest) override;
  std::unique_ptr<spdlog::formatter> clone() const override;
};

// Makes the default spdlog logger write JSON lines to stderr at `level` ("info", ...).
void InstallJsonLogger(const std::string& level);

// Logs `fields` (which should carry "msg") as one JSON line. Invalid UTF-8 is replaced, never
// thrown.
void LogFields(spdlog::level::level_enum level, const nlohmann::ordered_json& fields);

// "OK", "NOT_FOUND", ...
const char* GrpcCodeName(grpc::StatusCode code);

// The request metrics (node/metrics.h), counted when the node serves metrics, else no-ops.
void CountRequestStarted(const char* method);
void CountRequestEnded(const char* method);
void CountRequestFinished(const char* method, grpc::StatusCode code,
                          std::chrono::steady_clock::duration elapsed);

// One log line per request, written when the handler returns through Finish(), at info level
// when the call succeeded and warn or error when it did not; and counted in the request metrics.
// The peer is looked up only for a line that is written: under load at log_level warn most calls
// write none.
class RequestLog {
 public:
  // `context` must remain live until Finish() (nullptr: no peer in the line).
  RequestLog(const char* method, grpc::ServerContextBase* context)
      : start_(std::chrono::steady_clock::now()),
        method_(method),
        context_(context),
        fields_({{"msg", "request"}, {"method", method}}) {
    CountRequestStarted(method_);
  }
  ~RequestLog() { CountRequestEnded(method_); }
  RequestLog(const RequestLog&) = delete;
  RequestLog& operator=(const RequestLog&) = delete;

  void Set(const char* key, nlohmann::ordered_json value) { fields_[key] = std::move(value); }

  grpc::Status Finish(grpc::Status status) {
    spdlog::level::level_enum level = spdlog::level::info;
    switch (status.error_code()) {
      case grpc::StatusCode::OK:
        break;
      case grpc::StatusCode::INTERNAL:
      case grpc::StatusCode::DATA_LOSS:
      case grpc::StatusCode::UNKNOWN:
        level = spdlog::level::err;
        break;
      default:
        level = spdlog::level::warn;
    }
    const auto elapsed = std::chrono::steady_clock::now() - start_;
    CountRequestFinished(method_, status.error_code(), elapsed);
    if (!spdlog::should_log(level)) return status;
    if (context_ != nullptr) fields_["peer"] = context_->peer();
    fields_["code"] = GrpcCodeName(status.error_code());
    if (!status.ok()) fields_["error"] = status.error_message();
    fields_["duration_us"] = std::chrono::duration_cast<std::chrono::microseconds>(elapsed).count();
    LogFields(level, fields_);
    return status;
  }
  grpc::Status Finish(const Status& status) { return Finish(ToGrpcStatus(status)); }

 private:
  const std::chrono::steady_clock::time_point start_;
  const char* const method_;
  grpc::ServerContextBase* const context_;
  nlohmann::ordered_json fields_;
};

// Admission of requests to a service: a handler holds a Gate::Pass while it runs; once Close()d
// no new pass is admitted, and WaitUntilIdle() waits for the passes out. Thread-safe.
class Gate {
 public:
  class Pass {
   public:
    explicit Pass(Gate& gate) : gate_(gate) {
      // Counted before the flag is read, so WaitUntilIdle either sees this handler or the handler
      // sees the flag.
      gate_.in_flight_.fetch_add(1);
      admitted_ = !gate_.closed_.load();
    }
    ~Pass() { gate_.in_flight_.fetch_sub(1); }
    Pass(const Pass&) = delete;
    Pass& operator=(const Pass&) = delete;
    bool admitted() const { return admitted_; }

   private:
    Gate& gate_;
    bool admitted_;
  };

  void Close() { closed_.store(true); }
  bool closed() const { return closed_.load(); }
  // True when no pass is out by `deadline`.
  bool WaitUntilIdle(std::chrono::steady_clock::time_point deadline) const;

 private:
  std::atomic<bool> closed_{false};
  std::atomic<int> in_flight_{0};
};

}  // namespace cairn::node
