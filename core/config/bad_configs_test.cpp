// One failing config per validation code, in tests/config/bad/. Each file
// states what it must produce in its first line:
//   # expect: <CODE> [<file>:]<line>:<col>      (file defaults to the config itself)
// and may give --set overrides:
//   # set: <key>=<value>
// The test loads and validates it with the real built-in plugins and
// requires EXACTLY that one diagnostic: right code, file, line and column,
// and no follow-on noise.
#include "test_support.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <fstream>
#include <set>

namespace cascade::config {
namespace {

using testing::check;
using testing::dump;
using testing::kSourceDir;

struct Expectation {
  std::filesystem::path file;
  std::string code;
  std::string where_file;  // empty = the config itself
  uint32_t line = 0, column = 0;
  std::vector<std::string> sets;
};

Expectation read_expectation(const std::filesystem::path& file) {
  Expectation e;
  e.file = file;
  std::ifstream in(file);
  std::string line;
  while (std::getline(in, line) && line.rfind('#', 0) == 0) {
    if (line.rfind("# expect: ", 0) == 0) {
      std::string rest = line.substr(10);
      e.code = rest.substr(0, rest.find(' '));
      std::string where = rest.substr(rest.find(' ') + 1);
      const size_t c2 = where.rfind(':');
      const size_t c1 = where.rfind(':', c2 - 1);
      e.column = static_cast<uint32_t>(std::stoul(where.substr(c2 + 1)));
      if (c1 == std::string::npos) {
        e.line = static_cast<uint32_t>(std::stoul(where.substr(0, c2)));
      } else {
        e.line = static_cast<uint32_t>(std::stoul(where.substr(c1 + 1, c2 - c1 - 1)));
        e.where_file = where.substr(0, c1);
      }
    } else if (line.rfind("# set: ", 0) == 0) {
      e.sets.push_back(line.substr(7));
    }
  }
  return e;
}

// gtest prints the parameter when a test fails: name the file, not bytes.
void PrintTo(const Expectation& e, std::ostream* os) { *os << e.file.filename().string(); }

std::vector<Expectation> all_bad_configs() {
  std::vector<Expectation> v;
  for (const auto& entry : std::filesystem::directory_iterator(kSourceDir / "tests/config/bad")) {
    if (entry.path().extension() == ".toml") v.push_back(read_expectation(entry.path()));
  }
  std::sort(v.begin(), v.end(), [](const auto& a, const auto& b) { return a.file < b.file; });
  return v;
}

class BadConfig : public ::testing::TestWithParam<Expectation> {};

TEST_P(BadConfig, ReportsExactlyItsOneDiagnosticAtTheRightPlace) {
  const Expectation& e = GetParam();
  ASSERT_FALSE(e.code.empty()) << e.file << " has no '# expect:' line";
  const auto diags = check(e.file, e.sets);
  ASSERT_EQ(diags.size(), 1u) << "got:\n" << dump(diags);
  const Diagnostic& d = diags[0];
  EXPECT_EQ(d.code, e.code) << d.format();
  EXPECT_EQ(d.file, e.where_file.empty() ? e.file.string() : e.where_file) << d.format();
  EXPECT_EQ(d.line, e.line) << d.format();
  EXPECT_EQ(d.column, e.column) << d.format();
  EXPECT_FALSE(d.message.empty());
}

INSTANTIATE_TEST_SUITE_P(EveryCode, BadConfig, ::testing::ValuesIn(all_bad_configs()),
                         [](const ::testing::TestParamInfo<Expectation>& i) { return i.param.file.stem().string(); });

TEST(BadConfigs, CoverEveryConfigCode) {
  std::set<std::string> covered;
  for (const auto& e : all_bad_configs()) covered.insert(e.code);
  for (const char* code : {"C001", "C002", "C003", "C004", "C005", "C010", "C011", "C012", "C020", "C021", "C022",
                           "C023", "C024", "C025", "C026", "C027", "C030", "C031"}) {
    EXPECT_EQ(covered.count(code), 1u) << code << " has no file in tests/config/bad";
  }
}

}  // namespace
}  // namespace cascade::config
