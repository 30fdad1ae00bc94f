// cairn_micro_bench: Google Benchmark micro-benchmarks of the primitives an append and an audit
// are made of, next to the raw limits of libsodium and of SQLite on this disk.
//
//   cmake --build build --target cairn_micro_bench
//   build/tests/bench/cairn_micro_bench --benchmark_min_time=0.2
//   TMPDIR=/var/lib/cairn build/tests/bench/cairn_micro_bench --benchmark_filter=Sqlite
//
// Covered: Ed25519 sign and verify of a typical event body (Cairn's wrappers, and libsodium's
// crypto_sign_verify_detached alone, the ceiling of a node that verifies every signature); SHA-256
// leaf hashing of a ~400-byte log entry and interior node hashing; CompactRange appends; RFC 9162
// inclusion and consistency proof generation on a tree of 1,000,000 leaves (from every hash of the
// tree in memory, the lookup cost floor of the node's stored tiles, and from LeafVectorSource,
// which recomputes subtrees from the leaves) and their verification; event parse, schema and
// authority checks; and durable SQLite commits (WAL, synchronous=FULL, a fresh file in TMPDIR,
// default /tmp, where deploy/bench.sh runs its node) of ~400-byte rows, 1, 100 or 1000 per
// transaction. Every SQLite figure is wall-clock time: a commit mostly waits for fsync.
//
// Run by hand; not part of ctest. Single-threaded: each figure is one core's.
#include <benchmark/benchmark.h>
#include <grpcpp/grpcpp.h>
#include <prometheus/registry.h>
#include <sodium.h>
#include <sqlite3.h>
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "cairn/v1/event.pb.h"
#include "cairn/v1/log.pb.h"
#include "cairn/v1/registry.pb.h"
#include "common/clock.h"
#include "common/crypto.h"
#include "keys/registry.h"
#include "ledger/event.h"
#include "ledger/merkle.h"
#include "ledger/proofs.h"
#include "ledger/validate.h"
#include "node/metrics.h"

namespace cairn {
namespace {

// 2025-10-02T08:00:00Z.
constexpr int64_t kNowUs = 1759392000LL * 1000000;
constexpr uint64_t kTreeSize = 1'000'000;

struct BenchKey {
  std::string key_id;
  std::string public_key;
  std::string secret_key;
};

BenchKey KeyFromSeed(uint8_t n) {
  auto kp = KeyPairFromSeed(std::string(32, static_cast<char>(n)));
  return {KeyIdOf(kp->public_key), kp->public_key, kp->secret_key};
}

// A mine's extraction as deploy/bench.sh sends it, with one assay document: ~300 bytes.
cairn::v1::EventBody TypicalExtraction(uint64_t lot_number) {
  cairn::v1::EventBody body;
  body.set_author("au-lynas");
  *body.mutable_occurred_at() = FromMicros(kNowUs - 3600LL * 1000000);
  auto* x = body.mutable_extraction();
  x->set_lot_id("au-lynas:MW-2025-" + std::to_string(lot_number));
  auto* site = x->mutable_site();
  site->set_id("au-lynas-mtweld-01");
  site->set_name("Mt Weld concentration plant");
  site->set_country("AU");
  site->set_region("Western Australia");
  site->set_lat(-28.86);
  site->set_lon(122.55);
  x->set_material("REE concentrate");
  x->set_mass_g(25'000'000);
  (*x->mutable_composition_ppm())["TREO"] = 400000;
  (*x->mutable_composition_ppm())["Nd"] = 80000;
  (*x->mutable_composition_ppm())["Pr"] = 25000;
  auto* doc = x->add_documents();
  doc->set_kind("assay_certificate");
  doc->set_uri("https://docs.lynas.example/assays/MW-2025-" + std::to_string(lot_number) + ".pdf");
  doc->set_sha256(ToHex(Sha256("assay " + std::to_string(lot_number))));
  return body;
}

// The fixed world every benchmark shares: the mine's key, a signed registry listing it, a signed
// typical event and the log entry holding it.
struct World {
  BenchKey registrar = KeyFromSeed(1);
  BenchKey mine = KeyFromSeed(2);
  BenchKey log = KeyFromSeed(9);
  std::unique_ptr<keys::TrustRegistry> registry;
  std::string body;  // serialized EventBody
  cairn::v1::SignedEvent signed_event;
  std::string entry;  // serialized LogEntry

  World() {
    if (!InitCrypto().ok()) std::abort();
    cairn::v1::Registry r;
    r.set_consortium("cairn-bench");
    r.set_version(1);
    r.set_threshold(1);
    *r.mutable_issued_at() = FromMicros(0);
    auto add = [&r](const std::string& id, const std::string& name, const std::string& country,
                    cairn::v1::Role role, const BenchKey& key) {
      auto* p = r.add_participants();
      p->set_id(id);
      p->set_legal_name(name);
      p->set_country(country);
      p->add_roles(role);
      auto* k = p->add_keys();
      k->set_key_id(key.key_id);
      k->set_public_key(key.public_key);
      *k->mutable_valid_from() = FromMicros(0);
    };
    add("cairn-registrar", "Registrar", "CH", cairn::v1::ROLE_REGISTRAR, registrar);
    add("au-lynas", "Mt Weld mine", "AU", cairn::v1::ROLE_MINE, mine);
    auto* l = r.add_logs();
    l->set_log_id("bench-log");
    l->set_operator_("au-lynas");
    auto* lk = l->add_keys();
    lk->set_key_id(log.key_id);
    lk->set_public_key(log.public_key);
    *lk->mutable_valid_from() = FromMicros(0);
    cairn::v1::RegistryFile file;
    auto* v = file.add_versions();
    v->set_registry(r.SerializeAsString());
    auto* sig = v->add_signatures();
    sig->set_key_id(registrar.key_id);
    sig->set_signature(Sign(registrar.secret_key, kRegistryDomain, v->registry()));
    auto loaded = keys::TrustRegistry::FromFile(file);
    if (!loaded.ok()) {
      std::fprintf(stderr, "bench registry: %s\n", loaded.status().ToString().c_str());
      std::abort();
    }
    registry = std::make_unique<keys::TrustRegistry>(std::move(loaded).value());

    body = TypicalExtraction(1).SerializeAsString();
    signed_event = ledger::SignEvent(body, mine.key_id, mine.secret_key);
    cairn::v1::LogEntry e;
    e.set_log_id("bench-log");
    e.set_index(123456);
    e.set_prev_entry_hash(HashToString(Sha256("previous entry")));
    *e.mutable_appended_at() = FromMicros(kNowUs);
    *e.mutable_event() = signed_event;
    entry = e.SerializeAsString();
  }
};

const World& TheWorld() {
  static const World* const world = new World();
  return *world;
}

// Every hash of a tree in memory, level by level: a subtree lookup is one array read. This is the
// floor under the node's tiles (which read a level-4 tile and fold at most 15 hashes).
class FullTreeSource final : public ledger::SubtreeSource {
 public:
  explicit FullTreeSource(std::vector<Hash> leaves) {
    levels_.push_back(std::move(leaves));
    while (levels_.back().size() >= 2) {
      const std::vector<Hash>& below = levels_.back();
      std::vector<Hash> level(below.size() / 2);
      for (size_t i = 0; i < level.size(); ++i) {
        level[i] = ledger::HashChildren(below[2 * i], below[2 * i + 1]);
      }
      levels_.push_back(std::move(level));
    }
  }

  Result<Hash> Subtree(uint32_t level, uint64_t index) override {
    if (level >= levels_.size() || index >= levels_[level].size()) {
      return InvalidArgument("subtree beyond the tree held");
    }
    return levels_[level][index];
  }

  const std::vector<Hash>& leaves() const { return levels_[0]; }

 private:
  std::vector<std::vector<Hash>> levels_;
};

// A 1,000,000-leaf tree of distinct leaf hashes, built once on first use (~1 s).
FullTreeSource& MillionLeafTree() {
  static FullTreeSource* const tree = [] {
    std::vector<Hash> leaves(kTreeSize);
    for (uint64_t i = 0; i < kTreeSize; ++i) {
      leaves[i] = ledger::LeafHash("entry " + std::to_string(i));
    }
    return new FullTreeSource(std::move(leaves));
  }();
  return *tree;
}

Hash RootOfSize(FullTreeSource& tree, uint64_t size) {
  auto root = ledger::RangeHash(tree, 0, size);
  if (!root.ok()) std::abort();
  return *root;
}

// ---- Ed25519 ---------------------------------------------------------------------------------

void BM_Ed25519Sign(benchmark::State& state) {
  const World& w = TheWorld();
  for (auto _ : state) {
    benchmark::DoNotOptimize(Sign(w.mine.secret_key, kEventDomain, w.body));
  }
  state.SetItemsProcessed(state.iterations());
  state.counters["body_bytes"] = static_cast<double>(w.body.size());
}
BENCHMARK(BM_Ed25519Sign);

// cairn::Verify: what the node calls per event (domain || body, then libsodium).
void BM_Ed25519Verify(benchmark::State& state) {
  const World& w = TheWorld();
  const std::string& sig = w.signed_event.signature();
  for (auto _ : state) {
    benchmark::DoNotOptimize(Verify(w.mine.public_key, kEventDomain, w.body, sig));
  }
  state.SetItemsProcessed(state.iterations());
  state.counters["body_bytes"] = static_cast<double>(w.body.size());
}
BENCHMARK(BM_Ed25519Verify);

// libsodium alone over the already-prefixed message: the raw one-core limit.
void BM_Ed25519VerifyRaw(benchmark::State& state) {
  const World& w = TheWorld();
  const std::string message = std::string(kEventDomain) + w.body;
  const auto* sig = reinterpret_cast<const unsigned char*>(w.signed_event.signature().data());
  const auto* msg = reinterpret_cast<const unsigned char*>(message.data());
  const auto* pk = reinterpret_cast<const unsigned char*>(w.mine.public_key.data());
  for (auto _ : state) {
    benchmark::DoNotOptimize(crypto_sign_verify_detached(sig, msg, message.size(), pk));
  }
  state.SetItemsProcessed(state.iterations());
  state.counters["message_bytes"] = static_cast<double>(message.size());
}
BENCHMARK(BM_Ed25519VerifyRaw);

// ---- SHA-256 and the Merkle tree ---------------------------------------------------------------

void BM_LeafHash(benchmark::State& state) {
  const World& w = TheWorld();
  for (auto _ : state) benchmark::DoNotOptimize(ledger::LeafHash(w.entry));
  state.SetItemsProcessed(state.iterations());
  state.SetBytesProcessed(state.iterations() * static_cast<int64_t>(w.entry.size()));
  state.counters["entry_bytes"] = static_cast<double>(w.entry.size());
}
BENCHMARK(BM_LeafHash);

void BM_EventId(benchmark::State& state) {
  const World& w = TheWorld();
  for (auto _ : state) benchmark::DoNotOptimize(ledger::EventId(w.body));
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_EventId);

void BM_HashChildren(benchmark::State& state) {
  Hash left = Sha256("left");
  const Hash right = Sha256("right");
  for (auto _ : state) {
    left = ledger::HashChildren(left, right);  // chained, so no call can be skipped
    benchmark::DoNotOptimize(left);
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_HashChildren);

// One Append per leaf onto a growing tree (amortized O(1) hashes), and its root.
void BM_CompactRangeAppend(benchmark::State& state) {
  std::vector<Hash> leaves(1 << 16);
  for (size_t i = 0; i < leaves.size(); ++i) leaves[i] = Sha256(std::to_string(i));
  ledger::CompactRange range;
  size_t i = 0;
  for (auto _ : state) {
    range.Append(leaves[i++ & (leaves.size() - 1)]);
  }
  benchmark::DoNotOptimize(range.Root());
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_CompactRangeAppend);

void BM_CompactRangeRoot(benchmark::State& state) {
  ledger::CompactRange range;
  for (uint64_t i = 0; i < kTreeSize; ++i) range.Append(Sha256(std::to_string(i)));
  for (auto _ : state) benchmark::DoNotOptimize(range.Root());
  state.SetItemsProcessed(state.iterations());
  state.counters["tree_size"] = static_cast<double>(range.size());
}
BENCHMARK(BM_CompactRangeRoot);

// ---- Proofs on a tree of 1,000,000 leaves
// --------------------------------------------------------

void BM_InclusionProofFullTree(benchmark::State& state) {
  FullTreeSource& tree = MillionLeafTree();
  std::mt19937_64 rng(1);
  for (auto _ : state) {
    auto proof = ledger::InclusionProof(tree, rng() % kTreeSize, kTreeSize);
    if (!proof.ok()) state.SkipWithError(proof.status().ToString().c_str());
    benchmark::DoNotOptimize(proof);
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_InclusionProofFullTree);

// From the leaves alone, as a verifier holding a whole log does: the sibling subtrees are
// recomputed, O(n) hashes per proof.
void BM_InclusionProofLeafVector(benchmark::State& state) {
  FullTreeSource& tree = MillionLeafTree();
  ledger::LeafVectorSource source(tree.leaves());
  std::mt19937_64 rng(2);
  for (auto _ : state) {
    auto proof = ledger::InclusionProof(source, rng() % kTreeSize, kTreeSize);
    if (!proof.ok()) state.SkipWithError(proof.status().ToString().c_str());
    benchmark::DoNotOptimize(proof);
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_InclusionProofLeafVector)->Unit(benchmark::kMillisecond);

void BM_ConsistencyProofFullTree(benchmark::State& state) {
  FullTreeSource& tree = MillionLeafTree();
  std::mt19937_64 rng(3);
  for (auto _ : state) {
    auto proof = ledger::ConsistencyProof(tree, 1 + rng() % (kTreeSize - 1), kTreeSize);
    if (!proof.ok()) state.SkipWithError(proof.status().ToString().c_str());
    benchmark::DoNotOptimize(proof);
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_ConsistencyProofFullTree);

void BM_VerifyInclusion(benchmark::State& state) {
  FullTreeSource& tree = MillionLeafTree();
  const Hash root = RootOfSize(tree, kTreeSize);
  constexpr int kProofs = 1024;
  std::mt19937_64 rng(4);
  std::vector<uint64_t> indexes(kProofs);
  std::vector<std::vector<Hash>> proofs(kProofs);
  for (int i = 0; i < kProofs; ++i) {
    indexes[i] = rng() % kTreeSize;
    proofs[i] = *ledger::InclusionProof(tree, indexes[i], kTreeSize);
  }
  int i = 0;
  for (auto _ : state) {
    const uint64_t index = indexes[i];
    if (!ledger::VerifyInclusion(tree.leaves()[index], index, kTreeSize, proofs[i], root)) {
      state.SkipWithError("inclusion proof did not verify");
    }
    i = (i + 1) % kProofs;
  }
  state.SetItemsProcessed(state.iterations());
  state.counters["proof_hashes"] = static_cast<double>(proofs[0].size());
}
BENCHMARK(BM_VerifyInclusion);

void BM_VerifyConsistency(benchmark::State& state) {
  FullTreeSource& tree = MillionLeafTree();
  const Hash new_root = RootOfSize(tree, kTreeSize);
  constexpr int kProofs = 64;
  std::mt19937_64 rng(5);
  std::vector<uint64_t> old_sizes(kProofs);
  std::vector<Hash> old_roots(kProofs);
  std::vector<std::vector<Hash>> proofs(kProofs);
  for (int i = 0; i < kProofs; ++i) {
    old_sizes[i] = 1 + rng() % (kTreeSize - 1);
    old_roots[i] = RootOfSize(tree, old_sizes[i]);
    proofs[i] = *ledger::ConsistencyProof(tree, old_sizes[i], kTreeSize);
  }
  int i = 0;
  for (auto _ : state) {
    if (!ledger::VerifyConsistency(old_sizes[i], kTreeSize, old_roots[i], new_root, proofs[i])) {
      state.SkipWithError("consistency proof did not verify");
    }
    i = (i + 1) % kProofs;
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_VerifyConsistency);

// ---- Event checks a node runs before an append ------------------------------------------------

// Parse the body (with the unknown-field check) and compute the event id.
void BM_EventParse(benchmark::State& state) {
  const World& w = TheWorld();
  for (auto _ : state) {
    auto parsed = ledger::ParseSignedEvent(w.signed_event);
    if (!parsed.ok()) state.SkipWithError(parsed.status().ToString().c_str());
    benchmark::DoNotOptimize(parsed);
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_EventParse);

void BM_EventValidateSchema(benchmark::State& state) {
  const World& w = TheWorld();
  const auto parsed = *ledger::ParseSignedEvent(w.signed_event);
  for (auto _ : state) {
    const Status s = ledger::ValidateSchema(parsed.body);
    if (!s.ok()) state.SkipWithError(s.ToString().c_str());
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_EventValidateSchema);

// Parse, schema, key lookup, signature and role: every stateless check (custody needs storage).
void BM_EventParseAndValidate(benchmark::State& state) {
  const World& w = TheWorld();
  for (auto _ : state) {
    auto parsed = ledger::ParseSignedEvent(w.signed_event);
    Status s = parsed.status();
    if (s.ok()) s = ledger::ValidateSchema(parsed->body);
    if (s.ok()) s = ledger::VerifyAuthority(*parsed, *w.registry, kNowUs);
    if (!s.ok()) state.SkipWithError(s.ToString().c_str());
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_EventParseAndValidate);

// ---- SQLite on this disk
// -------------------------------------------------------------------------

struct CloseDb {
  void operator()(sqlite3* db) const { sqlite3_close_v2(db); }
};
struct Finalize {
  void operator()(sqlite3_stmt* stmt) const { sqlite3_finalize(stmt); }
};
using Db = std::unique_ptr<sqlite3, CloseDb>;
using Stmt = std::unique_ptr<sqlite3_stmt, Finalize>;

// A fresh database file in TMPDIR with the node's durability settings; deleted with its WAL when
// destroyed. `node_shaped`: the node's entries table (integer key, a random 64-bit event key with
// an index, event id, leaf hash, entry) instead of (integer key, blob).
class TempDb {
 public:
  explicit TempDb(bool node_shaped) {
    path_ = (std::filesystem::temp_directory_path() /
             ("cairn-micro-bench-" + std::to_string(getpid()) + ".db"))
                .string();
    Remove();
    sqlite3* raw = nullptr;
    const int rc =
        sqlite3_open_v2(path_.c_str(), &raw, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, nullptr);
    db_.reset(raw);  // owned before the result is checked, so a failed open still closes
    if (rc != SQLITE_OK) Fail("open " + path_);
    Exec("PRAGMA journal_mode=WAL");
    Exec("PRAGMA synchronous=FULL");
    if (node_shaped) {
      Exec(
          "CREATE TABLE entries(idx INTEGER PRIMARY KEY, event_key INTEGER NOT NULL, "
          "event_id BLOB NOT NULL, leaf_hash BLOB NOT NULL, entry BLOB NOT NULL)");
      Exec("CREATE INDEX entries_by_event_key ON entries(event_key)");
      insert_ = Prepare(
          "INSERT INTO entries(idx, event_key, event_id, leaf_hash, entry) VALUES (?, ?, ?, ?, ?)");
    } else {
      Exec("CREATE TABLE entries(idx INTEGER PRIMARY KEY, entry BLOB NOT NULL)");
      insert_ = Prepare("INSERT INTO entries(idx, entry) VALUES (?, ?)");
    }
    begin_ = Prepare("BEGIN IMMEDIATE");
    commit_ = Prepare("COMMIT");
  }
  ~TempDb() {
    insert_.reset();
    begin_.reset();
    commit_.reset();
    db_.reset();
    Remove();
  }
  TempDb(const TempDb&) = delete;
  TempDb& operator=(const TempDb&) = delete;

  void Begin() { Step(begin_.get(), "BEGIN"); }
  void Commit() { Step(commit_.get(), "COMMIT"); }
  sqlite3_stmt* insert() { return insert_.get(); }
  void StepInsert() { Step(insert_.get(), "INSERT"); }

  uint64_t FileBytes() const {
    uint64_t total = 0;
    for (const char* suffix : {"", "-wal"}) {
      std::error_code ec;
      const auto n = std::filesystem::file_size(path_ + suffix, ec);
      if (!ec) total += n;
    }
    return total;
  }

 private:
  [[noreturn]] void Fail(const std::string& what) const {
    std::fprintf(stderr, "cairn_micro_bench: sqlite %s: %s\n", what.c_str(),
                 db_ ? sqlite3_errmsg(db_.get()) : "no handle");
    std::abort();
  }
  void Exec(const char* sql) {
    if (sqlite3_exec(db_.get(), sql, nullptr, nullptr, nullptr) != SQLITE_OK) Fail(sql);
  }
  Stmt Prepare(const char* sql) {
    sqlite3_stmt* raw = nullptr;
    if (sqlite3_prepare_v2(db_.get(), sql, -1, &raw, nullptr) != SQLITE_OK) Fail(sql);
    return Stmt(raw);
  }
  void Step(sqlite3_stmt* stmt, const char* what) {
    if (sqlite3_step(stmt) != SQLITE_DONE) Fail(what);
    sqlite3_reset(stmt);
  }
  void Remove() const {
    for (const char* suffix : {"", "-wal", "-shm"}) std::remove((path_ + suffix).c_str());
  }

  std::string path_;
  Db db_;
  Stmt insert_, begin_, commit_;
};

// Durable commits of `range(0)` ~400-byte rows each; items are rows.
void BM_SqliteDurableInsert(benchmark::State& state) {
  const World& w = TheWorld();
  const int64_t rows_per_commit = state.range(0);
  const bool node_shaped = state.range(1) != 0;
  TempDb db(node_shaped);
  std::mt19937_64 rng(6);
  int64_t idx = 0;
  for (auto _ : state) {
    db.Begin();
    for (int64_t r = 0; r < rows_per_commit; ++r, ++idx) {
      sqlite3_stmt* insert = db.insert();
      sqlite3_bind_int64(insert, 1, idx);
      if (node_shaped) {
        const Hash id = Sha256(std::to_string(rng()));
        sqlite3_bind_int64(insert, 2, static_cast<int64_t>(rng()));
        sqlite3_bind_blob(insert, 3, id.data(), static_cast<int>(id.size()), SQLITE_TRANSIENT);
        sqlite3_bind_blob(insert, 4, id.data(), static_cast<int>(id.size()), SQLITE_TRANSIENT);
        sqlite3_bind_blob(insert, 5, w.entry.data(), static_cast<int>(w.entry.size()),
                          SQLITE_STATIC);
      } else {
        sqlite3_bind_blob(insert, 2, w.entry.data(), static_cast<int>(w.entry.size()),
                          SQLITE_STATIC);
      }
      db.StepInsert();
    }
    db.Commit();
  }
  state.SetItemsProcessed(idx);
  state.counters["row_bytes"] = static_cast<double>(w.entry.size());
  state.counters["commits_per_s"] =
      benchmark::Counter(static_cast<double>(state.iterations()), benchmark::Counter::kIsRate);
  state.counters["disk_bytes_per_row"] =
      idx > 0 ? static_cast<double>(db.FileBytes()) / static_cast<double>(idx) : 0;
}
BENCHMARK(BM_SqliteDurableInsert)
    ->ArgNames({"rows_per_commit", "node_shaped"})
    ->Args({1, 0})
    ->Args({100, 0})
    ->Args({1000, 0})
    ->Args({100, 1})
    ->Args({1000, 1})
    ->UseRealTime()
    ->Unit(benchmark::kMicrosecond);

// What metrics cost a request when metrics_listen is set: the three calls RequestLog makes for each
// one (in flight +1, answered with its code and duration, in flight -1).
void BM_RequestMetrics(benchmark::State& state) {
  static prometheus::Registry registry;
  static node::RequestMetrics metrics(registry);
  for (auto _ : state) {
    metrics.Started("Append");
    metrics.Finished("Append", grpc::StatusCode::OK, 0.002);
    metrics.Ended("Append");
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_RequestMetrics)->ThreadRange(1, 8)->UseRealTime();

}  // namespace
}  // namespace cairn

BENCHMARK_MAIN();
