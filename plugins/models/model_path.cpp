#include "model_path.hpp"

#include <dlfcn.h>

#include <filesystem>
#include <system_error>

#ifndef CASCADE_MODELS_FROM_PLUGIN
#error "CASCADE_MODELS_FROM_PLUGIN (plugin dir -> installed models dir) must be defined by the build"
#endif
#ifndef CASCADE_MODELS_BUILD_DIR
#error "CASCADE_MODELS_BUILD_DIR must be defined by the build"
#endif

namespace cascade::plugins {
namespace fs = std::filesystem;

std::string resolve_model_path(std::string_view value, const std::string& plugin_dir, std::string_view installed_rel,
                               std::string_view build_dir) {
  if (!value.starts_with(kModelsPrefix)) return std::string(value);
  const fs::path rel(value.substr(kModelsPrefix.size()));
  fs::path installed;
  if (!plugin_dir.empty()) {
    installed = (fs::path(plugin_dir) / installed_rel / rel).lexically_normal();
    std::error_code ec;
    if (fs::exists(installed, ec)) return installed.string();
  }
  const fs::path built = fs::path(build_dir) / rel;
  std::error_code ec;
  if (fs::exists(built, ec) || installed.empty()) return built.string();
  return installed.string();
}

std::string resolve_model_path(std::string_view value) {
  std::string dir;
  Dl_info info{};
  // The address of this very function lies in the plugin's .so (the
  // library is linked statically into each plugin).
  const auto self = static_cast<std::string (*)(std::string_view)>(&resolve_model_path);
  if (::dladdr(reinterpret_cast<const void*>(self), &info) != 0 && info.dli_fname != nullptr)
    dir = fs::path(info.dli_fname).parent_path().string();
  return resolve_model_path(value, dir, CASCADE_MODELS_FROM_PLUGIN, CASCADE_MODELS_BUILD_DIR);
}

}  // namespace cascade::plugins
