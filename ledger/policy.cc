#include "ledger/policy.h"

#include <toml++/toml.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdio>

#include "common/reference_data.h"
#include "ledger/toml_names.h"
#include "ledger/validate.h"

namespace cairn::ledger {
namespace {

constexpr std::array<std::pair<std::string_view, cairn::v1::Stage>, 6> kStages = {{
    {"mined", cairn::v1::STAGE_MINED},
    {"refined", cairn::v1::STAGE_REFINED},
    {"separated", cairn::v1::STAGE_SEPARATED},
    {"melted", cairn::v1::STAGE_MELTED},
    {"produced", cairn::v1::STAGE_PRODUCED},
    {"blended", cairn::v1::STAGE_BLENDED},
}};

constexpr size_t kMaxTextChars = 200;
constexpr size_t kMaxReasonChars = 1000;

std::string Quote(std::string_view s) {
  std::string out = "\"";
  for (char c : s.substr(0, 80)) {
    if (c == '"' || c == '\\') out.push_back('\\');
    out.push_back(c);
  }
  if (s.size() > 80) out += "...";
  return out + "\"";
}

std::string Index(const std::string& key, size_t i) { return key + "[" + std::to_string(i) + "]"; }

Status Fail(const std::string& key, const std::string& what) {
  return InvalidArgument(key + ": " + what);
}

Status WantType(const std::string& key, const toml::node& node, const std::string& want) {
  return Fail(key, "got " + TomlTypeName(node) + ", want " + want);
}

Status ReadString(const std::string& key, const toml::node& node, std::string& out,
                  size_t max_chars = kMaxTextChars) {
  if (!node.is_string()) return WantType(key, node, "a string");
  out = *node.value<std::string>();
  if (out.size() > max_chars) {
    return Fail(key, "got " + std::to_string(out.size()) + " characters, want at most " +
                         std::to_string(max_chars));
  }
  return Status::Ok();
}

// A number (TOML integer or float) in [0, 1].
Status ReadShare(const std::string& key, const toml::node& node, double& out) {
  if (!node.is_number()) return WantType(key, node, "a number in [0, 1]");
  const double value = *node.value<double>();
  if (!std::isfinite(value) || value < 0.0 || value > 1.0) {
    char text[64];
    std::snprintf(text, sizeof text, "%g", value);
    return Fail(key, std::string("got ") + text + ", want a number in [0, 1]");
  }
  out = value;
  return Status::Ok();
}

// Calls `each(item_key, item)` for every item of the non-empty array at `node`.
template <typename Each>
Status ForEachItem(const std::string& key, const toml::node& node, const std::string& want,
                   Each each) {
  const toml::array* array = node.as_array();
  if (array == nullptr) return WantType(key, node, "an array of " + want);
  if (array->empty()) {
    return Fail(key, "got an empty array, want at least one of " + want + " (or omit the key)");
  }
  for (size_t i = 0; i < array->size(); ++i) {
    CAIRN_RETURN_IF_ERROR(each(Index(key, i), *array->get(i)));
  }
  return Status::Ok();
}

template <typename Each>
Status ForEachString(const std::string& key, const toml::node& node, const std::string& want,
                     Each each) {
  return ForEachItem(key, node, want, [&](const std::string& item_key, const toml::node& item) {
    if (!item.is_string()) return WantType(item_key, item, "a string");
    return each(item_key, *item.value<std::string>());
  });
}

template <typename T>
void AddOnce(std::vector<T>& to, const T& value) {
  if (std::find(to.begin(), to.end(), value) == to.end()) to.push_back(value);
}

bool IsFacilityId(std::string_view id) {
  if (id.empty() || id.size() > 120) return false;
  return std::all_of(id.begin(), id.end(), [](char c) { return c > 0x20 && c < 0x7f; });
}

std::string StageList() {
  std::string out;
  for (const auto& [word, stage] : kStages) {
    if (!out.empty()) out += ", ";
    out += word;
  }
  return out;
}

int64_t DaysFromCivil(int64_t y, unsigned m, unsigned d) {
  // Howard Hinnant's days_from_civil.
  y -= m <= 2;
  const int64_t era = (y >= 0 ? y : y - 399) / 400;
  const unsigned yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<int64_t>(doe) - 719468;
}

std::optional<int64_t> DateUs(int64_t year, unsigned month, unsigned day) {
  if (year < 1970 || year > 9999 || month < 1 || month > 12 || day < 1) return std::nullopt;
  static constexpr std::array<unsigned, 12> kDays = {31, 28, 31, 30, 31, 30,
                                                     31, 31, 30, 31, 30, 31};
  const bool leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
  const unsigned days_in_month = kDays[month - 1] + (month == 2 && leap ? 1 : 0);
  if (day > days_in_month) return std::nullopt;
  return DaysFromCivil(year, month, day) * 86400LL * 1000000LL;
}

Status ReadEffective(const std::string& key, const toml::node& node, PolicyRule& rule) {
  constexpr const char* kWant = "want a date YYYY-MM-DD";
  if (const auto* date = node.as_date()) {
    const toml::date& d = date->get();
    rule.effective_us = DateUs(d.year, d.month, d.day);
  } else if (node.is_string()) {
    const std::string text = *node.value<std::string>();
    rule.effective_us = ParseIsoDateUs(text);
    if (!rule.effective_us) return Fail(key, "got " + Quote(text) + ", " + kWant);
  } else {
    return WantType(key, node, "a date YYYY-MM-DD");
  }
  if (!rule.effective_us) return Fail(key, std::string("got an impossible date, ") + kWant);
  return Status::Ok();
}

Status ReadRegion(const std::string& key, const toml::node& node, PolicyRule& rule) {
  const toml::table* table = node.as_table();
  if (table == nullptr) {
    return WantType(key, node, "a table { country = \"MM\", region = \"Kachin\" }");
  }
  RegionRef region;
  for (auto&& [name_node, value] : *table) {
    const std::string name(name_node.str());
    const std::string field = key + "." + name;
    if (name == "country") {
      CAIRN_RETURN_IF_ERROR(ReadString(field, value, region.country));
      if (!IsIsoCountry(region.country)) {
        return Fail(field, "got " + Quote(region.country) +
                               ", want an ISO 3166-1 alpha-2 country code in upper case");
      }
    } else if (name == "region") {
      CAIRN_RETURN_IF_ERROR(ReadString(field, value, region.region));
      if (region.region.empty()) return Fail(field, "got \"\", want a region name");
    } else {
      return Fail(field, "unknown key (known: country, region)");
    }
  }
  if (region.country.empty()) return Fail(key + ".country", "missing, want a country code");
  if (region.region.empty()) return Fail(key + ".region", "missing, want a region name");
  for (const RegionRef& seen : rule.regions) {
    if (seen.country == region.country && seen.region == region.region) return Status::Ok();
  }
  rule.regions.push_back(std::move(region));
  return Status::Ok();
}

Status ReadRule(const std::string& key, const toml::node& node, PolicyRule& rule) {
  const toml::table* table = node.as_table();
  if (table == nullptr) return WantType(key, node, "a table ([[restrict]])");
  for (auto&& [name_node, value] : *table) {
    const std::string name(name_node.str());
    const std::string field = key + "." + name;
    if (name == "countries") {
      CAIRN_RETURN_IF_ERROR(ForEachString(
          field, value, "ISO 3166-1 alpha-2 country codes",
          [&](const std::string& item_key, const std::string& code) {
            if (!IsIsoCountry(code)) {
              return Fail(item_key, "got " + Quote(code) +
                                        ", want an ISO 3166-1 alpha-2 country code in upper case");
            }
            AddOnce(rule.countries, code);
            return Status::Ok();
          }));
    } else if (name == "regions") {
      CAIRN_RETURN_IF_ERROR(ForEachItem(field, value, "regions",
                                        [&](const std::string& item_key, const toml::node& item) {
                                          return ReadRegion(item_key, item, rule);
                                        }));
    } else if (name == "participants") {
      CAIRN_RETURN_IF_ERROR(ForEachString(
          field, value, "participant ids", [&](const std::string& item_key, const std::string& id) {
            if (!IsParticipantId(id)) {
              return Fail(item_key, "got " + Quote(id) + ", want a participant id [a-z0-9-]{2,40}");
            }
            AddOnce(rule.participants, id);
            return Status::Ok();
          }));
    } else if (name == "facilities") {
      CAIRN_RETURN_IF_ERROR(ForEachString(
          field, value, "facility ids", [&](const std::string& item_key, const std::string& id) {
            if (!IsFacilityId(id)) {
              return Fail(item_key, "got " + Quote(id) +
                                        ", want a facility id of 1-120 printable characters "
                                        "without spaces");
            }
            AddOnce(rule.facilities, id);
            return Status::Ok();
          }));
    } else if (name == "stages") {
      CAIRN_RETURN_IF_ERROR(ForEachString(
          field, value, "stages", [&](const std::string& item_key, const std::string& word) {
            const std::optional<cairn::v1::Stage> stage = StageFromWord(word);
            if (!stage)
              return Fail(item_key, "got " + Quote(word) + ", want one of " + StageList());
            AddOnce(rule.stages, *stage);
            return Status::Ok();
          }));
    } else if (name == "elements") {
      CAIRN_RETURN_IF_ERROR(ForEachString(
          field, value, "element symbols",
          [&](const std::string& item_key, const std::string& symbol) {
            if (symbol == "TREO" || symbol == "REO" || !IsElementOrGrade(symbol)) {
              return Fail(item_key,
                          "got " + Quote(symbol) + ", want a chemical element symbol (\"Nd\")");
            }
            AddOnce(rule.elements, symbol);
            return Status::Ok();
          }));
    } else if (name == "effective") {
      CAIRN_RETURN_IF_ERROR(ReadEffective(field, value, rule));
    } else if (name == "max_share") {
      double share = 0;
      CAIRN_RETURN_IF_ERROR(ReadShare(field, value, share));
      rule.max_share = share;
    } else if (name == "reason") {
      CAIRN_RETURN_IF_ERROR(ReadString(field, value, rule.reason, kMaxReasonChars));
    } else {
      return Fail(field,
                  "unknown key (known: countries, regions, participants, facilities, stages, "
                  "elements, effective, max_share, reason)");
    }
  }
  if (rule.countries.empty() && rule.regions.empty() && rule.participants.empty() &&
      rule.facilities.empty()) {
    return Fail(key,
                "restricts nothing, want at least one of countries, regions, participants, "
                "facilities");
  }
  if (rule.reason.empty()) return Fail(key + ".reason", "missing, want why the rule exists");
  return Status::Ok();
}

}  // namespace

const char* StageWord(cairn::v1::Stage stage) {
  for (const auto& [word, s] : kStages) {
    if (s == stage) return word.data();
  }
  return "unspecified";
}

std::optional<cairn::v1::Stage> StageFromWord(std::string_view word) {
  for (const auto& [w, stage] : kStages) {
    if (w == word) return stage;
  }
  return std::nullopt;
}

bool RuleInForce(const PolicyRule& rule, int64_t as_of_us) {
  return !rule.effective_us || as_of_us >= *rule.effective_us;
}

double MaxShareOf(const Policy& policy, const PolicyRule& rule) {
  return rule.max_share.value_or(policy.max_restricted_share);
}

std::optional<int64_t> ParseIsoDateUs(std::string_view text) {
  if (text.size() != 10 || text[4] != '-' || text[7] != '-') return std::nullopt;
  auto digits = [&](size_t from, size_t n) -> std::optional<unsigned> {
    unsigned value = 0;
    for (size_t i = from; i < from + n; ++i) {
      if (text[i] < '0' || text[i] > '9') return std::nullopt;
      value = value * 10 + static_cast<unsigned>(text[i] - '0');
    }
    return value;
  };
  const auto year = digits(0, 4);
  const auto month = digits(5, 2);
  const auto day = digits(8, 2);
  if (!year || !month || !day) return std::nullopt;
  return DateUs(*year, *month, *day);
}

Result<Policy> ParsePolicy(std::string_view toml_text) {
  toml::table table;
  try {
    table = toml::parse(toml_text);
  } catch (const toml::parse_error& e) {
    return InvalidArgument("line " + std::to_string(e.source().begin.line) + ", column " +
                           std::to_string(e.source().begin.column) + ": " +
                           std::string(e.description()));
  }
  Policy policy;
  for (auto&& [key_node, node] : table) {
    const std::string key(key_node.str());
    if (key == "name") {
      CAIRN_RETURN_IF_ERROR(ReadString(key, node, policy.name));
    } else if (key == "mass_tolerance") {
      CAIRN_RETURN_IF_ERROR(ReadShare(key, node, policy.mass_tolerance));
    } else if (key == "max_restricted_share") {
      CAIRN_RETURN_IF_ERROR(ReadShare(key, node, policy.max_restricted_share));
    } else if (key == "max_transit_loss") {
      double loss = 0;
      CAIRN_RETURN_IF_ERROR(ReadShare(key, node, loss));
      policy.max_transit_loss = loss;
    } else if (key == "restrict") {
      const toml::array* rules = node.as_array();
      if (rules == nullptr) return WantType(key, node, "an array of tables ([[restrict]])");
      for (size_t i = 0; i < rules->size(); ++i) {
        PolicyRule rule;
        CAIRN_RETURN_IF_ERROR(ReadRule(Index(key, i), *rules->get(i), rule));
        policy.rules.push_back(std::move(rule));
      }
    } else {
      return Fail(key,
                  "unknown key (known: name, mass_tolerance, max_restricted_share, "
                  "max_transit_loss, restrict)");
    }
  }
  return policy;
}

}  // namespace cairn::ledger
