// analysis.hpp — the analysis file of `cascade isolate`: per turn, the
// failure point (a class label), its score and the evidence.
//
// Format (JSON Lines): a header line
//   {"cascade_analysis": 1, "analyzer": "...", "analyzer_version": "...",
//    "traces": ["..."], "classes": ["false_wake","asr",...,"correct"],
//    "pipeline": "..."}                 ("labels" is read as "classes")
// then one line per turn
//   {"trace": "out/a.cas", "turn_seq": 12, "dialogue_id": "d0001",
//    "user_id": "u1", "turn_index": 0, "label": "asr", "score": 0.9,
//    "evidence": {...}}
// "trace" is optional (then the line is about the first trace); a null
// label (the analyzer could not decide) is read as the class "unlabelled".
// A line that cannot be read becomes a Diagnostic (file:line, U002/U003)
// and is skipped; only an unopenable file or a bad header throws (U001).
//
// Lifecycle: load() once before serving; afterwards immutable.
// Threading: const members are safe from any thread.
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

namespace cascade::ui {

namespace codes {
inline constexpr const char* kAnalysisOpen = "U001";    // cannot open, or header is not an analysis header
inline constexpr const char* kAnalysisLine = "U002";    // a turn line is not JSON
inline constexpr const char* kAnalysisField = "U003";   // a turn line lacks a field or has a wrong type
inline constexpr const char* kServe = "U004";           // cannot listen on the address
}  // namespace codes

// "file:line: error[CODE]: message"
struct Diagnostic {
  std::string code;
  std::string file;
  uint64_t line = 0;
  std::string message;
  [[nodiscard]] std::string format() const;
};

// what() is "WHERE: error[CODE]: message" ("error[CODE]: message" without a place).
class UiError : public std::runtime_error {
 public:
  UiError(std::string code, const std::string& where, const std::string& message)
      : std::runtime_error((where.empty() ? std::string() : where + ": ") + "error[" + code + "]: " + message),
        code_(std::move(code)) {}
  [[nodiscard]] const std::string& code() const noexcept { return code_; }

 private:
  std::string code_;
};

struct AnalysisRow {
  uint32_t trace = 0;  // index in Analysis::line_traces()
  uint64_t turn_seq = 0;
  uint16_t label = 0;  // index in Analysis::classes
  float score = 0;
  uint64_t line_offset = 0;  // byte offset of its line (the evidence is read from there)
};

class Analysis {
 public:
  // Throws UiError U001; bad turn lines are collected in diagnostics().
  static Analysis load(const std::filesystem::path& path);

  [[nodiscard]] const std::filesystem::path& path() const noexcept { return path_; }
  [[nodiscard]] const std::string& analyzer() const noexcept { return analyzer_; }
  [[nodiscard]] const std::vector<std::string>& classes() const noexcept { return classes_; }
  [[nodiscard]] const std::vector<std::string>& traces() const noexcept { return traces_; }
  // The distinct "trace" values of the turn lines ("" for lines without one).
  [[nodiscard]] const std::vector<std::string>& line_traces() const noexcept { return line_traces_; }
  [[nodiscard]] const std::string& pipeline() const noexcept { return pipeline_; }
  [[nodiscard]] const std::vector<Diagnostic>& diagnostics() const noexcept { return diagnostics_; }
  [[nodiscard]] size_t size() const noexcept { return rows_.size(); }
  // The row for a turn of line_traces()[trace], or nullptr (binary search).
  [[nodiscard]] const AnalysisRow* find(uint32_t trace, uint64_t turn_seq) const;
  // The whole line of a row, as JSON text (evidence included).
  [[nodiscard]] std::string line(const AnalysisRow& row) const;
  // A class index by name, or nullopt.
  [[nodiscard]] std::optional<uint16_t> class_index(const std::string& name) const;

 private:
  std::filesystem::path path_;
  std::string analyzer_;
  std::vector<std::string> classes_;
  std::vector<std::string> traces_;
  std::vector<std::string> line_traces_;
  std::string pipeline_;
  std::vector<AnalysisRow> rows_;  // sorted by (trace, turn_seq)
  std::vector<Diagnostic> diagnostics_;
};

}  // namespace cascade::ui
