#include "suggest.hpp"

#include <gtest/gtest.h>

namespace cascade::config::detail {

TEST(EditDistance, CountsInsertionsDeletionsAndSubstitutions) {
  EXPECT_EQ(edit_distance("", ""), 0u);
  EXPECT_EQ(edit_distance("abc", "abc"), 0u);
  EXPECT_EQ(edit_distance("lowercas", "lowercase"), 1u);
  EXPECT_EQ(edit_distance("plugn", "plugin"), 1u);
  EXPECT_EQ(edit_distance("kitten", "sitting"), 3u);
  EXPECT_EQ(edit_distance("", "abc"), 3u);
}

TEST(Closest, SuggestsTheNearestCandidateWithinTwoEditsOrAThirdOfALongName) {
  EXPECT_EQ(closest("timout_ms", {"id", "timeout_ms", "on_error"}), "timeout_ms");
  EXPECT_EQ(closest("timeout", {"id", "timeout_ms", "on_error"}), "timeout_ms");  // 3 edits of 10 letters
  EXPECT_EQ(closest("thread", {"threads", "max_in_flight"}), "threads");
  EXPECT_EQ(closest("abcd", {"wxyz"}), "");
  EXPECT_EQ(closest("txt", {"text", "audio"}), "text");
  EXPECT_EQ(closest("xyz", {"text", "audio"}), "");
}

TEST(Closest, NeverSuggestsAShortWordThatIsEntirelyDifferent) {
  // "b" is one edit from "a", but suggesting it would be noise.
  EXPECT_EQ(closest("a", {"b"}), "");
}

TEST(DidYouMean, FormatsASuffixOrNothing) {
  EXPECT_EQ(did_you_mean("runn", {"run", "trace"}), "; did you mean 'run'?");
  EXPECT_EQ(did_you_mean("zzzz", {"run", "trace"}), "");
}

TEST(QuotedList, QuotesEachItem) {
  EXPECT_EQ(quoted_list({"a", "b"}), "'a', 'b'");
  EXPECT_EQ(quoted_list({}), "none");
}

}  // namespace cascade::config::detail
