// cascade/core/plugin_info.hpp — a plugin's descriptor, copied out of the
// C ABI into owned C++ values (validated by the loader). Cheap to include:
// no Boost, no TBB.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

namespace cascade {

struct PortInfo {
  std::string name;
  uint32_t type = 0;  // cascade_payload_type
  bool optional = false;
  std::string doc;
};

struct ParamInfo {
  std::string name;
  uint32_t type = 0;  // cascade_param_type
  std::string default_value;
  std::string doc;
};

struct PluginInfo {
  std::string name;
  std::string version;
  std::string license;
  std::string description;
  uint32_t kind = 0;   // cascade_plugin_kind
  uint32_t flags = 0;  // cascade_plugin_flags
  uint32_t max_concurrency = 0;
  uint16_t abi_major = 0;
  uint16_t abi_minor = 0;
  bool batch = false;  // offers process_batch (ABI 1.2): many turns in one call
  std::filesystem::path path;
  std::vector<PortInfo> inputs;
  std::vector<PortInfo> outputs;
  std::vector<ParamInfo> params;
  // Analyzers (ABI 1.3): the labels analyze() gives, cascade_analyzer_flags.
  std::vector<std::string> labels;
  uint32_t analyzer_flags = 0;

  [[nodiscard]] const PortInfo* input(std::string_view n) const;
  [[nodiscard]] const PortInfo* output(std::string_view n) const;
  [[nodiscard]] const ParamInfo* param(std::string_view n) const;
  [[nodiscard]] bool deterministic() const { return (flags & 1u) != 0; }
};

// "text", "audio", "json", "any", "none".
std::string_view payload_type_name(uint32_t type);
// "bool", "int", "double", "string".
std::string_view param_type_name(uint32_t type);
// "stage", "analyzer", "rewriter".
std::string_view kind_name(uint32_t kind);
// True when an output of type `from` may feed an input of type `to`.
bool payload_types_compatible(uint32_t from, uint32_t to);

}  // namespace cascade
