// Boost.Graph stays in this file (see graph.hpp for why).
#include <cascade/core/graph.hpp>

#include <boost/graph/adjacency_list.hpp>
#include <boost/graph/breadth_first_search.hpp>
#include <boost/graph/filtered_graph.hpp>
#include <boost/graph/strong_components.hpp>
#include <boost/graph/topological_sort.hpp>
#include <boost/pending/queue.hpp>

#include <algorithm>
#include <iterator>
#include <limits>
#include <string>

namespace cascade::graph {
namespace {

// vecS/vecS: vertex descriptors ARE the numbers 0..n-1 and out-edges keep
// insertion order, which is what makes every result deterministic.
using Graph = boost::adjacency_list<boost::vecS, boost::vecS, boost::directedS>;
using Vertex = boost::graph_traits<Graph>::vertex_descriptor;

Graph build(size_t n, const std::vector<Edge>& edges, bool reversed) {
  Graph g(n);
  for (const auto& [from, to] : edges) {
    if (from >= n || to >= n) {
      throw std::out_of_range("graph: edge " + std::to_string(from) + " -> " + std::to_string(to) +
                              " outside 0.." + std::to_string(n == 0 ? 0 : n - 1));
    }
    if (reversed) {
      boost::add_edge(to, from, g);
    } else {
      boost::add_edge(from, to, g);
    }
  }
  return g;
}

struct InComponent {
  const std::vector<size_t>* component = nullptr;
  size_t which = 0;
  bool operator()(Vertex v) const { return (*component)[v] == which; }
};

// The shortest cycle through `start` that stays inside its strongly
// connected component: breadth-first from `start`, then the closest vertex
// with an edge back to `start` closes it.
std::vector<size_t> cycle_through(const Graph& g, const std::vector<size_t>& component, Vertex start) {
  const size_t n = boost::num_vertices(g);
  boost::filtered_graph<Graph, boost::keep_all, InComponent> sub(g, boost::keep_all(),
                                                                  InComponent{&component, component[start]});
  std::vector<Vertex> pred(n, std::numeric_limits<Vertex>::max());
  std::vector<size_t> dist(n, std::numeric_limits<size_t>::max());
  dist[start] = 0;
  pred[start] = start;
  boost::breadth_first_search(
      sub, start,
      boost::visitor(boost::make_bfs_visitor(std::make_pair(boost::record_predecessors(pred.data(), boost::on_tree_edge()),
                                                            boost::record_distances(dist.data(), boost::on_tree_edge())))));
  Vertex closer = std::numeric_limits<Vertex>::max();
  for (Vertex u = 0; u < n; ++u) {
    if (component[u] != component[start] || dist[u] == std::numeric_limits<size_t>::max()) continue;
    auto [it, end] = boost::out_edges(u, g);
    const bool back = std::any_of(it, end, [&](const auto& e) { return boost::target(e, g) == start; });
    if (back && (closer == std::numeric_limits<Vertex>::max() || dist[u] < dist[closer])) closer = u;
  }
  std::vector<size_t> path;
  for (Vertex v = closer; v != start; v = pred[v]) path.push_back(v);
  path.push_back(start);
  std::reverse(path.begin(), path.end());
  return path;
}

std::vector<std::vector<size_t>> cycles_of(const Graph& g) {
  const size_t n = boost::num_vertices(g);
  std::vector<size_t> component(n);
  const size_t count = n == 0 ? 0 : boost::strong_components(g, component.data());
  std::vector<size_t> size(count, 0);
  for (size_t c : component) ++size[c];
  std::vector<bool> reported(count, false);
  std::vector<std::vector<size_t>> cycles;
  // Ascending vertex order: the first vertex met of each component is its
  // lowest, which both starts its cycle and orders the cycles.
  for (Vertex v = 0; v < n; ++v) {
    const size_t c = component[v];
    if (reported[c]) continue;
    bool self_loop = false;
    if (size[c] == 1) {
      auto [it, end] = boost::out_edges(v, g);
      self_loop = std::any_of(it, end, [&](const auto& e) { return boost::target(e, g) == v; });
      if (!self_loop) continue;
    }
    reported[c] = true;
    cycles.push_back(self_loop ? std::vector<size_t>{v} : cycle_through(g, component, v));
  }
  return cycles;
}

std::string describe(const std::vector<std::vector<size_t>>& cycles) {
  std::string s = "graph has " + std::to_string(cycles.size()) + " cycle(s):";
  for (const auto& c : cycles) {
    s += " [";
    for (size_t v : c) s += std::to_string(v) + " -> ";
    s += std::to_string(c.front()) + "]";
  }
  return s;
}

}  // namespace

CycleError::CycleError(std::vector<std::vector<size_t>> cycles)
    : std::runtime_error(describe(cycles)), cycles_(std::move(cycles)) {}

std::vector<size_t> topological_order(size_t n, const std::vector<Edge>& edges) {
  const Graph g = build(n, edges, /*reversed=*/false);
  auto cycles = cycles_of(g);
  if (!cycles.empty()) throw CycleError(std::move(cycles));
  // topological_sort emits vertices in DFS finishing order. On the REVERSED
  // graph a vertex finishes right after all its predecessors, and the roots
  // are tried in ascending order, so the finishing order is a topological
  // order of the original graph that keeps file order where it can.
  const Graph r = build(n, edges, /*reversed=*/true);
  std::vector<size_t> order;
  order.reserve(n);
  boost::topological_sort(r, std::back_inserter(order));
  return order;
}

std::vector<std::vector<size_t>> find_cycles(size_t n, const std::vector<Edge>& edges) {
  return cycles_of(build(n, edges, /*reversed=*/false));
}

std::vector<size_t> unreachable_from(size_t n, const std::vector<Edge>& edges, const std::vector<size_t>& sources) {
  const Graph g = build(n, edges, /*reversed=*/false);
  for (size_t s : sources) {
    if (s >= n) throw std::out_of_range("graph: source " + std::to_string(s) + " outside the graph");
  }
  std::vector<boost::default_color_type> color(n, boost::white_color);
  if (!sources.empty()) {
    boost::queue<Vertex> buffer;
    auto color_map = boost::make_iterator_property_map(color.begin(), boost::get(boost::vertex_index, g));
    boost::breadth_first_search(g, sources.begin(), sources.end(), buffer, boost::default_bfs_visitor(), color_map);
  }
  std::vector<size_t> out;
  for (size_t v = 0; v < n; ++v) {
    if (color[v] == boost::white_color) out.push_back(v);
  }
  return out;
}

}  // namespace cascade::graph
