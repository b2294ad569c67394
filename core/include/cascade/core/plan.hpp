// cascade/core/plan.hpp — a validated pipeline, resolved to indices: what
// the engine executes. Built from a PipelineConfig (core/config) by
// make_plan(); tests and the benchmark may build one directly.
// A plan is plain data: copyable, no threads, no loaded instances.
#pragma once

#include <cascade/core/isolation.hpp>
#include <cascade/core/loader.hpp>

#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace cascade {

// Where a stage input comes from.
struct Binding {
  enum class Kind : uint8_t { None, TurnInput, StageOutput };
  Kind kind = Kind::None;
  uint32_t stage = 0;  // StageOutput: index into PipelinePlan::stages
  uint32_t port = 0;   // StageOutput: output port index of that stage
};

enum class ErrorPolicy : uint8_t { Fail, Skip, Fallback };

struct StagePlan {
  std::string id;
  const LoadedPlugin* plugin = nullptr;
  std::map<std::string, std::string> params;  // canonical text values
  std::vector<Binding> inputs;                // one per plugin input port, in port order
  uint32_t timeout_ms = 0;                    // 0: no deadline
  ErrorPolicy on_error = ErrorPolicy::Fail;
  int32_t fallback = -1;       // index of the stage run instead, when on_error = Fallback
  bool standby = false;        // a fallback target: runs only in place of another stage
  uint32_t concurrency = 0;    // cap (0 = the plugin's max_concurrency)
  bool deterministic = false;
  Isolation isolation = Isolation::InProcess;
  ProcessOptions process;      // isolation = Process only
};

struct PipelinePlan {
  std::string name;
  std::string version;
  uint64_t digest = 0;            // of the effective config (trace records carry it)
  std::vector<StagePlan> stages;  // in a topological order
  Binding result;                 // the turn's result (a stage output)
};

}  // namespace cascade
