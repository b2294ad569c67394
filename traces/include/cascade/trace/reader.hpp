// cascade/trace/reader.hpp — reading trace files back: owned records, damage
// reports, and turns (a TurnRecord with its StageRecords).
//
// This is the API replay and analyzer tools use:
//
//   cascade::trace::Reader r("run.cas");          // a file or a rotated dir
//   while (auto rec = r.next()) {                 // records in file order
//     if (auto* s = std::get_if<StageRecord>(&*rec)) ...
//   }
//   for (const auto& d : r.damage()) ...          // what could not be read
//
//   auto trace = cascade::trace::read_turns("run.cas");
//   for (const Turn& t : trace.turns)
//     if (const StageRecord* asr = t.stage("asr")) asr->output("text")->text();
//
// Lifecycle: Reader opens (and maps) files lazily, one at a time, in order;
//   the constructor throws TraceError (T001 cannot open, T003 not a trace,
//   T004 unsupported version) when the FIRST file cannot be used at all.
//   Damage found later is not thrown: it is collected in damage() and
//   reading goes on with whatever can still be read.
// Threading: a Reader is a single-threaded cursor; records are plain values
//   that may be moved to and used from any thread.
#pragma once

#include <cascade/trace/error.hpp>
#include <cascade/trace/event.hpp>

#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace cascade::trace {

// A payload as recorded. `bytes` owns the data (inline payloads); for audio
// recorded with AudioMode::Hash only size/xxh64 are known and bytes is empty.
struct Payload {
  std::string port;
  uint32_t type = 0;  // cascade_payload_type
  uint32_t sample_rate = 0;
  bool hashed = false;  // true: bytes were not stored, only size + xxh64
  uint64_t size = 0;    // size of the original payload in bytes
  std::string bytes;    // the payload (empty when hashed)
  uint64_t stored_xxh64 = 0;  // valid only when hashed

  // xxh64 (seed 0) of the payload: the stored one, or computed from bytes.
  [[nodiscard]] uint64_t xxh64() const;
  [[nodiscard]] std::string_view text() const noexcept { return bytes; }
  // Same content: byte comparison, or size + xxh64 when either side is hashed.
  [[nodiscard]] bool same_content(const Payload& other) const;
  bool operator==(const Payload&) const = default;
};

struct TurnId {
  std::string dialogue_id;
  std::string user_id;
  uint32_t turn_index = 0;
  uint64_t turn_seq = 0;
  bool operator==(const TurnId&) const = default;
};

struct NBest {
  std::string text;
  double score = 0;
  bool operator==(const NBest&) const = default;
};
struct Feature {
  std::string key;
  double value = 0;
  bool operator==(const Feature&) const = default;
};
struct TextFeature {
  std::string key;
  std::string value;
  bool operator==(const TextFeature&) const = default;
};

// Owned copy of a StageEvent.
struct StageRecord {
  TurnId turn;
  std::string stage_id;
  std::string plugin;
  std::string plugin_version;
  int64_t start_ns = 0;
  int64_t end_ns = 0;
  uint32_t worker = 0;
  StageStatus status = StageStatus::Ok;
  uint32_t error_code = 0;
  bool transient = false;
  std::string error_message;
  std::vector<Payload> inputs;
  std::vector<Payload> outputs;
  bool has_confidence = false;
  double confidence = 0;
  std::vector<NBest> nbest;
  std::vector<Feature> features;
  std::vector<TextFeature> text_features;

  [[nodiscard]] const Payload* input(std::string_view port) const;
  [[nodiscard]] const Payload* output(std::string_view port) const;
  [[nodiscard]] std::optional<double> feature(std::string_view key) const;
  [[nodiscard]] std::optional<std::string_view> text_feature(std::string_view key) const;
  bool operator==(const StageRecord&) const = default;
};

// Owned copy of a TurnEvent, plus the worker that wrote it.
struct TurnRecord {
  TurnId turn;
  uint32_t worker = 0;  // the `worker` argument of Writer::write
  std::string timestamp;
  uint64_t config_digest = 0;
  int64_t start_ns = 0;
  int64_t end_ns = 0;
  TurnStatus status = TurnStatus::Ok;
  Payload input;
  std::string gold_json;
  std::string result_json;
  bool operator==(const TurnRecord&) const = default;
};

using Record = std::variant<StageRecord, TurnRecord>;

// One place that could not be read. `code` is a stable T0xx code.
struct Damage {
  std::string code;
  std::filesystem::path file;
  uint64_t offset = 0;  // byte offset in `file` where the damage starts
  uint64_t bytes = 0;   // bytes skipped / lost from there
  std::string message;
  [[nodiscard]] std::string format() const;  // "file:offset: error[T0xx]: message (N bytes)"
};

// What the file headers say, one per file read.
struct FileInfo {
  std::filesystem::path path;
  uint16_t format_version = 0;
  bool audio_hashed = false;
  uint64_t run_id = 0;
  int64_t created_ns = 0;
  uint32_t file_index = 0;
  std::string writer;
  uint64_t size = 0;
  bool closed_cleanly = false;  // the end marker chunk was found
};

// Where records were read: a file (index in trace_files()) and the offset
// of a chunk in it. Every chunk decodes on its own, so an index of these
// gives random access (Reader::seek).
struct RecordPosition {
  uint32_t file = 0;
  uint64_t chunk_offset = 0;
  bool operator==(const RecordPosition&) const = default;
};

struct ReadStats {
  uint64_t files = 0;
  uint64_t chunks = 0;   // intact record chunks
  uint64_t records = 0;  // records returned
  uint64_t bytes = 0;    // total size of the files
};

class Reader {
 public:
  // `path`: a trace file, or a directory of rotated files trace-NNNNNN.cas
  // (read in name order). Throws TraceError, see the lifecycle above.
  explicit Reader(const std::filesystem::path& path);
  ~Reader();
  Reader(Reader&&) noexcept;
  Reader& operator=(Reader&&) noexcept;

  // The next record in file order; nullopt at the end of the last file.
  std::optional<Record> next();

  [[nodiscard]] const std::vector<Damage>& damage() const noexcept;
  [[nodiscard]] const std::vector<FileInfo>& files() const noexcept;  // files opened so far
  [[nodiscard]] ReadStats stats() const noexcept;

  // The chunk the record last returned by next() came from.
  [[nodiscard]] RecordPosition position() const noexcept;
  // Goes on reading at a chunk a position() named (records still pending
  // are dropped). The file's header is not checked again; damage is
  // reported as by next(). Throws TraceError T001 if the file cannot be
  // opened, T010 for a file index out of range.
  void seek(RecordPosition at);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// The files a path designates: itself, or the rotated files of a directory.
std::vector<std::filesystem::path> trace_files(const std::filesystem::path& path);

// A turn: its TurnRecord (absent if it was lost, e.g. cut off) and its
// StageRecords ordered by start_ns, ties kept in file order.
struct Turn {
  TurnId id;
  std::optional<TurnRecord> record;
  std::vector<StageRecord> stages;

  // The first stage record with this stage id, or nullptr.
  [[nodiscard]] const StageRecord* stage(std::string_view stage_id) const;
  [[nodiscard]] int64_t start_ns() const;  // turn record's, else first stage's
  [[nodiscard]] int64_t end_ns() const;
};

// Everything read from a path, grouped into turns ordered by turn_seq.
struct TraceData {
  std::vector<Turn> turns;
  std::vector<Damage> damage;
  std::vector<FileInfo> files;
  ReadStats stats;
  // A turn by (dialogue_id, turn_index), or nullptr (linear scan).
  [[nodiscard]] const Turn* find(std::string_view dialogue_id, uint32_t turn_index) const;
  // A turn by turn_seq, or nullptr (binary search: turns are sorted by it).
  [[nodiscard]] const Turn* find_seq(uint64_t turn_seq) const;
};

// Groups records (any order) by turn_seq. Holds everything in memory.
std::vector<Turn> group_turns(std::vector<Record> records);
// Reads a whole file or directory and groups it. Throws like Reader's ctor.
TraceData read_turns(const std::filesystem::path& path);

std::string_view to_string(StageStatus s) noexcept;
std::string_view to_string(TurnStatus s) noexcept;

}  // namespace cascade::trace
