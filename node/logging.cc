#include "node/logging.h"

#include <spdlog/sinks/stdout_sinks.h>

#include <thread>

#include "common/clock.h"

namespace cairn::node {

// ---------------------------------------------------------------------------------------------
// Logging

namespace {

// The fields LogFields is logging, for the formatter: the logger is synchronous, so the formatter
// runs on the thread that logs, inside the spdlog::log call.
thread_local const nlohmann::ordered_json* t_fields = nullptr;

}  // namespace

void JsonLogFormatter::format(const spdlog::details::log_msg& msg, spdlog::memory_buf_t& dest) {
  const int64_t micros =
      std::chrono::duration_cast<std::chrono::microseconds>(msg.time.time_since_epoch()).count();
  const auto level = spdlog::level::to_string_view(msg.level);
  nlohmann::ordered_json line = {{"ts", FormatTime(micros)},
                                 {"level", std::string(level.data(), level.size())}};
  if (t_fields != nullptr && t_fields->is_object()) {
    for (const auto& [key, value] : t_fields->items()) {
      if (key != "ts" && key != "level") line[key] = value;
    }
  } else {
    line["msg"] = std::string(msg.payload.data(), msg.payload.size());
  }
  std::string text = line.dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::replace);
  text += '\n';
  dest.append(text.data(), text.data() + text.size());
}

std::unique_ptr<spdlog::formatter> JsonLogFormatter::clone() const {
  return std::make_unique<JsonLogFormatter>();
}

void InstallJsonLogger(const std::string& level) {
  auto logger = spdlog::stderr_logger_mt("cairnd");
  logger->set_formatter(std::make_unique<JsonLogFormatter>());
  logger->set_level(spdlog::level::from_str(level));
  logger->flush_on(spdlog::level::trace);
  spdlog::set_default_logger(std::move(logger));
}

void LogFields(spdlog::level::level_enum level, const nlohmann::ordered_json& fields) {
  if (!spdlog::should_log(level)) return;
  t_fields = &fields;
  spdlog::log(level, "");
  t_fields = nullptr;
}

const char* GrpcCodeName(grpc::StatusCode code) {
  switch (code) {
    case grpc::StatusCode::OK:
      return "OK";
    case grpc::StatusCode::CANCELLED:
      return "CANCELLED";
    case grpc::StatusCode::UNKNOWN:
      return "UNKNOWN";
    case grpc::StatusCode::INVALID_ARGUMENT:
      return "INVALID_ARGUMENT";
    case grpc::StatusCode::DEADLINE_EXCEEDED:
      return "DEADLINE_EXCEEDED";
    case grpc::StatusCode::NOT_FOUND:
      return "NOT_FOUND";
    case grpc::StatusCode::ALREADY_EXISTS:
      return "ALREADY_EXISTS";
    case grpc::StatusCode::PERMISSION_DENIED:
      return "PERMISSION_DENIED";
    case grpc::StatusCode::RESOURCE_EXHAUSTED:
      return "RESOURCE_EXHAUSTED";
    case grpc::StatusCode::FAILED_PRECONDITION:
      return "FAILED_PRECONDITION";
    case grpc::StatusCode::ABORTED:
      return "ABORTED";
    case grpc::StatusCode::OUT_OF_RANGE:
      return "OUT_OF_RANGE";
    case grpc::StatusCode::UNIMPLEMENTED:
      return "UNIMPLEMENTED";
    case grpc::StatusCode::INTERNAL:
      return "INTERNAL";
    case grpc::StatusCode::UNAVAILABLE:
      return "UNAVAILABLE";
    case grpc::StatusCode::DATA_LOSS:
      return "DATA_LOSS";
    case grpc::StatusCode::UNAUTHENTICATED:
      return "UNAUTHENTICATED";
    default:
      return "UNKNOWN";
  }
}

bool Gate::WaitUntilIdle(std::chrono::steady_clock::time_point deadline) const {
  while (in_flight_.load() > 0) {
    if (std::chrono::steady_clock::now() >= deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  return true;
}

}  // namespace cairn::node
