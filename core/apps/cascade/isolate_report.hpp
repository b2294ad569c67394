// isolate_report.hpp — `cascade isolate --report FILE`: ONE self-contained
// HTML file (inline CSS and SVG drawn here, no script from the network):
// failure points per stage, per noise level and per dialogue position, the
// confusion matrix against the reference, and example turns with their
// evidence. Every string from a trace is HTML-escaped (traces are untrusted).
// Threading: a free function; no shared state.
#pragma once

#include <cascade/core/analysis_file.hpp>
#include <cascade/core/scoring.hpp>

#include <filesystem>
#include <string>
#include <vector>

namespace cascade::trace {
struct TraceData;
}

namespace cascade::cli {

struct ReportInput {
  const AnalysisFile* analysis = nullptr;           // the labels and evidence (lines in trace order)
  const Scores* scores = nullptr;                   // against the reference; nullptr when none
  std::string reference;                            // the reference's name ("oracle"), or ""
  std::vector<std::string> classes;                 // label order
  const std::vector<trace::TraceData>* traces = nullptr;  // analysis->header.traces[i] read back
  // The accuracy of the labels above a score (scoring.hpp); nullptr or
  // empty: no such table.
  const std::vector<CoveragePoint>* coverage = nullptr;
};

// Throws CascadeError N013 when the file cannot be written.
void write_report(const std::filesystem::path& file, const ReportInput& in);

}  // namespace cascade::cli
