// The chain's sparse solves. The only file that includes Eigen.
//
// Shape of the work, per connected component C (counts.hpp):
//   1. number C's states 0..n-1 and build A = I - Q_C (sparse, from the
//      counts: Q_ij = count(i -> j) / observations(i)) and R_C's two columns;
//   2. factorise A once (SparseLU) and solve A B = R: B_S, B_F for all of C;
//   3. for each state i that needs a rewrite, solve A^T y = e_i: y is row i
//      of N, and the best target is argmax_{j != i} y_j R_jS.
//
// Why rows through the transposed system: rewrite(i) needs row i of N
// (N_ij for every j). A x = e_j gives a COLUMN of N (one target, all
// sources), so one source's argmax would need every column, i.e. all of N
// (n^2 numbers) in memory. A^T y = e_i gives exactly the row: one solve per
// source with the transposed factorisation shared, O(n) memory per row, and
// rows of states below the support threshold are skipped outright.
#include "chain/solve.hpp"

#include <Eigen/SparseCore>
#include <Eigen/SparseLU>

#include <string>

namespace cascade::rewriting {

namespace {

using SparseMatrix = Eigen::SparseMatrix<double, Eigen::ColMajor>;  // SparseLU wants column-major
using Vector = Eigen::VectorXd;

struct ComponentSystem {
  SparseMatrix a;  // I - Q
  Vector r_success, r_failure;
};

ComponentSystem build_system(const TransitionCounts& counts, const std::vector<uint32_t>& members,
                             const std::vector<uint32_t>& local) {
  const auto n = static_cast<Eigen::Index>(members.size());
  ComponentSystem sys{SparseMatrix(n, n), Vector::Zero(n), Vector::Zero(n)};
  std::vector<Eigen::Triplet<double>> entries;
  for (Eigen::Index i = 0; i < n; ++i) {
    const StateRow& row = counts.row(members[static_cast<size_t>(i)]);
    entries.emplace_back(i, i, 1.0);
    const uint64_t total = row.observations();
    if (total == 0) continue;  // never left: an identity row, no absorption (singular if reached)
    const double scale = 1.0 / static_cast<double>(total);
    for (const auto& [to, count] : row.to)
      entries.emplace_back(i, static_cast<Eigen::Index>(local[to]), -static_cast<double>(count) * scale);
    sys.r_success[i] = static_cast<double>(row.success) * scale;
    sys.r_failure[i] = static_cast<double>(row.failure) * scale;
  }
  sys.a.setFromTriplets(entries.begin(), entries.end());  // sums duplicates: a self-loop adds to the diagonal
  sys.a.makeCompressed();
  return sys;
}

void factorise(Eigen::SparseLU<SparseMatrix>& lu, const SparseMatrix& a, const TransitionCounts& counts,
               uint32_t first_state) {
  lu.compute(a);
  if (lu.info() != Eigen::Success)
    throw ChainError("the chain's component of '" + counts.name(first_state) +
                     "' cannot be solved: some of its states never reach success or failure (" + lu.lastErrorMessage() +
                     ")");
}

}  // namespace

ChainSolution solve_chain(const TransitionCounts& counts, const std::function<bool(uint32_t)>& need_row) {
  const Components components = connected_components(counts);
  ChainSolution out;
  out.components = components.count();
  out.states.resize(counts.size());

  std::vector<uint32_t> local(counts.size(), 0);  // state -> index within its component
  for (const auto& members : components.members) {
    for (size_t k = 0; k < members.size(); ++k) local[members[k]] = static_cast<uint32_t>(k);
    const ComponentSystem sys = build_system(counts, members, local);

    Eigen::SparseLU<SparseMatrix> lu;
    factorise(lu, sys.a, counts, members.front());
    const Vector b_success = lu.solve(sys.r_success);
    const Vector b_failure = lu.solve(sys.r_failure);
    for (size_t k = 0; k < members.size(); ++k) {
      StateSolution& s = out.states[members[k]];
      s.component = components.of[members[k]];
      s.success = b_success[static_cast<Eigen::Index>(k)];
      s.failure = b_failure[static_cast<Eigen::Index>(k)];
    }
    if (members.size() < 2) continue;  // no j != i to rewrite to

    const SparseMatrix a_transposed = sys.a.transpose();
    Eigen::SparseLU<SparseMatrix> lu_transposed;
    bool factorised = false;
    for (size_t i = 0; i < members.size(); ++i) {
      if (need_row && !need_row(members[i])) continue;
      if (!factorised) {
        factorise(lu_transposed, a_transposed, counts, members.front());
        factorised = true;
      }
      Vector unit = Vector::Zero(static_cast<Eigen::Index>(members.size()));
      unit[static_cast<Eigen::Index>(i)] = 1.0;
      const Vector n_row = lu_transposed.solve(unit);  // n_row[j] = N_ij
      StateSolution& s = out.states[members[i]];
      for (size_t j = 0; j < members.size(); ++j) {
        if (j == i) continue;
        const double carried = n_row[static_cast<Eigen::Index>(j)] * sys.r_success[static_cast<Eigen::Index>(j)];
        if (carried <= 0) continue;
        const bool better = s.best_target < 0 || carried > s.best_carried ||
                            (carried == s.best_carried &&
                             counts.name(members[j]) < counts.name(static_cast<uint32_t>(s.best_target)));
        if (better) s.best_target = members[j], s.best_carried = carried;
      }
    }
  }
  return out;
}

}  // namespace cascade::rewriting
