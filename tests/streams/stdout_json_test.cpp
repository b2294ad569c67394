// Every `cascade` command that promises machine-readable output leaves
// stdout to that output alone: `cascade ... | jq` must work. Each test runs
// the real binary (built-in plugins, the reference assistant's data),
// keeps stderr apart, and parses stdout with a JSON parser: one document,
// or one per line for JSONL. Log lines (the engine's, and the plugins'
// through the host's log callback) must arrive on stderr instead.
//
// Lifecycle: SetUpTestSuite records two traces of the small text pipeline
// in a temporary directory, which the trace, diff, replay and eval tests
// read; TearDownTestSuite removes it. Threading: one test at a time.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <sys/wait.h>
#include <unistd.h>

namespace fs = std::filesystem;
using nlohmann::json;

namespace {

struct Output {
  int exit_code = -1;
  std::string out;  // stdout
  std::string err;  // stderr
};

std::string quote(const std::string& s) { return "'" + s + "'"; }

fs::path g_dir;  // the suite's temporary directory

// Runs `args` with the cascade binary; stdout and stderr captured apart.
Output cascade(const std::string& args) {
  const fs::path err_file = g_dir / "stderr.txt";
  const std::string cmd = quote(CASCADE_EXE) + " " + args + " 2>" + quote(err_file.string());
  Output o;
  FILE* p = ::popen(cmd.c_str(), "r");
  if (p == nullptr) return o;
  char buf[65536];
  while (size_t n = std::fread(buf, 1, sizeof buf, p)) o.out.append(buf, n);
  const int status = ::pclose(p);
  o.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  std::ifstream in(err_file);
  std::stringstream ss;
  ss << in.rdbuf();
  o.err = ss.str();
  return o;
}

// Fails the test (with the offending text) unless `out` is one JSON document.
json one_document(const Output& o) {
  try {
    return json::parse(o.out);
  } catch (const json::exception& e) {
    ADD_FAILURE() << "stdout is not one JSON document (" << e.what() << "):\n"
                  << o.out.substr(0, 2000) << "\nstderr:\n"
                  << o.err.substr(0, 2000);
    return {};
  }
}

// Fails the test unless every line of `out` is a JSON object; returns them.
std::vector<json> json_lines(const Output& o) {
  std::vector<json> lines;
  std::istringstream in(o.out);
  std::string line;
  int n = 0;
  while (std::getline(in, line)) {
    ++n;
    try {
      lines.push_back(json::parse(line));
      EXPECT_TRUE(lines.back().is_object()) << "stdout line " << n << ": " << line;
    } catch (const json::exception& e) {
      ADD_FAILURE() << "stdout line " << n << " is not JSON (" << e.what() << "): " << line.substr(0, 500);
    }
  }
  return lines;
}

const std::string kTextPipeline = std::string(SOURCE_DIR) + "/pipelines/assistant-text.toml";
const std::string kSpeechPipeline = std::string(SOURCE_DIR) + "/pipelines/assistant.toml";
const std::string kTurns = std::string(DATA_DIR) + "/eval_dialogues_small.jsonl";

size_t count_lines(const std::string& file) {
  std::ifstream in(file);
  size_t n = 0;
  for (std::string l; std::getline(in, l);) n += l.empty() ? 0 : 1;
  return n;
}

class Stdout : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    g_dir = fs::temp_directory_path() / ("cascade_stdout_" + std::to_string(::getpid()));
    fs::create_directories(g_dir);
    for (const char* name : {"a.cas", "b.cas"}) {
      const Output o = cascade("run " + quote(kTextPipeline) + " -i " + quote(kTurns) + " -o " +
                               quote((g_dir / (std::string(name) + ".jsonl")).string()) + " --trace " +
                               quote((g_dir / name).string()) + " --quiet");
      ASSERT_EQ(o.exit_code, 0) << o.err;
    }
  }
  static void TearDownTestSuite() {
    std::error_code ec;
    fs::remove_all(g_dir, ec);
  }
  static std::string trace(const char* name) { return quote((g_dir / name).string()); }
};

// The first case: without -o the result lines go to stdout, and
// the nlu and er plugins' "models: ..." lines went there too.
TEST_F(Stdout, RunWithoutOutputFileIsResultLinesOnly) {
  const Output o = cascade("run " + quote(kTextPipeline) + " -i " + quote(kTurns) + " --no-trace");
  ASSERT_EQ(o.exit_code, 0) << o.err;
  EXPECT_EQ(json_lines(o).size(), count_lines(kTurns));
  // The plugins' log lines are not lost: they are on stderr.
  EXPECT_NE(o.err.find("[nlu] models: "), std::string::npos) << o.err;
  EXPECT_NE(o.err.find("turns ("), std::string::npos) << "the summary line belongs on stderr:\n" << o.err;
}

TEST_F(Stdout, ReplayWithoutResultsFileIsResultLinesOnly) {
  const Output o = cascade("replay " + trace("a.cas") + " -p " + quote(kTextPipeline) + " --from nlu -o " +
                           trace("replayed.cas"));
  ASSERT_EQ(o.exit_code, 0) << o.err;
  EXPECT_EQ(json_lines(o).size(), count_lines(kTurns));
}

TEST_F(Stdout, PluginsJson) {
  const Output o = cascade("plugins --json");
  const json j = one_document(o);
  EXPECT_FALSE(j.empty()) << o.out;
}

TEST_F(Stdout, InspectJson) {
  const Output o = cascade("inspect nlu --json");
  ASSERT_EQ(o.exit_code, 0) << o.err;
  EXPECT_TRUE(one_document(o).is_object());
}

TEST_F(Stdout, ValidateJson) {
  const Output o = cascade("validate " + quote(kTextPipeline) + " --json");
  ASSERT_EQ(o.exit_code, 0) << o.err;
  one_document(o);
}

TEST_F(Stdout, DiffJson) {
  const Output o = cascade("diff " + trace("a.cas") + " " + trace("b.cas") + " --json");
  ASSERT_EQ(o.exit_code, 0) << o.err;
  EXPECT_TRUE(one_document(o).is_object());
}

TEST_F(Stdout, TraceCatIsJsonLines) {
  for (const char* by : {"stage", "turn"}) {
    const Output o = cascade("trace cat " + trace("a.cas") + " --by " + by);
    ASSERT_EQ(o.exit_code, 0) << o.err;
    EXPECT_FALSE(json_lines(o).empty()) << by;
  }
}

TEST_F(Stdout, TraceExportPerfettoAndOtlp) {
  for (const char* format : {"perfetto", "otlp"}) {
    const Output o = cascade("trace export " + trace("a.cas") + " --format " + format);
    ASSERT_EQ(o.exit_code, 0) << o.err;
    EXPECT_TRUE(one_document(o).is_object()) << format;
  }
}

TEST_F(Stdout, TraceStatsAndVerifyJson) {
  for (const char* cmd : {"stats", "verify"}) {
    const Output o = cascade(std::string("trace ") + cmd + " " + trace("a.cas") + " --json");
    ASSERT_EQ(o.exit_code, 0) << o.err;
    EXPECT_TRUE(one_document(o).is_object()) << cmd;
  }
}

TEST_F(Stdout, EvalReportJson) {
  const Output o = cascade("eval report " + trace("a.cas") + " --json");
  ASSERT_EQ(o.exit_code, 0) << o.err;
  EXPECT_TRUE(one_document(o).is_object());
}

// `eval stages` runs the engine in-process once per noise level: the
// speech pipeline (it has the stage whose snr_db is set; its asr and wake
// plugins log their models at open) on three turns, clean only.
TEST_F(Stdout, EvalStagesJson) {
  const fs::path few = g_dir / "few.jsonl";
  {
    std::ifstream in(kTurns);
    std::ofstream out(few);
    std::string line;
    for (int i = 0; i < 3 && std::getline(in, line); ++i) out << line << "\n";
  }
  const Output o = cascade("eval stages --pipeline " + quote(kSpeechPipeline) + " --input " + quote(few.string()) +
                           " --snr inf --out " + quote((g_dir / "eval").string()) + " --json");
  ASSERT_EQ(o.exit_code, 0) << o.err;
  const json j = one_document(o);
  ASSERT_TRUE(j.contains("levels")) << o.out;
  EXPECT_EQ(j["levels"].size(), 1u);
  EXPECT_NE(o.err.find("[asr] models: "), std::string::npos) << o.err;
}

}  // namespace
