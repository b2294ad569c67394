// rewriting/table/table.hpp — the rewrite table file: what
// `cascade rewrite build` writes and the `rewrite` stage loads.
//
// Format: one JSON document, versioned by its first key:
//
//   {"cascade_rewrites": 1,
//    "params": {"min_gain": 0.1, "min_support": 3, "session_gap_s": 300},
//    "summary": {"sessions": 31, "held_out_sessions": 0, "states": 3, "components": 1},
//    "rewrites": [
//     {"from": "play maj and dragons", "to": "play imagine dragons",
//      "support": {"from": 10, "to": 20},
//      "success": {"from": 0.715, "to": 0.95}, "carried": 0.665}],
//    "deployed": [
//     {"from": "...", "to": "...", "rewritten_by": "cascade_rewrites/1:...",
//      "sessions": 4, "successes": 4}]}
//
// Why JSON and not a binary: a table holds at most a few thousand pairs of
// short strings, loaded once at open(), so size and load time do not
// matter, while a reviewer must be able to read and diff what is about to
// be deployed. One entry per line keeps diffs line-sized. The version key
// comes first so that any reader can refuse a newer file before it looks
// at anything else. "support", "success" and "carried" are the evidence
// each rewrite was kept on (B_iS, B_jS, N_ij R_jS); "deployed" tallies
// traffic a deployed rewrite produced, kept out of the evidence (see
// tools/sessions.hpp, the feedback-loop guard).
//
// Errors: TableError with a stable W0xx code (docs/error-codes.md):
//   W001 cannot read the file        W002 not JSON (line:col)
//   W003 not a rewrite table         W004 unsupported version
//   W005 malformed entry (names it)  W006 two rewrites of one request
//   W007 cannot write the file
//
// Lifecycle/threading: free functions over plain values; reentrant.
#pragma once

#include <cstdint>
#include <filesystem>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace cascade::rewriting {

inline constexpr int kTableVersion = 1;

struct TableEntry {
  std::string from, to;  // both in canonical_request() form
  uint64_t from_support = 0, to_support = 0;
  double from_success = 0, to_success = 0;  // B_iS, B_jS
  double carried = 0;                       // N_ij R_jS
};

// Sessions in which a deployed rewrite fired (the feedback-loop guard):
// reported, never counted as evidence.
struct DeployedTally {
  std::string from, to;
  std::string rewritten_by;  // the table that did it (table_id())
  uint64_t sessions = 0;
  uint64_t successes = 0;
};

struct RewriteTable {
  double min_gain = 0;
  uint64_t min_support = 0;
  double session_gap_s = 0;
  uint64_t sessions = 0;           // sessions that became evidence
  uint64_t held_out_sessions = 0;  // sessions held out by the guard
  uint64_t states = 0;
  uint64_t components = 0;
  std::vector<TableEntry> rewrites;  // sorted by `from`
  std::vector<DeployedTally> deployed;
};

class TableError : public std::runtime_error {
 public:
  TableError(std::string code, const std::string& file, const std::string& message, size_t line = 0, size_t column = 0);
  [[nodiscard]] const std::string& code() const noexcept { return code_; }

 private:
  std::string code_;
};

// The file's bytes (ends with a newline).
std::string to_json(const RewriteTable& table);
// Parses and checks a table; `file` only names it in errors. Throws TableError.
RewriteTable parse_table(std::string_view bytes, const std::string& file);
// Reads and parses a file; also returns its bytes' identity through `id`.
RewriteTable read_table(const std::filesystem::path& path, std::string* id = nullptr);
// Writes to_json(table) (W007 on failure); returns table_id() of what it wrote.
std::string write_table(const RewriteTable& table, const std::filesystem::path& path);

// "cascade_rewrites/1:<16 hex digits>": the format version and a 64-bit
// FNV-1a of the file's bytes. The `rewrite` stage records it as
// `rewritten_by`, so a trace says which table rewrote a turn.
std::string table_id(std::string_view file_bytes);

// The form both the builder's states and the stage's look-up use:
// ASCII lower case, runs of white space folded to one space, trimmed.
std::string canonical_request(std::string_view text);

}  // namespace cascade::rewriting
