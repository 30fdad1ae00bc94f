// cairn bench: a load generator for a node's append path.
//
// Pre-signs M valid Extraction events (one new lot each) with the given mine key before timing,
// then sends them from N concurrent clients, one Append per event or AppendBatch of K, and prints
// throughput and latency percentiles. --baseline also measures libsodium's Ed25519 verification
// rate on one core in the same run, the ceiling a node that verifies every signature works under.
#include <fmt/format.h>
#include <sys/resource.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <iostream>
#include <memory>
#include <nlohmann/json.hpp>
#include <random>
#include <thread>
#include <vector>

#include "client/command.h"
#include "client/node_client.h"
#include "common/clock.h"
#include "common/crypto.h"
#include "keys/key_file.h"
#include "ledger/event.h"

namespace cairn::client {
namespace {

using Clock = std::chrono::steady_clock;

struct BenchOptions {
  NodeOptions node;
  std::string key_file;
  int clients = 8;
  int events = 10000;
  int batch = 1;
  bool baseline = false;
  bool json = false;
};

cairn::v1::EventBody BenchExtraction(const std::string& author, const std::string& lot_id,
                                     int64_t now_us) {
  cairn::v1::EventBody body;
  body.set_author(author);
  *body.mutable_occurred_at() = FromMicros(now_us);
  auto* x = body.mutable_extraction();
  x->set_lot_id(lot_id);
  auto* site = x->mutable_site();
  site->set_id("bench-site-01");
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
  return body;
}

// Ed25519 verifications per second on this thread, over ~1 s.
double VerifyRate() {
  const KeyPair kp = GenerateKeyPair();
  const std::string message(300, 'm');
  const std::string sig = Sign(kp.secret_key, kEventDomain, message);
  int n = 0;
  const auto start = Clock::now();
  while (Clock::now() - start < std::chrono::seconds(1)) {
    for (int i = 0; i < 100; ++i) n += Verify(kp.public_key, kEventDomain, message, sig) ? 1 : 0;
  }
  return n / std::chrono::duration<double>(Clock::now() - start).count();
}

double Percentile(std::vector<double>& sorted, double p) {
  if (sorted.empty()) return 0;
  const size_t i = std::min(sorted.size() - 1, static_cast<size_t>(p * sorted.size()));
  return sorted[i];
}

int Run(const BenchOptions& opt) {
  double baseline = 0;
  if (opt.baseline) {
    baseline = VerifyRate();
    if (!opt.json)
      std::cout << fmt::format("baseline: libsodium Ed25519 verify {:.0f}/s on one core\n",
                               baseline);
  }
  auto key = keys::ReadSigningKey(opt.key_file, std::nullopt);
  if (!key.ok()) {
    std::cerr << "cairn bench: " << key.status().message() << "\n";
    return kExitUsage;
  }
  // Pre-sign everything before the clock starts.
  std::mt19937_64 rng(std::random_device{}());
  const std::string run = fmt::format("{:012x}", rng() & 0xffffffffffffULL);
  const int64_t now = SystemClock().NowMicros();
  std::vector<cairn::v1::SignedEvent> events;
  events.reserve(opt.events);
  for (int i = 0; i < opt.events; ++i) {
    const auto body =
        BenchExtraction(key->participant, fmt::format("{}:B{}-{}", key->participant, run, i), now);
    events.push_back(ledger::SignEvent(body.SerializeAsString(), key->key_id, key->secret_key));
  }
  const int batch = std::max(1, opt.batch);
  std::atomic<size_t> next{0};
  std::atomic<int> failures{0};
  std::vector<std::vector<double>> latencies(opt.clients);
  std::string first_error;
  std::mutex error_mu;
  std::vector<std::thread> threads;
  const auto start = Clock::now();
  for (int c = 0; c < opt.clients; ++c) {
    threads.emplace_back([&, c] {
      // One channel per client, as separate partner systems would have.
      grpc::ChannelArguments args;
      args.SetInt("cairn.bench.client", c);  // distinct channel args: no subchannel sharing
      auto channel =
          grpc::CreateCustomChannel(opt.node.node, grpc::InsecureChannelCredentials(), args);
      auto stub = cairn::v1::Ledger::NewStub(channel);
      while (true) {
        const size_t begin = next.fetch_add(batch);
        if (begin >= events.size()) break;
        const size_t end = std::min(events.size(), begin + batch);
        grpc::ClientContext context;
        context.set_deadline(std::chrono::system_clock::now() +
                             std::chrono::seconds(opt.node.timeout_s));
        const auto t0 = Clock::now();
        grpc::Status s;
        if (batch == 1) {
          cairn::v1::AppendRequest request;
          *request.mutable_event() = events[begin];
          cairn::v1::AppendResponse response;
          s = stub->Append(&context, request, &response);
        } else {
          cairn::v1::AppendBatchRequest request;
          for (size_t i = begin; i < end; ++i) *request.add_events() = events[i];
          cairn::v1::AppendBatchResponse response;
          s = stub->AppendBatch(&context, request, &response);
        }
        latencies[c].push_back(
            std::chrono::duration<double, std::milli>(Clock::now() - t0).count());
        if (!s.ok()) {
          failures += static_cast<int>(end - begin);
          std::lock_guard<std::mutex> lock(error_mu);
          if (first_error.empty()) first_error = s.error_message();
        }
      }
    });
  }
  for (auto& t : threads) t.join();
  const double seconds = std::chrono::duration<double>(Clock::now() - start).count();
  std::vector<double> all;
  for (auto& l : latencies) all.insert(all.end(), l.begin(), l.end());
  std::sort(all.begin(), all.end());
  const double rate = (opt.events - failures) / seconds;
  const double p50 = Percentile(all, 0.50), p99 = Percentile(all, 0.99),
               p999 = Percentile(all, 0.999);
  if (opt.json) {
    nlohmann::json j = {{"events", opt.events}, {"clients", opt.clients},
                        {"batch", batch},       {"failures", failures.load()},
                        {"seconds", seconds},   {"events_per_s", rate},
                        {"p50_ms", p50},        {"p99_ms", p99},
                        {"p999_ms", p999}};
    if (opt.baseline) {
      j["baseline_verify_per_s"] = baseline;
      j["ratio_to_baseline"] = rate / baseline;
    }
    std::cout << j.dump(2) << "\n";
  } else {
    std::cout << fmt::format(
        "{} events, {} clients, batch {}: {:.0f} events/s over {:.2f} s; latency per call p50 "
        "{:.2f} ms, p99 {:.2f} ms, p999 {:.2f} ms; {} failed\n",
        opt.events, opt.clients, batch, rate, seconds, p50, p99, p999, failures.load());
    if (opt.baseline)
      std::cout << fmt::format("ratio to one-core verify baseline: {:.2f}\n", rate / baseline);
  }
  if (failures > 0) {
    std::cerr << "cairn bench: " << failures << " events refused; first error: " << first_error
              << "\n";
    return kExitIntegrity;
  }
  return kExitOk;
}

}  // namespace

void AddBenchCommand(CLI::App& root, Runner* selected) {
  auto opt = std::make_shared<BenchOptions>();
  CLI::App* cmd = root.add_subcommand(
      "bench",
      "Load generator: pre-signs --events valid extractions with a MINE key hosted by the node,\n"
      "sends them from --clients concurrent connections, prints events/s and latency.");
  AddNodeOptions(*cmd, opt->node);
  cmd->add_option("--key", opt->key_file, "secret key file of a MINE participant the node hosts")
      ->required();
  cmd->add_option("--clients", opt->clients, "concurrent clients")
      ->capture_default_str()
      ->check(CLI::Range(1, 1024));
  cmd->add_option("--events", opt->events, "events to send")
      ->capture_default_str()
      ->check(CLI::Range(1, 100000000));
  cmd->add_option("--batch", opt->batch, "events per AppendBatch (1: single Append calls)")
      ->capture_default_str()
      ->check(CLI::Range(1, 10000));
  cmd->add_flag("--baseline", opt->baseline, "also measure libsodium Ed25519 verify/s on one core");
  cmd->add_flag("--json", opt->json, "print as JSON");
  cmd->callback([opt, selected] { *selected = [opt] { return Run(*opt); }; });
}

}  // namespace cairn::client
