// The seeded dialogue generator (generate.hpp).
#include "eval/generate.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <array>
#include <cstdio>
#include <random>
#include <sstream>
#include <stdexcept>

namespace cascade::feedback::eval {

namespace {

std::vector<std::string> words_of(const std::string& s) {
  std::istringstream in(s);
  std::vector<std::string> out;
  for (std::string w; in >> w;) out.push_back(w);
  return out;
}

std::string join(const std::vector<std::string>& w) {
  std::string out;
  for (const auto& x : w) out += (out.empty() ? "" : " ") + x;
  return out;
}

class Generator {
 public:
  Generator(const std::vector<std::string>& sentences, uint64_t seed) : sentences_(sentences), rng_(seed) {
    if (sentences_.empty()) throw std::invalid_argument("no usable sentences");
  }

  double uniform(double lo, double hi) { return std::uniform_real_distribution<double>(lo, hi)(rng_); }
  size_t index(size_t n) { return std::uniform_int_distribution<size_t>(0, n - 1)(rng_); }
  std::string any_sentence() { return sentences_[index(sentences_.size())]; }

  // Another sentence with the same first word, else any other.
  std::string close_sentence(const std::string& to) {
    const auto first = words_of(to).front();
    for (int tries = 0; tries < 200; ++tries) {
      std::string s = any_sentence();
      if (s != to && words_of(s).front() == first) return s;
    }
    return any_sentence();
  }

  std::string rephrase(const std::string& text) {
    for (int tries = 0; tries < 20; ++tries) {
      auto w = words_of(text);
      const int edits = 1 + static_cast<int>(index(2));
      for (int e = 0; e < edits; ++e) edit(w);
      std::string out = join(w);
      if (out != text && !out.empty()) return out;
    }
    return "i said " + text;
  }

  std::string negative() {
    static constexpr std::array<const char*, 8> kNegatives = {"no", "stop", "that's wrong", "cancel", "no that's not it",
                                                              "never mind", "no i said something else", "stop it"};
    return kNegatives[index(kNegatives.size())];
  }

 private:
  void edit(std::vector<std::string>& w) {
    static constexpr std::array<const char*, 4> kLeadIns = {"can you", "could you", "i said", "i want to"};
    static constexpr std::string_view kVowels = "aeiou";
    switch (index(5)) {
      case 0: w.insert(w.begin(), kLeadIns[index(kLeadIns.size())]); break;
      case 1: w.emplace_back("please"); break;
      case 2:
        if (w.size() >= 3) w.erase(w.begin() + static_cast<std::ptrdiff_t>(index(w.size())));
        break;
      case 3:
        if (w.size() >= 2) {
          const size_t i = index(w.size() - 1);
          std::swap(w[i], w[i + 1]);
        }
        break;
      default: {  // a misheard vowel inside a word
        std::string& word = w[index(w.size())];
        for (size_t i = 1; i < word.size(); ++i)
          if (kVowels.find(word[i]) != std::string_view::npos) {
            char v = word[i];
            while (v == word[i]) v = kVowels[index(kVowels.size())];
            word[i] = v;
            break;
          }
      }
    }
  }

  const std::vector<std::string>& sentences_;
  std::mt19937_64 rng_;
};

}  // namespace

std::vector<std::string> usable_sentences(const std::vector<std::string>& lines) {
  static constexpr std::array<std::string_view, 6> kWake = {"alexa", "siri", "google", "hey", "ok", "okay"};
  std::vector<std::string> out;
  for (const auto& line : lines) {
    const auto w = words_of(line);
    if (w.size() < 2 || std::find(kWake.begin(), kWake.end(), w.front()) != kWake.end()) continue;
    out.push_back(join(w));
  }
  return out;
}

std::vector<GeneratedTurn> generate(const std::vector<std::string>& sentences, uint64_t seed, uint32_t dialogues) {
  if (dialogues > 2000) throw std::invalid_argument("at most 2000 dialogues (their times must fit in a day)");
  Generator g(sentences, seed);
  std::vector<GeneratedTurn> out;
  for (uint32_t d = 0; d < dialogues; ++d) {
    char id[32];
    std::snprintf(id, sizeof id, "g%05u", d);
    const size_t n = 2 + g.index(5);
    double t = 9 * 3600.0 + d * 5.0;
    std::string text = g.any_sentence();
    bool said_negative = false;
    for (size_t i = 0; i < n; ++i) {
      GeneratedTurn turn{id, "u" + std::to_string(d % 50), static_cast<uint32_t>(i), t, text, {}};
      out.push_back(turn);
      if (i + 1 == n) break;
      const std::string last = text;
      // After a negative the user asks something new: a repeated "no" is not what is measured.
      const double r = said_negative ? 0.0 : g.uniform(0, 1);
      double gap = 0;
      std::string truth;
      bool long_pause = false;
      if (r < 0.30) {
        text = g.any_sentence(), gap = g.uniform(12, 40);
      } else if (r < 0.40) {
        text = g.close_sentence(last), gap = g.uniform(12, 40);
      } else if (r < 0.60) {
        text = g.rephrase(last), gap = g.uniform(5, 20), truth = "rephrased";
      } else if (r < 0.75) {
        gap = g.uniform(5, 15), truth = "repeat";
      } else if (r < 0.90) {
        text = g.negative(), gap = g.uniform(4, 8), truth = "explicit_negative";
      } else {
        gap = g.uniform(400, 900), long_pause = true;
      }
      said_negative = truth == "explicit_negative";
      if (!truth.empty()) out.back().truth.insert(truth);
      if (!long_pause && g.uniform(0, 1) < 0.2) gap = g.uniform(0.1, 1.0), out.back().truth.insert("barge_in");
      t += gap;
    }
  }
  return out;
}

std::string timestamp(double time_s) {
  const auto millis = static_cast<int64_t>(time_s * 1000 + 0.5);
  const int64_t s = millis / 1000;
  if (s >= 86400) throw std::invalid_argument("a generated time runs past the day");
  char buf[40];
  std::snprintf(buf, sizeof buf, "2026-01-15T%02d:%02d:%02d.%03dZ", static_cast<int>(s / 3600), static_cast<int>(s / 60 % 60),
                static_cast<int>(s % 60), static_cast<int>(millis % 1000));
  return buf;
}

std::string to_jsonl(const std::vector<GeneratedTurn>& turns) {
  std::string out;
  for (const auto& t : turns)
    out += nlohmann::json{{"dialogue_id", t.dialogue_id},
                          {"user_id", t.user_id},
                          {"turn_index", t.turn_index},
                          {"timestamp", timestamp(t.time_s)},
                          {"payload", {{"text", "alexa " + t.text}}}}
               .dump() +
           "\n";
  return out;
}

}  // namespace cascade::feedback::eval
