// cascade-feedback-eval: precision and recall of the feedback analyzer
// against ground truth (`cascade feedback-eval` execs this). Two sources:
//
//   cascade feedback-eval --sim DIR
//       the simulator's run (`cascade simulate ... --out DIR`: DIR/trace.cas
//       and DIR/truth.jsonl, what each simulated user did next);
//   cascade feedback-eval --sentences build/data/assistant/train_sentences.txt
//       [--pipeline pipelines/assistant-text.toml] [--dialogues 300] [--seed 1]
//       this tool's own generated dialogues (generate.hpp), which also
//       carry explicit negatives, run through the text assistant.
//   Both: [--work-dir DIR] [--min-f1 0] [--json]
//
// Shape of the work:
//   1. the trace and its truth: the simulator's, or generate + `cascade run
//      PIPELINE -i turns.jsonl --trace trace.cas` (the real assistant
//      answers, so outcomes and response lengths are real);
//   2. `cascade isolate trace.cas --isolator feedback -o analysis.jsonl`;
//   3. per signal: a turn is a true positive when the analyzer's evidence
//      "signals" has it and the truth says it; print the table.
// Truth per turn, from the simulator: its `next` ("rephrase" -> rephrased,
// "repeat" -> repeat, "give_up" -> abandoned), the next turn's `barge_in`
// -> barge_in, the judged `success` -> success; `retry` is rephrased or
// repeat on both sides (a simulated repeat is the same words SAID, which
// the ASR may hear differently: the analyzer then sees a rephrase).
// Exit codes: 0 ok, 1 a step failed or a signal's F1 is below --min-f1,
// 2 usage. The cascade binary is the one beside this one.
#include "eval/generate.hpp"

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include <spawn.h>
#include <sys/wait.h>
#include <fcntl.h>
#include <unistd.h>

#include <array>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <set>
#include <stdexcept>

namespace fs = std::filesystem;
namespace ev = cascade::feedback::eval;
using nlohmann::json;

extern char** environ;

namespace {

constexpr int kOk = 0, kFailure = 1, kUsage = 2;
using Truth = std::map<std::pair<std::string, uint32_t>, std::set<std::string>>;  // (dialogue, turn) -> signals

// Runs argv with stdout and stderr appended to `log`; returns the exit status (-1: could not run).
int run_logged(const std::vector<std::string>& argv, const fs::path& log) {
  std::vector<char*> args;
  for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 1, log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
  posix_spawn_file_actions_adddup2(&actions, 1, 2);
  pid_t pid = 0;
  const int rc = posix_spawn(&pid, args[0], &actions, nullptr, args.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  if (rc != 0) return -1;
  int status = 0;
  if (waitpid(pid, &status, 0) < 0 || !WIFEXITED(status)) return -1;
  return WEXITSTATUS(status);
}

fs::path self_dir() { return fs::read_symlink("/proc/self/exe").parent_path(); }

struct Score {
  uint64_t truth = 0, tp = 0, fp = 0, fn = 0;
  [[nodiscard]] double precision() const { return tp + fp == 0 ? 0 : static_cast<double>(tp) / static_cast<double>(tp + fp); }
  [[nodiscard]] double recall() const { return tp + fn == 0 ? 0 : static_cast<double>(tp) / static_cast<double>(tp + fn); }
  [[nodiscard]] double f1() const {
    const double p = precision(), r = recall();
    return p + r == 0 ? 0 : 2 * p * r / (p + r);
  }
};

struct Options {
  fs::path sentences, sim, pipeline = "pipelines/assistant-text.toml", work_dir;
  uint32_t dialogues = 300;
  uint64_t seed = 1;
  double min_f1 = 0;
  bool json = false;
};

// The generator's dialogues through the pipeline: the trace and the truth.
Truth generated(const Options& o, const fs::path& dir, const fs::path& log, fs::path& trace) {
  std::vector<std::string> lines;
  std::ifstream in(o.sentences);
  if (!in) throw std::runtime_error("cannot read " + o.sentences.string());
  for (std::string l; std::getline(in, l);) lines.push_back(l);
  const auto turns = ev::generate(ev::usable_sentences(lines), o.seed, o.dialogues);
  std::ofstream(dir / "turns.jsonl") << ev::to_jsonl(turns);
  trace = dir / "trace.cas";
  const int ran = run_logged({(self_dir() / "cascade").string(), "run", o.pipeline.string(), "-i", (dir / "turns.jsonl").string(),
                              "-o", (dir / "results.jsonl").string(), "--trace", trace.string()},
                             log);
  if (ran != 0 && ran != 1)  // 1: some turn failed, which a generated dialogue may well cause
    throw std::runtime_error("cascade run failed (exit " + std::to_string(ran) + "); see " + log.string());
  Truth truth;
  for (const auto& t : turns) {
    auto& s = truth[{t.dialogue_id, t.turn_index}];
    s = t.truth;
    if (s.count("rephrased") || s.count("repeat")) s.insert("retry");
  }
  return truth;
}

// The simulator's truth file.
Truth simulated(const fs::path& sim) {
  std::ifstream in(sim / "truth.jsonl");
  if (!in) throw std::runtime_error("cannot read " + (sim / "truth.jsonl").string());
  Truth truth;
  for (std::string line; std::getline(in, line);) {
    const json session = json::parse(line);
    const auto& turns = session.at("turns");
    for (size_t i = 0; i < turns.size(); ++i) {
      auto& s = truth[{session.at("session").get<std::string>(), turns[i].at("turn_index").get<uint32_t>()}];
      const std::string next = turns[i].value("next", "");
      if (next == "rephrase") s.insert("rephrased");
      if (next == "repeat") s.insert("repeat");
      if (next == "rephrase" || next == "repeat") s.insert("retry");
      if (next == "give_up") s.insert("abandoned");
      if (i + 1 < turns.size() && turns[i + 1].value("barge_in", false)) s.insert("barge_in");
      if (turns[i].value("success", false)) s.insert("success");
    }
  }
  return truth;
}

int evaluate(const Options& o) {
  const fs::path dir = o.work_dir.empty() ? fs::temp_directory_path() / ("cascade-feedback-eval-" + std::to_string(::getpid()))
                                          : o.work_dir;
  fs::create_directories(dir);
  const fs::path log = dir / "steps.log";
  fs::remove(log);
  fs::path trace = o.sim / "trace.cas";
  const Truth truth = o.sim.empty() ? generated(o, dir, log, trace) : simulated(o.sim);
  const std::vector<std::string> signals =
      o.sim.empty() ? std::vector<std::string>{"rephrased", "repeat", "retry", "explicit_negative", "barge_in"}
                    : std::vector<std::string>{"rephrased", "repeat", "retry", "barge_in", "abandoned", "success"};

  const int isolated = run_logged({(self_dir() / "cascade").string(), "isolate", trace.string(), "--isolator", "feedback",
                                   "-o", (dir / "analysis.jsonl").string()},
                                  log);
  std::ifstream analysis(dir / "analysis.jsonl");
  if (isolated != 0 || !analysis)
    throw std::runtime_error("cascade isolate failed (exit " + std::to_string(isolated) + "); see " + log.string());
  Truth fired;
  std::map<std::string, uint64_t> labels;
  std::string line;
  std::getline(analysis, line);  // the header
  while (std::getline(analysis, line)) {
    const json j = json::parse(line);
    if (j["label"].is_null()) continue;
    labels[j["label"].get<std::string>()] += 1;
    auto& s = fired[{j["dialogue_id"].get<std::string>(), j["turn_index"].get<uint32_t>()}];
    for (const auto& x : j["evidence"]["signals"]) s.insert(x.get<std::string>());
    if (s.count("rephrased") || s.count("repeat")) s.insert("retry");
  }

  std::map<std::string, Score> scores;
  uint64_t analyzed = 0;
  for (const auto& [key, said_set] : truth) {
    const auto it = fired.find(key);
    if (it == fired.end()) continue;
    ++analyzed;
    for (const auto& signal : signals) {
      const bool t = said_set.count(signal) != 0, said = it->second.count(signal) != 0;
      Score& sc = scores[signal];
      sc.truth += t;
      sc.tp += t && said;
      sc.fp += !t && said;
      sc.fn += t && !said;
    }
  }
  if (o.work_dir.empty()) fs::remove_all(dir);

  const std::string source = o.sim.empty() ? "GENERATED by cascade-feedback-eval (seed " + std::to_string(o.seed) + ")"
                                           : "SIMULATED by cascade simulate (" + o.sim.string() + ")";
  bool below = analyzed != truth.size();
  json out = {{"ground_truth", o.sim.empty() ? "generated" : "simulated"}, {"turns", truth.size()},
              {"analyzed", analyzed}, {"labels", labels}, {"signals", json::object()}};
  for (const auto& signal : signals) {
    const Score& s = scores[signal];
    out["signals"][signal] = {{"truth", s.truth}, {"tp", s.tp}, {"fp", s.fp}, {"fn", s.fn},
                              {"precision", s.precision()}, {"recall", s.recall()}, {"f1", s.f1()}};
    below = below || (s.truth > 0 && s.f1() < o.min_f1);
  }
  if (o.json) {
    std::cout << out.dump() << "\n";
  } else {
    std::printf("feedback analyzer vs ground truth %s: %zu turns, %llu analyzed\n", source.c_str(), truth.size(),
                static_cast<unsigned long long>(analyzed));
    std::printf("%-18s %6s %6s %6s %6s %10s %8s %6s\n", "signal", "truth", "tp", "fp", "fn", "precision", "recall", "f1");
    for (const auto& signal : signals) {
      const Score& s = scores[signal];
      std::printf("%-18s %6llu %6llu %6llu %6llu %10.3f %8.3f %6.3f\n", signal.c_str(),
                  static_cast<unsigned long long>(s.truth), static_cast<unsigned long long>(s.tp),
                  static_cast<unsigned long long>(s.fp), static_cast<unsigned long long>(s.fn), s.precision(), s.recall(),
                  s.f1());
    }
    std::printf("labels:");
    for (const auto& [l, n] : labels) std::printf(" %s=%llu", l.c_str(), static_cast<unsigned long long>(n));
    std::printf("\n");
  }
  std::fflush(stdout);
  if (!o.work_dir.empty()) std::cerr << "kept: " << dir << "\n";
  if (below) std::cerr << "error: a signal's F1 is below --min-f1 " << o.min_f1 << " (or turns went unanalyzed)\n";
  return below ? kFailure : kOk;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"cascade feedback-eval: the feedback analyzer's precision/recall against simulated or generated truth",
               "cascade feedback-eval"};
  Options o;
  auto* sentences = app.add_option("--sentences", o.sentences, "Generate dialogues from these requests "
                                                               "(build/data/assistant/train_sentences.txt)")
                       ->check(CLI::ExistingFile);
  auto* sim = app.add_option("--sim", o.sim, "A `cascade simulate --out` directory: its trace and truth")
                  ->check(CLI::ExistingDirectory);
  sentences->excludes(sim);
  app.callback([&] {
    if (o.sentences.empty() && o.sim.empty()) throw CLI::ValidationError("give --sentences or --sim");
  });
  app.add_option("--pipeline", o.pipeline, "The text pipeline the turns run through")->capture_default_str()->check(CLI::ExistingFile);
  app.add_option("--dialogues", o.dialogues, "Generated dialogues")->capture_default_str()->check(CLI::Range(1, 2000));
  app.add_option("--seed", o.seed, "Generator seed")->capture_default_str();
  app.add_option("--work-dir", o.work_dir, "Keep turns, trace and analysis here (default: a temporary directory, removed)");
  app.add_option("--min-f1", o.min_f1, "Exit 1 when a signal's F1 is below this")->capture_default_str();
  app.add_flag("--json", o.json, "One JSON object instead of the table");
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e) == 0 ? kOk : kUsage;
  }
  try {
    return evaluate(o);
  } catch (const std::exception& e) {
    std::cerr << "error: " << e.what() << "\n";
    return kFailure;
  }
}
