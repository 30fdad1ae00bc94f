// A small consortium for unit tests: real Ed25519 keys from fixed seeds, a registry signed by its
// registrar, and helpers that build and sign events. Header-only; include from one test file each.
#pragma once

#include <gtest/gtest.h>

#include <map>
#include <string>

#include "cairn/v1/event.pb.h"
#include "cairn/v1/registry.pb.h"
#include "common/clock.h"
#include "common/crypto.h"
#include "keys/registry.h"
#include "ledger/event.h"

namespace cairn::testing {

// 2025-10-02T08:00:00Z: the week Pakistan's first consignment left for the US.
inline constexpr int64_t kTestNow = 1759392000LL * 1000000;

struct TestKey {
  std::string key_id;
  std::string public_key;
  std::string secret_key;
};

inline TestKey KeyFromSeed(uint8_t n) {
  std::string seed(32, static_cast<char>(n));
  auto kp = KeyPairFromSeed(seed);
  return {KeyIdOf(kp->public_key), kp->public_key, kp->secret_key};
}

inline cairn::v1::PublicKey ToProtoKey(const TestKey& k, int64_t valid_from = 0) {
  cairn::v1::PublicKey pk;
  pk.set_key_id(k.key_id);
  pk.set_public_key(k.public_key);
  *pk.mutable_valid_from() = FromMicros(valid_from);
  return pk;
}

class TestWorld {
 public:
  TestWorld() {
    EXPECT_TRUE(InitCrypto().ok());
    AddParticipant("registrar", "Cairn Consortium Registrar", "CH", {cairn::v1::ROLE_REGISTRAR}, 1);
    AddParticipant("pk-fwo", "Frontier Works Organisation", "PK", {cairn::v1::ROLE_MINE}, 2);
    AddParticipant("us-usm", "US Strategic Metals", "US", {cairn::v1::ROLE_PROCESSOR}, 3);
    AddParticipant("jp-magnets", "Nippon Magnet Works", "JP",
                   {cairn::v1::ROLE_BUYER, cairn::v1::ROLE_PROCESSOR}, 4);
    AddParticipant("sgs-lab", "Assay Laboratory", "AU", {cairn::v1::ROLE_LAB}, 5);
    log_key_ = KeyFromSeed(9);
    auto* log = registry_.add_logs();
    log->set_log_id("demo-log");
    log->set_operator_("us-usm");
    *log->add_keys() = ToProtoKey(log_key_);
    Rebuild();
  }

  void AddParticipant(const std::string& id, const std::string& name, const std::string& country,
                      std::initializer_list<cairn::v1::Role> roles, uint8_t seed) {
    auto* p = registry_.add_participants();
    p->set_id(id);
    p->set_legal_name(name);
    p->set_country(country);
    for (auto r : roles) p->add_roles(r);
    keys_[id] = KeyFromSeed(seed);
    *p->add_keys() = ToProtoKey(keys_[id]);
  }

  cairn::v1::Participant* Participant(const std::string& id) {
    for (auto& p : *registry_.mutable_participants()) {
      if (p.id() == id) return &p;
    }
    return nullptr;
  }

  // Re-signs the registry after edits.
  void Rebuild() {
    registry_.set_consortium("cairn-test");
    registry_.set_version(1);
    registry_.set_threshold(1);
    *registry_.mutable_issued_at() = FromMicros(0);
    cairn::v1::RegistryFile file;
    auto* v = file.add_versions();
    v->set_registry(registry_.SerializeAsString());
    auto* sig = v->add_signatures();
    sig->set_key_id(keys_["registrar"].key_id);
    sig->set_signature(
        ::cairn::Sign(keys_["registrar"].secret_key, kRegistryDomain, v->registry()));
    auto loaded = keys::TrustRegistry::FromFile(file);
    ASSERT_TRUE(loaded.ok()) << loaded.status().ToString();
    trust_ = std::make_unique<keys::TrustRegistry>(std::move(loaded).value());
  }

  const keys::TrustRegistry& trust() const { return *trust_; }
  const TestKey& key(const std::string& id) { return keys_[id]; }
  const TestKey& log_key() const { return log_key_; }
  cairn::v1::Registry& registry() { return registry_; }

  // Signs `body` with the author's key and parses it.
  ledger::ParsedEvent Sign(const cairn::v1::EventBody& body) {
    const TestKey& k = keys_[body.author()];
    auto parsed = ledger::ParseSignedEvent(
        ledger::SignEvent(body.SerializeAsString(), k.key_id, k.secret_key));
    EXPECT_TRUE(parsed.ok()) << parsed.status().ToString();
    return std::move(parsed).value();
  }

 private:
  cairn::v1::Registry registry_;
  std::map<std::string, TestKey> keys_;
  TestKey log_key_;
  std::unique_ptr<keys::TrustRegistry> trust_;
};

inline cairn::v1::EventBody Body(const std::string& author, int64_t at = kTestNow - 3600000000LL) {
  cairn::v1::EventBody b;
  b.set_author(author);
  *b.mutable_occurred_at() = FromMicros(at);
  return b;
}

// 20 t of REE concentrate from Pakistan: 60% TREO, of which ~12% Nd2O3 and ~4% Pr6O11.
inline cairn::v1::EventBody PakistanExtraction(const std::string& lot = "pk-fwo:CHG-2025-0001",
                                               uint64_t mass_g = 20'000'000) {
  auto b = Body("pk-fwo");
  auto* x = b.mutable_extraction();
  x->set_lot_id(lot);
  auto* site = x->mutable_site();
  site->set_id("pk-fwo-chagai-01");
  site->set_name("Chagai rare-earth prospect");
  site->set_country("PK");
  site->set_region("Balochistan");
  site->set_lat(29.3);
  site->set_lon(64.7);
  x->set_material("REE concentrate");
  x->set_mass_g(mass_g);
  (*x->mutable_composition_ppm())["TREO"] = 600000;
  (*x->mutable_composition_ppm())["Nd"] = 61700;  // 12% of the REO as Nd2O3, x 0.857
  (*x->mutable_composition_ppm())["Pr"] = 19900;  // 4% of the REO as Pr6O11, x 0.828
  return b;
}

// 25 t of Lynas's Mt Weld concentrate (Western Australia): 40% TREO, NdPr-rich.
inline cairn::v1::EventBody MtWeldExtraction(const std::string& lot = "au-lynas:MW-2025-0042",
                                             uint64_t mass_g = 25'000'000) {
  auto b = Body("au-lynas");
  auto* x = b.mutable_extraction();
  x->set_lot_id(lot);
  auto* site = x->mutable_site();
  site->set_id("au-lynas-mt-weld-01");
  site->set_name("Mount Weld");
  site->set_country("AU");
  site->set_region("Western Australia");
  site->set_lat(-28.86);
  site->set_lon(122.55);
  x->set_material("REE concentrate");
  x->set_mass_g(mass_g);
  (*x->mutable_composition_ppm())["TREO"] = 400000;
  (*x->mutable_composition_ppm())["Nd"] = 80000;
  (*x->mutable_composition_ppm())["Pr"] = 25000;
  return b;
}

inline cairn::v1::EventBody DispatchOf(const std::string& from, const std::string& to,
                                       const std::string& lot, uint64_t mass_g) {
  auto b = Body(from);
  auto* d = b.mutable_dispatch();
  d->set_shipment_id("SHP-2025-10-001");
  d->set_recipient(to);
  auto* lm = d->add_lots();
  lm->set_lot_id(lot);
  lm->set_mass_g(mass_g);
  auto* t = d->mutable_transport();
  t->set_mode("sea");
  t->set_vessel("MSC Alina");
  t->add_container_numbers("MSCU1234566");
  t->add_seal_numbers("PK-SEAL-778812");
  t->set_port_of_loading("PKKHI");
  t->set_port_of_discharge("USHOU");
  d->set_hs_code("2846.90");
  return b;
}

inline cairn::v1::EventBody ReceiptOf(const std::string& by, const std::string& dispatch_id,
                                      const std::string& lot, uint64_t mass_g) {
  auto b = Body(by);
  auto* r = b.mutable_receipt();
  r->set_dispatch_event_id(dispatch_id);
  auto* lm = r->add_lots();
  lm->set_lot_id(lot);
  lm->set_mass_g(mass_g);
  return b;
}

inline cairn::v1::EventBody Separation(const std::string& by, const std::string& input,
                                       uint64_t in_g, const std::string& output, uint64_t out_g) {
  auto b = Body(by);
  auto* t = b.mutable_transformation();
  auto* f = t->mutable_facility();
  f->set_id("us-usm-missouri-01");
  f->set_name("USSM Missouri separation plant");
  f->set_country("US");
  f->set_region("Missouri");
  t->set_stage(cairn::v1::STAGE_SEPARATED);
  t->set_process("solvent extraction");
  auto* in = t->add_inputs();
  in->set_lot_id(input);
  in->set_mass_g(in_g);
  auto* out = t->add_outputs();
  out->set_lot_id(output);
  out->set_material("NdPr oxide");
  out->set_mass_g(out_g);
  (*out->mutable_composition_ppm())["Nd"] = 640000;
  (*out->mutable_composition_ppm())["Pr"] = 210000;
  return b;
}

}  // namespace cairn::testing
