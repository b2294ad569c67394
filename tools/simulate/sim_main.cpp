// cascade-simulate: simulated users' sessions through the real pipeline
// (`cascade simulate ...` execs this binary).
//
//   cascade simulate --users N --days D --seed S --out DIR [--k 3] [--pipeline P]
//                    [--first-user I] [--first-day D] [--set K=V]... [--user-set KEY]
//   cascade simulate --learn-asr TRACE --out DIR [--learn-confidence SNR=TRACE]...
//                                                    estimate DIR/asr_error_model.json
//
// Exit codes: 0 ok, 1 runtime failure (data, model or trace problem),
// 2 usage or config error.
#include "error_model.hpp"
#include "simulate.hpp"
#include "trace_turns.hpp"

#include "common/exit_guard.hpp"


#include <cascade/core/diagnostic.hpp>
#include <cascade/trace/error.hpp>
#include <cascade/trace/reader.hpp>

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include <fstream>
#include <iostream>
#include <map>

#ifndef CASCADE_SIM_PIPELINE
#error "CASCADE_SIM_PIPELINE, CASCADE_SIM_SLURP, CASCADE_SIM_CATALOG and CASCADE_SIM_ASR_MODEL come from the build"
#endif

namespace {

namespace sim = cascade::sim;
namespace fs = std::filesystem;
using cascade::tools::kOk;
using cascade::tools::kRuntimeFailure;
using cascade::tools::kUsageError;

// Every addressed turn of a speech-pipeline trace: what the asr stage
// heard (the leading wake word dropped), the gold transcript, and the
// confidence the asr stage reported.
std::vector<sim::AsrTurn> asr_turns(const fs::path& trace_path) {
  const auto data = cascade::trace::read_turns(trace_path);
  for (const auto& d : data.damage) std::cerr << "warning: " << d.format() << "\n";
  auto turns = sim::asr_turns(data);
  if (turns.empty())
    throw std::runtime_error(trace_path.string() + " holds no turn with an asr stage, its confidence and a gold transcript");
  return turns;
}

// "20=out/slt-20.cas" -> ("20", "out/slt-20.cas").
std::pair<std::string, fs::path> noise_trace(const std::string& arg) {
  const auto eq = arg.find('=');
  if (eq == std::string::npos || eq == 0 || eq + 1 == arg.size())
    throw std::invalid_argument("--learn-confidence wants SNR=TRACE (e.g. 20=out/slt-snr20.cas), not '" + arg + "'");
  return {arg.substr(0, eq), arg.substr(eq + 1)};
}

void print_confidence(const std::string& snr, const sim::ConfidenceModel& model) {
  std::cerr << "  confidence at noise " << snr << ":";
  for (size_t b = 0; b < sim::kErrorBuckets; ++b) {
    const auto& bucket = model.buckets[b];
    std::cerr << "  " << sim::bucket_name(b) << " errors: " << bucket.turns << " turns";
    if (bucket.turns > 0)
      std::cerr << ", median " << bucket.at(0.5) << " [p10 " << bucket.at(0.1) << ", p90 " << bucket.at(0.9) << "]";
  }
  std::cerr << "\n";
}

// Word errors from the clean slt trace; the confidence per error bucket
// and noise level from it ("inf") and every --learn-confidence trace, the
// traces of one level pooled (whatever their voice).
int learn_asr(const fs::path& trace_path, const std::vector<std::string>& confidence_traces, const fs::path& out_dir) {
  const auto turns = asr_turns(trace_path);
  sim::AsrErrorModel m = sim::estimate(turns, "inf");
  m.source = trace_path.filename().string() + ": " + std::to_string(turns.size()) + " addressed turns";
  m.condition = "voice slt, clean";
  std::map<std::string, std::vector<std::pair<uint32_t, double>>> by_noise;
  for (const auto& t : turns) by_noise["inf"].emplace_back(sim::word_errors(t.heard, t.said), t.confidence);
  for (const auto& arg : confidence_traces) {
    const auto [snr, path] = noise_trace(arg);
    const auto more = asr_turns(path);
    for (const auto& t : more) by_noise[snr].emplace_back(sim::word_errors(t.heard, t.said), t.confidence);
    m.source += "; confidence at " + snr + ": " + path.filename().string() + " (" + std::to_string(more.size()) + ")";
  }
  // WER ratios from docs/results.md (the noise curve; the DEV voices).
  m.voice_factor = {{"slt", 1.0}, {"en-us+f2", 13.7 / 8.4}};
  m.snr_factor = {{"inf", 1.0}, {"30", 13.5 / 9.7}, {"20", 19.7 / 9.7}};
  for (const auto& [snr, pairs] : by_noise) {
    m.confidence[snr] = sim::estimate_confidence(pairs);
    print_confidence(snr, m.confidence[snr]);
    for (size_t b = 0; b < sim::kErrorBuckets; ++b)
      if (m.confidence[snr].buckets[b].turns == 0) {
        std::cerr << "error: no turn at noise " << snr << " had " << sim::bucket_name(b)
                  << " word errors: the confidence of such turns cannot be estimated\n";
        return kRuntimeFailure;
      }
  }
  for (const auto& [snr, factor] : m.snr_factor)
    if (!m.confidence.contains(snr)) {
      std::cerr << "error: no trace at noise " << snr << " (--learn-confidence " << snr
                << "=TRACE): the simulator's users at that level would have no confidence\n";
      return kRuntimeFailure;
    }
  fs::create_directories(out_dir);
  const fs::path out = out_dir / "asr_error_model.json";
  std::ofstream f(out);
  f << sim::to_json(m).dump(1) << "\n";
  if (!f) {
    std::cerr << "error: cannot write " << out.string() << "\n";
    return kRuntimeFailure;
  }
  std::cerr << "asr error model: " << m.reference_words << " words, S/D/I " << m.substitutions << "/" << m.deletions
            << "/" << m.insertions << " -> " << out.string() << "\n";
  return kOk;
}

}  // namespace

int main(int argc, char** argv) {
  // The engine and the plugins log through spdlog's default logger: to
  // stderr, so stdout holds the summary alone.
  spdlog::set_default_logger(
      std::make_shared<spdlog::logger>("", std::make_shared<spdlog::sinks::stderr_color_sink_mt>()));
  spdlog::set_level(spdlog::level::warn);
  CLI::App app{"cascade simulate: seeded users' sessions through the real pipeline, with their ground truth",
               "cascade simulate"};
  sim::SimRequest rq;
  rq.pipeline = CASCADE_SIM_PIPELINE;
  rq.slurp = CASCADE_SIM_SLURP;
  rq.catalog = CASCADE_SIM_CATALOG;
  rq.asr_model = CASCADE_SIM_ASR_MODEL;
  std::string learn;
  std::vector<std::string> learn_confidence;
  bool json_out = false;
  app.add_option("--users", rq.users, "Users")->capture_default_str();
  app.add_option("--first-user", rq.first_user, "Index of the first user (u0000 + I)")->capture_default_str();
  app.add_option("--days", rq.days, "Days")->capture_default_str();
  app.add_option("--first-day", rq.first_day, "Index of the first day (0 = 2026-01-15)")->capture_default_str();
  app.add_option("--seed", rq.seed, "Seed of users, goals, sessions and ASR errors")->capture_default_str();
  app.add_option("--out", rq.out_dir, "Directory: trace.cas, turns.jsonl, truth.jsonl, users.jsonl")->required();
  app.add_option("--k", rq.k, "Attempts per session at most")->capture_default_str()->check(CLI::Range(1, 20));
  app.add_option("--pipeline", rq.pipeline, "Pipeline taking recorded-ASR turns (input.json)")
      ->capture_default_str()
      ->check(CLI::ExistingFile);
  app.add_option("--set", rq.overrides, "Config override K=V (repeatable)");
  app.add_option("--user-set", rq.user_override,
                 "A parameter set to each user's id (e.g. stages.rewrite.params.user); users then run one at a time");
  app.add_option("--asr-model", rq.asr_model, "ASR error model (JSON)")->capture_default_str()->check(CLI::ExistingFile);
  app.add_option("--slurp", rq.slurp, "SLURP records the goals come from (TRAIN side)")
      ->capture_default_str()
      ->check(CLI::ExistingFile);
  app.add_option("--catalog", rq.catalog, "Entity catalogue (gold)")->capture_default_str()->check(CLI::ExistingFile);
  app.add_option("--threads", rq.threads, "Pipeline worker threads (default: the config's)");
  app.add_option("--learn-asr", learn, "Estimate the ASR error model from a speech-pipeline trace into --out, then stop")
      ->check(CLI::ExistingPath);
  app.add_option("--learn-confidence", learn_confidence,
                 "With --learn-asr: the recogniser's confidence at a noise level, SNR=TRACE (repeatable; a level's traces are pooled)");
  app.add_flag("--json", json_out, "The summary as one JSON object");
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e) == 0 ? kOk : kUsageError;
  }
  return cascade::tools::exit_guard([&] {
    if (!learn.empty()) return learn_asr(learn, learn_confidence, rq.out_dir);
    if (!learn_confidence.empty()) throw std::invalid_argument("--learn-confidence needs --learn-asr");
    const auto s = sim::simulate(rq);
    nlohmann::json j = {{"users", s.users},       {"sessions", s.sessions},         {"turns", s.turns},
                        {"successes", s.successes}, {"failed_turns", s.failed_turns}, {"turns_per_round", s.turns_per_round},
                        {"trace", s.trace.string()}, {"truth", s.truth.string()},   {"turns_file", s.turns_file.string()}};
    if (json_out) {
      std::cout << j.dump(2) << "\n";
    } else {
      std::cout << s.users << " users, " << s.sessions << " sessions (" << s.successes << " succeeded), " << s.turns
                << " turns in " << s.turns_per_round.size() << " rounds; trace " << s.trace.string() << ", truth "
                << s.truth.string() << "\n";
    }
    return kOk;
  });
}
