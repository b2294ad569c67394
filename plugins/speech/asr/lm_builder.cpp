#include "lm_builder.hpp"

#include <cmath>
#include <cstdio>
#include <functional>
#include <map>
#include <set>
#include <stdexcept>

namespace cascade::speech {

namespace {
using Gram = std::vector<std::string>;

struct Context {
  double count = 0;      // c(h): times h was followed by anything
  double followers = 0;  // T(h): distinct words that followed h
};

std::string fmt(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.6f", v);
  return buf;
}
}  // namespace

ArpaModel build_arpa(const std::vector<std::vector<std::string>>& sentences, int order, const Background& background) {
  if (order < 1 || order > 5) throw std::invalid_argument("LM order must be 1..5");
  const double b = background.weight;
  if (!(b >= 0.0 && b < 1.0)) throw std::invalid_argument("background weight must be in [0, 1)");
  std::map<std::string, double> bg;  // word -> renormalised probability
  if (b > 0.0) {
    double z = 0;
    for (const auto& [w, p] : background.unigrams) {
      if (!(p > 0.0 && std::isfinite(p))) throw std::invalid_argument("background probability of '" + w + "' is not positive");
      if (w.empty() || w == "<s>" || w == "</s>") continue;
      if (bg.emplace(w, p).second) z += p;
    }
    for (auto& [w, p] : bg) p /= z;
  }
  const auto n_max = static_cast<size_t>(order);
  // counts[k][gram] for grams of length k+1; contexts[k][h] for histories of length k+1.
  std::vector<std::map<Gram, double>> counts(n_max);
  std::vector<std::map<Gram, Context>> contexts(n_max);
  std::set<std::string> vocab;
  for (const auto& s : sentences) {
    if (s.empty()) continue;
    Gram toks;
    toks.reserve(s.size() + 2);
    toks.emplace_back("<s>");
    for (const auto& w : s) {
      toks.push_back(w);
      vocab.insert(w);
    }
    toks.emplace_back("</s>");
    for (size_t i = 1; i < toks.size(); ++i) {  // every predicted token (not <s>)
      for (size_t n = 1; n <= n_max && n <= i + 1; ++n) {
        Gram g(toks.begin() + static_cast<long>(i + 1 - n), toks.begin() + static_cast<long>(i + 1));
        counts[n - 1][g] += 1;
      }
    }
  }
  if (vocab.empty()) throw std::invalid_argument("no words in the training sentences");
  for (size_t n = 2; n <= n_max; ++n) {
    for (const auto& [g, c] : counts[n - 1]) {
      Context& ctx = contexts[n - 2][Gram(g.begin(), g.end() - 1)];
      ctx.count += c;
      ctx.followers += 1;
    }
  }

  // Probabilities order by order; prob(h, w) backs off through stored values.
  std::vector<std::map<Gram, double>> probs(n_max);
  double n1 = 0;
  for (const auto& [g, c] : counts[0]) n1 += c;
  const double types = static_cast<double>(counts[0].size());  // vocab + </s>
  for (const auto& [g, c] : counts[0]) probs[0][g] = (1.0 - b) * (c + types * (1.0 / types)) / (n1 + types);
  for (const auto& [w, p] : bg) probs[0][Gram{w}] += b * p;

  auto alpha = [&](const Gram& h) -> double {
    if (h.empty() || h.size() > contexts.size()) return 1.0;
    auto it = contexts[h.size() - 1].find(h);
    if (it == contexts[h.size() - 1].end()) return 1.0;
    return it->second.followers / (it->second.count + it->second.followers);
  };
  // P(w | h) as an ARPA reader would compute it from what is stored so far.
  std::function<double(const Gram&, const std::string&)> prob = [&](const Gram& h, const std::string& w) -> double {
    Gram g = h;
    g.push_back(w);
    if (auto it = probs[g.size() - 1].find(g); it != probs[g.size() - 1].end()) return it->second;
    if (h.empty()) return 0.0;  // unreachable: every predicted word is a unigram
    return alpha(h) * prob(Gram(h.begin() + 1, h.end()), w);
  };
  for (size_t n = 2; n <= n_max; ++n) {
    for (const auto& [g, c] : counts[n - 1]) {
      const Gram h(g.begin(), g.end() - 1);
      const Context& ctx = contexts[n - 2].at(h);
      const double lower = prob(Gram(h.begin() + 1, h.end()), g.back());
      probs[n - 1][g] = (c + ctx.followers * lower) / (ctx.count + ctx.followers);
    }
  }

  ArpaModel m;
  m.domain_words = vocab.size();
  for (const auto& [w, p] : bg) vocab.insert(w);
  m.vocab.assign(vocab.begin(), vocab.end());
  // <s> is a unigram (a history) with no probability of its own.
  probs[0][Gram{"<s>"}] = 0.0;
  m.counts.resize(n_max);
  for (size_t n = 0; n < n_max; ++n) m.counts[n] = probs[n].size();

  std::string& out = m.text;
  out += "\\data\\\n";
  for (size_t n = 0; n < n_max; ++n) out += "ngram " + std::to_string(n + 1) + "=" + std::to_string(m.counts[n]) + "\n";
  for (size_t n = 0; n < n_max; ++n) {
    out += "\n\\" + std::to_string(n + 1) + "-grams:\n";
    for (const auto& [g, p] : probs[n]) {
      out += p > 0.0 ? fmt(std::log10(p)) : std::string("-99");
      for (const auto& w : g) out += " " + w;
      if (n + 1 < n_max) {
        auto it = contexts[n].find(g);
        if (it != contexts[n].end()) out += " " + fmt(std::log10(alpha(g)));
      }
      out += "\n";
    }
  }
  out += "\n\\end\\\n";
  return m;
}

}  // namespace cascade::speech
