// rewriting/online/signals.hpp — a turn's defect signals (TurnSignals,
// rewriter.hpp) read from the JSON the assistant's stages emit: the
// recorded hypothesis {"confidence"}, the NLU's {"confidence", "intent",
// "slots"}, the ER's
// {"entities": [{"status"}]} and the result's {"success", "supported"}.
// Any of them may be absent (empty view); a payload that is not the
// expected JSON adds nothing rather than failing the turn (a rewriter must
// never break a turn it could only have helped).
//
// Lifecycle/threading: a free function over views; reentrant.
#pragma once

#include "online/rewriter.hpp"

#include <string_view>

namespace cascade::rewriting {

struct SignalPayloads {
  std::string_view asr, nlu, er, result;  // JSON text, or empty when absent
};

TurnSignals read_signals(const SignalPayloads& payloads);

}  // namespace cascade::rewriting
