// `cascade rewrite index` as a function (index_build.hpp).
#include "rewrite/index_build.hpp"

#include "rewrite/sessions.hpp"

#include <map>
#include <set>
#include <sstream>
#include <stdexcept>

namespace cascade::rewriting {

IndexBuildResult build_online_index(const std::vector<std::filesystem::path>& traces, const IndexBuildOptions& options) {
  if (options.min_support < 1) throw std::invalid_argument("--min-support must be >= 1");
  IndexBuildResult out;
  struct Counts {
    uint64_t successes = 0;
    std::set<std::string> users;
  };
  std::map<std::string, Counts> global;
  std::map<std::pair<std::string, std::string>, uint64_t> personal;  // (user, text)
  for (const auto& path : traces) {
    const trace::TraceData data = trace::read_turns(path);
    out.damage.insert(out.damage.end(), data.damage.begin(), data.damage.end());
    for (const trace::Turn& turn : data.turns) {
      ++out.turns;
      const auto r = turn_request(turn);
      if (!r) continue;
      ++out.requests;
      if (r->rewrite) {
        ++out.rewritten;
        continue;
      }
      if (!r->success) continue;
      ++out.successes;
      Counts& g = global[r->request];
      g.successes += 1;
      if (!turn.id.user_id.empty()) {
        g.users.insert(turn.id.user_id);
        personal[{turn.id.user_id, r->request}] += 1;
      }
    }
  }
  out.index.min_support = options.min_support;
  for (const auto& [text, c] : global)
    if (c.successes >= options.min_support) out.index.global.push_back({text, c.successes, c.users.size()});
  for (const auto& [key, n] : personal) out.index.personal.push_back({key.first, key.second, n});
  return out;
}

std::string format_index_summary(const IndexBuildResult& r) {
  std::ostringstream o;
  o << "cascade rewrite index: " << r.turns << " turns, " << r.requests << " requests, " << r.successes
    << " successful, " << r.rewritten << " left out (a rewrite fired)\n";
  o << "  global: " << r.index.global.size() << " requests with >= " << r.index.min_support
    << " successes; personal: " << r.index.personal.size() << " (user, request) pairs\n";
  return o.str();
}

}  // namespace cascade::rewriting
