// isolate_train_probes.cpp — the gold probes of `cascade isolate train
// --probe` (isolate_train_probes.hpp).
#include "isolate_train_probes.hpp"

#include <cascade/core/baselines.hpp>
#include <cascade/core/diagnostic.hpp>

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cctype>
#include <limits>
#include <optional>

namespace cascade::isolate_train {

namespace {

using nlohmann::json;

constexpr float kMissing = std::numeric_limits<float>::quiet_NaN();

struct Named {
  const char* name;
  Probe probe;
};
constexpr Named kProbes[] = {{"failed", Probe::Failed}, {"transcript", Probe::Transcript}, {"intent", Probe::Intent}};

// Lower-case words of letters, digits and apostrophes: "Tell me, the hour."
// and "tell me the hour" compare equal; "ten" and "10" do not (this is a
// word-for-word comparison, not the oracle's judge).
std::vector<std::string> words(std::string_view s) {
  std::vector<std::string> out(1);
  for (const char ch : s) {
    const auto c = static_cast<unsigned char>(ch);
    if (std::isalnum(c) != 0 || c == '\'') {
      out.back() += static_cast<char>(std::tolower(c));
    } else if (!out.back().empty()) {
      out.emplace_back();
    }
  }
  if (out.back().empty()) out.pop_back();
  return out;
}

// A string at gold[stage][key], or nothing.
std::optional<std::string> gold_string(const trace::Turn& turn, const char* stage, const char* key) {
  if (!turn.record || turn.record->gold_json.empty()) return std::nullopt;
  const json g = json::parse(turn.record->gold_json, nullptr, false);
  if (!g.is_object() || !g.contains(stage) || !g[stage].is_object()) return std::nullopt;
  const json& s = g[stage];
  if (!s.contains(key) || !s[key].is_string()) return std::nullopt;
  return s[key].get<std::string>();
}

float differs(bool d) { return d ? 1.0F : 0.0F; }

}  // namespace

std::vector<Probe> parse_probes(const std::vector<std::string>& names) {
  std::vector<Probe> out;
  for (const auto& n : names) {
    const auto* it = std::find_if(std::begin(kProbes), std::end(kProbes), [&](const Named& p) { return n == p.name; });
    if (it == std::end(kProbes))
      throw CascadeError("N022", "--probe wants failed, transcript or intent, got '" + n + "'");
    if (std::find(out.begin(), out.end(), it->probe) != out.end())
      throw CascadeError("N022", "--probe " + n + " is given twice");
    out.push_back(it->probe);
  }
  return out;
}

std::string probe_column(Probe p) {
  for (const auto& n : kProbes)
    if (n.probe == p) return std::string("probe_") + n.name;
  return "probe_unknown";
}

float probe_value(Probe p, const trace::Turn& turn, int label) {
  switch (p) {
    case Probe::Failed: {
      if (label < 0) return kMissing;
      return differs(failure_classes().at(static_cast<size_t>(label)) != "correct");
    }
    case Probe::Transcript: {
      // What the NLU read (after the wake word was stripped), not the raw
      // hypothesis: the reference has no wake word either.
      const trace::StageRecord* nlu = turn.stage("nlu");
      const trace::Payload* read = nlu != nullptr ? nlu->input("text") : nullptr;
      const auto reference = gold_string(turn, "asr", "text");
      if (read == nullptr || !reference) return kMissing;
      return differs(words(read->text()) != words(*reference));
    }
    case Probe::Intent: {
      const trace::StageRecord* nlu = turn.stage("nlu");
      const trace::Payload* out = nlu != nullptr ? nlu->output("nlu") : nullptr;
      const auto gold = gold_string(turn, "nlu", "intent");
      if (out == nullptr || !gold) return kMissing;
      const json j = json::parse(out->text(), nullptr, false);
      if (!j.is_object() || !j.contains("intent") || !j["intent"].is_string()) return kMissing;
      return differs(j["intent"].get<std::string>() != *gold);
    }
  }
  return kMissing;
}

}  // namespace cascade::isolate_train
