// Writes the seed corpus of every fuzz target: `cairn_fuzz_seeds OUT_DIR SOURCE_DIR` makes
// OUT_DIR/<target>/ with valid inputs (signed events of the Pakistan consignment, its evidence
// bundle, the test registry in binary and JSON, the policies and node configs of deploy/, true
// proofs) for libFuzzer to mutate from.
#include <google/protobuf/util/json_util.h>

#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>
#include <string>
#include <vector>

#include "fuzz/fuzz_world.h"
#include "tests/unit/test_log.h"

namespace {

namespace fs = std::filesystem;
using namespace cairn;

void Write(const fs::path& dir, const std::string& name, const std::string& bytes) {
  fs::create_directories(dir);
  std::ofstream(dir / name, std::ios::binary) << bytes;
}

std::string Slurp(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 3) {
    std::cerr << "usage: cairn_fuzz_seeds OUT_DIR SOURCE_DIR\n";
    return 2;
  }
  const fs::path out = argv[1];
  const fs::path source = argv[2];
  auto& world = fuzz::World();

  // The Pakistan consignment: mined at Chagai, shipped to Missouri, separated into NdPr oxide.
  const auto extraction = cairn::testing::PakistanExtraction("pk-fwo:CHG-2025-0001", 20'000'000);
  const ledger::ParsedEvent mined = world.Sign(extraction);
  const auto dispatch =
      cairn::testing::DispatchOf("pk-fwo", "us-usm", "pk-fwo:CHG-2025-0001", 20'000'000);
  const ledger::ParsedEvent shipped = world.Sign(dispatch);
  const auto receipt =
      cairn::testing::ReceiptOf("us-usm", shipped.id_hex, "pk-fwo:CHG-2025-0001", 20'000'000);
  const ledger::ParsedEvent received = world.Sign(receipt);
  const auto separation = cairn::testing::Separation("us-usm", "pk-fwo:CHG-2025-0001", 20'000'000,
                                                     "us-usm:NDPR-2025-001", 1'600'000);
  const ledger::ParsedEvent separated = world.Sign(separation);

  const fs::path events = out / "signed_event";
  int n = 0;
  for (const auto* event : {&mined, &shipped, &received, &separated}) {
    Write(events, "signed-" + std::to_string(n++),
          std::string(1, '\0') + event->signed_event.SerializeAsString());
  }
  Write(events, "sequence",
        std::string(1, '\1') +
            fuzz::JoinParts({extraction.SerializeAsString(), dispatch.SerializeAsString(),
                             receipt.SerializeAsString(), separation.SerializeAsString()}));

  cairn::testing::TestLog log(world.log_key());
  for (const auto* event : {&mined, &shipped, &received, &separated}) log.Append(*event);
  Write(out / "bundle", "pakistan-ndpr", log.Bundle("us-usm:NDPR-2025-001").SerializeAsString());
  Write(out / "bundle", "pakistan-partial",
        log.Bundle("us-usm:NDPR-2025-001", {0, 3}).SerializeAsString());

  // The test registry, signed by its registrar, in both encodings a registry file takes.
  cairn::v1::RegistryFile file;
  auto* version = file.add_versions();
  version->set_registry(world.registry().SerializeAsString());
  auto* signature = version->add_signatures();
  signature->set_key_id(world.key("registrar").key_id);
  signature->set_signature(
      Sign(world.key("registrar").secret_key, kRegistryDomain, version->registry()));
  Write(out / "registry", "registry.bin", file.SerializeAsString());
  std::string json;
  (void)google::protobuf::util::MessageToJsonString(file, &json);
  Write(out / "registry", "registry.json", json);

  for (const char* policy : {"defence-magnets-2027.toml", "dfars-cots.toml"}) {
    Write(out / "policy", policy, Slurp(source / "deploy" / "policies" / policy));
  }
  for (const char* config : {"mine.toml", "refiner.toml", "buyer.toml"}) {
    Write(out / "config", config, Slurp(source / "deploy" / "compose" / config));
  }
  Write(out / "config", "full.toml",
        "listen = \"127.0.0.1:7400\"\ndb = \"node.db\"\nlog_id = \"demo-log\"\n"
        "node_key = \"keys/demo-log.key\"\nregistry = \"registry.json\"\n"
        "participants = [\"pk-fwo\", \"us-usm\"]\nmax_message_bytes = 4194304\n"
        "writer_nice = -10\nlog_level = \"warn\"\nmetrics_listen = \"127.0.0.1:9464\"\n"
        "max_call_threads = 96\n[tls]\ncert = \"tls/node.crt\"\nkey = \"tls/node.key\"\n"
        "ca = \"tls/ca.crt\"\nrequire_client_cert = true\n"
        "[[peer]]\naddress = \"mine.example:7400\"\nlogs = [\"pk-log\"]\n");

  // Proof queries (proofs_fuzz.cc): a 7- and a 200-leaf tree, true proofs, flips, consistency.
  Write(out / "proofs", "small", std::string("\x06\x2a\x00\x03\x00\x00\x04\x01\x05", 9));
  Write(out / "proofs", "large",
        std::string("\xc7\x07\x00\x10\x00\x07\x05\x01\x64\x00\x09\x03", 12));
  std::cout << "seeds written to " << out << "\n";
  return 0;
}
