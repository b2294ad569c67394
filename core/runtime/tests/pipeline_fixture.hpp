// Test support for the engine's tests: a pipeline written as TOML, loaded
// the way `cascade run` loads it (config, catalog from real .so files,
// validation, plan), and a traced run of turns through it.
//
// Lifecycle: a PipelineFixture (a LoadedPipeline) owns the registry its plan points into;
// keep it alive while the plan is used. Threading: none of its own.
// Needs FIXTURE_PLUGIN_DIR and BUILTIN_PLUGIN_DIR defined by the test.
#pragma once

#include <cascade/core/run.hpp>
#include <cascade/trace/reader.hpp>
#include <cascade/trace/writer.hpp>

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <memory>
#include <string>
#include <unistd.h>
#include <vector>

namespace cascade::test_support {

using PipelineFixture = LoadedPipeline;

// Writes `toml` to a scratch file and loads it with the fixture plugins
// and the built-in ones; every problem is a test failure.
inline PipelineFixture load_pipeline(const std::string& toml) {
  static int n = 0;
  const std::filesystem::path file =
      std::filesystem::temp_directory_path() /
      ("cascade_pipeline_fixture_" + std::to_string(::getpid()) + "_" + std::to_string(n++) + ".toml");
  std::ofstream(file) << toml;
  PipelineLoad load = cascade::load_pipeline(file, {}, {FIXTURE_PLUGIN_DIR, BUILTIN_PLUGIN_DIR});
  std::filesystem::remove(file);
  for (const auto& d : load.problems) ADD_FAILURE() << d.format();
  return std::move(load).take();
}

// What a traced run gave: the outcomes, and what the trace holds (read
// after the engine is gone, abandoned calls included).
struct Traced {
  std::vector<TurnOutcome> out;
  trace::TraceData data;
};
inline Traced run_traced(const PipelinePlan& plan, const std::vector<TurnInput>& in, uint32_t threads,
                         uint32_t micro_batch = 1) {
  static int n = 0;
  const std::filesystem::path tp =
      std::filesystem::temp_directory_path() /
      ("cascade_pipeline_trace_" + std::to_string(::getpid()) + "_" + std::to_string(n++) + ".cas");
  Traced r;
  {
    trace::Writer w({.path = tp});
    {
      Engine e(plan, {.threads = threads, .trace = &w, .micro_batch = micro_batch});
      r.out.resize(in.size());
      e.run_batch(in, r.out);
    }
    w.close();
  }
  r.data = trace::read_turns(tp);
  std::filesystem::remove(tp);
  return r;
}

}  // namespace cascade::test_support
