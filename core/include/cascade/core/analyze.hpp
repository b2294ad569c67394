// cascade/core/analyze.hpp — running an ANALYZER plugin over recorded turns.
//
// The host side of cascade_analyzer.h: the host reads the traces (the
// traces library), hands the analyzer each turn as plain C views (with its
// dialogue when the analyzer asks), offers counterfactual replays through
// a pipeline, and collects one Verdict per turn: a label, a score and the
// evidence as a JSON object. `cascade isolate` is built on it.
//
//   auto data = trace::read_turns("run.cas");
//   AnalyzerHost host(*registry.find("oracle"), {.replay_plan = &plan});
//   AnalysisResult r = host.run(data);
//
// Lifecycle: the constructor creates and opens one analyzer instance (throws
//   CascadeError N001-N003); run() any number of times; the destructor closes
//   and destroys it. A replay pipeline's plugins are opened lazily, at the
//   first replay, and closed with the host.
// Threading: run() is called by one thread at a time. Inside, `jobs` threads
//   call analyze() (bounded by the plugin's max_concurrency); replays from
//   all of them are gathered into batches that one engine runs in parallel.
//   The TraceData must outlive run(): the views point into it.
#pragma once

#include <cascade/core/loader.hpp>
#include <cascade/core/plan.hpp>

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

namespace cascade {
namespace trace {
struct TraceData;
}

// What an analyzer said of one turn.
struct Verdict {
  std::string dialogue_id;
  std::string user_id;
  uint32_t turn_index = 0;
  uint64_t turn_seq = 0;
  bool analyzed = false;  // false: analyze() failed (error) or gave no label
  std::string label;
  double score = 0;
  std::string evidence = "{}";  // a JSON object: key -> the value the analyzer gave
  std::string error;            // why the turn was not analyzed
  uint32_t replays = 0;         // replays this turn's analysis ran
};

struct AnalysisOptions {
  std::map<std::string, std::string> params;  // the analyzer's parameters, as text
  uint32_t jobs = 0;                          // analyze() threads; 0: 2, or 64 for an analyzer that replays
  const PipelinePlan* replay_plan = nullptr;  // replay() runs turns through it (not owned)
  uint32_t replay_threads = 0;                // the replay engine's workers; 0: the hardware's
  uint32_t replay_batch = 64;                 // replays run together, at most
  // Called now and then from run()'s thread: turns done, turns in all.
  std::function<void(uint64_t, uint64_t)> progress;
};

struct AnalysisResult {
  std::vector<Verdict> verdicts;  // one per recorded turn, in turn_seq order
  uint64_t skipped = 0;           // turns without a turn record (cut off): not analyzed
  uint64_t replays = 0;
  uint64_t replay_batches = 0;
  double seconds = 0;
};

class AnalyzerHost {
 public:
  AnalyzerHost(const LoadedPlugin& plugin, AnalysisOptions options);
  ~AnalyzerHost();
  AnalyzerHost(const AnalyzerHost&) = delete;
  AnalyzerHost& operator=(const AnalyzerHost&) = delete;

  AnalysisResult run(const trace::TraceData& data);
  [[nodiscard]] const PluginInfo& info() const;

  struct Impl;

 private:
  std::unique_ptr<Impl> impl_;
};

}  // namespace cascade
