// rewriting/online/index_file.hpp — the online rewriting index file: the
// successful requests `cascade rewrite index` found in traces, globally and
// per user, which the `online_rewrite` stage loads.
//
//   {"cascade_online_index": 1,
//    "params": {"min_support": 1},
//    "global": [
//     {"text": "play imagine dragons", "successes": 20, "users": 7}],
//    "personal": [
//     {"user": "u1", "text": "weather in wilkerson california", "successes": 3}]}
//
// One entry per line for the same reason as the rewrite table (a reviewer
// diffs what is about to be deployed); texts in canonical_request() form.
// "successes" counts turns whose result said success; "users" how many
// distinct users had them. A personal entry is kept whatever its count (the
// stage's ranker decides what counts as evidence); a global one needs
// params.min_support successes.
//
// Errors: TableError (table/table.hpp) with the codes (docs/error-codes.md)
//   W010 cannot read the file      W011 not JSON (line:col)
//   W012 not an online index       W013 unsupported version
//   W014 malformed entry (names it)  W015 cannot write the file
//
// Lifecycle/threading: free functions over plain values; reentrant.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

namespace cascade::rewriting {

inline constexpr int kOnlineIndexVersion = 1;

struct GlobalRequest {
  std::string text;
  uint64_t successes = 0;
  uint64_t users = 0;
};

struct PersonalRequest {
  std::string user;
  std::string text;
  uint64_t successes = 0;
};

struct OnlineIndexFile {
  uint64_t min_support = 1;  // successes a request needed to enter the global index
  std::vector<GlobalRequest> global;      // sorted by text
  std::vector<PersonalRequest> personal;  // sorted by (user, text)
};

std::string to_json(const OnlineIndexFile& index);
OnlineIndexFile parse_online_index(std::string_view bytes, const std::string& file);
// Reads and parses; `id` (if given) gets "cascade_online_index/1:<FNV-1a 64 hex>".
OnlineIndexFile read_online_index(const std::filesystem::path& path, std::string* id = nullptr);
std::string write_online_index(const OnlineIndexFile& index, const std::filesystem::path& path);
std::string online_index_id(std::string_view file_bytes);

}  // namespace cascade::rewriting
