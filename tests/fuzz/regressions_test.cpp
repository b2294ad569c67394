// What each input fuzzing found must get now (docs/robustness.md, "What
// fuzzing found"). The fuzz tests replay these inputs and only see a crash;
// this pins the coded answer, so a fix that merely stops the crash (or
// reads garbage, as an out-of-range float-to-integer conversion does
// without a sanitizer) fails here.
#include <cascade/core/analysis_file.hpp>
#include <cascade/core/diagnostic.hpp>
#include <cascade/core/run.hpp>

#include <gtest/gtest.h>

#include <filesystem>

namespace {

const std::filesystem::path kCorpus = CORPUS_DIR;

std::string analysis_refusal(const std::string& name) {
  try {
    (void)cascade::read_analysis(kCorpus / "analysis" / name);
  } catch (const cascade::CascadeError& e) {
    return e.code();
  }
  return "read without error";
}

}  // namespace

TEST(FuzzRegressions, ANumberBeyondADoubleFailsItsTurnWithA006) {
  auto source = cascade::open_jsonl(kCorpus / "inputs" / "regress_number_overflow");
  cascade::TurnInput turn;
  ASSERT_TRUE(source->next(turn));
  EXPECT_EQ(turn.input_error_code, "A006") << turn.input_error;
  EXPECT_NE(turn.input_error.find("1e999"), std::string::npos) << turn.input_error;
  EXPECT_FALSE(source->next(turn));
}

TEST(FuzzRegressions, AnAnalysisFieldOfTheWrongTypeIsN012) {
  EXPECT_EQ(analysis_refusal("odd_fields.analysis"), "N012");  // "seconds":"slow"
}

TEST(FuzzRegressions, AnAnalysisCountThatIsAHugeFloatIsN012) {
  EXPECT_EQ(analysis_refusal("regress_float_count.analysis"), "N012");   // header "turns":3.6e24
  EXPECT_EQ(analysis_refusal("regress_float_replays.analysis"), "N012");  // a line's "replays":1e30
}
