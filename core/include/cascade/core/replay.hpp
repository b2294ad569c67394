// cascade/core/replay.hpp — re-running recorded turns through a (possibly
// modified) pipeline.
//
// The recorded turn input is fed again; stages can be given instead of
// run:
//   - from_stage: every stage UPSTREAM of it (its transitive inputs) is
//     fed its recorded outputs and not executed; it and everything that
//     does not feed it run for real.
//   - substitute: chosen stages get their recorded outputs ("trace") or
//     the turn's gold annotation ("gold", "gold:KEY"; KEY defaults to the
//     stage id) — the failure-point oracle is built on this.
// Gold values map onto a stage's output ports by type: a text port takes
// a JSON string or an object's "text" member; a json port takes the value
// as a JSON document; a null or missing gold value means "no output"
// (downstream sees the input missing).
// A turn that cannot be replayed (a needed record missing, a payload kept
// only as a hash) comes back with input_error R03x and is recorded as a
// failed turn, never dropped.
#pragma once

#include <cascade/core/run.hpp>
#include <cascade/trace/reader.hpp>

#include <filesystem>
#include <map>
#include <string>
#include <vector>

namespace cascade {

struct ReplayOptions {
  std::string from_stage;
  std::vector<std::string> turns;  // --where terms (dialogue=, turn=, seq=...)
  std::map<std::string, std::string> substitute;  // stage id -> "trace" | "gold" | "gold:KEY"
};

// One recorded turn made ready to run again: `t` gets the turn's identity,
// input and gold from `turn`, and the stages in `given` (stage index ->
// "trace" | "gold" | "gold:KEY") are injected instead of run. A given
// stage's outputs are taken from the trace or the gold only when a stage
// that runs reads them; otherwise it is simply not run (so audio recorded
// as a hash upstream of the first running stage is never needed). With
// `result_only`, stages the pipeline's result does not depend on (through
// stages that run) are not run either: what analyzers' replays want.
// Problems (a missing record, a hash-only payload a running stage needs,
// a gold that fits no port) set t.input_error (R031-R034); never thrown.
// `extra` outputs (analyzers' given payloads) are injected as they are.
void prepare_replay(const PipelinePlan& plan, const trace::Turn& turn, const std::map<uint32_t, std::string>& given,
                    bool result_only, TurnInput& t, std::vector<InjectedOutput> extra = {});

// The index of stage `id` in the plan; throws CascadeError R030 when absent.
uint32_t replay_stage_index(const PipelinePlan& plan, const std::string& id);

// Reads the whole trace (TraceError on an unreadable file; damaged tails
// are skipped: only complete turns are replayed). Throws CascadeError R030
// for an unknown stage id in the options.
std::unique_ptr<TurnSource> open_replay(const std::filesystem::path& trace, const PipelinePlan& plan,
                                        const ReplayOptions& options);

}  // namespace cascade
