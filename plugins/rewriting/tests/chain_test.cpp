// The absorbing chain: the guide's worked example computed exactly, a
// chain with a cycle, components, thresholds, and a losing rewrite.
#include "chain/counts.hpp"
#include "chain/select.hpp"
#include "chain/solve.hpp"

#include <gtest/gtest.h>

#include <random>
#include <string>
#include <vector>

namespace cascade::rewriting {
namespace {

constexpr double kExact = 1e-12;  // rational answers, a handful of flops: exact up to rounding

void add(TransitionCounts& c, std::vector<std::string> requests, Outcome outcome, int times = 1) {
  for (int k = 0; k < times; ++k) c.add(Session{requests, outcome});
}

const std::string kMaj = "play maj and dragons", kDragon = "play imagine dragon", kDragons = "play imagine dragons";

// The guide's example as sessions: "play maj and dragons" ends in F 20%,
// goes to "imagine dragon" 30% and to "imagine dragons" 50%; "imagine
// dragons" succeeds 95%. "imagine dragon" goes on to "imagine dragons" 2/3,
// succeeds 1/6 and fails 1/6: the only such row that gives the guide's
// B_S = 0.715 with 0.665 carried by "imagine dragons" (N = 0.5 + 0.3 * 2/3
// = 0.7 visits, times 0.95).
TransitionCounts worked_example() {
  TransitionCounts c;
  add(c, {kMaj}, Outcome::Failure, 2);                      // maj -> F        2 of 10
  add(c, {kMaj, kDragons}, Outcome::Success, 5);            // maj -> dragons  5 of 10
  add(c, {kMaj, kDragon, kDragons}, Outcome::Success, 3);   // maj -> dragon   3 of 10
  add(c, {kDragon, kDragons}, Outcome::Success);            // dragon -> dragons 4 of 6
  add(c, {kDragon}, Outcome::Success);                      // dragon -> S     1 of 6
  add(c, {kDragon}, Outcome::Failure);                      // dragon -> F     1 of 6
  add(c, {kDragons}, Outcome::Success, 10);                 // dragons -> S   19 of 20
  add(c, {kDragons}, Outcome::Failure);                     // dragons -> F    1 of 20
  return c;
}

TEST(Chain, CountsTheWorkedExampleAsTheGuideStatesIt) {
  const TransitionCounts c = worked_example();
  const auto& maj = c.row(static_cast<uint32_t>(c.find(kMaj)));
  EXPECT_EQ(maj.observations(), 10u);
  EXPECT_EQ(maj.failure, 2u);
  EXPECT_EQ(maj.to.at(static_cast<uint32_t>(c.find(kDragon))), 3u);
  EXPECT_EQ(maj.to.at(static_cast<uint32_t>(c.find(kDragons))), 5u);
  const auto& dragons = c.row(static_cast<uint32_t>(c.find(kDragons)));
  EXPECT_EQ(dragons.success, 19u);
  EXPECT_EQ(dragons.observations(), 20u);
}

TEST(Chain, WorkedExampleGivesBs0715AndRewritesToImagineDragons) {
  const TransitionCounts c = worked_example();
  const ChainSolution sol = solve_chain(c);
  const auto maj = static_cast<uint32_t>(c.find(kMaj));
  EXPECT_NEAR(sol.states[maj].success, 0.715, kExact);
  EXPECT_NEAR(sol.states[maj].failure, 0.285, kExact);
  EXPECT_EQ(sol.states[maj].best_target, c.find(kDragons));
  EXPECT_NEAR(sol.states[maj].best_carried, 0.665, kExact);
  EXPECT_NEAR(sol.states[static_cast<uint32_t>(c.find(kDragon))].success, 0.8, kExact);
  EXPECT_NEAR(sol.states[static_cast<uint32_t>(c.find(kDragons))].success, 0.95, kExact);
}

// "imagine dragon" (B_S 0.8) also wins by rewriting to "imagine dragons"
// (0.95): a gain of 0.15 >= 0.1 with 6 observations >= 3.
TEST(Chain, WorkedExampleKeepsBothWinningRewritesWithTheirNumbers) {
  const Selection sel = select_rewrites(worked_example(), Thresholds{0.1, 3});
  ASSERT_EQ(sel.kept.size(), 2u);
  const Rewrite& dragon = sel.kept[0];  // sorted by `from`: "play imagine dragon" < "play maj and dragons"
  EXPECT_EQ(dragon.from, kDragon);
  EXPECT_EQ(dragon.to, kDragons);
  EXPECT_NEAR(dragon.carried, 2.0 / 3.0 * 0.95, kExact);
  const Rewrite& maj = sel.kept[1];
  EXPECT_EQ(maj.from, kMaj);
  EXPECT_EQ(maj.to, kDragons);
  EXPECT_EQ(maj.from_support, 10u);
  EXPECT_EQ(maj.to_support, 20u);
  EXPECT_NEAR(maj.from_success, 0.715, kExact);
  EXPECT_NEAR(maj.to_success, 0.95, kExact);
  EXPECT_NEAR(maj.carried, 0.665, kExact);
}

// a: {a: 1, b: 1, F: 2}, b: {a: 2, S: 2}: a cycle a <-> b and a self-loop.
// B_a = B_a/4 + B_b/4, B_b = B_a/2 + 1/2  =>  B_a = 0.2, B_b = 0.6;
// N = (I - Q)^-1 = [[8/5, 2/5], [4/5, 6/5]], N_ab R_bS = 2/5 * 1/2 = 0.2.
TEST(Chain, SolvesAChainWithACycleAndASelfLoop) {
  TransitionCounts c;
  add(c, {"a", "a", "b"}, Outcome::Success);
  add(c, {"b", "a"}, Outcome::Failure, 2);
  add(c, {"b"}, Outcome::Success);
  const auto a = static_cast<uint32_t>(c.find("a")), b = static_cast<uint32_t>(c.find("b"));
  ASSERT_EQ(c.row(a).to.at(a), 1u);
  const ChainSolution sol = solve_chain(c);
  EXPECT_EQ(sol.components, 1u);
  EXPECT_NEAR(sol.states[a].success, 0.2, kExact);
  EXPECT_NEAR(sol.states[b].success, 0.6, kExact);
  EXPECT_NEAR(sol.states[a].failure, 0.8, kExact);
  EXPECT_EQ(sol.states[a].best_target, b);
  EXPECT_NEAR(sol.states[a].best_carried, 0.2, kExact);
  EXPECT_EQ(sol.states[b].best_target, -1);  // a never succeeds itself: it carries nothing
}

TEST(Chain, SolvesEachConnectedComponentOnItsOwn) {
  TransitionCounts c = worked_example();
  add(c, {"x", "y"}, Outcome::Success, 3);
  add(c, {"x"}, Outcome::Failure);
  add(c, {"lonely"}, Outcome::Success);
  const Components comps = connected_components(c);
  ASSERT_EQ(comps.count(), 3u);
  EXPECT_EQ(comps.of[static_cast<uint32_t>(c.find(kMaj))], comps.of[static_cast<uint32_t>(c.find(kDragons))]);
  EXPECT_NE(comps.of[static_cast<uint32_t>(c.find("x"))], comps.of[static_cast<uint32_t>(c.find(kMaj))]);
  const ChainSolution sol = solve_chain(c);
  EXPECT_EQ(sol.components, 3u);
  EXPECT_NEAR(sol.states[static_cast<uint32_t>(c.find(kMaj))].success, 0.715, kExact);
  EXPECT_NEAR(sol.states[static_cast<uint32_t>(c.find("x"))].success, 0.75, kExact);
  EXPECT_NEAR(sol.states[static_cast<uint32_t>(c.find("lonely"))].success, 1.0, kExact);
}

TEST(Chain, KeepsOnlyRewritesAtOrAboveDeltaAndSupport) {
  const TransitionCounts c = worked_example();
  const auto kept_from = [&](Thresholds t) {
    std::vector<std::string> from;
    for (const auto& r : select_rewrites(c, t).kept) from.push_back(r.from);
    return from;
  };
  using V = std::vector<std::string>;
  // Gains: maj 0.95 - 0.715 = 0.235, dragon 0.95 - 0.8 = 0.15.
  EXPECT_EQ(kept_from({0.2, 3}), V{kMaj});
  EXPECT_EQ(kept_from({0.24, 3}), V{});
  // Support: dragon is seen 6 times, maj 10, dragons 20.
  EXPECT_EQ(kept_from({0.1, 6}), (V{kDragon, kMaj}));
  EXPECT_EQ(kept_from({0.1, 7}), V{kMaj});
  EXPECT_EQ(kept_from({0.1, 10}), V{kMaj});
  EXPECT_EQ(kept_from({0.1, 11}), V{});  // maj itself too rarely seen
  EXPECT_EQ(kept_from({0.1, 21}), V{});
  const Selection sel = select_rewrites(c, {0.2, 7});
  EXPECT_EQ(sel.below_support, 1u);  // dragon
  EXPECT_EQ(sel.below_gain, 0u);
}

TEST(Chain, TargetBelowSupportIsRefusedEvenWhenTheSourceHasEnough) {
  TransitionCounts c;
  add(c, {"bad", "good"}, Outcome::Success, 2);  // good: seen 2 times
  add(c, {"bad"}, Outcome::Failure, 8);
  EXPECT_EQ(select_rewrites(c, {0.1, 2}).kept.size(), 1u);
  const Selection sel = select_rewrites(c, {0.1, 3});
  EXPECT_TRUE(sel.kept.empty());
  EXPECT_EQ(sel.below_support, 1u);
}

// i succeeds 60% by itself and goes to j 40%; j succeeds only 75%. j carries
// all of i's success that passes through another state (argmax), but
// B_jS = 0.75 < B_iS = 0.9: the rewrite would lose, so it is not deployed,
// not even with delta = 0.
TEST(Chain, ARewriteThatWouldLoseIsNotDeployed) {
  TransitionCounts c;
  add(c, {"i"}, Outcome::Success, 6);
  add(c, {"i", "j"}, Outcome::Success, 3);
  add(c, {"i", "j"}, Outcome::Failure, 1);
  ChainSolution sol;
  const Selection sel = select_rewrites(c, {0.0, 1}, &sol);
  const auto i = static_cast<uint32_t>(c.find("i"));
  EXPECT_EQ(sol.states[i].best_target, c.find("j"));
  EXPECT_NEAR(sol.states[i].success, 0.9, kExact);
  EXPECT_NEAR(sol.states[static_cast<uint32_t>(c.find("j"))].success, 0.75, kExact);
  EXPECT_TRUE(sel.kept.empty());
  EXPECT_EQ(sel.below_gain, 1u);
}

// The per-component sparse solves against the definition, on random
// sessions with cycles over several components: B by iterating
// B <- R + Q B, each row of N by iterating y <- e_i + y Q (both converge:
// every state reaches absorption), the best target by brute force.
TEST(Chain, MatchesTheDefinitionOnRandomChainsWithCyclesAndComponents) {
  std::mt19937 rng(7);  // fixed seed: the same chain every run
  TransitionCounts c;
  for (int k = 0; k < 400; ++k) {
    const int group = k % 3;  // three groups of 8 requests never mixed: 3 components
    Session s;
    const int length = 1 + static_cast<int>(rng() % 5);
    for (int t = 0; t < length; ++t) s.requests.push_back("g" + std::to_string(group) + "s" + std::to_string(rng() % 8));
    s.outcome = rng() % 3 == 0 ? Outcome::Failure : Outcome::Success;
    c.add(s);
  }
  const size_t n = c.size();
  ASSERT_EQ(n, 24u);
  std::vector<std::vector<double>> q(n, std::vector<double>(n, 0.0));
  std::vector<double> r_success(n, 0.0);
  for (uint32_t i = 0; i < n; ++i) {
    const double total = static_cast<double>(c.row(i).observations());
    for (const auto& [j, count] : c.row(i).to) q[i][j] = static_cast<double>(count) / total;
    r_success[i] = static_cast<double>(c.row(i).success) / total;
  }
  std::vector<double> b(n, 0.0);
  for (int it = 0; it < 5000; ++it) {
    std::vector<double> next = r_success;
    for (size_t i = 0; i < n; ++i)
      for (size_t j = 0; j < n; ++j) next[i] += q[i][j] * b[j];
    b = next;
  }
  const ChainSolution sol = solve_chain(c);
  EXPECT_EQ(sol.components, 3u);
  for (uint32_t i = 0; i < n; ++i) {
    EXPECT_NEAR(sol.states[i].success, b[i], 1e-9) << c.name(i);
    std::vector<double> row(n, 0.0);
    for (int it = 0; it < 5000; ++it) {
      std::vector<double> next(n, 0.0);
      next[i] = 1.0;
      for (size_t k = 0; k < n; ++k)
        for (size_t j = 0; j < n; ++j) next[j] += row[k] * q[k][j];
      row = next;
    }
    int64_t best = -1;
    double best_carried = 0;
    for (uint32_t j = 0; j < n; ++j)
      if (j != i && row[j] * r_success[j] > best_carried + 1e-12) best = j, best_carried = row[j] * r_success[j];
    EXPECT_EQ(sol.states[i].best_target, best) << c.name(i);
    EXPECT_NEAR(sol.states[i].best_carried, best_carried, 1e-9) << c.name(i);
  }
}

TEST(Chain, RefusesANegativeDelta) {
  EXPECT_THROW(select_rewrites(worked_example(), {-0.1, 1}), std::invalid_argument);
}

TEST(Chain, ReportsAComponentThatNeverAbsorbsInsteadOfReturningGarbage) {
  TransitionCounts c;  // raw counts only: a <-> b forever
  const uint32_t a = c.intern("a"), b = c.intern("b");
  c.add_transition(a, b);
  c.add_transition(b, a);
  EXPECT_THROW(solve_chain(c), ChainError);
}

}  // namespace
}  // namespace cascade::rewriting
