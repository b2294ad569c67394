// query.hpp — what the pages ask of the traces: filtered, sorted turn
// lists, one turn in full, its audio, the summary, the timeline, a compare.
// Everything answers JSON (nlohmann) or bytes; nothing here knows HTTP, so
// the HTTP server stays in server.cpp alone.
//
// Lifecycle: main() builds a Catalog (the indexes, the optional analysis),
//   starts the scans, and hands it to the server for the process lifetime.
// Threading: every member may be called concurrently from the server's
//   threads; caches are guarded by their own mutex.
#pragma once

#include "analysis.hpp"
#include "index.hpp"

#include <cascade/trace/tools.hpp>

#include <nlohmann/json.hpp>

#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

namespace cascade::ui {

// A query parameter by name ("" when absent).
using Params = std::function<std::string(const std::string&)>;

// Thrown for a request that names no trace, turn or payload (-> 404) or
// carries a malformed parameter (-> 400).
struct NotFound : std::runtime_error {
  using std::runtime_error::runtime_error;
};
struct BadRequest : std::runtime_error {
  using std::runtime_error::runtime_error;
};

struct Filter {
  std::string dialogue, user, stage, status, label, text;
  std::optional<uint32_t> code;
  std::optional<double> conf_min, conf_max;
  enum class Sort { Seq, LatencyDesc, LatencyAsc } sort = Sort::Seq;
  static Filter parse(const Params& p);  // throws BadRequest
  [[nodiscard]] std::string key() const;  // equal filters, equal keys (the cache's)
};

class Catalog {
 public:
  Catalog(std::vector<std::filesystem::path> traces, std::optional<Analysis> analysis, std::string pipeline);
  void start();  // starts every scan
  [[nodiscard]] size_t size() const noexcept { return traces_.size(); }
  [[nodiscard]] const TraceIndex& trace(size_t i) const { return *traces_.at(i); }

  [[nodiscard]] nlohmann::json info() const;
  [[nodiscard]] nlohmann::json list(const Params& p) const;
  [[nodiscard]] nlohmann::json turn(const Params& p) const;
  // PCM16 mono as a WAV file; NotFound when absent or stored as a hash.
  [[nodiscard]] std::string audio(const Params& p) const;
  [[nodiscard]] nlohmann::json summary(const Params& p) const;
  [[nodiscard]] nlohmann::json timeline(const Params& p) const;
  [[nodiscard]] nlohmann::json perfetto(const Params& p) const;
  [[nodiscard]] nlohmann::json compare(const Params& p) const;
  [[nodiscard]] nlohmann::json pair(const Params& p) const;

  // The turns a filter selects, as row indexes in the order asked for.
  [[nodiscard]] std::shared_ptr<const std::vector<uint32_t>> select(size_t trace, const Filter& f) const;

 private:
  size_t trace_param(const Params& p, const char* name = "trace") const;
  // The analysis row of a turn of trace `t` (only the trace it was made for).
  [[nodiscard]] const AnalysisRow* analysis_row(size_t t, uint64_t seq) const;
  // "asr" from the analysis, else the first failing stage, else "ok".
  [[nodiscard]] std::string failure_point(size_t t, const IndexView& v, const TurnRow& r) const;
  [[nodiscard]] nlohmann::json row_json(size_t t, const IndexView& v, const TurnRow& r) const;
  [[nodiscard]] nlohmann::json turn_json(size_t t, const trace::Turn& turn) const;
  [[nodiscard]] std::optional<uint64_t> seq_of(size_t t, const std::string& dialogue, uint32_t turn_index) const;
  [[nodiscard]] std::shared_ptr<const trace::DiffReport> diff_of(size_t a, size_t b) const;

  std::vector<std::unique_ptr<TraceIndex>> traces_;
  std::optional<Analysis> analysis_;
  // Per trace: which line_traces() entry of the analysis is about it, if any.
  std::vector<std::optional<uint32_t>> analysis_key_;
  std::string pipeline_;

  struct CacheEntry {
    std::string key;
    uint64_t rows = 0;
    std::shared_ptr<const std::vector<uint32_t>> selection;
  };
  mutable std::mutex cache_mutex_;
  mutable std::vector<CacheEntry> cache_;  // one entry per trace
  mutable std::map<std::pair<size_t, size_t>, std::shared_ptr<const trace::DiffReport>> diffs_;
  mutable std::mutex diff_mutex_;
};

}  // namespace cascade::ui
