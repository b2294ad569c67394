// Internal helpers shared by load.cpp and validate.cpp: "did you mean"
// suggestions and list formatting for diagnostic messages. Pure functions.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace cascade::config::detail {

// Levenshtein distance (insert, delete, substitute: cost 1 each).
size_t edit_distance(std::string_view a, std::string_view b);

// The closest candidate within a small distance (<= 2, or a third of the
// candidate's length for long names, and less than the candidate's length
// so "a" never suggests "b"); ties go to the first candidate. Empty if
// none is close enough.
std::string closest(std::string_view word, const std::vector<std::string>& candidates);

// "; did you mean 'x'?" or "" — ready to append to a message.
std::string did_you_mean(std::string_view word, const std::vector<std::string>& candidates);

// "'a', 'b', 'c'" (or "none").
std::string quoted_list(const std::vector<std::string>& items);

}  // namespace cascade::config::detail
