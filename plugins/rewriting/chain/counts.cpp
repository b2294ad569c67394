// Transition counts and connected components (union-find).
#include "chain/counts.hpp"

#include <numeric>
#include <stdexcept>
#include <string>
#include <utility>

namespace cascade::rewriting {

uint64_t StateRow::observations() const {
  uint64_t n = success + failure;
  for (const auto& [state, count] : to) n += count;
  return n;
}

uint32_t TransitionCounts::intern(std::string_view request) {
  auto [it, inserted] = ids_.try_emplace(std::string(request), static_cast<uint32_t>(names_.size()));
  if (inserted) {
    names_.emplace_back(request);
    rows_.emplace_back();
  }
  return it->second;
}

int64_t TransitionCounts::find(std::string_view request) const {
  auto it = ids_.find(std::string(request));
  return it == ids_.end() ? -1 : static_cast<int64_t>(it->second);
}

void TransitionCounts::add_transition(uint32_t from, uint32_t to, uint64_t count) {
  if (to >= rows_.size()) throw std::out_of_range("add_transition: state " + std::to_string(to) + " is not interned");
  rows_.at(from).to[to] += count;
}

void TransitionCounts::add_absorption(uint32_t from, Outcome outcome, uint64_t count) {
  auto& row = rows_.at(from);
  (outcome == Outcome::Success ? row.success : row.failure) += count;
}

void TransitionCounts::add(const Session& session) {
  if (session.requests.empty()) return;
  ++sessions_;
  uint32_t prev = intern(session.requests.front());
  for (size_t k = 1; k < session.requests.size(); ++k) {
    const uint32_t next = intern(session.requests[k]);
    add_transition(prev, next);
    prev = next;
  }
  add_absorption(prev, session.outcome);
}

namespace {

// Union-find with path halving and union by size.
class DisjointSets {
 public:
  explicit DisjointSets(size_t n) : parent_(n), size_(n, 1) { std::iota(parent_.begin(), parent_.end(), 0u); }
  uint32_t root(uint32_t x) {
    while (parent_[x] != x) x = parent_[x] = parent_[parent_[x]];
    return x;
  }
  void unite(uint32_t a, uint32_t b) {
    a = root(a), b = root(b);
    if (a == b) return;
    if (size_[a] < size_[b]) std::swap(a, b);
    parent_[b] = a;
    size_[a] += size_[b];
  }

 private:
  std::vector<uint32_t> parent_;
  std::vector<uint32_t> size_;
};

}  // namespace

Components connected_components(const TransitionCounts& counts) {
  const auto n = static_cast<uint32_t>(counts.size());
  DisjointSets sets(n);
  for (uint32_t s = 0; s < n; ++s)
    for (const auto& [to, count] : counts.row(s).to) sets.unite(s, to);

  Components c;
  c.of.assign(n, 0);
  std::vector<int64_t> component_of_root(n, -1);
  for (uint32_t s = 0; s < n; ++s) {  // ascending: components numbered by their smallest state
    const uint32_t r = sets.root(s);
    if (component_of_root[r] < 0) {
      component_of_root[r] = static_cast<int64_t>(c.members.size());
      c.members.emplace_back();
    }
    c.of[s] = static_cast<uint32_t>(component_of_root[r]);
    c.members[c.of[s]].push_back(s);
  }
  return c;
}

}  // namespace cascade::rewriting
