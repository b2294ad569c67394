#include <cascade/core/graph.hpp>

#include <gtest/gtest.h>

using cascade::graph::CycleError;
using cascade::graph::Edge;
using cascade::graph::find_cycles;
using cascade::graph::topological_order;
using cascade::graph::unreachable_from;
using V = std::vector<size_t>;

namespace {
// True when every edge goes forward in `order` and `order` is a permutation.
bool respects(const V& order, size_t n, const std::vector<Edge>& edges) {
  if (order.size() != n) return false;
  V pos(n, n);
  for (size_t i = 0; i < order.size(); ++i) pos[order[i]] = i;
  for (size_t p : pos) {
    if (p == n) return false;
  }
  for (auto [a, b] : edges) {
    if (pos[a] >= pos[b]) return false;
  }
  return true;
}
}  // namespace

TEST(TopologicalOrder, ChainWrittenInDataFlowOrderComesBackInFileOrder) {
  EXPECT_EQ(topological_order(4, {{0, 1}, {1, 2}, {2, 3}}), (V{0, 1, 2, 3}));
}

TEST(TopologicalOrder, IndependentSinksKeepFileOrder) {
  // 0 fans out to 1 and 2: the later-written sink stays last.
  EXPECT_EQ(topological_order(3, {{0, 1}, {0, 2}}), (V{0, 1, 2}));
}

TEST(TopologicalOrder, StageWrittenBeforeItsProducersMovesAfterThem) {
  // 0 = join(1, 2): its producers are written after it.
  const std::vector<Edge> e{{1, 0}, {2, 0}};
  EXPECT_EQ(topological_order(3, e), (V{1, 2, 0}));
}

TEST(TopologicalOrder, DiamondRespectsEveryEdge) {
  const std::vector<Edge> e{{0, 1}, {0, 2}, {1, 3}, {2, 3}, {3, 4}};
  const V order = topological_order(5, e);
  EXPECT_TRUE(respects(order, 5, e));
  EXPECT_EQ(order, (V{0, 1, 2, 3, 4}));
}

TEST(TopologicalOrder, ThrowsCycleErrorNamingTheCycle) {
  try {
    topological_order(4, {{0, 1}, {1, 2}, {2, 1}, {2, 3}});
    FAIL() << "expected CycleError";
  } catch (const CycleError& e) {
    ASSERT_EQ(e.cycles().size(), 1u);
    EXPECT_EQ(e.cycles()[0], (V{1, 2}));
  }
}

TEST(TopologicalOrder, EmptyGraphIsEmptyOrder) { EXPECT_TRUE(topological_order(0, {}).empty()); }

TEST(TopologicalOrder, RejectsEdgeOutsideTheGraph) {
  EXPECT_THROW(topological_order(2, {{0, 2}}), std::out_of_range);
}

TEST(FindCycles, DagHasNone) { EXPECT_TRUE(find_cycles(3, {{0, 1}, {1, 2}, {0, 2}}).empty()); }

TEST(FindCycles, ReportsEveryCycleOncePerComponentInOrder) {
  // Two separate cycles: 4 -> 5 -> 6 -> 4 and 1 -> 2 -> 1, plus a self-loop on 8.
  const std::vector<Edge> e{{0, 1}, {1, 2}, {2, 1}, {3, 4}, {4, 5}, {5, 6}, {6, 4}, {7, 8}, {8, 8}};
  const auto c = find_cycles(9, e);
  ASSERT_EQ(c.size(), 3u);
  EXPECT_EQ(c[0], (V{1, 2}));
  EXPECT_EQ(c[1], (V{4, 5, 6}));
  EXPECT_EQ(c[2], (V{8}));
}

TEST(FindCycles, CycleListsVerticesInEdgeOrderFromTheLowest) {
  // 3 -> 1 -> 4 -> 2 -> 3: starts at 1 and follows the edges.
  const auto c = find_cycles(5, {{3, 1}, {1, 4}, {4, 2}, {2, 3}});
  ASSERT_EQ(c.size(), 1u);
  EXPECT_EQ(c[0], (V{1, 4, 2, 3}));
}

TEST(FindCycles, LargerComponentReportsAShortestCycleThroughItsLowestVertex) {
  // 0 -> 1 -> 2 -> 0 and 0 -> 3 -> 0 form one component; the 2-cycle is shorter.
  const auto c = find_cycles(4, {{0, 1}, {1, 2}, {2, 0}, {0, 3}, {3, 0}});
  ASSERT_EQ(c.size(), 1u);
  EXPECT_EQ(c[0], (V{0, 3}));
}

TEST(UnreachableFrom, ListsVerticesNoSourceReaches) {
  const std::vector<Edge> e{{0, 1}, {1, 2}, {3, 4}, {4, 2}};
  EXPECT_EQ(unreachable_from(6, e, {0}), (V{3, 4, 5}));
  EXPECT_EQ(unreachable_from(6, e, {0, 3}), (V{5}));
}

TEST(UnreachableFrom, EdgesAreDirected) { EXPECT_EQ(unreachable_from(2, {{1, 0}}, {0}), (V{1})); }

TEST(UnreachableFrom, NoSourcesMeansNothingIsReached) { EXPECT_EQ(unreachable_from(2, {{0, 1}}, {}), (V{0, 1})); }
