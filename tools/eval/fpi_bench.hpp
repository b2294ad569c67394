// eval/fpi_bench.hpp — `cascade eval fpi-bench`: how fast an isolator
// labels recorded turns, against reading the trace alone.
//
// The shape of the work:
//   1. a large trace: the turns of a real one (e.g. one `cascade eval fpi`
//      wrote) copied again and again under new dialogue ids and turn_seqs
//      until there are `turns` of them (hashed audio is written as that many
//      zero bytes, hashed again: isolators read no audio);
//   2. read it (trace::read_turns), timed: the floor;
//   3. read it again and run the isolator over it with one analyze()
//      thread (AnalyzerHost, jobs = 1), timed: the isolator's share is the
//      difference, and turns per minute per core is turns / the process
//      CPU seconds of that step, times 60. With a pipeline, the isolator
//      may replay through it (`learned` replays the ASR alternatives):
//      the replays' CPU, on the engine's threads, counts too.
//
// Lifecycle: one plain function. Threading: runs on the caller's thread
// (plus the trace writer's and the host's one worker).
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace cascade::language::eval {

struct FpiBenchRequest {
  std::filesystem::path source;  // a real trace
  std::filesystem::path out;     // the large trace (rewritten every run)
  uint64_t turns = 200000;
  std::string isolator = "rules";
  std::map<std::string, std::string> params;  // the isolator's (e.g. learned's model)
  std::filesystem::path pipeline;             // "" : no replays
  std::vector<std::string> overrides;         // --set style, for the pipeline
};

struct FpiBenchResult {
  uint64_t turns = 0;
  uint64_t trace_bytes = 0;
  double read_seconds = 0, read_cpu_seconds = 0;           // read_turns alone
  double isolate_seconds = 0, isolate_cpu_seconds = 0;     // analyze() over the turns (the host's clock; CPU: the process)
  [[nodiscard]] double read_turns_per_minute() const;      // per core: turns / read CPU seconds * 60
  [[nodiscard]] double isolate_turns_per_minute() const;   // per core: turns / isolate CPU seconds * 60
  [[nodiscard]] double ratio() const;                      // isolate CPU / read CPU
};

// Throws TraceError (unreadable source, unwritable out), CascadeError
// (no such isolator, a pipeline that does not load), std::invalid_argument (turns == 0, an empty source).
FpiBenchResult run_fpi_bench(const FpiBenchRequest& request);

nlohmann::json to_json(const FpiBenchResult& result);
std::string format_text(const FpiBenchResult& result, const std::string& isolator);

}  // namespace cascade::language::eval
