// The online rewriter: trigger, candidates, ranker (rewriter.hpp).
#include "online/rewriter.hpp"

#include "phonetic.hpp"
#include "table/table.hpp"

#include <algorithm>
#include <cmath>
#include <sstream>

namespace cascade::rewriting {

namespace {

std::vector<std::string> global_texts(const OnlineIndexFile& file) {
  std::vector<std::string> out;
  out.reserve(file.global.size());
  for (const auto& g : file.global) out.push_back(g.text);
  return out;
}

}  // namespace

OnlineRewriter::OnlineRewriter(const OnlineIndexFile& file, OnlineParams params)
    : params_(params), index_(global_texts(file)) {
  uint64_t most = 1;
  for (const auto& g : file.global) successes_.push_back(g.successes), most = std::max(most, g.successes);
  log_max_successes_ = std::log1p(static_cast<double>(most));
  for (const auto& p : file.personal) personal_[p.user][p.text] += p.successes;
}

RankedCandidate OnlineRewriter::rank(const std::string& query, const std::string& text, uint64_t global,
                                     uint64_t personal) const {
  RankedCandidate c;
  c.text = text;
  c.global_successes = global;
  c.personal_successes = personal;
  c.cosine = index_.cosine(query, text);
  c.phonetic = phonetic::similarity(query, text);
  c.similarity = params_.text_weight * c.cosine + (1 - params_.text_weight) * c.phonetic;
  c.support = log_max_successes_ > 0 ? std::log1p(static_cast<double>(global)) / log_max_successes_ : 0;
  c.personal = personal >= params_.personal_min ? std::min(1.0, static_cast<double>(personal) / params_.personal_full) : 0;
  c.score = params_.w_similarity * c.similarity + params_.w_support * c.support + params_.w_personal * c.personal;
  return c;
}

namespace {

// The first defect signal the turn shows, or "" (TurnSignals).
std::string signalled_defect(const TurnSignals& s, const OnlineParams& p) {
  if (s.result_ok && !*s.result_ok) return "result";
  if (s.unresolved > 0) return "unresolved";
  if (s.nlu_confidence && *s.nlu_confidence < p.nlu_min_confidence) return "nlu_confidence";
  if (s.intent && s.slots == 0 && p.slot_intents.contains(*s.intent)) return "missing_slot";
  if (s.asr_confidence && *s.asr_confidence < p.asr_min_confidence) return "asr_confidence";
  return "";
}

}  // namespace

RewriteDecision OnlineRewriter::decide(std::string_view text, std::string_view user, const TurnSignals& signals) const {
  RewriteDecision d;
  const std::string query = canonical_request(text);
  if (query.empty()) return d;
  const auto mine = personal_.find(std::string(user));
  const auto personal_of = [&](const std::string& t) -> uint64_t {
    if (mine == personal_.end()) return 0;
    const auto it = mine->second.find(t);
    return it == mine->second.end() ? 0 : it->second;
  };
  // The trigger.
  const bool known = index_.find(query) >= 0 || personal_of(query) > 0;
  std::istringstream in(query);
  size_t words = 0, unknown = 0;
  for (std::string w; in >> w; ++words) unknown += index_.knows_word(w) ? 0 : 1;
  d.oov = words == 0 ? 0 : static_cast<double>(unknown) / static_cast<double>(words);
  if (signals.any()) {
    d.trigger = signalled_defect(signals, params_);
    // A known successful request with only a low confidence against it is
    // more likely right than any neighbour.
    const bool failed_here = d.trigger == "result" || d.trigger == "unresolved";
    if (d.trigger.empty() || (known && !failed_here)) return d;
  } else {
    if (known || unknown == 0 || d.oov < params_.oov_min) return d;
    d.trigger = "unknown_word";
  }
  d.triggered = true;

  // Candidates, ranked.
  std::vector<uint32_t> docs;
  for (const auto& hit : index_.search(query, params_.candidates)) docs.push_back(hit.doc);
  for (const uint32_t doc : index_.same_sound(query)) docs.push_back(doc);
  std::sort(docs.begin(), docs.end());
  docs.erase(std::unique(docs.begin(), docs.end()), docs.end());
  const auto better = [](const RankedCandidate& a, const RankedCandidate& b) {
    return a.score != b.score ? a.score > b.score : a.text < b.text;
  };
  // Only candidates similar enough to be a rewrite compete: a dissimilar request the
  // user says often must not outrank, and so block, a similar one.
  const auto consider = [&](RankedCandidate c) {
    if (c.similarity < params_.min_similarity || c.text == query) return;
    if (!d.best || better(c, *d.best)) d.best = std::move(c);
  };
  for (const uint32_t doc : docs) consider(rank(query, index_.text(doc), successes_[doc], personal_of(index_.text(doc))));
  if (mine != personal_.end())
    for (const auto& [t, n] : mine->second) {
      if (n < params_.personal_min) continue;  // no evidence
      const int64_t doc = index_.find(t);
      consider(rank(query, t, doc >= 0 ? successes_[static_cast<size_t>(doc)] : 0, n));
    }
  d.rewrite = d.best && d.best->text != query && d.best->score >= params_.min_score;
  return d;
}

}  // namespace cascade::rewriting
