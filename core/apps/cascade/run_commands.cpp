// `cascade run`: a pipeline over a file of turns, with results and traces.
#include "commands.hpp"

#include <cascade/core/run.hpp>
#include <cascade/trace/writer.hpp>

#include <spdlog/spdlog.h>

#include <fstream>
#include <iostream>
#include <memory>
#include <thread>

namespace cascade::cli {
namespace {

struct RunArgs {
  std::string pipeline;
  std::string input;
  std::string output;
  std::string trace_path;
  bool no_trace = false;
  std::vector<std::string> overrides;
  uint32_t threads = 0;
  uint32_t max_in_flight = 0;
  uint32_t turn_timeout_ms = 0;
  bool quiet = false;
  bool dot = false;
};

void print(const std::vector<Diagnostic>& ds) {
  for (const auto& d : ds) std::cerr << d.format() << "\n";
}

}  // namespace

std::optional<LoadedPipeline> load_pipeline(const std::string& file, const std::vector<std::string>& overrides,
                                            const Globals& g) {
  auto lr = config::load_config(file, overrides);
  if (!lr.ok()) {
    print(lr.diagnostics);
    return std::nullopt;
  }
  LoadedPipeline p;
  p.config = std::move(lr.config);
  std::vector<std::filesystem::path> extra(g.plugin_paths.begin(), g.plugin_paths.end());
  std::vector<Diagnostic> refused;
  p.registry = load_catalog(p.config, extra, &refused);
  auto diags = config::validate(p.config, *p.registry);
  if (!diags.empty()) {
    print(diags);
    for (const auto& d : refused) std::cerr << "note: refused plugin: " << d.format() << "\n";
    return std::nullopt;
  }
  p.plan = make_plan(p.config, *p.registry);
  return p;
}

void add_run_commands(CLI::App& app, Globals& g) {
  auto a = std::make_shared<RunArgs>();
  auto* run = app.add_subcommand("run", "Run a pipeline over turns (JSONL dialogues or a directory of WAV files)");
  run->add_option("pipeline", a->pipeline, "Pipeline TOML file")->required()->check(CLI::ExistingFile);
  run->add_option("-i,--input", a->input, "Turns: a JSONL file of dialogues or a directory of WAV files");
  run->add_option("-o,--output", a->output, "Result lines (JSONL), one per turn; default: stdout");
  run->add_option("--trace", a->trace_path, "Trace file (or directory when rotating); default: the config's [trace]");
  run->add_flag("--no-trace", a->no_trace, "Do not record a trace");
  run->add_option("--set", a->overrides, "Override a config value, e.g. stages.asr.params.beam=1e-20 (repeatable)");
  run->add_option("--threads", a->threads, "Worker threads (default: the config's run.threads)");
  run->add_option("--max-in-flight", a->max_in_flight, "Bound on turns in flight (default: the config's)");
  run->add_option("--turn-timeout-ms", a->turn_timeout_ms, "Budget per turn; stages after it are cancelled");
  run->add_flag("-q,--quiet", a->quiet, "No progress bar, no summary");
  run->add_flag("--dot", a->dot, "Print the pipeline's DAG in Graphviz DOT and exit");
  run->footer("Exit codes: 0 every turn ok, 1 some turn failed or a runtime error, 2 config error, 130 interrupted.");
  run->callback([&g, a] {
    auto p = load_pipeline(a->pipeline, a->overrides, g);
    if (!p) {
      g.exit_code = kUsageError;
      return;
    }
    if (a->dot) {
      std::cout << config::to_dot(p->config);
      g.exit_code = kOk;
      return;
    }
    if (a->input.empty()) {
      std::cerr << "error: --input is required to run (or use --dot)\n";
      g.exit_code = kUsageError;
      return;
    }
    try {
      auto source = open_turns(a->input);
      std::unique_ptr<trace::Writer> writer;
      if (!a->no_trace && (p->config.trace.enabled || !a->trace_path.empty())) {
        trace::WriterOptions wo;
        wo.path = a->trace_path.empty() ? p->config.trace.path : a->trace_path;
        wo.rotate_bytes = uint64_t{p->config.trace.rotate_mb} * 1024 * 1024;
        wo.audio = p->config.trace.audio == "hash" ? trace::AudioMode::Hash : trace::AudioMode::Inline;
        writer = std::make_unique<trace::Writer>(wo);
      }
      EngineOptions eo;
      eo.threads = a->threads != 0 ? a->threads : p->config.run.threads;
      if (eo.threads == 0) eo.threads = std::max(1u, std::thread::hardware_concurrency());
      eo.trace = writer.get();
      eo.turn_timeout_ms = a->turn_timeout_ms;
      Engine engine(p->plan, eo);
      cancel_on_signals(&engine);

      std::ofstream file;
      if (!a->output.empty()) {
        file.open(a->output);
        if (!file) throw CascadeError("R020", "cannot write the results file", a->output);
      }
      RunOptions ro;
      ro.max_in_flight = a->max_in_flight != 0 ? a->max_in_flight : p->config.run.max_in_flight;
      ro.progress = !a->quiet;
      ro.results = a->output.empty() ? &std::cout : &file;
      ro.trace = writer.get();
      const RunSummary s = run_turns(engine, *source, ro);
      cancel_on_signals(nullptr);
      if (writer) writer->close();
      if (!a->quiet)
        std::cerr << p->config.name << ": " << s.turns << " turns (" << s.ok << " ok, " << s.failed << " failed, "
                  << s.cancelled << " cancelled) in " << s.seconds << " s" << (s.interrupted ? " — interrupted" : "")
                  << "\n";
      g.exit_code = s.interrupted ? 130 : (s.failed + s.cancelled > 0 ? kRuntimeFailure : kOk);
    } catch (const CascadeError& e) {
      std::cerr << e.what() << "\n";
      g.exit_code = kRuntimeFailure;
    } catch (const std::exception& e) {
      std::cerr << "error[R000]: " << e.what() << "\n";
      g.exit_code = kRuntimeFailure;
    }
  });
}

}  // namespace cascade::cli
