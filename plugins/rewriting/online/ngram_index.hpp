// rewriting/online/ngram_index.hpp — retrieval for online rewriting: a
// character 3-gram TF-IDF index with an inverted file, and a phonetic key
// index (Soundex per word, plugins/analyzers/feedback/phonetic.hpp).
//
// Weights: a text is padded with one space at each end and cut into its
// overlapping 3-byte grams; a gram's weight is tf * idf with idf =
// ln((1 + N) / (1 + df)) + 1 (N documents, df documents holding it); each
// vector is L2-normalised, so a dot product is the cosine.
//
// Search: the query's grams, rarest first, walk their postings and
// accumulate partial dot products: those held by at most 1% of the
// documents, and at least the four rarest, while the postings walked stay
// under 20000 (the rarest gram always walks); the best 64 candidates then
// get their exact cosine from the stored document vectors. So a document that
// shares only very common grams with the query ("the", " pl") is never a
// candidate: such a document is not similar enough to rewrite to anyway,
// and skipping those postings is what keeps a search well under a
// millisecond at 100k documents (README.md, the benchmark). An
// approximate index (HNSW, Debian's libhnswlib-dev) was not needed: the
// exact inverted file meets the budget (the benchmark says by how much).
//
// Lifecycle/threading: built once (constructor), then const: any number of
// threads may search at once (the scratch space is thread_local).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>
#include <vector>

namespace cascade::rewriting {

class NgramIndex {
 public:
  // `documents` in canonical_request() form; document i keeps index i.
  explicit NgramIndex(std::vector<std::string> documents);

  struct Hit {
    uint32_t doc = 0;
    double cosine = 0;
  };
  // Up to k documents by decreasing TF-IDF cosine (ties: lower index first).
  [[nodiscard]] std::vector<Hit> search(std::string_view query, size_t k) const;
  // The TF-IDF cosine of two texts under this index's idf (neither need be indexed).
  [[nodiscard]] double cosine(std::string_view a, std::string_view b) const;
  // Documents whose words have exactly the query's Soundex codes, in order.
  [[nodiscard]] const std::vector<uint32_t>& same_sound(std::string_view query) const;
  // The document equal to `text`, or -1.
  [[nodiscard]] int64_t find(std::string_view text) const;
  [[nodiscard]] bool knows_word(std::string_view word) const { return words_.count(std::string(word)) != 0; }
  [[nodiscard]] const std::string& text(uint32_t doc) const { return documents_[doc]; }
  [[nodiscard]] size_t size() const { return documents_.size(); }

  static std::string phonetic_key(std::string_view text);

 private:
  struct Entry {
    uint32_t id = 0;  // a gram id (vectors) or a document (postings)
    float weight = 0;
  };
  using Vector = std::vector<Entry>;  // sorted by id

  [[nodiscard]] Vector vectorize(std::string_view text) const;

  std::vector<std::string> documents_;
  std::unordered_map<std::string, uint32_t> by_text_;
  std::unordered_map<uint32_t, uint32_t> gram_ids_;  // packed 3 bytes -> gram id
  std::vector<float> idf_;
  float unseen_idf_ = 1;
  std::vector<Vector> postings_;  // by gram id
  std::vector<Vector> vectors_;   // by document
  size_t rare_df_ = 0;
  std::unordered_map<std::string, std::vector<uint32_t>> by_sound_;
  std::unordered_set<std::string> words_;
};

}  // namespace cascade::rewriting
