// cascade/sdk/detail/host_api.hpp — the host side of the plugin ABI,
// written once: the table of host functions a plugin calls and the checks
// each makes before anything lands (outside process(), a port out of
// range, an output of the wrong type). Two hosts use it: the engine
// (core/runtime/stage_caller.cpp) and the SDK's test harness
// (sdk/testing.hpp); tests/host_api_conformance_test.cpp runs the same
// plugins through both. Header-only and free of the core: the harness
// must not link it.
//
// A host supplies the state a cascade_context points to, a type `Call`
// with these members (inline where they are on the hot path):
//   bool in_process() const;          // inside a process() call for one turn
//   uint32_t n_outputs() const;       // the plugin's output ports
//   uint32_t output_type(uint32_t port) const;  // declared cascade_payload_type
//   uint32_t n_inputs() const;
//   const cascade_payload* inputs() const;
//   void store(uint32_t port, const cascade_payload& p, bool forwarded);  // checked already
//   void error(cascade_status code, bool transient, const char* msg);     // msg never null
//   void log(cascade_log_level level, const char* msg);                   // msg never null
//   bool param(const char* name, const char** value, size_t* len);
//   void confidence(double); void nbest(std::string_view text, double score);
//   void feature(const char* key, double); void feature_text(const char* key, std::string_view value);
//   bool stop_requested();  int64_t remaining_ns();
//   TurnIdentity turn() const;                                            // ABI 1.4
// Reports (confidence, nbest, features) arrive only inside process(): the
// table drops them elsewhere.
//
// Lifecycle: host_api_table<Call>() returns a table filled once per call
// site; a host keeps its own copy (it may shorten it to act as an older
// host). Threading: the functions keep no state of their own; each call
// touches only the Call its context points to.
#pragma once

#include <cascade/abi/cascade_abi.h>

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace cascade::sdk::detail {

// An output of type `type` may land on a port declared `declared`: the one
// output-port type check (emit, forward, and an entry a batch call stored).
constexpr bool output_type_ok(uint32_t declared, uint32_t type) {
  return declared == CASCADE_PAYLOAD_ANY || type == declared;
}

// What a host records when a batch call (ABI 1.2) stored, in its output
// entry for `port`, a payload of a type the port does not take.
inline std::string stored_output_refusal(uint32_t type, std::string_view port, uint32_t declared) {
  const auto name = [](uint32_t t) -> std::string_view {
    switch (t) {
      case CASCADE_PAYLOAD_NONE: return "none";
      case CASCADE_PAYLOAD_TEXT: return "text";
      case CASCADE_PAYLOAD_AUDIO: return "audio";
      case CASCADE_PAYLOAD_JSON: return "json";
      case CASCADE_PAYLOAD_ANY: return "any";
      default: return "unknown";
    }
  };
  return "process_batch stored a " + std::string(name(type)) + " payload on output '" + std::string(port) +
         "', declared " + std::string(name(declared));
}

// The turn a process() call is for, as a host knows it (host->turn).
struct TurnIdentity {
  std::string_view dialogue_id;
  std::string_view user_id;
  uint32_t turn_index = 0;
  uint64_t turn_seq = 0;
};

template <class Call>
struct HostApi {
  static Call& of(cascade_context* c) { return *reinterpret_cast<Call*>(c); }

  static void log(cascade_context* c, cascade_log_level level, const char* msg) {
    of(c).log(level, msg != nullptr ? msg : "");
  }
  static int get_param(cascade_context* c, const char* name, const char** value, size_t* len) {
    return name != nullptr && of(c).param(name, value, len) ? 1 : 0;
  }
  static void set_error(cascade_context* c, cascade_status code, int transient, const char* msg) {
    of(c).error(code, transient != 0, msg != nullptr ? msg : "");
  }
  static cascade_status emit(cascade_context* c, uint32_t port, const cascade_payload* p) {
    Call& call = of(c);
    if (!call.in_process() || p == nullptr) return CASCADE_ERR_UNSUPPORTED;
    if (port >= call.n_outputs() || !output_type_ok(call.output_type(port), p->type))
      return CASCADE_ERR_INVALID_ARGUMENT;
    cascade_payload v = *p;
    v.struct_size = sizeof v;
    v.sample_rate = CASCADE_HAS_FIELD(p, cascade_payload, sample_rate) ? p->sample_rate : 0;
    call.store(port, v, /*forwarded=*/false);
    return CASCADE_OK;
  }
  // ABI 1.1: an input passed on as it is (no copy).
  static cascade_status forward(cascade_context* c, uint32_t port, uint32_t in_port) {
    Call& call = of(c);
    if (!call.in_process()) return CASCADE_ERR_UNSUPPORTED;
    if (port >= call.n_outputs() || in_port >= call.n_inputs()) return CASCADE_ERR_INVALID_ARGUMENT;
    const cascade_payload& p = call.inputs()[in_port];
    if (!output_type_ok(call.output_type(port), p.type)) return CASCADE_ERR_INVALID_ARGUMENT;
    call.store(port, p, /*forwarded=*/true);
    return CASCADE_OK;
  }
  static void confidence(cascade_context* c, double v) {
    if (of(c).in_process()) of(c).confidence(v);
  }
  static void nbest(cascade_context* c, const char* text, size_t len, double score) {
    if (of(c).in_process()) of(c).nbest(std::string_view(text, len), score);
  }
  static void feature(cascade_context* c, const char* key, double v) {
    if (of(c).in_process()) of(c).feature(key, v);
  }
  static void feature_text(cascade_context* c, const char* key, const char* v, size_t len) {
    if (of(c).in_process()) of(c).feature_text(key, std::string_view(v, len));
  }
  // ABI 1.4: fills the fields of `out` its caller's struct_size covers.
  static cascade_status turn(cascade_context* c, cascade_turn_info* out) {
    Call& call = of(c);
    if (!call.in_process() || out == nullptr) return CASCADE_ERR_UNSUPPORTED;
    const TurnIdentity id = call.turn();
    if (CASCADE_HAS_FIELD(out, cascade_turn_info, dialogue_id_len)) {
      out->dialogue_id = id.dialogue_id.data();
      out->dialogue_id_len = id.dialogue_id.size();
    }
    if (CASCADE_HAS_FIELD(out, cascade_turn_info, user_id_len)) {
      out->user_id = id.user_id.data();
      out->user_id_len = id.user_id.size();
    }
    if (CASCADE_HAS_FIELD(out, cascade_turn_info, turn_index)) out->turn_index = id.turn_index;
    if (CASCADE_HAS_FIELD(out, cascade_turn_info, turn_seq)) out->turn_seq = id.turn_seq;
    return CASCADE_OK;
  }
  static int should_stop(cascade_context* c) { return of(c).stop_requested() ? 1 : 0; }
  static int64_t remaining_ns(cascade_context* c) { return of(c).remaining_ns(); }
};

// The full table of this ABI version for a host whose contexts point to `Call`s.
template <class Call>
cascade_host_api host_api_table() {
  using H = HostApi<Call>;
  cascade_host_api host{};
  host.struct_size = sizeof host;
  host.abi_major = CASCADE_ABI_MAJOR;
  host.abi_minor = CASCADE_ABI_MINOR;
  host.log = &H::log;
  host.get_param = &H::get_param;
  host.set_error = &H::set_error;
  host.emit = &H::emit;
  host.report_confidence = &H::confidence;
  host.report_nbest = &H::nbest;
  host.report_feature = &H::feature;
  host.report_feature_text = &H::feature_text;
  host.should_stop = &H::should_stop;
  host.remaining_ns = &H::remaining_ns;
  host.forward = &H::forward;
  host.turn = &H::turn;
  return host;
}

}  // namespace cascade::sdk::detail
