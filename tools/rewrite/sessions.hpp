// tools/rewrite/sessions.hpp — from recorded turns to the chain's
// sessions, with the feedback-loop guard.
//
// A turn's request: the text the `nlu` stage received (its input `text`),
// else the `asr` stage's output `text`, in canonical_request() form; a turn
// with neither (no request reached the NLU, e.g. background speech the wake
// stage dropped) is not a request and is skipped. Turns are grouped by
// dialogue_id, ordered by time (the input's ISO 8601 timestamp when it has
// one, else the turn's start) then turn_index, and a dialogue is cut into
// sessions wherever two consecutive requests are more than `gap_s` apart.
// A session's outcome: its last request's result ({"success": true} in the
// turn record's result, else in the `result` stage's `result` output) is
// success; anything else (no result, a failed turn) is failure.
//
// The feedback-loop guard ("Self-Aware Feedback-Based Self-Learning",
// arXiv 2205.00029). A turn the `rewrite` stage rewrote carries the text
// feature `rewritten_by` in that stage's record. Such a session's path and
// outcome are what the DEPLOYED rewrite produced, not how users fare
// without it: counted as evidence they would raise the target's support
// and success (the NLU saw the target) or the source's success, so a
// rewrite would confirm itself. So a session in which any rewrite fired is
// held out of the chain entirely: none of its transitions or its outcome
// are counted, for any state. It goes into a separate tally per rewrite
// that fired (original -> rewritten text, table id): sessions and
// successes, written beside the evidence in the table's "deployed" list,
// never added to any rewrite's support.
//
// Lifecycle/threading: free functions over trace data; reentrant.
#pragma once

#include "chain/counts.hpp"
#include "table/table.hpp"
#include "tools/timestamp.hpp"

#include <cascade/trace/reader.hpp>

#include <optional>
#include <string>
#include <vector>

namespace cascade::rewriting {

// What one recorded turn says for the chain.
struct TurnRequest {
  std::string dialogue_id;
  uint32_t turn_index = 0;
  double time_s = 0;        // seconds: the input's timestamp, else the turn's start
  std::string request;      // canonical; the rewritten text if a rewrite fired
  bool success = false;
  // Set when a rewrite fired in this turn.
  std::optional<DeployedTally> rewrite;  // from, to, rewritten_by; counts unused here
};

// The request of one turn, or nullopt when the turn carries none.
std::optional<TurnRequest> turn_request(const trace::Turn& turn);

struct SessionSplit {
  std::vector<Session> evidence;         // sessions for the chain
  std::vector<DeployedTally> deployed;   // the guard's tallies, sorted by (from, to, rewritten_by)
  uint64_t held_out_sessions = 0;
};

// Cuts requests (any order) into sessions and applies the guard.
SessionSplit split_sessions(std::vector<TurnRequest> requests, double gap_s);

}  // namespace cascade::rewriting
