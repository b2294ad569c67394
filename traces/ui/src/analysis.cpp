// analysis.cpp — reading an analysis file line by line with nlohmann-json.
#include "analysis.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <fstream>

namespace cascade::ui {

std::string Diagnostic::format() const {
  return file + ":" + std::to_string(line) + ": error[" + code + "]: " + message;
}

Analysis Analysis::load(const std::filesystem::path& path) {
  Analysis a;
  a.path_ = path;
  std::ifstream in(path, std::ios::binary);
  if (!in) throw UiError(codes::kAnalysisOpen, path.string(), "cannot open analysis file");
  std::string text;
  uint64_t line_no = 0;
  uint64_t offset = 0;
  auto bad = [&](const char* code, std::string message) {
    a.diagnostics_.push_back(Diagnostic{code, path.string(), line_no, std::move(message)});
  };
  while (std::getline(in, text)) {
    ++line_no;
    const uint64_t at = offset;
    offset += text.size() + 1;
    if (text.empty() || text.find_first_not_of(" \t\r") == std::string::npos) continue;
    auto j = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
    if (line_no == 1) {
      if (j.is_discarded() || !j.is_object() || !j.contains("cascade_analysis"))
        throw UiError(codes::kAnalysisOpen, path.string() + ":1",
                      "not an analysis file (the first line must hold \"cascade_analysis\")");
      const auto classes = j.contains("classes") ? j["classes"] : j.value("labels", nlohmann::json::array());
      if (!classes.is_array()) throw UiError(codes::kAnalysisOpen, path.string() + ":1", "\"classes\" is not a list");
      for (const auto& c : classes)
        if (c.is_string()) a.classes_.push_back(c.get<std::string>());
      const auto traces = j.value("traces", nlohmann::json::array());
      if (traces.is_array())
        for (const auto& t : traces)
          if (t.is_string()) a.traces_.push_back(t.get<std::string>());
      if (j.contains("analyzer") && j["analyzer"].is_string()) a.analyzer_ = j["analyzer"].get<std::string>();
      if (j.contains("pipeline") && j["pipeline"].is_string()) a.pipeline_ = j["pipeline"].get<std::string>();
      continue;
    }
    if (j.is_discarded() || !j.is_object()) {
      bad(codes::kAnalysisLine, "not a JSON object; line skipped");
      continue;
    }
    if (!j.contains("turn_seq") || !j["turn_seq"].is_number_unsigned()) {
      bad(codes::kAnalysisField, "\"turn_seq\" missing or not a non-negative integer; line skipped");
      continue;
    }
    if (!j.contains("label") || !(j["label"].is_string() || j["label"].is_null())) {
      bad(codes::kAnalysisField, "\"label\" missing or not a string; line skipped");
      continue;
    }
    const auto label = j["label"].is_null() ? std::string("unlabelled") : j["label"].get<std::string>();
    const auto trace = j.contains("trace") && j["trace"].is_string() ? j["trace"].get<std::string>() : std::string();
    auto known = std::find(a.line_traces_.begin(), a.line_traces_.end(), trace);
    if (known == a.line_traces_.end()) known = a.line_traces_.insert(a.line_traces_.end(), trace);
    auto index = a.class_index(label);
    if (!index) {  // a label the header did not list: keep it, as a class of its own
      a.classes_.push_back(label);
      index = static_cast<uint16_t>(a.classes_.size() - 1);
    }
    AnalysisRow row;
    row.trace = static_cast<uint32_t>(known - a.line_traces_.begin());
    row.turn_seq = j["turn_seq"].get<uint64_t>();
    row.label = *index;
    row.score = j.contains("score") && j["score"].is_number() ? j["score"].get<float>() : 0.0F;
    row.line_offset = at;
    a.rows_.push_back(row);
  }
  if (line_no == 0) throw UiError(codes::kAnalysisOpen, path.string(), "empty analysis file");
  std::stable_sort(a.rows_.begin(), a.rows_.end(), [](const AnalysisRow& x, const AnalysisRow& y) {
    return x.trace != y.trace ? x.trace < y.trace : x.turn_seq < y.turn_seq;
  });
  return a;
}

const AnalysisRow* Analysis::find(uint32_t trace, uint64_t turn_seq) const {
  auto it = std::lower_bound(rows_.begin(), rows_.end(), std::pair{trace, turn_seq},
                             [](const AnalysisRow& r, std::pair<uint32_t, uint64_t> k) {
                               return r.trace != k.first ? r.trace < k.first : r.turn_seq < k.second;
                             });
  return it != rows_.end() && it->trace == trace && it->turn_seq == turn_seq ? &*it : nullptr;
}

std::string Analysis::line(const AnalysisRow& row) const {
  std::ifstream in(path_, std::ios::binary);
  in.seekg(static_cast<std::streamoff>(row.line_offset));
  std::string text;
  std::getline(in, text);
  return text;
}

std::optional<uint16_t> Analysis::class_index(const std::string& name) const {
  for (size_t i = 0; i < classes_.size(); ++i)
    if (classes_[i] == name) return static_cast<uint16_t>(i);
  return std::nullopt;
}

}  // namespace cascade::ui
