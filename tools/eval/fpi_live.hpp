// eval/fpi_live.hpp — scored runs whose users react to what the assistant
// did, so that an isolator is measured on what live traffic tells it: the
// next turn of a dialogue (issue 14, section 2: "the next turn is a
// rephrase, a repeat, a barge-in, silence"; Khaziev et al.'s FPI model
// reads the following turns too).
//
// The eval dialogues are scripted: each turn's request was written before
// the one before it ran, so in them the next turn says nothing about this
// one. A live run is one of the scored runs again with users who react:
//   1. the source run's trace says, turn by turn, whether the user got
//      what they asked for (the result judged acceptable against gold, as
//      the rewriting simulator's users judge: tools/simulate/session.hpp);
//      a wake word the device missed is a failure, background speech
//      nobody addressed to it is never retried;
//   2. after a failure the user tries again (LiveUser: most of the time,
//      sometimes barging in on the response), after a success now and
//      then; a retry rephrases the request when the turns hold another
//      request with the same gold (intent, slots and result: 55 of the
//      190 addressed eval turns do) and the user chooses to, else it
//      repeats the words with a pause after the first one, so that a
//      spoken repeat is a second take; at most one retry follows a turn:
//      whether the retry itself worked is known only once it ran;
//   3. every next turn is re-timed from when the response ended, a retry
//      sooner than a new request on average but with overlapping gaps, so
//      no isolator can read the answer off the clock alone;
//   4. the live dialogues run through the source's pipeline and overrides
//      as a new scored run, `<source>-live`, labelled by the oracle like
//      every run. Its turns keep their dialogue ids: each falls on the same
//      side of the split as its scripted twin.
// The user's reaction is simulated: every figure from these runs says so.
//
// Lifecycle: plain functions. Threading: one call at a time.
#pragma once

#include "eval/fpi_data.hpp"

#include <nlohmann/json_fwd.hpp>

#include <cstdint>
#include <map>
#include <string>
#include <utility>
#include <vector>

namespace cascade::language::eval {

// How the simulated users react; every draw is keyed by (seed, turn id).
struct LiveUser {
  double retry_after_failure = 0.7;   // a failed request is tried again (else the user moves on)
  double retry_after_success = 0.03;  // a good one too, now and then (a misheard answer)
  double barge_in = 0.3;              // a retry starts before the response ended
  double rephrase = 0.5;              // a retry says it another way, when the turns hold one
  uint64_t seed = 21;
};

// What the user perceived of one scripted turn.
struct Perceived {
  bool failed = false;
  double speaking_s = 1.0;  // how long the response took to say (sim::response_seconds)
};
using TurnKey = std::pair<std::string, uint32_t>;  // (dialogue_id, turn_index)

struct LiveCounts {
  uint64_t turns = 0, retries = 0, after_failure = 0, barge_ins = 0, rephrased = 0;
};

// The live dialogues for `scripted` (one run's input lines, grouped by
// dialogue in file order; each with dialogue_id, turn_index, turn_id,
// timestamp): the same turns, re-indexed and re-timed, with the retries
// the users chose (a rephrasing is another of these turns' payload and
// gold). A turn absent from `perceived` (the run did not record it) or
// not addressed is never retried.
std::vector<nlohmann::json> live_turns(const std::vector<nlohmann::json>& scripted,
                                       const std::map<TurnKey, Perceived>& perceived, const LiveUser& user,
                                       LiveCounts& counts);

// The scored runs that get a live twin: default slt at 20 dB, en-us+f2
// clean, slt degraded, both text runs (every failure class) and the
// recorded run of slt at 20 dB; small: slt clean and the broken-skill
// text run. (Live twins of the typed
// TRAIN-fold runs were tried as more training data: they lowered the
// scripted recorded-ASR scores and barely moved the live ones.)
std::vector<std::string> live_sources(const std::string& size);
// Those of `runs`, in live_sources() order.
std::vector<FpiRun> scored_live_sources(const std::vector<FpiRun>& runs, const std::string& size);

// For each source run, writes OUT/live-<name>.jsonl from its trace and
// its input (the variant's, else the request's), and returns the variant
// that runs it: the source's, named `<name>-live`, kind of run
// `<family>-live`, `live` set. `note` counts the turns and retries, or
// says that no source ran (a --turns evaluation: its turns are scripted).
// Throws TraceError when a source trace cannot be read,
// std::runtime_error when a file cannot be read or written.
std::vector<FpiVariant> plan_live(const std::vector<FpiRun>& sources, const FpiDataRequest& data, std::string& note,
                                  const LiveUser& user = {});

}  // namespace cascade::language::eval
