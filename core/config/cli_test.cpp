// `cascade validate` / `cascade graph` as registered on a CLI11 app, run
// against the real built-in plugins.
#include "test_support.hpp"

#include <CLI/CLI.hpp>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <regex>

namespace cascade::config {
namespace {

using testing::kPluginDir;
using testing::kSourceDir;

struct CliRun {
  int exit_code = -1;
  std::string out, err;
};

CliRun run_cli(std::vector<std::string> args) {
  CLI::App app{"cascade (test)"};
  app.require_subcommand(1);
  CliRun r;
  register_commands(app, r.exit_code, [](const PipelineConfig& cfg) {
    auto reg = std::make_unique<PluginRegistry>();
    std::vector<std::filesystem::path> dirs = cfg.plugin_paths;
    dirs.push_back(kPluginDir);
    reg->scan(dirs);
    return std::unique_ptr<PluginCatalog>(std::move(reg));
  });
  args.insert(args.begin(), "cascade");
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  ::testing::internal::CaptureStdout();
  ::testing::internal::CaptureStderr();
  app.parse(static_cast<int>(argv.size()), argv.data());
  r.out = ::testing::internal::GetCapturedStdout();
  r.err = ::testing::internal::GetCapturedStderr();
  return r;
}

TEST(ValidateCommand, GoodConfigSaysOkWithStageAndEdgeCounts) {
  const std::string file = (kSourceDir / "pipelines/dag-example.toml").string();
  const CliRun r = run_cli({"validate", file});
  EXPECT_EQ(r.exit_code, 0) << r.out;
  EXPECT_EQ(r.out, file + ": ok (5 stages, 6 edges)\n");
}

TEST(ValidateCommand, PrintsOneLinePerProblemAndExits2) {
  const std::string file = (kSourceDir / "tests/config/many-errors.toml").string();
  const CliRun r = run_cli({"validate", file});
  EXPECT_EQ(r.exit_code, 2);
  const std::regex line(R"(^.+:\d+:\d+: error\[C0\d\d\]: .+$)");
  size_t n = 0;
  std::istringstream in(r.out);
  for (std::string l; std::getline(in, l); ++n) EXPECT_TRUE(std::regex_match(l, line)) << l;
  EXPECT_EQ(n, 11u) << r.out;
}

TEST(ValidateCommand, JsonIsAnArrayOfCodeMessageFileLineColumn) {
  const std::string file = (kSourceDir / "tests/config/bad/c012_param_type.toml").string();
  const CliRun r = run_cli({"validate", "--json", file});
  EXPECT_EQ(r.exit_code, 2);
  const auto j = nlohmann::json::parse(r.out);
  ASSERT_TRUE(j.is_array());
  ASSERT_EQ(j.size(), 1u);
  const auto& d = j[0];
  ASSERT_EQ(d.size(), 5u) << d.dump();
  EXPECT_EQ(d.at("code"), "C012");
  EXPECT_TRUE(d.at("message").is_string());
  EXPECT_EQ(d.at("file"), file);
  EXPECT_EQ(d.at("line"), 9);
  EXPECT_EQ(d.at("column"), 24);
}

TEST(ValidateCommand, JsonForAGoodConfigIsAnEmptyArray) {
  const CliRun r = run_cli({"validate", "--json", (kSourceDir / "pipelines/text-minimal.toml").string()});
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_EQ(nlohmann::json::parse(r.out), nlohmann::json::array());
}

TEST(ValidateCommand, RepeatedSetOptionsApplyAndDoNotSwallowTheFile) {
  const std::string file = (kSourceDir / "pipelines/text-minimal.toml").string();
  const CliRun ok = run_cli({"validate", "--set", "run.threads=2", "--set", "stages.norm.lowercase=false", file});
  EXPECT_EQ(ok.exit_code, 0) << ok.out << ok.err;
  const CliRun bad = run_cli({"validate", "--set", "run.threads=2", "--set", "stages.norm.lowercase=7", file});
  EXPECT_EQ(bad.exit_code, 2);
  EXPECT_EQ(bad.out.rfind("<command line>:0:23: error[C012]", 0), 0u) << bad.out;
}

TEST(ValidateCommand, SyntaxErrorSkipsThePluginChecks) {
  const CliRun r = run_cli({"validate", (kSourceDir / "tests/config/bad/c001_toml_syntax.toml").string()});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.out.find("error[C001]"), std::string::npos) << r.out;
  EXPECT_EQ(std::count(r.out.begin(), r.out.end(), '\n'), 1) << r.out;
}

TEST(GraphCommand, PrintsDot) {
  const CliRun r = run_cli({"graph", (kSourceDir / "pipelines/text-minimal.toml").string()});
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_EQ(r.out.rfind("digraph \"text-minimal\"", 0), 0u) << r.out;
  EXPECT_NE(r.out.find("\"norm\" -> \"out\" [label=\"text -> in\"]"), std::string::npos) << r.out;
}

TEST(GraphCommand, LoadErrorsGoToStderrWithExit2) {
  const CliRun r = run_cli({"graph", (kSourceDir / "tests/config/bad/c004_wrong_type.toml").string()});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_TRUE(r.out.empty()) << r.out;
  EXPECT_NE(r.err.find("error[C004]"), std::string::npos) << r.err;
}

TEST(GraphCommand, AConfigValidateRejectsGetsTheSameDiagnosticsAndExit2) {
  for (const char* bad : {"tests/config/bad/c012_param_type.toml", "tests/config/many-errors.toml"}) {
    const std::string file = (kSourceDir / bad).string();
    const CliRun v = run_cli({"validate", file});
    const CliRun g = run_cli({"graph", file});
    EXPECT_EQ(g.exit_code, 2) << bad;
    EXPECT_TRUE(g.out.empty()) << g.out;
    EXPECT_EQ(g.err, v.out) << bad;
  }
}

}  // namespace
}  // namespace cascade::config
