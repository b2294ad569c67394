// cascade/core/graph.hpp — the few graph algorithms a pipeline needs, on
// plain vertex numbers (0..n-1) and edge lists.
//
// WHY plain numbers: config validation and the scheduler both need these
// answers, and neither should pull Boost.Graph's heavy templates into
// every file that includes this header. The implementation (Boost.Graph:
// adjacency_list, topological_sort, strong_components,
// breadth_first_search) lives in core/graph/graph.cpp only.
//
// Every function is a pure function of its arguments: no state, safe to
// call from any number of threads at once. Out-of-range edge endpoints
// throw std::out_of_range. Results are deterministic for the same input
// (they depend on vertex numbering, never on addresses or hashing).
#pragma once

#include <cstddef>
#include <stdexcept>
#include <utility>
#include <vector>

namespace cascade::graph {

using Edge = std::pair<size_t, size_t>;  // from -> to

// Thrown by topological_order when the graph has a cycle; carries every
// cycle (as find_cycles reports them) so the caller can name them.
class CycleError : public std::runtime_error {
 public:
  explicit CycleError(std::vector<std::vector<size_t>> cycles);
  [[nodiscard]] const std::vector<std::vector<size_t>>& cycles() const noexcept { return cycles_; }

 private:
  std::vector<std::vector<size_t>> cycles_;
};

// A topological order of vertices 0..n-1: every edge's `from` comes before
// its `to`. Of the valid orders it returns the one a depth-first walk over
// PREDECESSORS gives when vertices are tried in ascending number: a
// pipeline whose stages are written in data-flow order comes back in file
// order, and a vertex written too early moves only as far as its inputs
// require. Throws CycleError if the graph is not a DAG (a self-loop is a
// cycle).
std::vector<size_t> topological_order(size_t n, const std::vector<Edge>& edges);

// One cycle per non-trivial strongly connected component (two or more
// vertices, or one vertex with a self-loop). Each cycle starts at the
// component's lowest vertex and lists the vertices in edge order
// (c[0] -> c[1] -> ... -> c.back() -> c[0]); cycles are sorted by their
// first vertex. Empty when the graph is a DAG.
std::vector<std::vector<size_t>> find_cycles(size_t n, const std::vector<Edge>& edges);

// The vertices NOT reachable from any of `sources` (a source reaches
// itself), ascending.
std::vector<size_t> unreachable_from(size_t n, const std::vector<Edge>& edges, const std::vector<size_t>& sources);

}  // namespace cascade::graph
