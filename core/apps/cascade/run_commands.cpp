// `cascade run` and `cascade replay`: a pipeline over turns, with result
// lines and a trace. Both go through execute() below.
#include "commands.hpp"

#include <cascade/core/replay.hpp>
#include <cascade/core/run.hpp>
#include <cascade/trace/error.hpp>
#include <cascade/trace/reader.hpp>
#include <cascade/trace/writer.hpp>

#include <csignal>
#include <fstream>
#include <iostream>
#include <unistd.h>
#include <memory>
#include <thread>

namespace cascade::cli {
namespace {

// What run and replay share on the command line.
struct ExecArgs {
  std::string pipeline;
  std::vector<std::string> overrides;
  std::string output;      // result lines; "" = stdout
  std::string trace_path;  // "" = the config's [trace]
  bool no_trace = false;
  uint32_t threads = 0;
  uint32_t max_in_flight = 0;
  uint32_t micro_batch = 0;
  uint32_t turn_timeout_ms = 0;
  uint32_t shutdown_grace_ms = 3000;
  uint32_t stall_report_ms = 60000;
  bool quiet = false;
};

void add_exec_options(CLI::App* c, ExecArgs& a) {
  c->add_option("--set", a.overrides, "Override a config value, e.g. stages.asr.params.beam=1e-20 (repeatable)");
  c->add_option("--threads", a.threads, "Worker threads (default: the config's run.threads)");
  c->add_option("--max-in-flight", a.max_in_flight, "Bound on turns in flight (default: the config's run.max_in_flight)");
  c->add_option("--micro-batch", a.micro_batch,
                "Turns a stage runs back to back, in one call to plugins that offer process_batch "
                "(default: the config's run.micro_batch)");
  c->add_option("--turn-timeout-ms", a.turn_timeout_ms, "Budget per turn; stages after it are cancelled");
  c->add_option("--shutdown-grace-ms", a.shutdown_grace_ms,
                "After SIGINT/SIGTERM, how long turns in flight may take before they are abandoned "
                "(a second signal: at once)")
      ->capture_default_str();
  c->add_option("--stall-report-ms", a.stall_report_ms,
                "Report every turn in flight when none has made progress for this long (R040); 0: off")
      ->capture_default_str();
  c->add_flag("-q,--quiet", a.quiet, "No progress bar, no summary");
  c->footer("Exit codes: 0 every turn ok, 1 some turn failed or a runtime error (a results write failure "
            "included), 2 config error, 130 interrupted.");
}

// Runs `source` through the loaded pipeline; returns the exit code.
int execute(const LoadedPipeline& p, TurnSource& source, const ExecArgs& a, bool trace_by_default) {
  std::unique_ptr<trace::Writer> writer;
  if (!a.no_trace && (p.config.trace.enabled || trace_by_default || !a.trace_path.empty())) {
    trace::WriterOptions wo;
    wo.path = a.trace_path.empty() ? p.config.trace.path : a.trace_path;
    wo.rotate_bytes = uint64_t{p.config.trace.rotate_mb} * 1024 * 1024;
    wo.audio = p.config.trace.audio == "hash" ? trace::AudioMode::Hash : trace::AudioMode::Inline;
    writer = std::make_unique<trace::Writer>(wo);
  }
  EngineOptions eo;
  eo.threads = a.threads != 0 ? a.threads : p.config.run.threads;
  if (eo.threads == 0) eo.threads = std::max(1u, std::thread::hardware_concurrency());
  eo.trace = writer.get();
  eo.turn_timeout_ms = a.turn_timeout_ms;
  eo.micro_batch = a.micro_batch != 0 ? a.micro_batch : p.config.run.micro_batch;
  Engine engine(p.plan, eo);
  cancel_on_signals(&engine);
  // A reader that goes away (`| head -1`) is a failed results write (R020,
  // the run stops, the trace is closed), not a death by SIGPIPE.
  std::signal(SIGPIPE, SIG_IGN);
  report_exit_from_stages();

  std::ofstream file;
  if (!a.output.empty()) {
    file.open(a.output);
    if (!file) throw CascadeError("R020", "cannot write the results file", a.output);
  }
  RunOptions ro;
  ro.max_in_flight = a.max_in_flight != 0 ? a.max_in_flight : p.config.run.max_in_flight;
  ro.progress = !a.quiet;
  ro.results = a.output.empty() ? &std::cout : &file;
  ro.trace = writer.get();
  ro.shutdown_grace_ms = a.shutdown_grace_ms;
  ro.stall_report_ms = a.stall_report_ms;
  const RunSummary s = run_turns(engine, source, ro);
  cancel_on_signals(nullptr);
  if (writer) writer->close();
  if (!a.quiet)
    std::cerr << p.config.name << ": " << s.turns << " turns (" << s.ok << " ok, " << s.failed << " failed, "
              << s.cancelled << " cancelled" << (s.abandoned > 0 ? ", " + std::to_string(s.abandoned) + " abandoned" : "")
              << ") in " << s.seconds << " s"
              << (s.crash_signal != 0 || s.crash_exit >= 0 ? " — a plugin crashed the process"
                  : s.interrupted                          ? " — interrupted"
                                                           : "")
              << (writer ? "; trace: " + (a.trace_path.empty() ? p.config.trace.path : a.trace_path) : std::string())
              << "\n";
  if (s.crash_signal != 0 || s.crash_exit >= 0 || s.abandoned > 0) {
    // A stage is still inside a call that may never return (or on a thread
    // a plugin broke): destroying the engine would close its instance under
    // it, and exit() would run destructors under it. What was reported is
    // flushed; end here, as the plugin's crash would have ended the process.
    std::cout.flush();
    file.flush();
    std::cerr.flush();
    if (s.crash_signal != 0) {
      std::signal(s.crash_signal, SIG_DFL);
      std::raise(s.crash_signal);
    }
    ::_exit(s.crash_exit >= 0 ? s.crash_exit : 130);
  }
  if (!s.results_error.empty()) {
    const std::string name = a.output.empty() ? "<stdout>" : a.output;
    std::cerr << Diagnostic{"R020", "cannot write the results: " + s.results_error +
                                        " (the run stopped; the trace holds every turn that ran)", name}.format()
              << "\n";
    return kRuntimeFailure;
  }
  // A damaged recording replays only what could be read: say so, and fail.
  const auto* damage = source.damage();
  if (damage != nullptr)
    for (const auto& d : *damage) std::cerr << "warning: " << d.format() << " (its turns were not replayed)\n";
  if (s.interrupted) return 130;
  return s.failed + s.cancelled > 0 || (damage != nullptr && !damage->empty()) ? kRuntimeFailure : kOk;
}

// Runs `body`, turning the errors it may throw into messages + exit codes.
void guarded(Globals& g, const std::function<int()>& body) {
  try {
    g.exit_code = body();
  } catch (const CascadeError& e) {
    std::cerr << e.what() << "\n";
    // Config problems and bad replay arguments are the caller's to fix.
    g.exit_code = e.code().starts_with("C") || e.code() == "R030" ? kUsageError : kRuntimeFailure;
  } catch (const trace::TraceError& e) {
    std::cerr << e.what() << "\n";
    g.exit_code = kRuntimeFailure;
  } catch (const std::exception& e) {
    std::cerr << "error[R000]: " << e.what() << "\n";
    g.exit_code = kRuntimeFailure;
  }
}

}  // namespace

std::optional<LoadedPipeline> load_pipeline_or_print(const std::string& file, const std::vector<std::string>& overrides,
                                                     const Globals& g) {
  auto load = load_pipeline(file, overrides, {g.plugin_paths.begin(), g.plugin_paths.end()});
  load.print(std::cerr);
  return std::move(load.pipeline);
}

void add_run_commands(CLI::App& app, Globals& g) {
  struct RunArgs : ExecArgs {
    std::string input;
    bool dot = false;
  };
  auto a = std::make_shared<RunArgs>();
  auto* run = app.add_subcommand("run", "Run a pipeline over turns (JSONL dialogues or a directory of WAV files)");
  run->add_option("pipeline", a->pipeline, "Pipeline TOML file")->required()->check(CLI::ExistingFile);
  run->add_option("-i,--input", a->input, "Turns: a JSONL file of dialogues or a directory of WAV files");
  run->add_option("-o,--output", a->output, "Result lines (JSONL), one per turn; default: stdout");
  run->add_option("--trace", a->trace_path, "Trace file (a directory when the config rotates); default: the config's [trace]");
  run->add_flag("--no-trace", a->no_trace, "Do not record a trace");
  run->add_flag("--dot", a->dot, "Print the pipeline's DAG in Graphviz DOT and exit");
  add_exec_options(run, *a);
  run->callback([&g, a] {
    auto p = load_pipeline_or_print(a->pipeline, a->overrides, g);
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
    guarded(g, [&] {
      auto source = open_turns(a->input);
      return execute(*p, *source, *a, false);
    });
  });

  struct ReplayArgs : ExecArgs {
    std::string trace_in;
    std::string from;
    std::vector<std::string> turns;
    std::vector<std::string> substitute;
  };
  auto r = std::make_shared<ReplayArgs>();
  auto* replay = app.add_subcommand("replay", "Re-run recorded turns through a (possibly modified) pipeline");
  replay->add_option("trace", r->trace_in, "Recorded trace (file or directory)")->required();
  replay->add_option("-p,--pipeline", r->pipeline, "Pipeline TOML file to replay through")->required()->check(CLI::ExistingFile);
  replay->add_option("--from", r->from, "Feed the recorded outputs of every stage upstream of STAGE; run it and the rest");
  replay->add_option("--turns", r->turns, "Only turns matching (dialogue=ID, turn=N, seq=N, status=..; repeatable, ANDed)");
  replay->add_option("--substitute", r->substitute, "STAGE=trace|gold|gold:KEY: give that stage's outputs instead of running it (repeatable)");
  replay->add_option("-o,--output-trace", r->trace_path, "The new trace")->required();
  replay->add_option("--results", r->output, "Result lines (JSONL); default: stdout");
  add_exec_options(replay, *r);
  replay->callback([&g, r] {
    auto p = load_pipeline_or_print(r->pipeline, r->overrides, g);
    if (!p) {
      g.exit_code = kUsageError;
      return;
    }
    guarded(g, [&] {
      ReplayOptions o;
      o.from_stage = r->from;
      o.turns = r->turns;
      for (const auto& s : r->substitute) {
        const auto eq = s.find('=');
        if (eq == std::string::npos) throw CascadeError("R030", "--substitute wants STAGE=SOURCE, got '" + s + "'");
        o.substitute[s.substr(0, eq)] = s.substr(eq + 1);
      }
      auto source = open_replay(r->trace_in, p->plan, o);
      return execute(*p, *source, *r, true);
    });
  });
}

}  // namespace cascade::cli
