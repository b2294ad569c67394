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

// Reads the whole trace (TraceError on an unreadable file; damaged tails
// are skipped: only complete turns are replayed). Throws CascadeError R030
// for an unknown stage id in the options.
std::unique_ptr<TurnSource> open_replay(const std::filesystem::path& trace, const PipelinePlan& plan,
                                        const ReplayOptions& options);

}  // namespace cascade
