// index.hpp — a compact, random-access index over one trace, built by
// one background scan, so a million turns can be listed, filtered and
// summarised without every record in memory.
//
// Per turn the index keeps one row (ids, status, latency, first failing
// stage, a short text for free-text search, the chunk positions its records
// came from) and one small cell per stage (status, latency, confidence).
// A turn's full records are read again on demand: Reader::seek() to the
// chunk its first record was in, then on until its turn record.
//
// Lifecycle: construct (opens the trace, throws TraceError when it cannot
//   be read at all), start() launches the scan thread; the destructor stops
//   and joins it. Rows appear in batches while the scan runs (done() says
//   when it finished), so the first page shows before the whole file is read.
// Threading: every const member may be called from any thread at any time;
//   readers take a shared lock (`with_rows`), the scan thread an exclusive
//   one per batch. load_turn() opens its own Reader (no shared cursor).
#pragma once

#include <cascade/trace/reader.hpp>

#include <atomic>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <optional>
#include <shared_mutex>
#include <span>
#include <string>
#include <string_view>
#include <thread>
#include <unordered_map>
#include <vector>

namespace cascade::ui {

inline constexpr uint8_t kNoTurnRecord = 255;    // TurnRow::status: its turn record was lost
inline constexpr uint16_t kNoStage = 0xFFFF;     // TurnRow::fail_stage: no stage failed
inline constexpr int8_t kNoSnr = -128;           // TurnRow::snr_db: no noise level known

struct StageCell {
  uint16_t stage = 0;  // index in TraceIndex::stage_names()
  uint8_t status = 0;  // trace::StageStatus
  float dur_ms = 0;
  float confidence = 0;  // NaN: the stage reported none
};

struct TurnRow {
  uint64_t seq = 0;
  uint32_t dialogue = 0;  // index in names()
  uint32_t user = 0;      // index in names()
  uint32_t turn_index = 0;
  uint8_t status = kNoTurnRecord;  // trace::TurnStatus, or kNoTurnRecord
  int8_t snr_db = kNoSnr;          // speech stage's SNR, rounded to 5 dB
  uint16_t fail_stage = kNoStage;  // first stage (by start) not ok
  uint32_t error_code = 0;         // that stage's error code
  float dur_ms = 0;                // the turn's wall time
  uint64_t text_offset = 0;        // into the text arena: input or recognised text, first error
  uint32_t text_size = 0;
  uint32_t cells_offset = 0;       // into cells(); cells_count cells
  uint16_t cells_count = 0;
  uint16_t first_file = 0;         // chunk positions of its first and last record
  uint16_t last_file = 0;
  uint64_t first_chunk = 0;
  uint64_t last_chunk = 0;
};

// What the rows point into; valid while the shared lock is held.
struct IndexView {
  const std::vector<TurnRow>& rows;  // in scan order (turn record order), not sorted
  const std::vector<StageCell>& cells;
  const std::string& text;
  const std::vector<std::string>& names;        // dialogue and user ids
  const std::vector<std::string>& stage_names;  // in order of first appearance
  [[nodiscard]] std::string_view row_text(const TurnRow& r) const { return {text.data() + r.text_offset, r.text_size}; }
  [[nodiscard]] std::span<const StageCell> row_cells(const TurnRow& r) const {
    return {cells.data() + r.cells_offset, r.cells_count};
  }
};

struct ScanProgress {
  bool done = false;
  uint64_t rows = 0;
  uint64_t records = 0;
  double fraction = 0;  // of the trace's bytes scanned
  std::vector<trace::Damage> damage;
  bool audio_hashed = false;
};

class TraceIndex {
 public:
  explicit TraceIndex(std::filesystem::path path);
  ~TraceIndex();
  TraceIndex(const TraceIndex&) = delete;
  TraceIndex& operator=(const TraceIndex&) = delete;

  void start();       // launches the scan thread (once)
  void wait() const;  // blocks until the scan is done (tests, benchmarks)
  [[nodiscard]] bool done() const noexcept { return done_.load(std::memory_order_acquire); }
  [[nodiscard]] ScanProgress progress() const;
  [[nodiscard]] const std::filesystem::path& path() const noexcept { return path_; }

  // Runs `f` with the index under a shared lock.
  void with_rows(const std::function<void(const IndexView&)>& f) const;

  // Every record of the turn with this seq (read again from the trace), or
  // nullopt if the index has no such turn.
  [[nodiscard]] std::optional<trace::Turn> load_turn(uint64_t seq) const;
  // Several at once, in the order given (one Reader; unknown seqs skipped).
  [[nodiscard]] std::vector<trace::Turn> load_turns(const std::vector<uint64_t>& seqs) const;

 private:
  struct Builder;
  void scan();
  std::optional<trace::Turn> read_turn(trace::Reader& reader, const TurnRow& row) const;

  std::filesystem::path path_;
  mutable std::shared_mutex mutex_;
  std::vector<TurnRow> rows_;
  std::vector<StageCell> cells_;
  std::string text_;
  std::vector<std::string> names_;
  std::vector<std::string> stage_names_;
  std::unordered_map<uint64_t, uint32_t> row_by_seq_;
  ScanProgress progress_;
  std::atomic<bool> done_{false};
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

}  // namespace cascade::ui
