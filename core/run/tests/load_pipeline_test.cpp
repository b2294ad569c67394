// load_pipeline(): config -> plugins -> validation -> plan in one call, and
// every problem on the way reported, never thrown, until take().
#include <cascade/core/run.hpp>

#include <gtest/gtest.h>

#include <fstream>
#include <sstream>
#include <unistd.h>

namespace fs = std::filesystem;
using namespace cascade;

namespace {

const fs::path kDag = fs::path(SOURCE_DIR) / "pipelines" / "dag-example.toml";

TEST(LoadPipeline, AGoodConfigGivesAPlanIntoItsRegistry) {
  PipelineLoad load = load_pipeline(kDag, {"run.threads=1"}, {BUILTIN_PLUGIN_DIR});
  ASSERT_TRUE(load.pipeline.has_value());
  EXPECT_TRUE(load.problems.empty());
  const LoadedPipeline p = std::move(load).take();
  EXPECT_EQ(p.config.run.threads, 1u);  // the override applied
  ASSERT_EQ(p.plan.stages.size(), p.config.stages.size());
  for (const auto& s : p.plan.stages) EXPECT_EQ(s.plugin, p.registry->find(s.plugin->info.name)) << s.id;
}

TEST(LoadPipeline, AConfigProblemIsReportedWithItsCodeAndPositionAndTakeThrowsIt) {
  const fs::path file = fs::temp_directory_path() / ("cascade_load_pipeline_" + std::to_string(::getpid()) + ".toml");
  std::ofstream(file) << "[pipeline]\nname = \"x\"\nversion = \"1\"\n[[stages]]\nid = \"a\"\nplugin = \"no_such_plugin\"\n";
  PipelineLoad load = load_pipeline(file, {}, {BUILTIN_PLUGIN_DIR});
  fs::remove(file);
  EXPECT_FALSE(load.pipeline.has_value());
  ASSERT_FALSE(load.problems.empty());
  const Diagnostic first = load.problems.front();
  EXPECT_EQ(first.code, "C010");
  EXPECT_EQ(first.line, 6u);
  std::ostringstream printed;
  load.print(printed);
  EXPECT_NE(printed.str().find(first.format()), std::string::npos) << printed.str();
  try {
    (void)std::move(load).take();
    FAIL() << "take() returned a pipeline that did not load";
  } catch (const CascadeError& e) {
    EXPECT_EQ(e.code(), "C010");
  }
}

TEST(LoadPipeline, AMissingFileAndABadOverrideAreProblemsNotExceptions) {
  EXPECT_FALSE(load_pipeline(fs::temp_directory_path() / "cascade_no_such_pipeline.toml").problems.empty());
  PipelineLoad bad = load_pipeline(kDag, {"run.threads=many"}, {BUILTIN_PLUGIN_DIR});
  EXPECT_FALSE(bad.pipeline.has_value());
  ASSERT_FALSE(bad.problems.empty());
  EXPECT_EQ(bad.problems.front().code, "C004");
}

}  // namespace
