// The 3-gram TF-IDF inverted index (ngram_index.hpp).
#include "online/ngram_index.hpp"

#include "phonetic.hpp"

#include <algorithm>
#include <cmath>
#include <sstream>

namespace cascade::rewriting {

namespace {

constexpr double kRareFraction = 0.01;  // grams in at most 1% of documents walk their postings,
constexpr size_t kMinWalked = 4;        // ...and at least the query's four rarest,
constexpr size_t kPostingBudget = 20000;  // ...until this many postings were walked (after the rarest)
constexpr size_t kRerank = 64;          // candidates rescored exactly

uint32_t pack(const char* g) {
  return static_cast<uint32_t>(static_cast<unsigned char>(g[0])) << 16 |
         static_cast<uint32_t>(static_cast<unsigned char>(g[1])) << 8 | static_cast<unsigned char>(g[2]);
}

// Gram counts of a text, by packed gram, sorted.
std::vector<std::pair<uint32_t, float>> gram_counts(std::string_view text) {
  const std::string padded = " " + std::string(text) + " ";
  std::vector<uint32_t> grams;
  for (size_t i = 0; i + 3 <= padded.size(); ++i) grams.push_back(pack(padded.data() + i));
  std::sort(grams.begin(), grams.end());
  std::vector<std::pair<uint32_t, float>> out;
  for (const uint32_t g : grams) {
    if (!out.empty() && out.back().first == g) out.back().second += 1;
    else out.emplace_back(g, 1.0f);
  }
  return out;
}

void normalise(std::vector<std::pair<uint32_t, float>>& v) {
  double norm = 0;
  for (const auto& [id, w] : v) norm += static_cast<double>(w) * w;
  norm = std::sqrt(norm);
  if (norm > 0)
    for (auto& [id, w] : v) w = static_cast<float>(w / norm);
}

}  // namespace

std::string NgramIndex::phonetic_key(std::string_view text) {
  std::string key;
  for (const auto& c : phonetic::codes(text)) key += (key.empty() ? "" : " ") + c;
  return key;
}

NgramIndex::NgramIndex(std::vector<std::string> documents) : documents_(std::move(documents)) {
  // Pass 1: gram ids and document frequencies.
  std::vector<std::vector<std::pair<uint32_t, float>>> counts(documents_.size());
  std::vector<uint32_t> df;
  for (uint32_t d = 0; d < documents_.size(); ++d) {
    by_text_.emplace(documents_[d], d);
    by_sound_[phonetic_key(documents_[d])].push_back(d);
    std::istringstream words(documents_[d]);
    for (std::string w; words >> w;) words_.insert(w);
    counts[d] = gram_counts(documents_[d]);
    for (auto& [gram, count] : counts[d]) {
      const auto [it, added] = gram_ids_.emplace(gram, static_cast<uint32_t>(df.size()));
      if (added) df.push_back(0);
      df[it->second] += 1;
      gram = it->second;  // from here on: the gram id
    }
  }
  const double n = static_cast<double>(documents_.size());
  idf_.resize(df.size());
  for (size_t g = 0; g < df.size(); ++g) idf_[g] = static_cast<float>(std::log((1 + n) / (1 + df[g])) + 1);
  unseen_idf_ = static_cast<float>(std::log(1 + n) + 1);
  rare_df_ = static_cast<size_t>(kRareFraction * n);
  // Pass 2: weighted, normalised vectors and the postings.
  postings_.resize(df.size());
  vectors_.resize(documents_.size());
  for (uint32_t d = 0; d < documents_.size(); ++d) {
    auto& v = counts[d];
    for (auto& [gram, w] : v) w *= idf_[gram];
    normalise(v);
    std::sort(v.begin(), v.end());
    for (const auto& [gram, w] : v) {
      vectors_[d].push_back({gram, w});
      postings_[gram].push_back({d, w});
    }
  }
}

NgramIndex::Vector NgramIndex::vectorize(std::string_view text) const {
  auto v = gram_counts(text);
  // Unseen grams get ids past the known ones: they count in the norm and match no document.
  uint32_t unseen = static_cast<uint32_t>(idf_.size());
  for (auto& [gram, w] : v) {
    const auto it = gram_ids_.find(gram);
    if (it != gram_ids_.end()) gram = it->second, w *= idf_[it->second];
    else gram = unseen++, w *= unseen_idf_;
  }
  normalise(v);
  std::sort(v.begin(), v.end());
  Vector out;
  out.reserve(v.size());
  for (const auto& [gram, w] : v) out.push_back({gram, w});
  return out;
}

double NgramIndex::cosine(std::string_view a, std::string_view b) const {
  if (a.empty() || b.empty()) return 0;
  // Compared by packed gram, not gram id: grams neither text shares with the index still match.
  auto ga = gram_counts(a), gb = gram_counts(b);
  const auto weigh = [&](std::vector<std::pair<uint32_t, float>>& v) {
    for (auto& [gram, w] : v) {
      const auto it = gram_ids_.find(gram);
      w *= it != gram_ids_.end() ? idf_[it->second] : unseen_idf_;
    }
    normalise(v);
  };
  weigh(ga);
  weigh(gb);
  double sum = 0;
  size_t i = 0, j = 0;
  while (i < ga.size() && j < gb.size()) {
    if (ga[i].first < gb[j].first) ++i;
    else if (gb[j].first < ga[i].first) ++j;
    else sum += static_cast<double>(ga[i++].second) * gb[j++].second;
  }
  return std::min(1.0, sum);
}

std::vector<NgramIndex::Hit> NgramIndex::search(std::string_view query, size_t k) const {
  std::vector<Hit> out;
  if (query.empty() || documents_.empty() || k == 0) return out;
  const Vector q = vectorize(query);
  // The grams that walk their postings: the rare ones, at least the kMinWalked rarest known.
  std::vector<const Entry*> known;
  for (const Entry& e : q)
    if (e.id < postings_.size()) known.push_back(&e);
  std::sort(known.begin(), known.end(),
            [&](const Entry* a, const Entry* b) { return postings_[a->id].size() < postings_[b->id].size(); });
  thread_local std::vector<float> partial;
  thread_local std::vector<uint32_t> touched;
  if (partial.size() < documents_.size()) partial.assign(documents_.size(), 0.0f);
  touched.clear();
  size_t walked = 0;
  for (size_t n = 0; n < known.size(); ++n) {
    const Vector& list = postings_[known[n]->id];
    if (n >= kMinWalked && list.size() > rare_df_) break;
    if (n >= 1 && walked + list.size() > kPostingBudget) break;
    walked += list.size();
    for (const Entry& p : list) {
      if (partial[p.id] == 0.0f) touched.push_back(p.id);
      partial[p.id] += known[n]->weight * p.weight;
    }
  }
  // Rerank the best partial scores exactly.
  const size_t keep = std::min(touched.size(), kRerank);
  const auto higher = [&](uint32_t a, uint32_t b) { return partial[a] != partial[b] ? partial[a] > partial[b] : a < b; };
  if (keep < touched.size())
    std::nth_element(touched.begin(), touched.begin() + static_cast<std::ptrdiff_t>(keep), touched.end(), higher);
  for (size_t n = 0; n < keep; ++n) {
    const Vector& d = vectors_[touched[n]];
    double sum = 0;
    size_t i = 0, j = 0;
    while (i < q.size() && j < d.size()) {
      if (q[i].id < d[j].id) ++i;
      else if (d[j].id < q[i].id) ++j;
      else sum += static_cast<double>(q[i++].weight) * d[j++].weight;
    }
    out.push_back({touched[n], std::min(1.0, sum)});
  }
  for (const uint32_t d : touched) partial[d] = 0.0f;
  std::sort(out.begin(), out.end(), [](const Hit& a, const Hit& b) { return a.cosine != b.cosine ? a.cosine > b.cosine : a.doc < b.doc; });
  if (out.size() > k) out.resize(k);
  return out;
}

const std::vector<uint32_t>& NgramIndex::same_sound(std::string_view query) const {
  static const std::vector<uint32_t> kNone;
  const auto it = by_sound_.find(phonetic_key(query));
  return it == by_sound_.end() ? kNone : it->second;
}

int64_t NgramIndex::find(std::string_view text) const {
  const auto it = by_text_.find(std::string(text));
  return it == by_text_.end() ? int64_t{-1} : static_cast<int64_t>(it->second);
}

}  // namespace cascade::rewriting
