// assets.hpp — the front end (web/), built into the binary by embed.cmake:
// no files are read at run time and nothing is fetched from a network.
// Threading: immutable static data.
#pragma once

#include <span>
#include <string_view>

namespace cascade::ui {

struct Asset {
  std::string_view name;  // path under web/, e.g. "app.js"
  std::string_view bytes;
};

std::span<const Asset> assets();  // defined in the generated assets.cpp

}  // namespace cascade::ui
