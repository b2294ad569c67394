// checker.hpp — a second opinion on a turn's request, built from the TRAIN
// requests only, for the learned isolator: what the production NLU cannot
// say about itself. Many NLU failures are confidently wrong (top intent at
// 0.98 and more), so the NLU's own confidence does not see them; a
// classifier that errs differently, and how far the request is from
// anything the models were trained on, may.
//
//   the request the NLU classified (its normalised "text") + the NLU's intent
//     --> the nearest TRAIN requests by TF-IDF cosine over word uni- and
//         bigrams: the best similarity, whether the nearest request has the
//         NLU's intent, that intent's share of the five nearest (a
//         classifier that errs differently from the NLU's fastText model)
//
// Tried and not kept (docs/results.md): a second fastText model with
// character n-grams and another seed, character trigrams in the nearest-
// request lookup, words out of the TRAIN vocabulary and a TRAIN
// word-bigram model's log-probability per word: none raised the
// cross-validated accuracy, and each cost throughput.
//
// The TRAIN file is the NLU's own training file ("__label__<intent> <text>"
// per line, train_fasttext.txt). No EVAL request is in it
// (plugins/language/data/README.md), so no checker has seen a request it
// is asked about in `cascade eval fpi`.
//
// Lifecycle: load() builds it once (the plugin's open()); immutable after.
// Threading: check() is const and keeps its scratch in thread_local
// buffers: any number of threads may call it at once.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace cascade::learned {

// NaN when the request has no word.
struct CheckerOpinion {
  double knn_similarity, knn_agrees, knn_intent_share;  // nearest TRAIN requests
};

class RequestChecker {
 public:
  // `train_path`: the TRAIN file. Throws std::runtime_error naming the
  // file (and line) and what is wrong with it.
  static std::unique_ptr<RequestChecker> load(const std::string& train_path);
  ~RequestChecker();

  // `text`: the request as the NLU read it (space-separated, normalised);
  // `intent`: the NLU's intent.
  CheckerOpinion check(std::string_view text, std::string_view intent) const;

  size_t requests() const { return doc_intent_.size(); }

 private:
  RequestChecker();
  void index(const std::vector<std::pair<std::string, std::string>>& examples);
  void nearest(std::string_view text, std::string_view intent, CheckerOpinion& o) const;

  // Nearest neighbours: feature hash -> its postings (request, TF-IDF weight).
  struct Feature {
    float idf = 0;
    std::vector<std::pair<uint32_t, float>> postings;
  };
  std::unordered_map<uint64_t, Feature> features_;
  float unseen_idf_ = 0;  // the idf of a feature no TRAIN request has
  std::vector<uint32_t> doc_intent_;
  std::unordered_map<std::string, uint32_t> intent_id_;

};

}  // namespace cascade::learned
