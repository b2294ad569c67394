// load_config, the --set overrides: <section>.<key>=<value>,
// stages.<id>.<key>=<value>, stages.<id>.params.<name>=<value> (or the
// shortcut stages.<id>.<name>), stages.<id>.inputs.<port>=<ref> and
// stages.<id>.process.<key>=<value>. Each
// value is parsed as TOML (a plain string when it is not TOML) and applied
// through the same per-key functions as the files, so it is checked alike;
// positions are columns in the argument (file "<command line>").
#include <cascade/core/config.hpp>

#include "load_internal.hpp"
#include "suggest.hpp"

#include <toml++/toml.h>

#include <algorithm>

namespace cascade::config::detail {

void Loader::apply_override(const std::string& arg) {
  auto at = [](size_t column) { return SourcePos{std::string(kCommandLine), 0, static_cast<uint32_t>(column)}; };
  const size_t eq = arg.find('=');
  if (eq == std::string::npos || eq == 0) {
    error("C031", "override '" + arg + "' is not <key>=<value> (e.g. run.threads=1)", at(1));
    return;
  }
  struct Segment {
    std::string text;
    size_t column;  // 1-based, in the argument
  };
  std::vector<Segment> seg;
  for (size_t start = 0;;) {
    const size_t dot = arg.find('.', start);
    const size_t end = std::min(dot, eq);
    seg.push_back({arg.substr(start, end - start), start + 1});
    if (dot == std::string::npos || dot > eq) break;
    start = dot + 1;
  }
  for (const auto& s : seg) {
    if (s.text.empty()) {
      error("C031", "override '" + arg + "' has an empty key", at(s.column));
      return;
    }
  }
  if (eq + 1 == arg.size()) {
    error("C031", "override '" + arg.substr(0, eq) + "' has no value after '='", at(eq + 1));
    return;
  }
  const toml::table doc = parse_override_value(arg, eq);
  const toml::node& v = *doc.get("v");
  const std::string path = arg.substr(0, eq);

  if (const auto* keys = section_keys(seg[0].text)) {
    if (seg.size() != 2) {
      error("C031", "override '" + path + "' must be <section>.<key> (e.g. " + seg[0].text + "." + keys->front() + ")",
            at(seg.size() > 2 ? seg[2].column : seg[0].column));
    } else if (seg[0].text == "pipeline" && seg[1].text == "extends") {
      error("C031", "'pipeline.extends' cannot be overridden: it decides which files are read", at(seg[1].column));
    } else if (!apply_section_key(seg[0].text, seg[1].text, v)) {
      error("C031", "override '" + path + "': unknown key '" + seg[1].text + "' in [" + seg[0].text + "]" +
                        did_you_mean(seg[1].text, *keys),
            at(seg[1].column));
    }
    return;
  }
  if (seg[0].text != "stages") {
    error("C031", "override '" + path + "': unknown section '" + seg[0].text + "'" + did_you_mean(seg[0].text, kTopKeys),
          at(seg[0].column));
    return;
  }
  if (seg.size() < 3) {
    error("C031", "override '" + path + "' must be stages.<id>.<key> or stages.<id>.params.<name>",
          at(seg.back().column));
    return;
  }
  auto it = std::find_if(cfg_.stages.begin(), cfg_.stages.end(), [&](const StageConfig& s) { return s.id == seg[1].text; });
  if (it == cfg_.stages.end()) {
    std::vector<std::string> ids;
    for (const auto& s : cfg_.stages) ids.push_back(s.id);
    error("C031", "override '" + path + "': no stage '" + seg[1].text + "'" + did_you_mean(seg[1].text, ids),
          at(seg[1].column));
    return;
  }
  StageConfig& s = *it;
  const std::string label = "stages." + s.id;
  const std::string& key = seg[2].text;
  if (seg.size() == 3) {
    if (key == "id") {
      error("C031", "override '" + path + "': a stage's id cannot be overridden", at(seg[2].column));
    } else if (key == "inputs" || key == "params" || contains(kStageKeys, key)) {
      apply_stage_key(s, label, key, v);
    } else {
      // Shortcut: stages.<id>.<name> sets a parameter.
      apply_param(s, label, key, at(seg[2].column), v);
    }
    return;
  }
  if (seg.size() == 4 && key == "process") {
    if (!apply_process_key(s, label, seg[3].text, v))
      error("C031", "override '" + path + "': unknown key '" + seg[3].text + "' in [" + label + ".process]" +
                        did_you_mean(seg[3].text, kProcessKeys),
            at(seg[3].column));
    return;
  }
  if (seg.size() == 4 && (key == "params" || key == "inputs")) {
    if (key == "params") {
      apply_param(s, label, seg[3].text, at(seg[3].column), v);
    } else {
      apply_input(s, label, seg[3].text, at(seg[3].column), v);
    }
    return;
  }
  const size_t bad = (key == "params" || key == "inputs" || key == "process") ? 4 : 3;
  error("C031", "override '" + path + "' is too deep: use stages.<id>.<key>, stages.<id>.params.<name> or stages.<id>.inputs.<port>",
        at(seg[bad].column));
}

toml::table Loader::parse_override_value(const std::string& arg, size_t eq) {
  const std::string pad(eq - 1, ' ');
  try {
    toml::table t = toml::parse("v" + pad + "=" + arg.substr(eq + 1), kCommandLine);
    if (t.size() == 1 && t.contains("v")) return t;
  } catch (const toml::parse_error&) {
    // Not TOML: a plain string (trace.path=out.cas, inputs.text=norm.text).
  }
  return toml::parse("v" + pad + "=\"" + toml_escape(arg.substr(eq + 1)) + "\"", kCommandLine);
}

}  // namespace cascade::config::detail
