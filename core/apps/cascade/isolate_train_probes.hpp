// isolate_train_probes.hpp — gold probes for `cascade isolate train
// --probe`: columns read from gold, added to the learned isolator's
// features for a cross-validation only, to measure what the trace lacks.
//
// Why: the isolator decides from the trace alone and falls short of the
// oracle. A probe answers "how far would it get if the trace also said
// X?": the cross-validation is run again with X as a column, and the gain
// is what the missing fact is worth. A model that reads gold could never
// run on production traces, so the trainer writes none when probes are on.
//
//   failed      the turn failed: the oracle's label is not `correct`
//   transcript  what the NLU read differs, word for word, from the
//               reference transcript (gold.asr.text)
//   intent      the NLU's top intent differs from gold.nlu.intent
//
// A probe the turn cannot answer (no gold, no NLU stage) is missing (NaN),
// which the trees handle as they handle the plugin's missing features.
//
// Lifecycle: free functions over plain data. Threading: none shared.
#pragma once

#include <cascade/trace/reader.hpp>

#include <string>
#include <vector>

namespace cascade::isolate_train {

enum class Probe { Failed, Transcript, Intent };

// The probes named on the command line, in that order, each once.
// Throws CascadeError N022 on an unknown or repeated name.
std::vector<Probe> parse_probes(const std::vector<std::string>& names);

// The column name of a probe: "probe_failed", ...
std::string probe_column(Probe p);

// A probe's value for one turn: 1 (yes), 0 (no) or NaN (cannot tell).
// `label` is the oracle's class index into failure_classes() (Failed
// reads only it; the others read only the turn).
float probe_value(Probe p, const trace::Turn& turn, int label);

}  // namespace cascade::isolate_train
