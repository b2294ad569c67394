// `cascade rewrite build` as a function (build.hpp).
#include "rewrite/build.hpp"

#include "rewrite/sessions.hpp"

#include <cmath>
#include <sstream>
#include <stdexcept>

namespace cascade::rewriting {

BuildResult build_rewrites(const std::vector<std::filesystem::path>& traces, const BuildOptions& options) {
  if (!std::isfinite(options.session_gap_s) || options.session_gap_s < 0)
    throw std::invalid_argument("--session-gap-s must be a number of seconds >= 0");
  BuildResult out;
  std::vector<TurnRequest> requests;
  for (const auto& path : traces) {
    const trace::TraceData data = trace::read_turns(path);
    out.damage.insert(out.damage.end(), data.damage.begin(), data.damage.end());
    for (const trace::Turn& turn : data.turns) {
      ++out.turns;
      if (auto r = turn_request(turn)) requests.push_back(std::move(*r));
    }
  }
  out.requests = requests.size();

  SessionSplit split = split_sessions(std::move(requests), options.session_gap_s);
  TransitionCounts counts;
  for (const Session& s : split.evidence) counts.add(s);
  ChainSolution solution;
  out.selection = select_rewrites(counts, options.thresholds, &solution);

  RewriteTable& t = out.table;
  t.min_gain = options.thresholds.min_gain;
  t.min_support = options.thresholds.min_support;
  t.session_gap_s = options.session_gap_s;
  t.sessions = counts.sessions();
  t.held_out_sessions = split.held_out_sessions;
  t.states = counts.size();
  t.components = solution.components;
  for (const Rewrite& r : out.selection.kept)
    t.rewrites.push_back(
        TableEntry{r.from, r.to, r.from_support, r.to_support, r.from_success, r.to_success, r.carried});
  t.deployed = std::move(split.deployed);
  return out;
}

std::string format_summary(const BuildResult& r) {
  const RewriteTable& t = r.table;
  std::ostringstream o;
  o << "cascade rewrite build: " << r.turns << " turns, " << r.requests << " requests, " << t.sessions
    << " sessions as evidence, " << t.held_out_sessions << " held out (a deployed rewrite fired)\n";
  o << "  chain: " << t.states << " states, " << t.components << " components\n";
  o << "  rewrites: " << t.rewrites.size() << " kept of " << r.selection.candidates << " candidates ("
    << r.selection.below_support << " below support " << t.min_support << ", " << r.selection.below_gain
    << " below gain " << t.min_gain << ")\n";
  for (const DeployedTally& d : t.deployed)
    o << "  deployed, not evidence: '" << d.from << "' -> '" << d.to << "' (" << d.rewritten_by << "): "
      << d.successes << " of " << d.sessions << " sessions succeeded\n";
  return o.str();
}

}  // namespace cascade::rewriting
