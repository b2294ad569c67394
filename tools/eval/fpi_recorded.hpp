// eval/fpi_recorded.hpp — scored runs in the shape of issue 14's section
// 3: the eval dialogues as another system's recorded-ASR logs, so that an
// isolator is also measured on turns where the recogniser is known only by
// what it logged (pipelines/assistant-recorded-asr.toml: recorded_asr ->
// request -> nlu -> er -> result; no audio, no wake stage, no word
// confidences).
//
// The hypotheses are real: those the speech assistant's recogniser
// (pocketsphinx) produced in one of this evaluation's speech runs. For each
// addressed turn the ASR ran on, the turn is the eval dialogues' own line
// (header, slurp_id, gold) with its payload replaced by what the ASR stage
// recorded: {"json": {"text", "confidence", "nbest"}} (docs/recorded-asr.md).
// That is the turn `cascade-assistant-data --asr-field` builds from a
// SLURP-format record carrying that hypothesis (the same gold function),
// with the dialogue id of the eval dialogues, so the split by dialogue puts
// each request on the same side in every run. Turns the device never heard
// (a missed wake word) and background speech are left out: a recogniser's
// log has no line for them.
//
// Each source gives two runs: `recorded-<source>` as logged, and
// `recorded-<source>-text` (family "recorded-text") with the transcript
// only, as from a recogniser that logs no confidence and no n-best: an
// isolator trained where confidences exist must not take their absence
// for a sign that the ASR was right.
//
// Lifecycle: plain functions. Threading: one call at a time.
#pragma once

#include "eval/fpi_data.hpp"

#include <filesystem>
#include <string>
#include <vector>

namespace cascade::language::eval {

// The speech runs the recorded runs are made from: at the default size
// one per voice with the most ASR failures among the plain runs the wake
// word mostly survives (slt at 20 dB, en-us+f2 clean); small: slt clean.
std::vector<std::string> recorded_sources(const std::string& size);

// For each source among `runs`, writes OUT/recorded-<source>.jsonl and
// OUT/recorded-<source>-text.jsonl from its trace and the request's input,
// and returns the variants that run them through `recorded_pipeline`
// (names "recorded-<source>" and "recorded-<source>-text", the source's
// voice). Returns {} with the reason in `note` when the recorded pipeline
// is not given or no source ran. Throws TraceError when a source trace
// cannot be read, std::runtime_error when a file cannot be written.
std::vector<FpiVariant> plan_recorded(const std::vector<FpiRun>& runs, const FpiDataRequest& data,
                                      const std::filesystem::path& recorded_pipeline, std::string& note);

}  // namespace cascade::language::eval
