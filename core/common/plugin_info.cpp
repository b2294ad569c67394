#include <cascade/abi/cascade_abi.h>
#include <cascade/core/diagnostic.hpp>
#include <cascade/core/plugin_info.hpp>

#include <algorithm>

namespace cascade {
namespace {
template <class V>
auto find_named(const V& v, std::string_view n) -> decltype(&v.front()) {
  auto it = std::find_if(v.begin(), v.end(), [&](const auto& x) { return x.name == n; });
  return it == v.end() ? nullptr : &*it;
}
}  // namespace

const PortInfo* PluginInfo::input(std::string_view n) const { return find_named(inputs, n); }
const PortInfo* PluginInfo::output(std::string_view n) const { return find_named(outputs, n); }
const ParamInfo* PluginInfo::param(std::string_view n) const { return find_named(params, n); }

std::string_view payload_type_name(uint32_t type) {
  switch (type) {
    case CASCADE_PAYLOAD_NONE: return "none";
    case CASCADE_PAYLOAD_TEXT: return "text";
    case CASCADE_PAYLOAD_AUDIO: return "audio";
    case CASCADE_PAYLOAD_JSON: return "json";
    case CASCADE_PAYLOAD_ANY: return "any";
    default: return "unknown";
  }
}
std::string_view param_type_name(uint32_t type) {
  switch (type) {
    case CASCADE_PARAM_BOOL: return "bool";
    case CASCADE_PARAM_INT: return "int";
    case CASCADE_PARAM_DOUBLE: return "double";
    case CASCADE_PARAM_STRING: return "string";
    default: return "unknown";
  }
}
std::string_view kind_name(uint32_t kind) {
  switch (kind) {
    case CASCADE_KIND_STAGE: return "stage";
    case CASCADE_KIND_ANALYZER: return "analyzer";
    case CASCADE_KIND_REWRITER: return "rewriter";
    default: return "unknown";
  }
}
bool payload_types_compatible(uint32_t from, uint32_t to) {
  return from == to || from == CASCADE_PAYLOAD_ANY || to == CASCADE_PAYLOAD_ANY;
}

std::string Diagnostic::format() const {
  std::string s;
  if (!file.empty()) {
    s += file;
    // A command-line override has no line but a useful column: keep both
    // fields whenever the column is known.
    if (line > 0 || column > 0) s += ':' + std::to_string(line);
    if (column > 0) s += ':' + std::to_string(column);
    s += ": ";
  }
  s += "error[" + code + "]: " + message;
  return s;
}

}  // namespace cascade
