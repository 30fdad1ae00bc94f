// cairn lot: the state of one lot — who holds how much, what is in transit.
#include <iostream>
#include <map>
#include <memory>

#include "client/command.h"
#include "client/format.h"
#include "client/node_client.h"

namespace cairn::client {
namespace {

struct LotOptions {
  NodeOptions node;
  std::string lot_id;
  bool json = false;
};

int Run(const LotOptions& opt) {
  NodeClient client(opt.node);
  cairn::v1::GetLotRequest request;
  request.set_lot_id(opt.lot_id);
  cairn::v1::LotState lot;
  const Status s = client.Call(&cairn::v1::Ledger::Stub::GetLot, request, &lot);
  if (!s.ok()) return ReportError("lot", s);
  if (opt.json) {
    std::cout << DataJson(lot).dump(2) << "\n";
    return kExitOk;
  }
  std::cout << "lot        " << lot.lot_id() << "\n"
            << "material   " << lot.material() << "\n"
            << "created    " << FormatMass(lot.created_mass_g()) << " by " << lot.creator()
            << " (event " << lot.created_by_event_id() << ")\n"
            << "remaining  " << FormatMass(lot.remaining_mass_g()) << "\n";
  for (const auto& h : lot.holdings()) {
    std::cout << "  held by    " << h.holder() << ": " << FormatMass(h.mass_g()) << "\n";
  }
  for (const auto& t : lot.in_transit()) {
    std::cout << "  in transit " << t.sender() << " -> " << t.recipient() << ": "
              << FormatMass(t.mass_g()) << " (dispatch " << t.dispatch_event_id() << ")\n";
  }
  std::cout << "consumed   " << FormatMass(lot.consumed_mass_g()) << "\n"
            << "lost       " << FormatMass(lot.transit_loss_mass_g()) << " in transit\n";
  if (!lot.composition_ppm().empty()) {
    std::cout << "composition";
    const std::map<std::string, uint32_t> sorted(lot.composition_ppm().begin(),
                                                 lot.composition_ppm().end());
    for (const auto& [element, ppm] : sorted) {
      std::cout << " " << element << " " << ppm / 10000.0 << "%";
    }
    std::cout << "\n";
  }
  return kExitOk;
}

}  // namespace

void AddLotCommand(CLI::App& root, Runner* selected) {
  auto opt = std::make_shared<LotOptions>();
  CLI::App* cmd = root.add_subcommand("lot", "Show a lot: holders, mass in transit, remaining.");
  AddNodeOptions(*cmd, opt->node);
  cmd->add_option("lot_id", opt->lot_id, "lot id, e.g. pk-fwo:CHG-2025-0001")->required();
  cmd->add_flag("--json", opt->json, "print as JSON");
  cmd->callback([opt, selected] { *selected = [opt] { return Run(*opt); }; });
}

}  // namespace cairn::client
