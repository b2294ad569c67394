// query.cpp — the Catalog's shared parts: parameters, filters, the turn list.
//
// Shape of a list request: parse the filter -> select row indexes (cached per
// trace while the filter and the row count stay the same, so scrolling
// a million rows pays the scan once) -> slice [offset, offset+limit) ->
// one compact JSON object per row.
#include "query.hpp"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cmath>

namespace cascade::ui {
namespace {

template <class T>
std::optional<T> number(const std::string& s, const char* name) {
  if (s.empty()) return std::nullopt;
  T v{};
  const auto* end = s.data() + s.size();
  auto [p, ec] = std::from_chars(s.data(), end, v);
  if (ec != std::errc() || p != end) throw BadRequest(std::string("parameter '") + name + "' is not a number: " + s);
  return v;
}

std::optional<double> real(const std::string& s, const char* name) {
  if (s.empty()) return std::nullopt;
  try {
    size_t used = 0;
    const double v = std::stod(s, &used);
    if (used == s.size()) return v;
  } catch (const std::exception&) {
  }
  throw BadRequest(std::string("parameter '") + name + "' is not a number: " + s);
}

bool contains_folded(std::string_view hay, std::string_view needle) {
  if (needle.empty()) return true;
  auto fold = [](char c) { return static_cast<char>(std::tolower(static_cast<unsigned char>(c))); };
  return std::search(hay.begin(), hay.end(), needle.begin(), needle.end(),
                     [&](char a, char b) { return fold(a) == fold(b); }) != hay.end();
}

std::string turn_status_name(uint8_t s) {
  return s == kNoTurnRecord ? "no_record" : std::string(trace::to_string(static_cast<trace::TurnStatus>(s)));
}

std::optional<uint32_t> name_id(const IndexView& v, const std::string& name) {
  for (size_t i = 0; i < v.names.size(); ++i)
    if (v.names[i] == name) return static_cast<uint32_t>(i);
  return std::nullopt;
}

}  // namespace

Filter Filter::parse(const Params& p) {
  Filter f;
  f.dialogue = p("dialogue");
  f.user = p("user");
  f.stage = p("stage");
  f.status = p("status");
  f.label = p("label");
  f.text = p("q");
  f.code = number<uint32_t>(p("code"), "code");
  f.conf_min = real(p("cmin"), "cmin");
  f.conf_max = real(p("cmax"), "cmax");
  const auto sort = p("sort");
  if (sort == "lat_desc") f.sort = Sort::LatencyDesc;
  else if (sort == "lat_asc") f.sort = Sort::LatencyAsc;
  else if (!sort.empty() && sort != "seq") throw BadRequest("parameter 'sort' must be seq, lat_desc or lat_asc");
  return f;
}

std::string Filter::key() const {
  auto num = [](const auto& o) { return o ? std::to_string(*o) : std::string("-"); };
  return dialogue + '\x1f' + user + '\x1f' + stage + '\x1f' + status + '\x1f' + label + '\x1f' + text + '\x1f' +
         num(code) + '\x1f' + num(conf_min) + '\x1f' + num(conf_max) + '\x1f' +
         std::to_string(static_cast<int>(sort));
}

Catalog::Catalog(std::vector<std::filesystem::path> traces, std::optional<Analysis> analysis, std::string pipeline)
    : analysis_(std::move(analysis)), pipeline_(std::move(pipeline)) {
  for (auto& t : traces) traces_.push_back(std::make_unique<TraceIndex>(t));
  cache_.resize(traces_.size());
  analysis_key_.resize(traces_.size());
  if (analysis_ && pipeline_.empty()) pipeline_ = analysis_->pipeline();
  if (pipeline_.empty()) pipeline_ = "PIPELINE.toml";
  if (!analysis_) return;
  // Lines name their trace; matched to ours by file name. Lines that name
  // none (or a trace not given here, when only one is) are about the first.
  const auto& keys = analysis_->line_traces();
  for (size_t i = 0; i < traces_.size(); ++i)
    for (size_t k = 0; k < keys.size(); ++k)
      if (!keys[k].empty() && std::filesystem::path(keys[k]).filename() == traces_[i]->path().filename())
        analysis_key_[i] = static_cast<uint32_t>(k);
  if (!analysis_key_[0] && keys.size() == 1) analysis_key_[0] = 0;
}

void Catalog::start() {
  for (auto& t : traces_) t->start();
}

size_t Catalog::trace_param(const Params& p, const char* name) const {
  const auto v = p(name);
  const auto i = number<size_t>(v.empty() ? std::string("0") : v, name).value_or(0);
  if (i >= traces_.size()) throw NotFound("no trace " + v + " (this server was given " +
                                          std::to_string(traces_.size()) + ")");
  return i;
}

const AnalysisRow* Catalog::analysis_row(size_t t, uint64_t seq) const {
  if (!analysis_ || !analysis_key_[t]) return nullptr;
  return analysis_->find(*analysis_key_[t], seq);
}

std::string Catalog::failure_point(size_t t, const IndexView& v, const TurnRow& r) const {
  if (const auto* a = analysis_row(t, r.seq)) return analysis_->classes()[a->label];
  if (r.fail_stage != kNoStage) return v.stage_names[r.fail_stage];
  return r.status == static_cast<uint8_t>(trace::TurnStatus::Ok) ? "ok" : turn_status_name(r.status);
}

nlohmann::json Catalog::info() const {
  nlohmann::json j;
  j["traces"] = nlohmann::json::array();
  for (size_t i = 0; i < traces_.size(); ++i) {
    const auto pr = traces_[i]->progress();
    nlohmann::json t{{"index", i},          {"path", traces_[i]->path().string()},
                     {"name", traces_[i]->path().filename().string()},
                     {"rows", pr.rows},     {"records", pr.records},
                     {"done", pr.done},     {"fraction", pr.fraction},
                     {"audio_hashed", pr.audio_hashed}};
    t["damage"] = nlohmann::json::array();
    for (const auto& d : pr.damage) t["damage"].push_back(d.format());
    traces_[i]->with_rows([&](const IndexView& v) { t["stages"] = v.stage_names; });
    j["traces"].push_back(std::move(t));
  }
  j["analysis"] = nullptr;
  if (analysis_) {
    nlohmann::json a{{"path", analysis_->path().string()}, {"analyzer", analysis_->analyzer()},
                     {"classes", analysis_->classes()}, {"turns", analysis_->size()}};
    a["traces"] = nlohmann::json::array();  // which of our traces it labels
    for (size_t i = 0; i < traces_.size(); ++i)
      if (analysis_key_[i]) a["traces"].push_back(i);
    a["diagnostics"] = nlohmann::json::array();
    for (const auto& d : analysis_->diagnostics()) a["diagnostics"].push_back(d.format());
    j["analysis"] = std::move(a);
  }
  return j;
}

std::shared_ptr<const std::vector<uint32_t>> Catalog::select(size_t t, const Filter& f) const {
  const std::string key = f.key();
  std::shared_ptr<std::vector<uint32_t>> out;
  traces_[t]->with_rows([&](const IndexView& v) {
    {
      std::lock_guard lock(cache_mutex_);
      const auto& c = cache_[t];
      if (c.selection && c.key == key && c.rows == v.rows.size()) {
        out = std::const_pointer_cast<std::vector<uint32_t>>(c.selection);
        return;
      }
    }
    std::optional<uint32_t> dialogue, user;
    const bool no_match = (!f.dialogue.empty() && !(dialogue = name_id(v, f.dialogue))) ||
                          (!f.user.empty() && !(user = name_id(v, f.user)));
    std::optional<uint16_t> stage;
    for (size_t s = 0; s < v.stage_names.size(); ++s)
      if (v.stage_names[s] == f.stage) stage = static_cast<uint16_t>(s);
    auto selection = std::make_shared<std::vector<uint32_t>>();
    if (!no_match && (f.stage.empty() || stage)) {
      for (uint32_t i = 0; i < v.rows.size(); ++i) {
        const TurnRow& r = v.rows[i];
        if (dialogue && r.dialogue != *dialogue) continue;
        if (user && r.user != *user) continue;
        if (f.code && r.error_code != *f.code) continue;
        const auto cells = v.row_cells(r);
        const StageCell* cell = nullptr;
        if (stage) {
          for (const auto& c : cells)
            if (c.stage == *stage) cell = &c;
          if (cell == nullptr) continue;
        }
        if (!f.status.empty()) {
          auto is = [&](const StageCell& c) {
            return trace::to_string(static_cast<trace::StageStatus>(c.status)) == f.status;
          };
          bool hit = false;
          if (cell != nullptr) hit = is(*cell);
          else {
            hit = turn_status_name(r.status) == f.status;
            for (const auto& c : cells) hit = hit || is(c);
          }
          if (!hit) continue;
        }
        if (f.conf_min || f.conf_max) {
          float conf = std::numeric_limits<float>::quiet_NaN();
          if (cell != nullptr) conf = cell->confidence;
          else
            for (const auto& c : cells)
              if (!std::isnan(c.confidence) && (std::isnan(conf) || c.confidence < conf)) conf = c.confidence;
          if (std::isnan(conf) || (f.conf_min && conf < *f.conf_min) || (f.conf_max && conf > *f.conf_max)) continue;
        }
        if (!f.label.empty() && failure_point(t, v, r) != f.label) continue;
        if (!f.text.empty() && !contains_folded(v.row_text(r), f.text) &&
            !contains_folded(v.names[r.dialogue], f.text) && !contains_folded(v.names[r.user], f.text))
          continue;
        selection->push_back(i);
      }
    }
    auto by_seq = [&](uint32_t a, uint32_t b) { return v.rows[a].seq < v.rows[b].seq; };
    if (f.sort == Filter::Sort::Seq)
      std::sort(selection->begin(), selection->end(), by_seq);
    else
      std::sort(selection->begin(), selection->end(), [&](uint32_t a, uint32_t b) {
        const float x = v.rows[a].dur_ms, y = v.rows[b].dur_ms;
        if (x != y) return f.sort == Filter::Sort::LatencyDesc ? x > y : x < y;
        return by_seq(a, b);
      });
    std::lock_guard lock(cache_mutex_);
    cache_[t] = CacheEntry{key, v.rows.size(), selection};
    out = std::move(selection);
  });
  return out;
}

nlohmann::json Catalog::row_json(size_t t, const IndexView& v, const TurnRow& r) const {
  nlohmann::json j{{"seq", r.seq},
                   {"dialogue", v.names[r.dialogue]},
                   {"user", v.names[r.user]},
                   {"turn", r.turn_index},
                   {"status", turn_status_name(r.status)},
                   {"ms", r.dur_ms},
                   {"fail_stage", r.fail_stage == kNoStage ? nlohmann::json(nullptr) : nlohmann::json(v.stage_names[r.fail_stage])},
                   {"code", r.error_code},
                   {"failure_point", failure_point(t, v, r)},
                   {"text", std::string(v.row_text(r))}};
  if (const auto* a = analysis_row(t, r.seq)) j["score"] = a->score;
  auto& stages = j["stages"] = nlohmann::json::array();
  for (const auto& c : v.row_cells(r))
    stages.push_back({{"stage", v.stage_names[c.stage]},
                      {"status", trace::to_string(static_cast<trace::StageStatus>(c.status))},
                      {"ms", c.dur_ms},
                      {"confidence", std::isnan(c.confidence) ? nlohmann::json(nullptr) : nlohmann::json(c.confidence)}});
  return j;
}

nlohmann::json Catalog::list(const Params& p) const {
  const size_t t = trace_param(p);
  const Filter f = Filter::parse(p);
  const size_t offset = number<size_t>(p("offset"), "offset").value_or(0);
  const size_t limit = std::min<size_t>(number<size_t>(p("limit"), "limit").value_or(100), 1000);
  const auto selection = select(t, f);
  const auto pr = traces_[t]->progress();
  nlohmann::json j{{"trace", t}, {"total", selection->size()}, {"offset", offset},
                   {"indexed", pr.rows}, {"done", pr.done}, {"fraction", pr.fraction}};
  auto& rows = j["rows"] = nlohmann::json::array();
  traces_[t]->with_rows([&](const IndexView& v) {
    for (size_t i = offset; i < std::min(selection->size(), offset + limit); ++i)
      rows.push_back(row_json(t, v, v.rows[(*selection)[i]]));
  });
  return j;
}

std::optional<uint64_t> Catalog::seq_of(size_t t, const std::string& dialogue, uint32_t turn_index) const {
  std::optional<uint64_t> seq;
  traces_[t]->with_rows([&](const IndexView& v) {
    const auto id = name_id(v, dialogue);
    if (!id) return;
    for (const auto& r : v.rows)
      if (r.dialogue == *id && r.turn_index == turn_index && (!seq || r.seq < *seq)) seq = r.seq;
  });
  return seq;
}

}  // namespace cascade::ui
