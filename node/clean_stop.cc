#include "node/clean_stop.h"

#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <thread>

#include "common/file.h"

namespace cairn::node {
namespace {

using json = nlohmann::json;

constexpr std::string_view kCleanStopDomain = "cairn/clean-stop/v1\n";
constexpr char kFormat[] = "cairn-clean-stop/1";
// A record is a few hundred bytes; anything much larger is not one.
constexpr std::streamsize kMaxRecordBytes = 64 * 1024;

// The identity of the database file: any write through any program changes its size or times,
// and its status-change time (ctime) is set by the kernel alone.
Result<json> FileIdentity(const std::string& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) {
    return Unavailable("cannot stat " + path + ": " + std::strerror(errno));
  }
  const auto ns = [](const timespec& t) {
    return static_cast<int64_t>(t.tv_sec) * 1'000'000'000 + t.tv_nsec;
  };
  return json{{"dev", static_cast<uint64_t>(st.st_dev)},
              {"ino", static_cast<uint64_t>(st.st_ino)},
              {"size", static_cast<int64_t>(st.st_size)},
              {"mtime_ns", ns(st.st_mtim)},
              {"ctime_ns", ns(st.st_ctim)}};
}

// True when `path` does not exist or is empty.
bool AbsentOrEmpty(const std::string& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) return errno == ENOENT;
  return st.st_size == 0;
}

// The bytes signed: the record without its signature, serialized with sorted keys.
std::string SignedBytes(const json& record) { return record.dump(); }

std::string KeysPath(const std::string& db) { return db + ".clean-stop.keys"; }

std::string_view KeysBytes(const std::vector<int64_t>& keys) {
  return {reinterpret_cast<const char*>(keys.data()), keys.size() * sizeof(int64_t)};
}

}  // namespace

std::string CleanStopPath(const std::string& db) { return db + ".clean-stop"; }

Status WriteCleanStop(const std::string& db, const CleanStopState& state,
                      const keys::SigningKey& node_key) {
  if (!AbsentOrEmpty(db + "-wal")) {
    return FailedPrecondition("database " + db + " still has a write-ahead log; no clean stop");
  }
  CAIRN_ASSIGN_OR_RETURN(json file, FileIdentity(db));
  // File times come from the kernel's coarse clock: a write in the same tick as the stop's last
  // one would leave them as they are. Wait until that clock has passed them, so that any later
  // write moves them, and make sure none came in between.
  const int64_t latest = std::max(file["mtime_ns"].get<int64_t>(), file["ctime_ns"].get<int64_t>());
  for (;;) {
    timespec now{};
    ::clock_gettime(CLOCK_REALTIME_COARSE, &now);
    if (static_cast<int64_t>(now.tv_sec) * 1'000'000'000 + now.tv_nsec > latest) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  CAIRN_ASSIGN_OR_RETURN(const json again, FileIdentity(db));
  if (again != file)
    return FailedPrecondition("database " + db + " changed while the node stopped");
  if (state.event_keys.size() != state.entries) {
    return FailedPrecondition("clean-stop record: " + std::to_string(state.event_keys.size()) +
                              " event keys for " + std::to_string(state.entries) + " entries");
  }
  CAIRN_RETURN_IF_ERROR(WriteFileAtomically(KeysPath(db), KeysBytes(state.event_keys), 0600,
                                            /*replace=*/true, "clean-stop event keys"));
  json record = {{"format", kFormat},
                 {"log_id", state.log_id},
                 {"event_keys_sha256", ToHex(Sha256(KeysBytes(state.event_keys)))},
                 {"entries", state.entries},
                 {"root", ToHex(state.root)},
                 {"registry_version", state.registry_version},
                 {"key_id", node_key.key_id},
                 {"db", std::move(file)}};
  record["signature"] = ToHex(Sign(node_key.secret_key, kCleanStopDomain, SignedBytes(record)));
  return WriteFileAtomically(CleanStopPath(db), record.dump() + "\n", 0600, /*replace=*/true,
                             "clean-stop record");
}

Result<CleanStopCheck> ReadCleanStop(const std::string& db, const std::string& log_id,
                                     uint64_t registry_version, const keys::SigningKey& node_key) {
  const std::string path = CleanStopPath(db);
  std::ifstream in(path, std::ios::binary);
  if (!in) return CleanStopCheck{std::nullopt, "no clean-stop record"};
  std::string text(static_cast<size_t>(kMaxRecordBytes) + 1, '\0');
  in.read(text.data(), kMaxRecordBytes + 1);
  text.resize(static_cast<size_t>(in.gcount()));
  const auto refuse = [&](const std::string& why) {
    return CleanStopCheck{std::nullopt, "clean-stop record " + path + " not used: " + why};
  };
  if (text.size() > static_cast<size_t>(kMaxRecordBytes)) return refuse("too large");
  json record = json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (!record.is_object()) return refuse("not a JSON object");
  const auto signature_it = record.find("signature");
  if (signature_it == record.end() || !signature_it->is_string()) {
    return refuse("no signature");
  }
  const auto signature = FromHex(signature_it->get<std::string>());
  record.erase("signature");
  if (!signature.ok() ||
      !Verify(node_key.public_key, kCleanStopDomain, SignedBytes(record), *signature)) {
    return refuse("its signature does not verify under the node key " + node_key.key_id);
  }
  // Signed by this node's key: its members are what this node wrote.
  CleanStopState state;
  try {
    if (record.at("format").get<std::string>() != kFormat) return refuse("unknown format");
    state.log_id = record.at("log_id").get<std::string>();
    state.entries = record.at("entries").get<uint64_t>();
    state.registry_version = record.at("registry_version").get<uint64_t>();
    const auto root = FromHex(record.at("root").get<std::string>());
    if (!root.ok() || root->size() != state.root.size()) return refuse("bad root");
    std::memcpy(state.root.data(), root->data(), state.root.size());
    if (state.log_id != log_id) return refuse("it is of log " + state.log_id);
    if (state.registry_version != registry_version) {
      return refuse("it was written under registry version " +
                    std::to_string(state.registry_version) + ", this start has version " +
                    std::to_string(registry_version));
    }
    auto file = FileIdentity(db);
    if (!file.ok()) return refuse(file.status().message());
    if (*file != record.at("db")) {
      return refuse("the database file changed since the clean stop (was " +
                    record.at("db").dump() + ", is " + file->dump() + ")");
    }
  } catch (const json::exception& e) {
    return refuse(std::string("malformed: ") + e.what());
  }
  for (const char* suffix : {"-wal", "-journal"}) {
    if (!AbsentOrEmpty(db + suffix)) {
      return refuse(std::string("the database has a ") + (suffix + 1) + " file to apply");
    }
  }
  // The event keys, exactly the bytes the record's hash names.
  const std::string keys_path = KeysPath(db);
  const auto bad_keys = [&] {
    return refuse("its event keys file " + keys_path + " is missing or not " +
                  std::to_string(state.entries * sizeof(int64_t)) + " bytes");
  };
  std::error_code size_error;
  const uint64_t keys_size = std::filesystem::file_size(keys_path, size_error);
  if (size_error || state.entries > (uint64_t{1} << 40) ||
      keys_size != state.entries * sizeof(int64_t)) {
    return bad_keys();
  }
  state.event_keys.resize(state.entries);
  std::ifstream keys_in(keys_path, std::ios::binary);
  if (!keys_in.read(reinterpret_cast<char*>(state.event_keys.data()),
                    static_cast<std::streamsize>(keys_size))) {
    return bad_keys();
  }
  const auto keys_hash = record.find("event_keys_sha256");
  if (keys_hash == record.end() || !keys_hash->is_string() ||
      ToHex(Sha256(KeysBytes(state.event_keys))) != keys_hash->get<std::string>()) {
    return refuse("its event keys file " + keys_path + " is not the one it names");
  }
  return CleanStopCheck{std::move(state), ""};
}

Status RemoveCleanStop(const std::string& db) {
  // The record first: a keys file without its record is never used.
  for (const std::string& path : {CleanStopPath(db), KeysPath(db)}) {
    if (::unlink(path.c_str()) != 0 && errno != ENOENT) {
      return Unavailable("cannot remove " + path + ": " + std::strerror(errno));
    }
  }
  return Status::Ok();
}

}  // namespace cairn::node
