// cascade-rewrite-bench: per-turn latency of online rewriting at 100k
// indexed requests.
//
//   cascade-rewrite-bench --sentences build/data/assistant/train_sentences.txt
//       [--requests 100000] [--users 1000] [--queries 20000] [--seed 1]
//
// Shape of the work:
//   1. the indexed requests: the SLURP-derived training sentences, repeated
//      with seeded variations (a lead-in, a trailing word or place, a
//      number, two words swapped) until `requests` distinct texts; each
//      gets a success count; `users` users get 20 personal requests each;
//   2. the OnlineRewriter is built from them (the stage does the same in
//      open()); its build time is printed;
//   3. `queries` turns, half of them an indexed request with one word
//      misheard (a letter dropped or a vowel changed: the defective kind),
//      half clean (an indexed request, or two sentences' halves joined);
//      each decide() (the whole of the stage's process() but the copy of
//      the output) is timed with steady_clock and, because a shared
//      machine preempts, with the thread's CPU clock too;
//   4. p50, p90, p99 and max per turn, for all turns and for those that
//      triggered, plus trigger and rewrite rates and, on the misheard half,
//      how often the rewrite is the request before it was garbled.
// Nothing is asserted: the README holds the current table.
#include "online/rewriter.hpp"
#include "table/table.hpp"

#include <CLI/CLI.hpp>

#include <algorithm>
#include <chrono>
#include <ctime>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <random>
#include <sstream>
#include <unordered_set>

namespace rw = cascade::rewriting;

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

std::string vary(const std::string& base, std::mt19937_64& rng) {
  static const std::vector<std::string> kLead = {"please", "can you", "hey", "could you", "i want to", "quickly"};
  static const std::vector<std::string> kTail = {"please", "now", "today", "tonight", "in the kitchen", "for me",
                                                 "in the bedroom", "tomorrow", "again", "right now", "in london",
                                                 "in paris", "for two people", "at noon"};
  auto pick = [&](const std::vector<std::string>& v) { return v[std::uniform_int_distribution<size_t>(0, v.size() - 1)(rng)]; };
  auto w = words_of(base);
  switch (std::uniform_int_distribution<int>(0, 3)(rng)) {
    case 0: w.insert(w.begin(), pick(kLead)); break;
    case 1: w.push_back(pick(kTail)); break;
    case 2: w.push_back("at " + std::to_string(std::uniform_int_distribution<int>(1, 12)(rng)) + " pm"); break;
    default:
      if (w.size() >= 2) {
        const size_t i = std::uniform_int_distribution<size_t>(0, w.size() - 2)(rng);
        std::swap(w[i], w[i + 1]);
      }
      w.push_back(pick(kTail));
  }
  return join(w);
}

// One word misheard: a letter dropped or a vowel changed, in the longest word.
std::string garble(const std::string& text, std::mt19937_64& rng) {
  auto w = words_of(text);
  size_t longest = 0;
  for (size_t i = 0; i < w.size(); ++i)
    if (w[i].size() > w[longest].size()) longest = i;
  std::string& word = w[longest];
  if (word.size() < 4) return text + "z";
  if (std::uniform_int_distribution<int>(0, 1)(rng) == 0) {
    word.erase(std::uniform_int_distribution<size_t>(1, word.size() - 1)(rng), 1);
  } else {
    static constexpr std::string_view kVowels = "aeiou";
    for (size_t i = 1; i < word.size(); ++i)
      if (kVowels.find(word[i]) != std::string_view::npos) {
        word[i] = word[i] == 'a' ? 'e' : 'a';
        break;
      }
  }
  return join(w);
}

// This thread's CPU time: on a shared machine, wall time also counts the
// time slices other processes took (a preempted turn reads ~4 ms).
double cpu_us() {
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) * 1e6 + static_cast<double>(ts.tv_nsec) / 1e3;
}

struct Percentiles {
  double p50 = 0, p90 = 0, p99 = 0, max = 0;
};

Percentiles percentiles(std::vector<double> us) {
  if (us.empty()) return {};
  std::sort(us.begin(), us.end());
  const auto at = [&](double q) { return us[std::min(us.size() - 1, static_cast<size_t>(q * static_cast<double>(us.size())))]; };
  return {at(0.50), at(0.90), at(0.99), us.back()};
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"cascade-rewrite-bench: online rewriting latency per turn"};
  std::string sentences_path;
  size_t requests = 100000, users = 1000, queries = 20000;
  uint64_t seed = 1;
  app.add_option("--sentences", sentences_path, "build/data/assistant/train_sentences.txt")->required()->check(CLI::ExistingFile);
  app.add_option("--requests", requests, "Indexed requests")->capture_default_str();
  app.add_option("--users", users, "Users with a personal index")->capture_default_str();
  app.add_option("--queries", queries, "Timed turns")->capture_default_str();
  app.add_option("--seed", seed, "Seed")->capture_default_str();
  CLI11_PARSE(app, argc, argv);

  std::vector<std::string> base;
  {
    std::ifstream in(sentences_path);
    std::unordered_set<std::string> seen;
    for (std::string line; std::getline(in, line);) {
      std::string s = rw::canonical_request(line);
      if (!s.empty() && !s.starts_with("alexa ") && seen.insert(s).second) base.push_back(s);
    }
  }
  if (base.empty()) return std::cerr << "error: no sentences in " << sentences_path << "\n", 1;
  std::mt19937_64 rng(seed);
  rw::OnlineIndexFile file;
  {
    std::unordered_set<std::string> seen(base.begin(), base.end());
    std::vector<std::string> texts = base;
    for (size_t i = 0; texts.size() < requests && i < requests * 20; ++i) {
      std::string v = vary(base[i % base.size()], rng);
      if (seen.insert(v).second) texts.push_back(std::move(v));
    }
    if (texts.size() > requests) texts.resize(requests);
    std::sort(texts.begin(), texts.end());
    std::geometric_distribution<uint64_t> successes(0.2);
    for (auto& t : texts) file.global.push_back({std::move(t), 1 + successes(rng), 1});
    for (size_t u = 0; u < users; ++u)
      for (int k = 0; k < 20; ++k)
        file.personal.push_back({"u" + std::to_string(u),
                                 file.global[std::uniform_int_distribution<size_t>(0, file.global.size() - 1)(rng)].text,
                                 std::uniform_int_distribution<uint64_t>(1, 5)(rng)});
  }

  const auto built_at = std::chrono::steady_clock::now();
  const rw::OnlineRewriter rewriter(file, {});
  const double build_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - built_at).count();

  std::vector<double> all_us, triggered_us, cpu_us_all;
  size_t triggered = 0, rewritten = 0, garbled = 0, recovered = 0;
  for (size_t q = 0; q < queries; ++q) {
    const std::string& indexed = file.global[std::uniform_int_distribution<size_t>(0, file.global.size() - 1)(rng)].text;
    const bool defective = q % 2 == 0;
    std::string text;
    if (defective) {
      text = garble(indexed, rng);
    } else if (q % 4 == 1) {
      text = indexed;
    } else {  // two halves of different requests: new, but every word known
      const auto a = words_of(indexed), b = words_of(base[std::uniform_int_distribution<size_t>(0, base.size() - 1)(rng)]);
      text = join(std::vector<std::string>(a.begin(), a.begin() + static_cast<std::ptrdiff_t>((a.size() + 1) / 2))) + " " +
             join(std::vector<std::string>(b.begin() + static_cast<std::ptrdiff_t>(b.size() / 2), b.end()));
    }
    const std::string user = "u" + std::to_string(std::uniform_int_distribution<size_t>(0, users * 2)(rng));  // half unknown
    const double cpu_start = cpu_us();
    const auto start = std::chrono::steady_clock::now();
    const rw::RewriteDecision d = rewriter.decide(text, user);
    const double us = std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - start).count();
    const double cpu = cpu_us() - cpu_start;
    all_us.push_back(us);
    cpu_us_all.push_back(cpu);
    if (d.triggered) ++triggered, triggered_us.push_back(us);
    if (d.rewrite) ++rewritten;
    if (defective && text != indexed) {
      ++garbled;
      recovered += d.rewrite && d.best->text == indexed ? 1 : 0;
    }
  }
  const Percentiles all = percentiles(all_us), trig = percentiles(triggered_us), cpu = percentiles(cpu_us_all);
  std::printf("online rewriting: %zu indexed requests, %zu users x 20 personal, %zu turns (half misheard); index built in %.2f s\n",
              rewriter.size(), users, queries, build_s);
  std::printf("%-22s %8s %8s %8s %8s\n", "per turn (us)", "p50", "p90", "p99", "max");
  std::printf("%-22s %8.1f %8.1f %8.1f %8.1f\n", "all turns", all.p50, all.p90, all.p99, all.max);
  std::printf("%-22s %8.1f %8.1f %8.1f %8.1f\n", "triggered turns", trig.p50, trig.p90, trig.p99, trig.max);
  std::printf("%-22s %8.1f %8.1f %8.1f %8.1f\n", "all turns, thread CPU", cpu.p50, cpu.p90, cpu.p99, cpu.max);
  std::printf("triggered %.1f%%, rewritten %.1f%% of turns; misheard turns rewritten back to the indexed request: %.1f%%\n",
              100.0 * static_cast<double>(triggered) / static_cast<double>(queries),
              100.0 * static_cast<double>(rewritten) / static_cast<double>(queries),
              garbled ? 100.0 * static_cast<double>(recovered) / static_cast<double>(garbled) : 0.0);
  return 0;
}
