// fuzz_config.cpp — the pipeline config loader (core/config) on any bytes.
//
// The input is a pipeline TOML file. It is loaded (syntax, `extends`, keys,
// types, ranges), then, as `cascade validate` would, validated against a
// catalog with no plugins (every stage is then an unknown plugin, but the
// graph checks still run), and exported to DOT and canonical JSON.
// load_config must never throw: every problem is a diagnostic.
#include "fuzz_support.hpp"

#include <cascade/core/config.hpp>
#include <cascade/core/loader.hpp>

namespace {

// A catalog with no plugin in it: what `cascade validate` sees on an empty
// search path.
class EmptyCatalog final : public cascade::PluginCatalog {
 public:
  [[nodiscard]] const cascade::LoadedPlugin* find(std::string_view) const override { return nullptr; }
  [[nodiscard]] std::vector<std::filesystem::path> searched() const override { return {}; }
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace cascade;
  const auto file = fuzz::Scratch::get().write("pipeline.toml", fuzz::as_text(data, size));
  const config::LoadResult loaded = config::load_config(file);
  for (const auto& d : loaded.diagnostics)
    if (d.code.empty()) __builtin_trap();  // a diagnostic without a code breaks the contract
  if (!loaded.complete) return 0;
  const EmptyCatalog catalog;
  (void)config::validate(loaded.config, catalog);
  (void)config::result_output(loaded.config, catalog);
  (void)config::to_dot(loaded.config);
  (void)config::canonical_json(loaded.config);
  return 0;
}
