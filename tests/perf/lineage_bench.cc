// cairn_lineage_bench: how fast an auditor verifies a large evidence bundle, and how fast a large
// lineage is walked and attributed — next to the Ed25519 verification limit of this machine
// measured in the same run.
//
//   cairn_lineage_bench [--events N] [--lots L] [--rounds R] [--write-bundle DIR]
//
// Builds, in memory and with the same ledger functions a node uses, a log of about N events
// (mines extract, ship to a processor that blends lots in a chain) with real Ed25519 signatures,
// then times:
//   - libsodium crypto_sign_verify_detached alone on 1 thread and on every core;
//   - ledger::VerifyLineage of the bundle (every signature, inclusion proof, custody, mass);
//   - building the lineage graph of an L-lot lineage, walking it and attributing its origin.
// This VM's own Ed25519 rate swings by a third between seconds, so the bundle is verified in R
// rounds (default 3), each between two measurements of the every-core limit (their mean is the
// round's limit), and the median of the rounds' ratios is the figure. Prints one line per figure.
// With --write-bundle DIR it writes the bundle and its registry instead, for timing the CLI on
// them (tests/perf/report_bench.sh). Not part of ctest.
#include <google/protobuf/util/json_util.h>
#include <sodium.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

#include "common/clock.h"
#include "common/crypto.h"
#include "keys/registry.h"
#include "ledger/attribution.h"
#include "ledger/event.h"
#include "ledger/lineage.h"
#include "ledger/lineage_verifier.h"
#include "ledger/merkle.h"
#include "ledger/proofs.h"

namespace cairn {
namespace {

using Clock = std::chrono::steady_clock;

double Seconds(Clock::time_point since) {
  return std::chrono::duration<double>(Clock::now() - since).count();
}

struct Key {
  std::string id;
  std::string public_key;
  std::string secret_key;
};

bool WriteAll(const std::string& path, const std::string& bytes) {
  std::FILE* f = std::fopen(path.c_str(), "wb");
  if (f == nullptr) return false;
  const bool ok = std::fwrite(bytes.data(), 1, bytes.size(), f) == bytes.size();
  return std::fclose(f) == 0 && ok;
}

Key MakeKey(uint8_t seed_byte) {
  unsigned char seed[crypto_sign_SEEDBYTES];
  std::memset(seed, seed_byte, sizeof(seed));
  unsigned char pk[crypto_sign_PUBLICKEYBYTES];
  unsigned char sk[crypto_sign_SECRETKEYBYTES];
  crypto_sign_seed_keypair(pk, sk, seed);
  Key key;
  key.public_key.assign(reinterpret_cast<char*>(pk), sizeof(pk));
  key.secret_key.assign(reinterpret_cast<char*>(sk), sizeof(sk));
  key.id = KeyIdOf(key.public_key);
  return key;
}

void AddKey(cairn::v1::Participant* p, const Key& key) {
  auto* k = p->add_keys();
  k->set_key_id(key.id);
  k->set_public_key(key.public_key);
  *k->mutable_valid_from() = FromMicros(0);
}

// Every level of the tree, for O(1) subtree reads while making the bundle's proofs.
class AllLevels final : public ledger::SubtreeSource {
 public:
  explicit AllLevels(std::vector<Hash> leaves) { levels_.push_back(std::move(leaves)); }
  void Build() {
    while (levels_.back().size() > 1) {
      const std::vector<Hash>& below = levels_.back();
      std::vector<Hash> above;
      for (size_t i = 0; i + 1 < below.size(); i += 2) {
        above.push_back(ledger::HashChildren(below[i], below[i + 1]));
      }
      levels_.push_back(std::move(above));
    }
  }
  Result<Hash> Subtree(uint32_t level, uint64_t index) override {
    if (level < levels_.size() && index < levels_[level].size()) return levels_[level][index];
    return ledger::RangeHash(*this, index << level,
                             std::min<uint64_t>((index + 1) << level, levels_[0].size()));
  }

 private:
  std::vector<std::vector<Hash>> levels_;
};

double VerifyRate(const std::string& message, const std::string& signature, const Key& key,
                  unsigned threads, int per_thread) {
  const auto start = Clock::now();
  std::vector<std::thread> pool;
  for (unsigned t = 0; t < threads; ++t) {
    pool.emplace_back([&] {
      for (int i = 0; i < per_thread; ++i) {
        if (crypto_sign_verify_detached(
                reinterpret_cast<const unsigned char*>(signature.data()),
                reinterpret_cast<const unsigned char*>(message.data()), message.size(),
                reinterpret_cast<const unsigned char*>(key.public_key.data())) != 0) {
          std::abort();
        }
      }
    });
  }
  for (auto& t : pool) t.join();
  return threads * per_thread / Seconds(start);
}

int Main(int argc, char** argv) {
  size_t events = 100000;
  int lineage_lots = 10000;
  int rounds = 3;
  std::string write_dir;  // --write-bundle DIR: DIR/bench.bundle and DIR/registry.json, then exit
  for (int i = 1; i + 1 < argc; i += 2) {
    if (std::strcmp(argv[i], "--events") == 0) events = std::strtoull(argv[i + 1], nullptr, 10);
    if (std::strcmp(argv[i], "--lots") == 0) lineage_lots = std::atoi(argv[i + 1]);
    if (std::strcmp(argv[i], "--rounds") == 0) rounds = std::max(1, std::atoi(argv[i + 1]));
    if (std::strcmp(argv[i], "--write-bundle") == 0) write_dir = argv[i + 1];
  }
  if (!InitCrypto().ok()) return 2;
  const unsigned cores = std::max(1u, std::thread::hardware_concurrency());

  // The consortium: one mine, one processor, the log key, a registrar.
  const Key registrar = MakeKey(1), mine = MakeKey(2), processor = MakeKey(3), log_key = MakeKey(9);
  cairn::v1::Registry registry;
  registry.set_consortium("bench");
  registry.set_version(1);
  registry.set_threshold(1);
  *registry.mutable_issued_at() = FromMicros(0);
  auto add = [&](const char* id, const char* country, cairn::v1::Role role, const Key& key) {
    auto* p = registry.add_participants();
    p->set_id(id);
    p->set_legal_name(id);
    p->set_country(country);
    p->add_roles(role);
    AddKey(p, key);
  };
  add("registrar", "CH", cairn::v1::ROLE_REGISTRAR, registrar);
  add("pk-fwo", "PK", cairn::v1::ROLE_MINE, mine);
  add("us-usm", "US", cairn::v1::ROLE_PROCESSOR, processor);
  auto* log = registry.add_logs();
  log->set_log_id("bench-log");
  log->set_operator_("us-usm");
  auto* lk = log->add_keys();
  lk->set_key_id(log_key.id);
  lk->set_public_key(log_key.public_key);
  *lk->mutable_valid_from() = FromMicros(0);
  cairn::v1::RegistryFile file;
  auto* version = file.add_versions();
  version->set_registry(registry.SerializeAsString());
  auto* sig = version->add_signatures();
  sig->set_key_id(registrar.id);
  sig->set_signature(Sign(registrar.secret_key, kRegistryDomain, version->registry()));
  auto trust = keys::TrustRegistry::FromFile(file);
  if (!trust.ok()) {
    std::fprintf(stderr, "registry: %s\n", trust.status().ToString().c_str());
    return 2;
  }

  // The log: per mine lot 3 events (extraction, dispatch, receipt); every processing step blends
  // the previous product with a fresh mine lot, so the last product's lineage holds every lot.
  const int64_t now = SystemClock().NowMicros();
  std::vector<std::string> entries;
  std::vector<Hash> leaves;
  auto append = [&](cairn::v1::EventBody body, const Key& key) {
    *body.mutable_occurred_at() = FromMicros(now - 3600000000LL);
    const std::string bytes = body.SerializeAsString();
    cairn::v1::LogEntry entry;
    entry.set_log_id("bench-log");
    entry.set_index(entries.size());
    entry.set_prev_entry_hash(leaves.empty() ? std::string(32, '\0') : HashToString(leaves.back()));
    *entry.mutable_appended_at() = FromMicros(now - 1000000);
    *entry.mutable_event() = ledger::SignEvent(bytes, key.id, key.secret_key);
    entries.push_back(entry.SerializeAsString());
    leaves.push_back(ledger::LeafHash(entries.back()));
    return ToHex(ledger::EventId(bytes));
  };
  const auto build_start = Clock::now();
  std::string product;
  int steps = 0;
  while (entries.size() + 4 <= events) {
    const std::string lot = "pk-fwo:L" + std::to_string(steps);
    cairn::v1::EventBody x;
    x.set_author("pk-fwo");
    auto* e = x.mutable_extraction();
    e->set_lot_id(lot);
    e->mutable_site()->set_id("pk-fwo-chagai-01");
    e->mutable_site()->set_name("Chagai");
    e->mutable_site()->set_country("PK");
    e->set_material("REE concentrate");
    e->set_mass_g(20'000'000);
    (*e->mutable_composition_ppm())["Nd"] = 61700;
    append(x, mine);
    cairn::v1::EventBody d;
    d.set_author("pk-fwo");
    d.mutable_dispatch()->set_shipment_id("S" + std::to_string(steps));
    d.mutable_dispatch()->set_recipient("us-usm");
    auto* dl = d.mutable_dispatch()->add_lots();
    dl->set_lot_id(lot);
    dl->set_mass_g(20'000'000);
    const std::string dispatch_id = append(d, mine);
    cairn::v1::EventBody r;
    r.set_author("us-usm");
    r.mutable_receipt()->set_dispatch_event_id(dispatch_id);
    *r.mutable_receipt()->add_lots() = *dl;
    append(r, processor);
    cairn::v1::EventBody t;
    t.set_author("us-usm");
    auto* tr = t.mutable_transformation();
    tr->mutable_facility()->set_id("us-usm-missouri-01");
    tr->mutable_facility()->set_name("USSM Missouri");
    tr->mutable_facility()->set_country("US");
    tr->set_stage(cairn::v1::STAGE_REFINED);
    auto* in = tr->add_inputs();
    in->set_lot_id(lot);
    in->set_mass_g(20'000'000);
    if (!product.empty()) {
      auto* prev = tr->add_inputs();
      prev->set_lot_id(product);
      prev->set_mass_g(1'000'000);
    }
    product = "us-usm:P" + std::to_string(steps);
    auto* out = tr->add_outputs();
    out->set_lot_id(product);
    out->set_material("mixed RE carbonate");
    out->set_mass_g(1'000'000);
    (*out->mutable_composition_ppm())["Nd"] = 100000;
    append(t, processor);
    ++steps;
  }
  AllLevels tree(leaves);
  tree.Build();
  cairn::v1::Checkpoint checkpoint;
  checkpoint.set_log_id("bench-log");
  checkpoint.set_size(entries.size());
  checkpoint.set_root_hash(HashToString(ledger::RootOf(leaves)));
  *checkpoint.mutable_timestamp() = FromMicros(now);
  cairn::v1::EvidenceBundle bundle;
  bundle.set_format_version(1);
  bundle.set_lot_id(product);
  bundle.set_direction(cairn::v1::TRACE_DIRECTION_BACKWARD);
  *bundle.add_checkpoints() = ledger::SignCheckpoint(checkpoint, log_key.id, log_key.secret_key);
  for (uint64_t i = 0; i < entries.size(); ++i) {
    auto* b = bundle.add_entries();
    b->set_log_id("bench-log");
    b->set_index(i);
    b->set_entry(entries[i]);
    b->mutable_inclusion()->set_leaf_index(i);
    b->mutable_inclusion()->set_tree_size(entries.size());
    const auto proof = ledger::InclusionProof(tree, i, entries.size());
    for (const Hash& h : *proof) b->mutable_inclusion()->add_hashes(HashToString(h));
  }
  std::fprintf(stderr, "built a %zu-event bundle (%d lots on the lineage, %.1f MB) in %.1f s\n",
               entries.size(), 2 * steps, bundle.ByteSizeLong() / 1e6, Seconds(build_start));

  if (!write_dir.empty()) {
    // For timing the CLI on it (tests/perf/report_bench.sh): the bundle as `cairn export` writes
    // it, and the registry file that verifies it.
    std::string json;
    google::protobuf::util::JsonPrintOptions print;
    print.preserve_proto_field_names = true;
    if (!google::protobuf::util::MessageToJsonString(file, &json, print).ok() ||
        !WriteAll(write_dir + "/registry.json", json) ||
        !WriteAll(write_dir + "/bench.bundle", bundle.SerializeAsString())) {
      std::fprintf(stderr, "cannot write to %s\n", write_dir.c_str());
      return 2;
    }
    std::printf("wrote %s/bench.bundle (lot %s) and %s/registry.json\n", write_dir.c_str(),
                product.c_str(), write_dir.c_str());
    return 0;
  }

  // The Ed25519 limit, same run.
  const std::string message = std::string(kEventDomain) + std::string(300, 'x');
  const std::string signature = Sign(mine.secret_key, kEventDomain, std::string(300, 'x'));
  const double one_core = VerifyRate(message, signature, mine, 1, 20000);
  std::printf("ed25519 verify (libsodium), 1 thread:   %8.0f /s\n", one_core);

  // The auditor's verification of the whole bundle, each round next to its own limit.
  ledger::LineageOptions options;
  options.as_of_us = now;
  std::vector<double> ratios;
  for (int round = 1; round <= rounds; ++round) {
    const double limit_before = VerifyRate(message, signature, mine, cores, 15000);
    const auto verify_start = Clock::now();
    const ledger::LineageReport report = ledger::VerifyLineage(bundle, *trust, options);
    const double verify_s = Seconds(verify_start);
    const double all_cores =
        (limit_before + VerifyRate(message, signature, mine, cores, 15000)) / 2;
    const double rate = bundle.entries_size() / verify_s;
    ratios.push_back(rate / all_cores);
    std::printf(
        "round %d: ed25519 verify (libsodium), %u threads: %8.0f /s; verify bundle: %d "
        "events in %.2f s = %.0f events/s = %.2f of the %u-core limit (exit %d, %zu lots)\n",
        round, cores, all_cores, bundle.entries_size(), verify_s, rate, rate / all_cores, cores,
        report.ExitCode(), report.lineage_lots.size());
    if (report.ExitCode() != 0) {
      for (const auto& f : report.findings) std::fprintf(stderr, "  %s\n", f.message.c_str());
      return 1;
    }
  }
  std::sort(ratios.begin(), ratios.end());
  std::printf("verify bundle: median of %d rounds = %.2f of the %u-core limit (range %.2f-%.2f)\n",
              rounds, ratios[ratios.size() / 2], cores, ratios.front(), ratios.back());

  // Walking and attributing a lineage of `lineage_lots` lots (the first lots/2 processing steps).
  const int walk_steps = std::min(steps, lineage_lots / 2);
  const std::string walk_target = "us-usm:P" + std::to_string(walk_steps - 1);
  const auto walk_start = Clock::now();
  ledger::LineageGraph graph;
  for (int i = 0; i < 4 * walk_steps; ++i) {
    cairn::v1::LogEntry entry;
    entry.ParseFromString(entries[i]);
    auto parsed = ledger::ParseSignedEvent(entry.event());
    graph.Add(*parsed, {"bench-log", static_cast<uint64_t>(i), 0});
  }
  const double graph_s = Seconds(walk_start);
  const auto attribute_start = Clock::now();
  const int target = *graph.FindLot(walk_target);
  const size_t upstream = graph.Upstream(target).size();
  const ledger::Attribution attribution = ledger::AttributeOrigin(graph, target);
  const double attribute_s = Seconds(attribute_start);
  std::printf(
      "trace %zu-lot lineage (%d events): graph %.0f ms, walk + attribution %.0f ms, "
      "PK share %.3f\n",
      upstream, 4 * walk_steps, graph_s * 1e3, attribute_s * 1e3,
      attribution.mass.by_country.count("PK") ? attribution.mass.by_country.at("PK") : 0.0);
  return 0;
}

}  // namespace
}  // namespace cairn

int main(int argc, char** argv) { return cairn::Main(argc, argv); }
