// cascade/core/loader.hpp — finds, checks and loads plugin libraries.
//
// Load sequence for one file (every refusal is a CascadeError with an L0xx
// code naming the file, the reason and, for version checks, both versions):
//   1. the file exists and is an ELF shared object       (L001, L002)
//   2. pre-flight: the loader reads the file's dynamic symbol table
//      (.dynsym, what dlsym() searches) itself for the versioned entry
//      symbol; a file exporting another major's entry is refused WITHOUT
//      running any of its code                            (L003, L004)
//      (not boost::dll::library_info: see entry_symbols() in loader.cpp)
//   3. dlopen with RTLD_NOW: a missing symbol fails here, catchably (L005)
//   4. call the entry; check the descriptor: non-null, struct_size covers
//      the ABI 1.0 fields, major == host, minor <= host, required fields
//      present, port/param arrays well formed              (L006..L010)
//   5. duplicate plugin name across files                  (L011)
// Libraries are never unloaded (see docs: objects from a plugin outlive
// any unload point); a refused library stays mapped only if step 3 ran.
//
// Lifecycle: construct with search directories; scan() or load(); the
//   registry then owns every loaded plugin for the process' life.
// Threading: not thread-safe while loading; find()/all() are safe to call
//   concurrently once loading is done.
#pragma once

#include <cascade/abi/cascade_abi.h>
#include <cascade/core/diagnostic.hpp>
#include <cascade/core/plugin_info.hpp>

#include <filesystem>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace cascade {

// A plugin that passed every check. Stable address for the process' life.
struct LoadedPlugin {
  PluginInfo info;
  const cascade_plugin_descriptor* descriptor = nullptr;  // lives in the library
};

// Read-only view that config validation and the scheduler need.
class PluginCatalog {
 public:
  virtual ~PluginCatalog() = default;
  // nullptr if no plugin of that name was loaded.
  [[nodiscard]] virtual const LoadedPlugin* find(std::string_view name) const = 0;
  // Directories searched, in order (for "unknown plugin" messages).
  [[nodiscard]] virtual std::vector<std::filesystem::path> searched() const = 0;
};

class PluginRegistry final : public PluginCatalog {
 public:
  // The search path, in order: `configured` dirs, then each entry of
  // $CASCADE_PLUGIN_PATH (':'-separated), then the built-in directory
  // (<exe dir>/../lib/cascade/plugins).
  static std::vector<std::filesystem::path> search_path(const std::vector<std::filesystem::path>& configured);
  static std::filesystem::path builtin_dir();

  PluginRegistry();
  ~PluginRegistry() override;
  PluginRegistry(const PluginRegistry&) = delete;
  PluginRegistry& operator=(const PluginRegistry&) = delete;

  // Loads one file; throws CascadeError (L0xx) on refusal.
  const LoadedPlugin& load(const std::filesystem::path& file);
  // Loads every *.so in `dirs` (non-recursive). Files that do not export a
  // cascade entry of any version are ignored silently; every other refusal
  // is returned (the process and the other plugins carry on).
  std::vector<Diagnostic> scan(const std::vector<std::filesystem::path>& dirs);

  [[nodiscard]] const LoadedPlugin* find(std::string_view name) const override;
  [[nodiscard]] std::vector<std::filesystem::path> searched() const override;
  [[nodiscard]] std::vector<const LoadedPlugin*> all() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace cascade
