// simulate/trace_turns.hpp — what the recogniser did, read from a real
// speech-pipeline trace: the input of estimate() (error_model.hpp).
//
// Lifecycle: a plain function. Threading: safe from any thread (reads its
// argument only).
#pragma once

#include "error_model.hpp"

#include <functional>
#include <vector>

namespace cascade::trace {
struct TraceData;
struct Turn;
}  // namespace cascade::trace

namespace cascade::sim {

// Every turn with a gold transcript whose asr stage wrote text and a
// confidence (and that `keep` accepts, when given): the hypothesis without
// a leading wake word "alexa", the normalised gold, the confidence.
// `require_confidence` false: also the turns without a confidence
// (AsrTurn::has_confidence false), as a recogniser that logs none leaves.
std::vector<AsrTurn> asr_turns(const trace::TraceData& data,
                               const std::function<bool(const trace::Turn&)>& keep = {},
                               bool require_confidence = true);

}  // namespace cascade::sim
