// Internal to process isolation: the four messages (see wire.hpp for the
// conversation) as types, with their encoders and decoders. Shared by the
// engine side (process_stage.cpp) and the worker (worker_main.cpp);
// tested without any process (core/isolation/tests/protocol_test.cpp).
//
// Lifecycle: plain values; the *View types point into the message body
// they were decoded from and live no longer than it.
// Threading: none of their own.
#pragma once

#include "isolation/wire.hpp"

#include <cascade/abi/cascade_abi.h>
#include <cascade/sdk/detail/host_api.hpp>

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace cascade::isolation {

// Per-stage limits applied inside the worker (setrlimit) and to payloads.
struct Limits {
  uint64_t memory_mb = 0;    // RLIMIT_AS; 0: none
  uint32_t cpu_s = 0;        // RLIMIT_CPU (the worker's whole life); 0: none
  uint64_t max_payload = 0;  // bytes, each input and output; 0: none
};

struct Hello {
  std::string plugin_path;
  std::string plugin_name;  // the worker refuses a file that holds another plugin
  std::string stage_id;
  std::vector<std::pair<std::string, std::string>> params;
  Limits limits;
};

// The worker's answer to Hello: its instance is open, or why not (code
// R001 create failed, R002 open failed, R050 the plugin file or the limits
// could not be applied).
struct Ready {
  bool ok = false;
  std::string code;
  std::string message;
};

void encode(std::string& buf, const Hello& h);
Hello decode_hello(std::string_view body);
void encode(std::string& buf, const Ready& r);
Ready decode_ready(std::string_view body);

// ---------------------------------------------------------------- Call
// Built in place: begin_call, then add_call_turn once per turn, then
// wire::finish. `remaining_ns`: the turn's time left for this stage
// (INT64_MAX: no deadline); `turn`: who it is (host->turn in the worker).
using sdk::detail::TurnIdentity;
void begin_call(std::string& buf, uint32_t n_turns, uint32_t n_in);
void add_call_turn(std::string& buf, int64_t remaining_ns, const TurnIdentity& turn, const cascade_payload* in,
                   uint32_t n_in);

struct CallView {
  uint32_t n_turns = 0;
  uint32_t n_in = 0;
  std::vector<int64_t> remaining_ns;     // per turn
  std::vector<TurnIdentity> turns;       // per turn, views into the body
  std::vector<cascade_payload> inputs;   // n_turns * n_in, data pointing into the body
};
void decode_call(std::string_view body, CallView& out);

// ---------------------------------------------------------------- Result
// One output port of one turn: bytes the plugin emitted, or one of the
// turn's inputs passed on (forward, or emit of an input's own bytes), sent
// back by index instead of by value.
// `bytes` points at the worker's copy (kept until the Result is encoded).
struct OutputReport {
  uint32_t type = CASCADE_PAYLOAD_NONE;
  uint32_t sample_rate = 0;
  int32_t from_input = -1;  // >= 0: this input of the turn
  std::string_view bytes;
};
// What one turn's process() did, as the worker collected it.
struct TurnReport {
  uint32_t status = CASCADE_OK;
  uint32_t code = 0;
  bool transient = false;
  std::string message;
  bool has_conf = false;
  double conf = 0;
  std::vector<std::pair<std::string, double>> nbest, feats;
  std::vector<std::pair<std::string, std::string>> tfeats;
  std::vector<OutputReport> outputs;  // one per output port
  void clear(uint32_t n_out);
};
void encode_result(std::string& buf, const TurnReport* turns, uint32_t n_turns);

// The same, as the host reads it: views into the message body.
struct OutputView {
  uint32_t type = CASCADE_PAYLOAD_NONE;
  uint32_t sample_rate = 0;
  int32_t from_input = -1;
  std::string_view bytes;
};
struct TurnView {
  uint32_t status = CASCADE_OK;
  uint32_t code = 0;
  bool transient = false;
  std::string_view message;
  bool has_conf = false;
  double conf = 0;
  std::vector<std::pair<std::string_view, double>> nbest, feats;
  std::vector<std::pair<std::string_view, std::string_view>> tfeats;
  std::vector<OutputView> outputs;
};
// Decodes a Result of exactly `n_turns` turns with `n_out` outputs each and
// inputs indexed below `n_in`; `out` is resized (its vectors keep their
// capacity across calls).
void decode_result(std::string_view body, uint32_t n_turns, uint32_t n_out, uint32_t n_in, std::vector<TurnView>& out);

}  // namespace cascade::isolation
