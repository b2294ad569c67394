// cascade/core/analysis_file.hpp — the analysis file: what an analyzer said
// of every turn, beside the traces it read. JSON Lines, so jq reads it:
//
//   {"cascade_analysis":1,"analyzer":"oracle","analyzer_version":"1.0.0",
//    "labels":["false_wake","asr","nlu","er","result","correct"],
//    "traces":["out/assistant.cas"],"pipeline":"pipelines/assistant-text.toml",
//    "turns":209,"replays":31,"seconds":2.5}
//   {"trace":"out/assistant.cas","turn_seq":3,"dialogue_id":"d0002","user_id":"u2",
//    "turn_index":1,"label":"nlu","score":1.0,"evidence":{...},"replays":1}
//   {"trace":"...","turn_seq":4,...,"label":null,"error":"turn has no gold"}
//
// The first line is the header; every other line one turn. Version 1 is
// the only version; a reader refuses another (N011). Format reference:
// docs/isolate.md.
// Threading: free functions; no shared state.
#pragma once

#include <cascade/core/analyze.hpp>

#include <cstdint>
#include <filesystem>
#include <iosfwd>
#include <string>
#include <vector>

namespace cascade {

inline constexpr int kAnalysisFormat = 1;

struct AnalysisHeader {
  std::string analyzer;
  std::string analyzer_version;
  std::vector<std::string> labels;
  std::vector<std::string> traces;
  std::string pipeline;  // the replay pipeline, or ""
  uint64_t turns = 0;
  uint64_t replays = 0;
  double seconds = 0;
};

// A verdict and the trace it is about.
struct AnalysisLine {
  std::string trace;
  Verdict verdict;
};

struct AnalysisFile {
  AnalysisHeader header;
  std::vector<AnalysisLine> lines;
};

void write_analysis(std::ostream& out, const AnalysisFile& file);
// Throws CascadeError: N010 unreadable or not an analysis file, N011 another
// format version, N012 a malformed line (file:line).
AnalysisFile read_analysis(const std::filesystem::path& path);

}  // namespace cascade
