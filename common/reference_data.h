// Reference lists shared by the registry and event validation: ISO 3166-1 alpha-2 country codes
// and chemical element symbols. Pure; thread-safe.
#pragma once

#include <string_view>

namespace cairn {

// One of the 249 officially assigned ISO 3166-1 alpha-2 codes, upper case ("PK").
bool IsIsoCountry(std::string_view code);
// A chemical symbol ("Nd", "Dy"), or the grades "TREO" / "REO".
bool IsElementOrGrade(std::string_view symbol);

}  // namespace cairn
