// cascade/core/run.hpp — what `cascade run` and `cascade replay` are made
// of: config -> plan, turn sources, and the batch loop that writes results
// and durable traces.
//
// Durability: the loop runs turns in batches of at most max_in_flight
// (the back-pressure bound). After each batch it flushes the trace writer
// (every record of the batch is in the file) and only THEN writes the
// batch's result lines: a result line on disk means its trace is too,
// even if the process is killed right after.
//
// Bounded shutdown: each batch runs on a thread of its own while the loop
// watches it. After SIGINT/SIGTERM (Engine::cancel()) the loop waits at
// most `shutdown_grace_ms` for the batch; a stage stuck in a call without
// deadline cannot hold it longer: the finished turns of the batch are
// reported (trace flushed first, then their lines), the others abandoned,
// and the summary says so (RunSummary::abandoned: the caller must then
// end the process without destroying the engine). The same loop is the
// run watchdog: no turn changing stage for `stall_report_ms` is reported
// (R040) with every turn in flight, and again each further period.
#pragma once

#include <cascade/core/config.hpp>
#include <cascade/core/engine.hpp>
#include <cascade/core/loader.hpp>
#include <cascade/core/plan.hpp>

#include <cstdint>
#include <filesystem>
#include <functional>
#include <iosfwd>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace cascade {
namespace trace {
struct Damage;
}

// Loads the plugins a config runs with: its plugin paths, then the usual
// search path. Refusals go to `refused` (may be null).
std::unique_ptr<PluginRegistry> load_catalog(const config::PipelineConfig& cfg,
                                             const std::vector<std::filesystem::path>& extra_dirs,
                                             std::vector<Diagnostic>* refused);

// A validated config resolved against its plugins. Throws CascadeError
// (C0xx) if validation finds anything; call config::validate() first to
// show every problem.
PipelinePlan make_plan(const config::PipelineConfig& cfg, const PluginCatalog& catalog);

// A config read, its plugins loaded, validated and resolved to a plan: what
// `cascade run`, `replay` and `isolate -p`, `cascade isolate train` and
// the tools start from. `registry` holds every plugin on the search path
// (analyzers too), not only the config's.
// Lifecycle: `plan` points into `registry`; move the whole, never the parts
// apart. Threading: immutable once loaded; engines may share the plan.
struct LoadedPipeline {
  config::PipelineConfig config;
  std::unique_ptr<PluginRegistry> registry;
  PipelinePlan plan;
};

// What load_pipeline() found: the pipeline, or every problem.
struct PipelineLoad {
  std::optional<LoadedPipeline> pipeline;  // set iff `problems` is empty
  std::vector<Diagnostic> problems;        // the config's (C0xx) or validation's
  std::vector<Diagnostic> refused;         // plugins the search refused
  // Each problem, then (when there are problems) each refused plugin as a
  // note, since a refusal is often why a plugin is "unknown". One a line.
  void print(std::ostream& os) const;
  // The pipeline, or throws CascadeError with the first problem (the
  // refusals as notes in its message).
  LoadedPipeline take() &&;
};

// load_config(file, overrides), load_catalog(config, extra_dirs),
// config::validate(), make_plan(). Never throws for a bad config or a
// missing plugin: those are `problems`.
PipelineLoad load_pipeline(const std::filesystem::path& file, const std::vector<std::string>& overrides = {},
                           const std::vector<std::filesystem::path>& extra_dirs = {});

// A source of turns, read incrementally.
// Threading: used by one thread (the run loop).
class TurnSource {
 public:
  virtual ~TurnSource() = default;
  // Fills `turn` and returns true, or returns false at the end. A turn
  // whose input is unusable comes back with input_error set (it is
  // recorded as failed, never silently dropped).
  virtual bool next(TurnInput& turn) = 0;
  // Total number of turns if known cheaply, else 0 (progress bar).
  [[nodiscard]] virtual uint64_t size_hint() const { return 0; }
  // What could not be read of a recorded source (replay), or nullptr.
  [[nodiscard]] virtual const std::vector<trace::Damage>* damage() const { return nullptr; }
};

// JSONL dialogues: one turn per line:
//   {"dialogue_id":"d1","user_id":"u1","turn_index":0,"timestamp":"...",
//    "payload":{"text":"..."} | {"audio":"path/to.wav"} | {"json":{...}}, "gold":{...}}
// Audio paths are relative to the JSONL file's directory.
std::unique_ptr<TurnSource> open_jsonl(const std::filesystem::path& file);
// Every *.wav in a directory (sorted by name): one dialogue per file.
std::unique_ptr<TurnSource> open_wav_dir(const std::filesystem::path& dir);
// Either of the above, by what the path is.
std::unique_ptr<TurnSource> open_turns(const std::filesystem::path& path);

// Reads a WAV file as 16-bit mono PCM. Throws CascadeError: A001 (not
// mono), A002 (empty), A003 (unreadable or not audio), A004 (missing).
void read_wav(const std::filesystem::path& file, std::string& pcm, uint32_t& sample_rate);

struct RunOptions {
  uint32_t max_in_flight = 256;
  bool progress = false;         // draw a progress bar on stderr
  std::ostream* results = nullptr;  // one JSON line per turn; may be null
  // May be null. Each batch's records are handed to the writer after the
  // batch; its result lines are written once they are in the file, while
  // the next batch runs (Writer::begin_flush / wait_flushed).
  trace::Writer* trace = nullptr;
  // Called for every finished turn, in input order (after its trace is durable).
  std::function<void(const TurnInput&, const TurnOutcome&)> on_turn;
  // After the engine is cancelled, how long the batch in flight may take
  // before its unfinished turns are abandoned.
  uint32_t shutdown_grace_ms = 3000;
  // No turn of the batch changing stage for this long is reported (R040),
  // and again each further period; 0: off.
  uint32_t stall_report_ms = 60000;
  // Where the watchdog's report and the shutdown's list of abandoned
  // turns (R041) go, one message (several lines) a call; null: stderr.
  std::function<void(const std::string&)> on_alert;
};

struct RunSummary {
  uint64_t turns = 0;
  uint64_t ok = 0;
  uint64_t failed = 0;
  uint64_t cancelled = 0;
  double seconds = 0;
  bool interrupted = false;  // cancelled by SIGINT / Engine::cancel()
  // Turns still running when the shutdown grace ran out (not in the
  // results or the trace). When nonzero, a stage may still be inside a
  // call that never returns, on a thread that uses the engine: close the
  // trace writer, flush the results and end the process with _exit(),
  // never destroying the engine (it would close that stage's instance).
  uint64_t abandoned = 0;
  // Why the result lines could not be written (e.g. "No space left on
  // device"); empty if they were. The run stops taking turns when it
  // happens; the turns that ran are still in the trace.
  std::string results_error;
  // A plugin took the process down in process (see salvage_after_crash()):
  // the signal it died of, or the status it called exit() with (-1: none).
  // The finished turns are reported like those of an interrupted run; the
  // caller then ends the process the way the plugin would have.
  int crash_signal = 0;
  int crash_exit = -1;
};

// The result line of one turn (the identity fields plus the outcome).
std::string result_line(const TurnInput& in, const TurnOutcome& out);

RunSummary run_turns(Engine& engine, TurnSource& source, const RunOptions& options);

// SIGINT/SIGTERM cancel `engine` (turns in flight finish or are cancelled,
// the trace is flushed; see run_turns() for the bound on how long that
// takes; a second signal ends the grace at once). Call with nullptr to
// detach.
void cancel_on_signals(Engine* engine);

// A plugin running in process crashed the thread that calls this (a fatal
// signal: `signal`, or exit(): `exit_status`), from the CLI's signal and
// exit handlers; async-signal-safe. If a run is in flight (an engine is
// attached by cancel_on_signals()), the crash is taken over: the engine is
// cancelled and run_turns() reports every finished turn (records first),
// then returns with RunSummary::crash_signal / crash_exit set. Returns how
// long, in ms, the crashing thread must then park (never going back into
// the plugin) before ending the process itself, should the loop never get
// there (a lock the dead thread held); 0 when no run is in flight: end the
// process now. A second crash while one is taken over parks as well.
int64_t salvage_after_crash(int signal, int exit_status) noexcept;

}  // namespace cascade
