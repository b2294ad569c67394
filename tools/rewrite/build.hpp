// tools/rewrite/build.hpp — `cascade rewrite build`: traces in, a
// rewrite table out (what the tool's main() calls, and its tests).
//
// Shape of the work: read every trace (traces library) -> one request per
// turn (sessions.hpp) -> sessions, with the feedback-loop guard holding out
// sessions a deployed rewrite touched -> transition counts -> the chain
// solved per component and the thresholds applied (chain/) -> the table.
//
// Lifecycle/threading: a free function; reentrant. Throws
// trace::TraceError for a trace that cannot be read at all,
// rewriting::ChainError for an unsolvable chain, std::invalid_argument for
// bad options.
#pragma once

#include "chain/select.hpp"
#include "table/table.hpp"

#include <cascade/trace/reader.hpp>

#include <filesystem>
#include <string>
#include <vector>

namespace cascade::rewriting {

struct BuildOptions {
  Thresholds thresholds;      // --delta, --min-support
  double session_gap_s = 300;  // --session-gap-s
};

struct BuildResult {
  RewriteTable table;
  Selection selection;
  uint64_t turns = 0;             // turns read
  uint64_t requests = 0;          // turns that carried a request
  std::vector<trace::Damage> damage;  // what the traces could not give back
};

BuildResult build_rewrites(const std::vector<std::filesystem::path>& traces, const BuildOptions& options);

// The summary the tool prints to stderr (several lines, each ending in \n).
std::string format_summary(const BuildResult& result);

}  // namespace cascade::rewriting
