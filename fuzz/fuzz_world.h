// What the fuzz targets check against: the test consortium of tests/unit/test_world.h (made once
// per process), and the splitting of a fuzz input into parts.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "tests/unit/test_world.h"

namespace cairn::fuzz {

inline cairn::testing::TestWorld& World() {
  static cairn::testing::TestWorld* world = new cairn::testing::TestWorld();
  return *world;
}

// `data` as parts, each a 2-byte little-endian length and that many bytes (a short last part is
// taken as it is). The seed writer (seeds.cc) joins parts with JoinParts.
inline std::vector<std::string_view> SplitParts(const uint8_t* data, size_t size,
                                                size_t max_parts = 64) {
  std::vector<std::string_view> parts;
  size_t at = 0;
  while (at + 2 <= size && parts.size() < max_parts) {
    const size_t n = data[at] | (size_t{data[at + 1]} << 8);
    at += 2;
    const size_t take = std::min(n, size - at);
    parts.emplace_back(reinterpret_cast<const char*>(data) + at, take);
    at += take;
  }
  return parts;
}

inline std::string JoinParts(const std::vector<std::string>& parts) {
  std::string out;
  for (const std::string& part : parts) {
    out += static_cast<char>(part.size() & 0xff);
    out += static_cast<char>((part.size() >> 8) & 0xff);
    out += part;
  }
  return out;
}

// Stops the fuzzer with a message: a broken invariant is a finding, as a crash is.
[[noreturn]] inline void Broken(const std::string& what) {
  std::fprintf(stderr, "invariant broken: %s\n", what.c_str());
  std::abort();
}

}  // namespace cairn::fuzz
