// turn_views.hpp — recorded turns as the plain C views of cascade_analyzer.h.
//
// Built once per analysis run from a TraceData, read-only afterwards. The
// turns are laid out dialogue by dialogue (ordered by turn_index), so a
// dialogue is a contiguous slice of views: what analyze() gets as the
// turn's neighbours.
// Lifecycle: every view points into the TraceData (strings, payload bytes)
//   and into this object's arrays: both must outlive the views' use.
// Threading: build on one thread; then any number of threads may read.
#pragma once

#include <cascade/abi/cascade_analyzer.h>
#include <cascade/trace/reader.hpp>

#include <cstdint>
#include <vector>

namespace cascade::analyze {

class TurnViews {
 public:
  // Turns without a turn record are left out (counted in skipped()).
  explicit TurnViews(const trace::TraceData& data);
  TurnViews(const TurnViews&) = delete;
  TurnViews& operator=(const TurnViews&) = delete;

  [[nodiscard]] size_t size() const { return turns_.size(); }
  [[nodiscard]] const cascade_turn_view& view(size_t i) const { return turns_[i]; }
  [[nodiscard]] const trace::Turn& turn(size_t i) const { return *source_[i]; }
  // The dialogue of view i: [first, first + count), i inside it.
  [[nodiscard]] size_t dialogue_first(size_t i) const { return dialogue_first_[i]; }
  [[nodiscard]] size_t dialogue_count(size_t i) const { return dialogue_count_[i]; }
  [[nodiscard]] uint64_t skipped() const { return skipped_; }

 private:
  std::vector<const trace::Turn*> source_;
  std::vector<cascade_turn_view> turns_;
  std::vector<cascade_stage_view> stages_;
  std::vector<cascade_port_value> ports_;
  std::vector<cascade_nbest_entry> nbest_;
  std::vector<cascade_feature> features_;
  std::vector<size_t> dialogue_first_, dialogue_count_;
  uint64_t skipped_ = 0;
};

}  // namespace cascade::analyze
