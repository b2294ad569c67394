// rewriting/chain/solve.hpp — absorption probabilities of the chain and,
// per state, the rewrite target that carries most of its success.
//
// Canonical form P = [[Q, R], [0, I]]: Q transient -> transient, R
// transient -> {S, F}, both row-normalised from the counts. N = (I - Q)^-1
// (N_ij: expected visits to j starting from i), B = N R (B_iS: probability
// that a session in i ends in success). B_iS = sum_j N_ij R_jS, and the
// term N_ij R_jS is the probability that j was the last state before
// success: rewrite(i) = argmax_{j != i} N_ij R_jS.
//
// The system is solved per connected component with a sparse LU (Eigen,
// confined to solve.cpp); the whole N is never formed.
//
// Lifecycle: a free function over a finished TransitionCounts; the result
//   is a plain value. Threading: reentrant, no shared state.
#pragma once

#include "chain/counts.hpp"

#include <cstdint>
#include <functional>
#include <stdexcept>
#include <vector>

namespace cascade::rewriting {

struct StateSolution {
  uint32_t component = 0;
  double success = 0;  // B_iS
  double failure = 0;  // B_iF (B_iS + B_iF = 1 up to rounding)
  // argmax_{j != i} N_ij R_jS within i's component, or -1 when no other
  // state carries any success from i (or row i was not asked for).
  // Ties go to the lexicographically smaller request, so the answer does
  // not depend on the order the traces were read in.
  int64_t best_target = -1;
  double best_carried = 0;  // N_{i,best} R_{best,S}
};

struct ChainSolution {
  std::vector<StateSolution> states;  // by state id
  size_t components = 0;
};

// A chain that cannot be solved: some states never reach S or F (only
// possible with raw add_transition counts; sessions always end absorbed).
class ChainError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// `need_row(i)`: whether rewrite(i) is wanted (a state below the support
// threshold never gets a rewrite, so its row of N need not be solved for);
// null: every row. Throws ChainError for a singular component.
ChainSolution solve_chain(const TransitionCounts& counts, const std::function<bool(uint32_t)>& need_row = nullptr);

}  // namespace cascade::rewriting
