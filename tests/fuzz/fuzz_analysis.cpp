// fuzz_analysis.cpp — the analysis-file reader (core/analyze/analysis_file)
// on any bytes: the file `cascade isolate --against` and `cascade ui
// --analysis` read. Refusals are CascadeError N010-N012; what it reads is
// written back out again (the writer must take whatever the reader gave).
#include "fuzz_support.hpp"

#include <cascade/core/analysis_file.hpp>
#include <cascade/core/diagnostic.hpp>

#include <sstream>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace cascade;
  const auto file = fuzz::Scratch::get().write("isolate.analysis", fuzz::as_text(data, size));
  try {
    const AnalysisFile analysis = read_analysis(file);
    std::ostringstream again;
    write_analysis(again, analysis);
  } catch (const CascadeError& e) {
    if (e.code() != "N010" && e.code() != "N011" && e.code() != "N012") __builtin_trap();
  }
  return 0;
}
