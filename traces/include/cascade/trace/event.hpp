// cascade/trace/event.hpp — what the scheduler hands the trace writer.
//
// Events are VIEWS: every string_view / span points into memory owned by the
// caller and is only read during Writer::write(). The writer encodes them
// straight into a per-worker binary buffer (no text formatting, no
// allocation per record in the steady state).
#pragma once

#include <cstdint>
#include <span>
#include <string_view>

namespace cascade::trace {

// Status of one stage in one turn. Values are part of the file format.
// Crashed: the stage ran in a worker process (isolation = "process") that
// died during the call (a signal or exit status; the message says which).
enum class StageStatus : uint8_t { Ok = 0, Error = 1, Timeout = 2, Skipped = 3, Cancelled = 4, Crashed = 5 };

// Status of a whole turn. Values are part of the file format.
enum class TurnStatus : uint8_t { Ok = 0, Failed = 1, Cancelled = 2 };

// A payload crossing a port. `type` is a cascade_payload_type.
struct PayloadView {
  std::string_view port;
  uint32_t type = 0;
  uint32_t sample_rate = 0;
  const void* data = nullptr;
  uint64_t size = 0;
};

struct NBestView {
  std::string_view text;
  double score = 0;
};
struct FeatureView {
  std::string_view key;
  double value = 0;
};
struct TextFeatureView {
  std::string_view key;
  std::string_view value;
};

// Identifies a turn across every record written for it.
struct TurnKey {
  std::string_view dialogue_id;
  std::string_view user_id;
  uint32_t turn_index = 0;  // position in its dialogue
  uint64_t turn_seq = 0;    // unique within a run, increasing in input order
};

inline constexpr uint32_t kNoPayload = 0xFFFFFFFFu;  // an unbound port (StageDecl::frame_ports)

// What never changes between two records of one pipeline stage, declared
// once with Writer::declare() (see there).
struct StageDecl {
  std::string_view stage_id;
  std::string_view plugin;
  std::string_view plugin_version;
  std::span<const std::string_view> input_ports;   // in declaration order
  std::span<const std::string_view> output_ports;
  // Optional, for turn frames (below): per port, inputs then outputs, the
  // index in a frame's payload table it reads or writes, or kNoPayload
  // (unbound). A scheduler lays a turn's payloads out the same way every
  // turn, so this is said once here and not in every frame. Empty: the
  // stage is never written in a frame.
  std::span<const uint32_t> frame_ports;
};

inline constexpr uint32_t kNotDeclared = 0xFFFFFFFFu;

// One stage executed (or skipped, timed out...) for one turn.
struct StageEvent {
  TurnKey turn;
  // A handle from Writer::declare(), or kNotDeclared. When declared, the
  // three names below and every PayloadView::port are NOT read: `inputs`
  // and `outputs` hold exactly one entry per declared port, in order, with
  // type 0 for an absent payload (the record stores ports by position, the
  // names once per chunk). The reader gives back the same record either way.
  uint32_t decl = kNotDeclared;
  std::string_view stage_id;
  std::string_view plugin;
  std::string_view plugin_version;
  int64_t start_ns = 0;  // nanoseconds since the Unix epoch
  int64_t end_ns = 0;
  uint32_t worker = 0;   // scheduler worker index (a Perfetto track)
  StageStatus status = StageStatus::Ok;
  uint32_t error_code = 0;  // cascade_status, or a core error code
  bool transient = false;
  std::string_view error_message;
  std::span<const PayloadView> inputs;
  std::span<const PayloadView> outputs;
  bool has_confidence = false;
  double confidence = 0;
  std::span<const NBestView> nbest;
  std::span<const FeatureView> features;
  std::span<const TextFeatureView> text_features;
  // The caller promises that the payload bytes of this event stay unchanged
  // until it writes a record with another turn key (the scheduler's do:
  // a turn's slots live until its records are written). The writer then
  // recognises a payload repeated within the turn by its address alone,
  // without comparing bytes.
  bool payloads_stable = false;
};

// Written once per turn, after all of its stage events.
struct TurnEvent {
  TurnKey turn;
  std::string_view timestamp;  // as given by the input (ISO 8601), may be empty
  uint64_t config_digest = 0;  // xxh64 of the effective pipeline config
  int64_t start_ns = 0;
  int64_t end_ns = 0;
  TurnStatus status = TurnStatus::Ok;
  PayloadView input;             // the turn's input payload
  std::string_view gold_json;    // gold annotations per stage, JSON object or empty
  std::string_view result_json;  // the final result (the turn's result line), JSON
  bool payloads_stable = false;  // as StageEvent::payloads_stable
};

// --- turn frames ----------------------------------------------------------------
// The common turn in ONE record: every stage that ran finished ok with
// nothing to report but an optional confidence. The turn's payloads are
// listed once (TurnFrame::payloads; the stages' StageDecl::frame_ports
// refer to them by index), so a payload a stage forwards is stored once,
// and the stages cost no names, no key and no per-record framing: which
// payload each port sees is said once, in the declaration. Readers give back exactly the StageRecords and the
// TurnRecord that separate declared records would give. A turn with an
// error, a skipped stage, features or n-best lists is written as separate
// records instead (the scheduler decides).


// One stage of a TurnFrame.
struct FrameStage {
  uint32_t decl = kNotDeclared;  // a handle declared with frame_ports
  int64_t start_ns = 0;
  int64_t end_ns = 0;
  uint32_t worker = 0;
  bool has_confidence = false;
  double confidence = 0;
};

struct TurnFrame {
  // The turn record's fields. `turn.input` is NOT read: the input is
  // payloads[input] and is read back with the port name "input".
  TurnEvent turn;
  // The turn's payloads, laid out as the stages' frame_ports say (port
  // names are not read). Views equal in address and size are stored once:
  // all of them are live during write().
  std::span<const PayloadView> payloads;
  uint32_t input = 0;
  std::span<const FrameStage> stages;  // in execution order
};

}  // namespace cascade::trace
