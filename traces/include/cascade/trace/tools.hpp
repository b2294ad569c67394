// cascade/trace/tools.hpp — the trace tools as a plain C++ API, and their
// command-line registration (`cascade trace verify|cat|export|stats`,
// `cascade diff`).
//
// Every tool reads what it can and reports damage instead of failing on it;
// TraceError (T0xx) is thrown only when nothing can be read (no such file,
// not a trace) or for bad arguments (T010).
// Threading: free functions, no shared state; safe to call from any thread.
#pragma once

#include <cascade/trace/reader.hpp>

#include <nlohmann/json.hpp>

#include <cstdint>
#include <filesystem>
#include <iosfwd>
#include <string>
#include <vector>

namespace CLI {
class App;
}

namespace cascade::trace {

// ---------------------------------------------------------------- JSON views
// Payloads: text as {"type":"text","text":...}, json embedded as JSON,
// audio as {"type":"audio","sample_rate","samples","bytes","xxh64"}.
nlohmann::json to_json(const Payload& p);
nlohmann::json to_json(const StageRecord& r);  // every field
nlohmann::json to_json(const TurnRecord& r);   // every field
nlohmann::json to_json(const Turn& t);         // turn fields + "stages":[...]
nlohmann::json to_json(const Damage& d);
// One JSON line; invalid UTF-8 in recorded text is replaced, never thrown on.
std::string dump_line(const nlohmann::json& j);

// ---------------------------------------------------------------- verify
struct VerifyReport {
  std::vector<FileInfo> files;
  ReadStats stats;
  uint64_t stage_records = 0;
  uint64_t turn_records = 0;
  std::vector<Damage> damage;  // damaged tails, bad checksums, bad headers
  [[nodiscard]] bool ok() const noexcept { return damage.empty(); }
};
VerifyReport verify(const std::filesystem::path& path);
std::string format_text(const VerifyReport& r);
nlohmann::json to_json(const VerifyReport& r);

// ---------------------------------------------------------------- --where
// Terms `key=value` or `key!=value`, ANDed. Keys: dialogue, user, turn
// (turn_index), seq (turn_seq), stage, plugin, status, worker.
// On a stage record every key tests that record. On a whole turn
// (cat --by turn): dialogue/user/turn/seq test the turn; stage, plugin and
// worker match if ANY of its stages matches; status matches the turn's
// status or ANY stage's status (so status=error finds turns with a failed
// stage). `!=` negates the whole term.
class Where {
 public:
  Where() = default;
  // Throws TraceError T010 on a malformed term or unknown key.
  static Where parse(const std::vector<std::string>& terms);
  [[nodiscard]] bool matches(const StageRecord& r) const;
  [[nodiscard]] bool matches(const Turn& t) const;
  [[nodiscard]] bool empty() const noexcept { return terms_.empty(); }

 private:
  enum class Key { Dialogue, User, Turn, Seq, Stage, Plugin, Status, Worker };
  struct Term {
    Key key;
    std::string value;
    bool negate = false;
  };
  std::vector<Term> terms_;
};

// ---------------------------------------------------------------- redact
// For sharing a trace outside the team (`cat --redact`, `export --redact`).
// Replaced by "redacted:<16 hex>" (xxh64 seeded with `key`): dialogue and
// user ids, text payloads (stage inputs and outputs, the turn's input),
// every string value inside JSON payloads, gold and result, n-best texts,
// text feature values, error messages. Audio (and any other binary
// payload) is dropped, its size and plain xxh64 kept. Stays: turn index
// and seq, stage ids, plugins, ports, statuses, error codes, timings,
// workers, numeric features, confidences, scores, JSON keys, timestamps.
// One key: equal strings give equal hashes (a dialogue's turns still group).
struct RedactOptions {
  uint64_t key = 0;  // the CLI draws a random one unless --redact-key is given
};
std::string redacted(std::string_view text, const RedactOptions& options);
void redact(Payload& p, const RedactOptions& options);
void redact(StageRecord& r, const RedactOptions& options);
void redact(TurnRecord& r, const RedactOptions& options);
void redact(Turn& t, const RedactOptions& options);
void redact(TraceData& data, const RedactOptions& options);

// ---------------------------------------------------------------- cat
struct CatOptions {
  bool by_turn = false;  // one line per turn instead of per stage record
  Where where;           // tested on the records as recorded (before redaction)
  bool redact = false;   // print redacted records (see above)
  RedactOptions redaction{};
};
struct CatResult {
  uint64_t lines = 0;
  std::vector<Damage> damage;
};
// JSON lines to `out`. Per stage record: streams, in file order (turn
// records are skipped). Per turn: reads everything, ordered by turn_seq.
CatResult cat(const std::filesystem::path& path, const CatOptions& options, std::ostream& out);

// ---------------------------------------------------------------- export
// Chrome trace-event JSON for Perfetto / chrome://tracing:
//   pid 1 = the run; tid = worker (one track per worker thread);
//   stage = ph "X" slice on its worker's track; turn = ph "X" slice on each
//   worker track it used, enclosing its stages there; dialogue = ph "X"
//   slice on a "dialogues" track (tid >= 100000, lanes so none overlap).
//   ts/dur in microseconds since the earliest record ("otherData" holds the
//   Unix time of ts 0). Metadata events (ph "M") carry ts 0 / dur 0 too.
nlohmann::json export_perfetto(const TraceData& data);
// OTLP/JSON: one trace per dialogue (traceId = 32 hex from run + dialogue),
// a root span per dialogue, a span per turn (parent: dialogue), a span per
// stage (parent: turn); spanIds are 16 hex; times as decimal strings.
nlohmann::json export_otlp(const TraceData& data);

// ---------------------------------------------------------------- stats
struct Latency {
  uint64_t count = 0;
  int64_t p50_ns = 0, p90_ns = 0, p99_ns = 0, max_ns = 0;  // nearest-rank
};
struct StageStats {
  std::string stage_id;
  uint64_t count = 0, ok = 0, errors = 0, timeouts = 0, skipped = 0, cancelled = 0, crashed = 0;
  Latency latency;  // over every record of the stage (end_ns - start_ns)
};
struct StatsReport {
  uint64_t turns = 0, turns_ok = 0, turns_failed = 0, turns_cancelled = 0, turns_without_record = 0;
  Latency turn_latency;            // over turn records
  std::vector<StageStats> stages;  // in order of first appearance
  std::vector<Damage> damage;
};
StatsReport compute_stats(const TraceData& data);
std::string format_text(const StatsReport& r);
nlohmann::json to_json(const StatsReport& r);

// ---------------------------------------------------------------- diff
struct TurnDivergence {
  std::string dialogue_id;
  uint32_t turn_index = 0;
  std::string stage_id;  // first stage (A's order) whose outputs/status differ
  std::string reason;    // e.g. "output 'text' differs", "status ok -> error"
};
struct DiffReport {
  uint64_t turns_a = 0, turns_b = 0;
  uint64_t matched = 0, identical = 0, only_in_a = 0, only_in_b = 0;
  std::vector<TurnDivergence> divergences;                 // in A's turn order
  std::vector<std::pair<std::string, uint64_t>> by_stage;  // diverging turns per first stage
  std::vector<Damage> damage;                              // of both inputs
};
// Turns match by (dialogue_id, turn_index). Stages compare by status and
// output payloads (bytes; size + xxh64 when audio was hashed).
DiffReport diff(const TraceData& a, const TraceData& b);
std::string format_text(const DiffReport& r);
nlohmann::json to_json(const DiffReport& r);

// ---------------------------------------------------------------- CLI
// Adds `trace` (verify, cat, export, stats) and `diff` to `app`. Callbacks
// set exit_code: 0 ok, 1 runtime failure or damage found, 2 usage error.
// Output goes to std::cout, diagnostics to std::cerr.
void register_commands(CLI::App& app, int& exit_code);

}  // namespace cascade::trace
