// cascade-eval: the assistant's quality report from traces
// (`cascade eval ...` execs this binary).
//
//   cascade eval report TRACE [--json]
//   cascade eval stages [--pipeline P] [--input I] [--snr inf,20,10] [--out DIR] [--json]
//   cascade eval fpi [--size small|default] [--turns FILE] [--out DIR] [--folds K] [--json]
//   cascade eval fpi-bench [--source TRACE] [--turns N] [--isolator NAME] [--param K=V] [-p P.toml] [--json]
//   cascade eval rewrite [--size small|default] [--json]       (rewrite_eval.hpp)
//
// Exit codes: 0 ok, 1 runtime failure (unreadable trace, failed run),
// 2 usage or config error.
#include "eval/fpi.hpp"
#include "eval/fpi_bench.hpp"
#include "eval/levels.hpp"
#include "eval/quality.hpp"
#include "eval/rewrite_cli.hpp"

#include "common/exit_guard.hpp"

#include <cascade/core/diagnostic.hpp>
#include <cascade/trace/error.hpp>

#include <CLI/CLI.hpp>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include <iostream>

#ifndef CASCADE_EVAL_DEFAULT_PIPELINE
#error "CASCADE_EVAL_DEFAULT_PIPELINE must be defined by the build"
#endif
#ifndef CASCADE_EVAL_TEXT_PIPELINE
#error "CASCADE_EVAL_TEXT_PIPELINE must be defined by the build"
#endif
#ifndef CASCADE_ASSISTANT_DATA_DIR
#error "CASCADE_ASSISTANT_DATA_DIR must be defined by the build"
#endif

namespace {

namespace ev = cascade::language::eval;

using cascade::tools::kOk;
using cascade::tools::kRuntimeFailure;
using cascade::tools::kUsageError;

}  // namespace

int main(int argc, char** argv) {
  // `stages` runs the engine in this process: its log lines and the
  // plugins' (spdlog's default logger writes to stdout) go to stderr, so
  // stdout holds the table or the --json object alone.
  spdlog::set_default_logger(
      std::make_shared<spdlog::logger>("", std::make_shared<spdlog::sinks::stderr_color_sink_mt>()));
  CLI::App app{"cascade eval: the assistant's quality (WER, wake, intent, slots, ER, task success, speed) from traces",
               "cascade eval"};
  app.require_subcommand(1);
  int exit_code = kOk;

  std::string trace_path;
  bool report_json = false;
  auto* report = app.add_subcommand("report", "Quality of one trace against the gold its turns carry");
  report->add_option("trace", trace_path, "Trace file (or rotated trace directory)")->required();
  report->add_flag("--json", report_json, "One JSON object instead of the table");
  report->callback([&] {
    exit_code = cascade::tools::exit_guard([&] {
      const auto data = cascade::trace::read_turns(trace_path);
      for (const auto& d : data.damage) std::cerr << "warning: " << d.format() << "\n";
      const auto r = ev::compute_report(data);
      if (report_json)
        std::cout << ev::to_json(r).dump(2) << "\n";
      else
        std::cout << ev::format_text(r);
      return kOk;
    });
  });

  ev::LevelsRequest lv;
  lv.pipeline = CASCADE_EVAL_DEFAULT_PIPELINE;
  lv.input = std::filesystem::path(CASCADE_ASSISTANT_DATA_DIR) / "eval_dialogues.jsonl";
  lv.out_dir = "out/eval";
  lv.snr_levels = {"inf", "20", "10"};
  bool stages_json = false, quiet = false;
  auto* stages = app.add_subcommand(
      "stages", "Run the pipeline once per noise level (stages.speech.params.snr_db) and report each trace");
  stages->add_option("--pipeline", lv.pipeline, "Pipeline TOML")->capture_default_str()->check(CLI::ExistingFile);
  stages->add_option("--input", lv.input, "Eval dialogues (JSONL)")->capture_default_str()->check(CLI::ExistingPath);
  stages->add_option("--snr", lv.snr_levels, "Noise levels in dB, comma separated (inf = clean)")
      ->delimiter(',')
      ->capture_default_str();
  stages->add_option("--out", lv.out_dir, "Directory for the traces <pipeline>-snr<level>.cas")->capture_default_str();
  stages->add_option("--speech-stage", lv.speech_stage, "Stage whose params.snr_db is set")->capture_default_str();
  stages->add_option("--threads", lv.threads, "Worker threads (default: the config's run.threads)");
  stages->add_flag("--json", stages_json, "{\"levels\":[{\"snr_db\":..., <report keys>}...]} instead of the table");
  stages->add_flag("-q,--quiet", quiet, "No progress bar and no per-level report on stderr");
  stages->callback([&] {
    exit_code = cascade::tools::exit_guard([&] {
      for (const auto& l : lv.snr_levels) (void)ev::snr_toml(l);  // bad levels fail before any run
      lv.progress = !quiet;
      const auto levels = ev::run_levels(lv);
      bool all_ok = true;
      for (const auto& l : levels) {
        all_ok = all_ok && l.run.failed == 0 && l.run.cancelled == 0;
        if (!quiet) {
          std::cerr << "snr " << l.snr_db << ": " << l.run.turns << " turns (" << l.run.ok << " ok, " << l.run.failed
                    << " failed, " << l.run.cancelled << " cancelled) in " << l.run.seconds
                    << " s; trace: " << l.trace.string() << "\n";
          std::cerr << ev::format_text(l.report) << "\n";
        }
      }
      if (stages_json)
        std::cout << ev::to_json(levels).dump(2) << "\n";
      else
        std::cout << ev::format_text(levels);
      // A failed turn is scored (as wrong), but the run was not clean.
      return all_ok ? kOk : kRuntimeFailure;
    });
  });

  ev::FpiRequest fpi;
  fpi.data.speech_pipeline = CASCADE_EVAL_DEFAULT_PIPELINE;
  fpi.data.text_pipeline = CASCADE_EVAL_TEXT_PIPELINE;
  fpi.data.recorded_pipeline = CASCADE_EVAL_RECORDED_PIPELINE;
  fpi.data.catalog = std::filesystem::path(CASCADE_ASSISTANT_DATA_DIR) / "catalog.json";
  fpi.data.out_dir = "out/fpi";
  fpi.train_folds.slurp = CASCADE_SLURP_DEVEL;
  {
    std::error_code ec;  // the build tools sit beside this executable (build/bin, <prefix>/bin)
    fpi.train_folds.tools_dir = std::filesystem::read_symlink("/proc/self/exe", ec).parent_path();
  }
  std::string fpi_turns;
  bool fpi_json = false, fpi_quiet = false, fpi_no_text = false;
  auto* fpi_cmd = app.add_subcommand(
      "fpi", "Failure-point isolators against the oracle: labelled traces under several voices, noise levels and "
             "degraded variants, split by dialogue, every isolator scored on the held-out side");
  fpi_cmd->add_option("--size", fpi.data.size, "small (a few dialogues, for tests) or default")
      ->capture_default_str()
      ->check(CLI::IsMember({"small", "default"}));
  fpi_cmd->add_option("--turns", fpi_turns, "Turns (JSONL) instead of the eval dialogues")->check(CLI::ExistingFile);
  fpi_cmd->add_option("--pipeline", fpi.data.speech_pipeline, "Main pipeline (the voice/noise grid when it has a "
                                                              "speech stage)")
      ->capture_default_str()
      ->check(CLI::ExistingFile);
  fpi_cmd->add_option("--text-pipeline", fpi.data.text_pipeline, "Pipeline of the text degraded variants and the TRAIN-fold runs")
      ->capture_default_str()
      ->check(CLI::ExistingFile);
  fpi_cmd->add_option("--recorded-pipeline", fpi.data.recorded_pipeline,
                      "Pipeline of the recorded-ASR runs (the speech runs' hypotheses as another system's logs)")
      ->capture_default_str()
      ->check(CLI::ExistingFile);
  fpi_cmd->add_flag("--no-text", fpi_no_text, "No text-pipeline variants of the scored turns (e.g. turns without a text payload); the TRAIN-fold runs still "
                                   "use it");
  fpi_cmd->add_option("--catalog", fpi.data.catalog, "ER catalogue the er-cut variant degrades")
      ->capture_default_str()
      ->check(CLI::ExistingFile);
  fpi_cmd->add_option("--out", fpi.data.out_dir, "Directory for the traces and the degraded catalogue")
      ->capture_default_str();
  fpi_cmd->add_option("--isolator", fpi.isolators, "Isolator to measure (repeatable; default: every analyzer "
                                                   "plugin but the oracle)");
  fpi_cmd->add_option("--threads", fpi.data.threads, "Pipeline worker threads (default: the config's run.threads)");
  fpi_cmd->add_option("--jobs", fpi.jobs, "Analyzer threads (default: the host's)");
  fpi_cmd->add_option("--folds", fpi.folds, "Also K-fold cross-validation by dialogue over every labelled turn "
                                            "(K >= 2; 0: none)")
      ->capture_default_str()
      ->check(CLI::Validator(
          [](const std::string& k) {
            return k == "1" ? std::string("one fold leaves nothing to train on: give 0 or at least 2") : std::string();
          },
          "0 or >= 2"));
  fpi_cmd->add_option("--train-folds", fpi.train_folds.folds,
                      "Cut SLURP TRAIN into this many folds and run each through the text and recorded-ASR pipelines "
                      "with stage models built without it: more training data for an isolator that learns, never "
                      "scored; a scored turn of a TRAIN request (--turns) runs on its fold's models (0: none of this)")
      ->capture_default_str()
      ->check(CLI::Validator(
          [](const std::string& k) {
            return k == "1" ? std::string("one fold leaves nothing to build the models from: give 0 or at least 2")
                            : std::string();
          },
          "0 or >= 2"));
  fpi_cmd->add_option("--slurp", fpi.train_folds.slurp, "SLURP devel.jsonl, the TRAIN-fold runs' requests")
      ->capture_default_str();
  fpi_cmd->add_flag("--json", fpi_json, "One JSON object instead of the tables");
  fpi_cmd->add_flag("-q,--quiet", fpi_quiet, "No progress on stderr");
  fpi_cmd->callback([&] {
    exit_code = cascade::tools::exit_guard([&] {
      const std::string default_input = fpi.data.size == "small" ? "eval_dialogues_small.jsonl" : "eval_dialogues.jsonl";
      fpi.data.input = !fpi_turns.empty() ? std::filesystem::path(fpi_turns)
                                          : std::filesystem::path(CASCADE_ASSISTANT_DATA_DIR) / default_input;
      // The TRAIN-fold runs use these pipelines whatever the scored runs are.
      fpi.train_folds.text_pipeline = fpi.data.text_pipeline;
      fpi.train_folds.recorded_pipeline = fpi.data.recorded_pipeline;
      if (fpi_no_text) fpi.data.text_pipeline.clear();
      fpi.data.progress = !fpi_quiet;
      const auto report = ev::run_fpi(fpi);
      if (fpi_json)
        std::cout << ev::to_json(report).dump(2) << "\n";
      else
        std::cout << ev::format_text(report);
      bool all_ok = report.unlabelled == 0;
      for (const auto& r : report.runs) all_ok = all_ok && r.run.run.failed == 0 && r.run.run.cancelled == 0;
      return all_ok ? kOk : kRuntimeFailure;
    });
  });

  ev::FpiBenchRequest bench;
  bench.source = "out/fpi/slt-snrinf.cas";
  bench.out = "out/fpi/bench.cas";
  bool bench_json = false;
  auto* bench_cmd = app.add_subcommand(
      "fpi-bench", "Isolator throughput: a large trace copied from a real one, read alone, then labelled (1 thread)");
  bench_cmd->add_option("--source", bench.source, "A real trace (e.g. one `cascade eval fpi` wrote)")
      ->capture_default_str()
      ->check(CLI::ExistingPath);
  bench_cmd->add_option("--out", bench.out, "The large trace to write")->capture_default_str();
  bench_cmd->add_option("--turns", bench.turns, "Turns in the large trace")->capture_default_str();
  bench_cmd->add_option("--isolator", bench.isolator, "Analyzer plugin (name or .so path)")->capture_default_str();
  std::vector<std::string> bench_params;
  bench_cmd->add_option("--param", bench_params, "Isolator parameter KEY=VALUE (repeatable), e.g. model=FILE");
  bench_cmd->add_option("-p,--pipeline", bench.pipeline,
                        "Pipeline the isolator may replay through (learned: the ASR alternatives); default: none")
      ->check(CLI::ExistingFile);
  bench_cmd->add_option("--set", bench.overrides, "Override a value of that pipeline's config (repeatable)");
  bench_cmd->add_flag("--json", bench_json, "One JSON object instead of the table");
  bench_cmd->callback([&] {
    exit_code = cascade::tools::exit_guard([&] {
      for (const auto& kv : bench_params) {
        const auto eq = kv.find('=');
        if (eq == std::string::npos || eq == 0) throw std::invalid_argument("--param '" + kv + "' is not KEY=VALUE");
        bench.params[kv.substr(0, eq)] = kv.substr(eq + 1);
      }
      const auto r = ev::run_fpi_bench(bench);
      if (bench_json)
        std::cout << ev::to_json(r).dump(2) << "\n";
      else
        std::cout << ev::format_text(r, bench.isolator);
      return kOk;
    });
  });

  ev::add_rewrite_command(app, exit_code);  // cascade eval rewrite

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e) == 0 ? kOk : kUsageError;
  }
  return exit_code;
}
