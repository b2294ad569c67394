// Shared by the config tests: the REAL built-in plugins, loaded once by the
// real loader from the build tree (libraries are never unloaded, so one
// registry for the whole test process is also what the CLI does).
#pragma once

#include <cascade/core/config.hpp>
#include <cascade/core/loader.hpp>

#include <filesystem>
#include <string>

namespace cascade::config::testing {

inline const std::filesystem::path kSourceDir = CASCADE_SOURCE_DIR;
inline const std::filesystem::path kPluginDir = CASCADE_TEST_PLUGIN_DIR;

inline const PluginRegistry& builtin_plugins() {
  static const PluginRegistry* reg = [] {
    auto* r = new PluginRegistry();
    r->scan({kPluginDir});
    return r;
  }();
  return *reg;
}

// load_config + validate (when the load was complete), as `cascade validate` does.
inline std::vector<Diagnostic> check(const std::filesystem::path& file, const std::vector<std::string>& sets = {},
                                     PipelineConfig* out = nullptr) {
  LoadResult r = load_config(file, sets);
  std::vector<Diagnostic> d = r.diagnostics;
  if (r.complete) {
    auto more = validate(r.config, builtin_plugins());
    d.insert(d.end(), more.begin(), more.end());
  }
  if (out != nullptr) *out = std::move(r.config);
  return d;
}

inline std::string dump(const std::vector<Diagnostic>& ds) {
  std::string s;
  for (const auto& d : ds) s += "  " + d.format() + "\n";
  return s;
}

}  // namespace cascade::config::testing
