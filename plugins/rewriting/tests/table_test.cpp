// The rewrite table file: round trip, and one refusal per W0xx code.
#include "table/table.hpp"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <unistd.h>

namespace cascade::rewriting {
namespace {

RewriteTable sample() {
  RewriteTable t;
  t.min_gain = 0.1;
  t.min_support = 3;
  t.session_gap_s = 300;
  t.sessions = 31;
  t.states = 3;
  t.components = 1;
  t.rewrites.push_back({"play maj and dragons", "play imagine dragons", 10, 20, 0.715, 0.95, 0.665});
  t.deployed.push_back({"a", "b", "cascade_rewrites/1:0123456789abcdef", 4, 3});
  return t;
}

std::string code_of(const std::string& text) {
  try {
    parse_table(text, "t.json");
  } catch (const TableError& e) {
    return e.code();
  }
  return "none";
}

// `text` with the first `from` replaced by `to`.
std::string with(std::string text, const std::string& from, const std::string& to) {
  const auto at = text.find(from);
  EXPECT_NE(at, std::string::npos) << from;
  return text.replace(at, from.size(), to);
}

TEST(Table, RoundTripsEveryField) {
  const std::string text = to_json(sample());
  EXPECT_EQ(text.rfind("{\"cascade_rewrites\": 1,", 0), 0u) << text;  // the version first
  const RewriteTable back = parse_table(text, "t.json");
  ASSERT_EQ(back.rewrites.size(), 1u);
  const TableEntry& e = back.rewrites[0];
  EXPECT_EQ(e.from, "play maj and dragons");
  EXPECT_EQ(e.to, "play imagine dragons");
  EXPECT_EQ(e.from_support, 10u);
  EXPECT_EQ(e.to_support, 20u);
  EXPECT_EQ(e.from_success, 0.715);  // doubles written in shortest round-trip form
  EXPECT_EQ(e.to_success, 0.95);
  EXPECT_EQ(e.carried, 0.665);
  EXPECT_EQ(back.min_support, 3u);
  EXPECT_EQ(back.sessions, 31u);
  ASSERT_EQ(back.deployed.size(), 1u);
  EXPECT_EQ(back.deployed[0].sessions, 4u);
  EXPECT_EQ(back.deployed[0].rewritten_by, "cascade_rewrites/1:0123456789abcdef");
  EXPECT_EQ(to_json(back), text);
}

TEST(Table, WritesOneRewritePerLine) {
  RewriteTable t = sample();
  t.rewrites.push_back({"x", "y", 3, 3, 0.1, 0.9, 0.5});
  const std::string text = to_json(t);
  EXPECT_NE(text.find("\n  {\"from\":\"play maj and dragons\""), std::string::npos) << text;
  EXPECT_NE(text.find("\n  {\"from\":\"x\""), std::string::npos) << text;
}

TEST(Table, RefusesAMissingFileWithW001) {
  try {
    read_table("/nonexistent/rewrites.json");
    FAIL();
  } catch (const TableError& e) {
    EXPECT_EQ(e.code(), "W001");
    EXPECT_NE(std::string(e.what()).find("/nonexistent/rewrites.json: error[W001]"), std::string::npos) << e.what();
  }
}

TEST(Table, RefusesBrokenJsonWithW002AndItsLineAndColumn) {
  const std::string text = with(to_json(sample()), "\"summary\": {", "\"summary\": {,");
  try {
    parse_table(text, "t.json");
    FAIL();
  } catch (const TableError& e) {
    EXPECT_EQ(e.code(), "W002");
    EXPECT_NE(std::string(e.what()).find("t.json:3:"), std::string::npos) << e.what();
  }
}

TEST(Table, RefusesJsonThatIsNotATableWithW003) {
  EXPECT_EQ(code_of("{\"rewrites\": []}"), "W003");
  EXPECT_EQ(code_of("[1, 2]"), "W003");
}

TEST(Table, RefusesAnotherVersionWithW004) {
  EXPECT_EQ(code_of(with(to_json(sample()), "\"cascade_rewrites\": 1", "\"cascade_rewrites\": 2")), "W004");
  EXPECT_EQ(code_of(with(to_json(sample()), "\"cascade_rewrites\": 1", "\"cascade_rewrites\": \"1\"")), "W004");
}

TEST(Table, RefusesMalformedEntriesWithW005NamingTheField) {
  const std::string good = to_json(sample());
  EXPECT_EQ(code_of(with(good, "\"carried\":0.665", "\"carried\":1.5")), "W005");
  EXPECT_EQ(code_of(with(good, "\"support\":{\"from\":10", "\"support\":{\"from\":-1")), "W005");
  EXPECT_EQ(code_of(with(good, "\"to\":\"play imagine dragons\"", "\"to\":\"play maj and dragons\"")), "W005");
  EXPECT_EQ(code_of(with(good, "\"from\":\"play maj and dragons\"", "\"from\":\"Play  Maj\"")), "W005");
  EXPECT_EQ(code_of(with(good, "\"successes\":3", "\"successes\":5")), "W005");
  EXPECT_EQ(code_of(with(good, "\"rewrites\": [", "\"rewrites\": 1, \"x\": [")), "W005");
  try {
    parse_table(with(good, "\"to\":\"play imagine dragons\",", ""), "t.json");
    FAIL();
  } catch (const TableError& e) {
    EXPECT_NE(std::string(e.what()).find("rewrites[0].to is missing"), std::string::npos) << e.what();
  }
}

TEST(Table, RefusesTwoRewritesOfOneRequestWithW006) {
  RewriteTable t = sample();
  t.rewrites.push_back({"play maj and dragons", "play abba", 3, 3, 0.1, 0.9, 0.5});
  EXPECT_EQ(code_of(to_json(t)), "W006");
}

TEST(Table, RefusesAnUnwritablePathWithW007) {
  try {
    write_table(sample(), "/nonexistent/dir/rewrites.json");
    FAIL();
  } catch (const TableError& e) {
    EXPECT_EQ(e.code(), "W007");
  }
}

TEST(Table, IdIsTheVersionAndADigestOfTheBytes) {
  const auto dir = std::filesystem::temp_directory_path() / ("rewrite_table_" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  const std::string written = write_table(sample(), dir / "t.json");
  std::string read;
  read_table(dir / "t.json", &read);
  EXPECT_EQ(read, written);
  EXPECT_EQ(written.rfind("cascade_rewrites/1:", 0), 0u);
  EXPECT_EQ(written.size(), std::string("cascade_rewrites/1:").size() + 16);
  RewriteTable other = sample();
  other.rewrites[0].to = "play abba";
  EXPECT_NE(table_id(to_json(other)), written);
  std::filesystem::remove_all(dir);
}

TEST(Table, CanonicalRequestLowercasesAndFoldsWhiteSpaceOnly) {
  EXPECT_EQ(canonical_request("  Play\tMaj   and Dragons \n"), "play maj and dragons");
  EXPECT_EQ(canonical_request("what's up?"), "what's up?");
  EXPECT_EQ(canonical_request("   "), "");
}

}  // namespace
}  // namespace cascade::rewriting
