// Words for TOML value types in error messages ("got a string, want an integer"), shared by the
// policy parser and cairnd's config reader.
#pragma once

#include <toml++/toml.h>

#include <string>

namespace cairn::ledger {

inline std::string TomlTypeName(const toml::node& node) {
  switch (node.type()) {
    case toml::node_type::string:
      return "a string";
    case toml::node_type::integer:
      return "an integer";
    case toml::node_type::floating_point:
      return "a number";
    case toml::node_type::boolean:
      return "a boolean";
    case toml::node_type::array:
      return "an array";
    case toml::node_type::table:
      return "a table";
    default:
      return "a date or time";
  }
}

}  // namespace cairn::ledger
