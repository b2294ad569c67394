// tools/rewrite/index_build.hpp — `cascade rewrite index`: traces in, the
// online rewriting index out (online/index_file.hpp).
//
// A successful request: a turn whose request (sessions.hpp: turn_request,
// the text the NLU received, canonical) succeeded, counted globally and for
// the turn's user (the turn record's user_id; turns without one count only
// globally). Turns in which any rewrite fired are left out: their success is
// the deployed rewriter's doing (the feedback-loop guard of the precomputed
// builder, for the same reason). A request enters the global index with at
// least `min_support` successes.
//
// Lifecycle/threading: a free function; reentrant. Throws trace::TraceError
// for an unreadable trace, std::invalid_argument for bad options.
#pragma once

#include "online/index_file.hpp"

#include <cascade/trace/reader.hpp>

#include <filesystem>
#include <string>
#include <vector>

namespace cascade::rewriting {

struct IndexBuildOptions {
  uint64_t min_support = 1;  // --min-support
};

struct IndexBuildResult {
  OnlineIndexFile index;
  uint64_t turns = 0, requests = 0, successes = 0, rewritten = 0;
  std::vector<trace::Damage> damage;
};

IndexBuildResult build_online_index(const std::vector<std::filesystem::path>& traces, const IndexBuildOptions& options);

std::string format_index_summary(const IndexBuildResult& result);

}  // namespace cascade::rewriting
