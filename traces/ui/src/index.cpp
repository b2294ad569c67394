// index.cpp — the scan that builds a TraceIndex, and reading a turn back.
//
// Shape of the work:
//   1. One Reader walks the trace in file order. Records of a turn are
//      gathered in a Partial (keyed by turn_seq) until its turn record
//      arrives (the writer puts it after the turn's stage records).
//   2. A finished turn becomes a row, its stages cells, its text a slice of
//      the text arena; names are interned by the scan thread.
//   3. Every kBatch rows the batch is published under the exclusive lock,
//      so readers see the first page while the rest is still scanned.
//   4. At the end, turns whose turn record was lost are published too.
#include "index.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <limits>
#include <mutex>

namespace cascade::ui {
namespace {

constexpr size_t kBatch = 4096;
constexpr size_t kMaxText = 240;  // bytes of a turn's text kept for search and the list

bool before(trace::RecordPosition a, trace::RecordPosition b) {
  return a.file != b.file ? a.file < b.file : a.chunk_offset < b.chunk_offset;
}

// The SNR of the synthesised speech, from speechsim's features, in 5 dB steps.
std::optional<int8_t> snr_of(const trace::StageRecord& s) {
  double snr = std::numeric_limits<double>::quiet_NaN();
  if (auto v = s.feature("snr_db")) snr = *v;
  const auto rms = s.feature("speech_rms");
  const auto sigma = s.feature("noise_sigma");
  if (std::isnan(snr) && rms && sigma && *rms > 0 && *sigma > 0) snr = 20.0 * std::log10(*rms / *sigma);
  if (std::isnan(snr)) return std::nullopt;
  return static_cast<int8_t>(std::clamp(std::round(snr / 5.0) * 5.0, -60.0, 120.0));
}

}  // namespace

// The scan thread's private state: turns in progress and the batch being built.
struct TraceIndex::Builder {
  struct Partial {
    TurnRow row;
    std::vector<StageCell> cells;
    std::string error_text;
    int64_t fail_start = std::numeric_limits<int64_t>::max();
    trace::RecordPosition first, last;
  };
  explicit Builder(TraceIndex& owner) : index(owner) {}
  TraceIndex& index;
  std::unordered_map<uint64_t, Partial> open;
  std::unordered_map<std::string, uint32_t> name_ids, stage_ids;
  std::vector<std::string> new_names, new_stages;
  size_t names_known = 0, stages_known = 0;  // published sizes
  std::vector<TurnRow> rows;
  std::vector<StageCell> cells;
  std::string text;

  uint32_t intern(std::unordered_map<std::string, uint32_t>& ids, std::vector<std::string>& fresh, size_t known,
                  const std::string& s) {
    auto [it, added] = ids.try_emplace(s, static_cast<uint32_t>(known + fresh.size()));
    if (added) fresh.push_back(s);
    return it->second;
  }

  Partial& partial(const trace::TurnId& id, trace::RecordPosition at) {
    auto [it, added] = open.try_emplace(id.turn_seq);
    Partial& p = it->second;
    if (added) {
      p.row.seq = id.turn_seq;
      p.row.dialogue = intern(name_ids, new_names, names_known, id.dialogue_id);
      p.row.user = intern(name_ids, new_names, names_known, id.user_id);
      p.row.turn_index = id.turn_index;
      p.first = at;
    }
    p.last = at;
    return p;
  }

  void add(const trace::StageRecord& s, trace::RecordPosition at) {
    Partial& p = partial(s.turn, at);
    StageCell c;
    c.stage = static_cast<uint16_t>(intern(stage_ids, new_stages, stages_known, s.stage_id));
    c.status = static_cast<uint8_t>(s.status);
    c.dur_ms = static_cast<float>(static_cast<double>(s.end_ns - s.start_ns) / 1e6);
    c.confidence = s.has_confidence ? static_cast<float>(s.confidence) : std::numeric_limits<float>::quiet_NaN();
    p.cells.push_back(c);
    if (s.status != trace::StageStatus::Ok && s.start_ns < p.fail_start) {
      p.fail_start = s.start_ns;
      p.row.fail_stage = c.stage;
      p.row.error_code = s.error_code;
      p.error_text = s.error_message;
    }
    if (p.row.snr_db == kNoSnr)
      if (auto snr = snr_of(s)) p.row.snr_db = *snr;
  }

  void add(const trace::TurnRecord& t, trace::RecordPosition at) {
    Partial& p = partial(t.turn, at);
    p.row.status = static_cast<uint8_t>(t.status);
    p.row.dur_ms = static_cast<float>(static_cast<double>(t.end_ns - t.start_ns) / 1e6);
    std::string s = t.input.type == 1 && !t.input.hashed ? t.input.bytes : std::string();
    finish(t.turn.turn_seq, std::move(s));
  }

  // Moves a turn from `open` into the batch.
  void finish(uint64_t seq, std::string input_text) {
    auto it = open.find(seq);
    Partial& p = it->second;
    if (!p.error_text.empty()) input_text += (input_text.empty() ? "" : " | ") + p.error_text;
    if (input_text.size() > kMaxText) input_text.resize(kMaxText);
    p.row.text_offset = text.size();
    p.row.text_size = static_cast<uint32_t>(input_text.size());
    text += input_text;
    p.row.cells_offset = static_cast<uint32_t>(cells.size());
    p.row.cells_count = static_cast<uint16_t>(std::min<size_t>(p.cells.size(), 0xFFFF));
    cells.insert(cells.end(), p.cells.begin(), p.cells.begin() + p.row.cells_count);
    if (p.row.status == kNoTurnRecord && p.cells.empty()) p.row.dur_ms = 0;
    if (p.row.status == kNoTurnRecord && !p.cells.empty()) {
      float total = 0;
      for (const auto& c : p.cells) total += c.dur_ms;
      p.row.dur_ms = total;
    }
    p.row.first_file = static_cast<uint16_t>(p.first.file);
    p.row.first_chunk = p.first.chunk_offset;
    p.row.last_file = static_cast<uint16_t>(p.last.file);
    p.row.last_chunk = p.last.chunk_offset;
    rows.push_back(p.row);
    open.erase(it);
  }

  // Hands the batch to readers (offsets made global under the lock).
  void publish(const trace::Reader& reader, double fraction, bool last) {
    std::unique_lock lock(index.mutex_);
    const auto text_base = index.text_.size();
    const auto cell_base = static_cast<uint32_t>(index.cells_.size());
    for (auto& r : rows) {
      r.text_offset += text_base;
      r.cells_offset += cell_base;
      index.row_by_seq_.emplace(r.seq, static_cast<uint32_t>(index.rows_.size()));
      index.rows_.push_back(r);
    }
    index.text_ += text;
    index.cells_.insert(index.cells_.end(), cells.begin(), cells.end());
    for (auto& n : new_names) index.names_.push_back(std::move(n));
    for (auto& n : new_stages) index.stage_names_.push_back(std::move(n));
    names_known = index.names_.size();
    stages_known = index.stage_names_.size();
    new_names.clear();
    new_stages.clear();
    rows.clear();
    cells.clear();
    text.clear();
    auto& pr = index.progress_;
    pr.rows = index.rows_.size();
    pr.records = reader.stats().records;
    pr.fraction = fraction;
    pr.damage = reader.damage();
    if (!reader.files().empty()) pr.audio_hashed = reader.files().front().audio_hashed;
    pr.done = last;
  }
};

TraceIndex::TraceIndex(std::filesystem::path path) : path_(std::move(path)) {
  trace::Reader probe(path_);  // throws now, in the caller's thread, if unreadable
  progress_.audio_hashed = !probe.files().empty() && probe.files().front().audio_hashed;
}

TraceIndex::~TraceIndex() {
  stop_ = true;
  if (thread_.joinable()) thread_.join();
}

void TraceIndex::start() {
  if (!thread_.joinable()) thread_ = std::thread([this] { scan(); });
}

void TraceIndex::wait() const {
  while (!done()) std::this_thread::sleep_for(std::chrono::milliseconds(5));
}

void TraceIndex::scan() {
  Builder b(*this);
  try {
    trace::Reader reader(path_);
    const auto n_files = std::max<size_t>(1, trace::trace_files(path_).size());
    auto fraction = [&] {
      const auto at = reader.position();
      const auto& files = reader.files();
      const double size = files.empty() ? 1.0 : static_cast<double>(std::max<uint64_t>(1, files.back().size));
      return (static_cast<double>(at.file) + static_cast<double>(at.chunk_offset) / size) /
             static_cast<double>(n_files);
    };
    while (!stop_) {
      auto rec = reader.next();
      if (!rec) break;
      const auto at = reader.position();
      if (const auto* s = std::get_if<trace::StageRecord>(&*rec))
        b.add(*s, at);
      else
        b.add(std::get<trace::TurnRecord>(*rec), at);
      if (b.rows.size() >= kBatch) b.publish(reader, fraction(), false);
    }
    // Turns whose turn record was lost (a cut-off trace), in seq order.
    std::vector<uint64_t> orphans;
    for (const auto& [seq, p] : b.open) orphans.push_back(seq);
    std::sort(orphans.begin(), orphans.end());
    for (auto seq : orphans) b.finish(seq, {});
    b.publish(reader, 1.0, true);
  } catch (const std::exception& e) {
    std::unique_lock lock(mutex_);
    progress_.damage.push_back(trace::Damage{trace::codes::kOpen, path_, 0, 0, e.what()});
    progress_.done = true;
  }
  done_.store(true, std::memory_order_release);
}

ScanProgress TraceIndex::progress() const {
  std::shared_lock lock(mutex_);
  return progress_;
}

void TraceIndex::with_rows(const std::function<void(const IndexView&)>& f) const {
  std::shared_lock lock(mutex_);
  f(IndexView{rows_, cells_, text_, names_, stage_names_});
}

std::optional<trace::Turn> TraceIndex::read_turn(trace::Reader& reader, const TurnRow& row) const {
  const trace::RecordPosition last{row.last_file, row.last_chunk};
  reader.seek({row.first_file, row.first_chunk});
  std::vector<trace::Record> records;
  while (auto rec = reader.next()) {
    if (before(last, reader.position())) break;
    const auto* s = std::get_if<trace::StageRecord>(&*rec);
    const uint64_t seq = s != nullptr ? s->turn.turn_seq : std::get<trace::TurnRecord>(*rec).turn.turn_seq;
    if (seq != row.seq) continue;
    const bool turn_record = s == nullptr;
    records.push_back(std::move(*rec));
    if (turn_record) break;
  }
  auto turns = trace::group_turns(std::move(records));
  if (turns.empty()) return std::nullopt;
  return std::move(turns.front());
}

std::optional<trace::Turn> TraceIndex::load_turn(uint64_t seq) const {
  auto turns = load_turns({seq});
  if (turns.empty()) return std::nullopt;
  return std::move(turns.front());
}

std::vector<trace::Turn> TraceIndex::load_turns(const std::vector<uint64_t>& seqs) const {
  std::vector<TurnRow> wanted;
  {
    std::shared_lock lock(mutex_);
    for (auto seq : seqs)
      if (auto it = row_by_seq_.find(seq); it != row_by_seq_.end()) wanted.push_back(rows_[it->second]);
  }
  std::vector<trace::Turn> out;
  if (wanted.empty()) return out;
  trace::Reader reader(path_);
  for (const auto& row : wanted)
    if (auto t = read_turn(reader, row)) out.push_back(std::move(*t));
  return out;
}

}  // namespace cascade::ui
