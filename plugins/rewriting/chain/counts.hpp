// rewriting/chain/counts.hpp — sessions of requests pooled into the
// transition counts of an absorbing Markov chain, and the chain's
// connected components.
//
// The chain (Ponnusamy et al., arXiv 1911.02557): transient states are
// normalised requests; within a session, consecutive turns give a
// transition h_i -> h_j; the last turn of a session goes to one of two
// absorbing states, S (success) or F (failure). Counts are pooled over
// every session added, whoever's it was.
//
// This is a domain library: plain strings in, counts out. It knows nothing
// of traces, pipelines or the table file (tools/ and table/ do).
//
// Lifecycle: create, add() sessions, then hand the counts to solve_chain()
//   (solve.hpp). Adding after solving is allowed; solve again.
// Threading: none inside; a TransitionCounts is a plain value, not safe
//   for concurrent add().
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace cascade::rewriting {

enum class Outcome : uint8_t { Success, Failure };

// One session: the requests in turn order and how the session ended.
struct Session {
  std::vector<std::string> requests;
  Outcome outcome = Outcome::Failure;
};

// Where the turns seen in one state went next.
struct StateRow {
  std::map<uint32_t, uint64_t> to;  // next transient state -> count (ordered: deterministic solves)
  uint64_t success = 0;             // the session ended here, successfully
  uint64_t failure = 0;             // the session ended here, failed
  // Every turn leaves its state exactly once, so this is also the number of
  // times the state was observed: the "support" the thresholds ask for.
  [[nodiscard]] uint64_t observations() const;
};

class TransitionCounts {
 public:
  // Adds a session's transitions and its absorption; an empty session adds nothing.
  void add(const Session& session);

  // The id of a state, interning it if new (ids are dense, from 0, in first-seen order).
  uint32_t intern(std::string_view request);
  // The id of a known state, or -1.
  [[nodiscard]] int64_t find(std::string_view request) const;

  // Adds raw counts: `count` turns in `from` followed by `to`.
  void add_transition(uint32_t from, uint32_t to, uint64_t count = 1);
  void add_absorption(uint32_t from, Outcome outcome, uint64_t count = 1);

  [[nodiscard]] size_t size() const noexcept { return names_.size(); }
  [[nodiscard]] const std::string& name(uint32_t state) const { return names_.at(state); }
  [[nodiscard]] const StateRow& row(uint32_t state) const { return rows_.at(state); }
  [[nodiscard]] uint64_t sessions() const noexcept { return sessions_; }

 private:
  std::vector<std::string> names_;
  std::unordered_map<std::string, uint32_t> ids_;
  std::vector<StateRow> rows_;
  uint64_t sessions_ = 0;
};

// The connected components of the transient graph (edges taken as
// undirected): component[state] in [0, count), numbered in order of each
// component's smallest state id. No transient edge leaves a component, so
// (I - Q) is block diagonal over them and each block is solved alone.
struct Components {
  std::vector<uint32_t> of;                    // state -> component
  std::vector<std::vector<uint32_t>> members;  // component -> its states, ascending
  [[nodiscard]] size_t count() const noexcept { return members.size(); }
};
Components connected_components(const TransitionCounts& counts);

}  // namespace cascade::rewriting
