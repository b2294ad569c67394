// rewriting/chain/select.hpp — which rewrites to deploy.
//
// rewrite(i) = argmax_{j != i} N_ij R_jS (solve.hpp), kept only when
//   B_jS - B_iS >= min_gain   (delta: the rewrite must win by that much;
//                              a rewrite that would lose is never kept)
//   observations(i) >= min_support and observations(j) >= min_support (m).
//
// Lifecycle/threading: free functions over plain values.
#pragma once

#include "chain/counts.hpp"
#include "chain/solve.hpp"

#include <cstdint>
#include <string>
#include <vector>

namespace cascade::rewriting {

struct Thresholds {
  double min_gain = 0.1;     // delta; must be >= 0
  uint64_t min_support = 3;  // m
};

struct Rewrite {
  std::string from, to;
  uint64_t from_support = 0, to_support = 0;  // observations of each state
  double from_success = 0;                    // B_iS
  double to_success = 0;                      // B_jS
  double carried = 0;                         // N_ij R_jS
};

struct Selection {
  std::vector<Rewrite> kept;  // sorted by `from`
  size_t candidates = 0;      // states that had a target at all
  size_t below_support = 0;   // candidates refused for support
  size_t below_gain = 0;      // candidates with enough support refused for gain (losers included)
};

// Solves the chain (skipping rows the support rule rules out) and applies
// the thresholds. Throws ChainError like solve_chain, std::invalid_argument
// for a negative or non-finite min_gain.
Selection select_rewrites(const TransitionCounts& counts, const Thresholds& thresholds,
                          ChainSolution* solution_out = nullptr);

}  // namespace cascade::rewriting
