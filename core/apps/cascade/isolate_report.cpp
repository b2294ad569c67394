// isolate_report.cpp — `cascade isolate --report FILE` (see isolate_report.hpp).
//
// The shape of the work:
//   1. find each verdict's turn in the traces read back (by trace and
//      turn_seq); a verdict whose turn is not there still counts, without
//      its stage outputs;
//   2. tally the labels per class, per dialogue position (turn 0, 1, 2, 3+)
//      and per noise level (the SNR the speech stage reports), or per trace
//      file when no turn carries a noise level;
//   3. write one HTML page: the title, three SVG charts (report_html.cpp),
//      the confusion matrix with per-class scores, example turns with
//      their evidence. Every string from a trace or the analysis goes
//      through escape_html().
#include "isolate_report.hpp"

#include "report_html.hpp"

#include <cascade/core/diagnostic.hpp>
#include <cascade/trace/reader.hpp>

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <map>
#include <optional>

namespace cascade::cli {
namespace {

using nlohmann::json;

constexpr const char* kNotLabelled = "(not labelled)";
constexpr size_t kExamplesPerClass = 5;
constexpr size_t kShortText = 160;  // bytes of a stage output shown in an example

struct Row {
  const AnalysisLine* line = nullptr;
  const trace::Turn* turn = nullptr;  // nullptr: not in the traces given
  std::string label;                  // the verdict's label, or kNotLabelled
};

// Labels to rows, rows in display order.
struct Breakdown {
  std::vector<std::string> rows;
  std::map<std::string, std::map<std::string, uint64_t>> counts;  // row -> label -> turns
};

std::string fixed(double v, int digits) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.*f", digits, v);
  return buf;
}

// The SNR of the turn's speech in dB: a feature or text feature "snr_db"
// on any stage (speechsim reports speech_rms and noise_sigma, from which
// it follows), else "snr_db" in the turn's gold. +inf: no noise added.
std::optional<double> noise_db(const trace::Turn& t) {
  for (const auto& s : t.stages) {
    if (auto v = s.feature("snr_db")) return *v;
    if (auto v = s.text_feature("snr_db")) {
      const std::string text(*v);
      char* end = nullptr;
      const double d = std::strtod(text.c_str(), &end);
      if (end != text.c_str()) return d;
    }
    const auto rms = s.feature("speech_rms");
    const auto sigma = s.feature("noise_sigma");
    if (rms && sigma && *rms > 0 && *sigma > 0) return 20.0 * std::log10(*rms / *sigma);
  }
  if (t.record && !t.record->gold_json.empty()) {
    const json gold = json::parse(t.record->gold_json, nullptr, false);
    if (gold.is_object() && gold.contains("snr_db") && gold["snr_db"].is_number()) return gold["snr_db"].get<double>();
  }
  return std::nullopt;
}

// 5 dB steps, cleanest first; "unknown" after every level.
std::pair<double, std::string> noise_bucket(std::optional<double> db) {
  if (!db || std::isnan(*db)) return {1e9, "unknown"};
  if (std::isinf(*db)) return {*db > 0 ? -1e9 : 1e8, *db > 0 ? "no noise" : "all noise"};
  const double step = std::round(*db / 5.0) * 5.0 + 0.0;  // + 0.0: -0 becomes 0
  return {-step, fixed(step, 0) + " dB"};
}

std::string percent(uint64_t part, uint64_t whole) {
  return fixed(whole ? 100.0 * static_cast<double>(part) / static_cast<double>(whole) : 0, 1) + "%";
}

std::string turns(uint64_t n) { return std::to_string(n) + (n == 1 ? " turn" : " turns"); }

// A trace's row in a chart: its file name, or the whole path when another
// trace has the same file name.
std::string trace_name(const std::vector<std::string>& traces, const std::string& trace) {
  const std::string name = std::filesystem::path(trace).filename().string();
  for (const auto& other : traces)
    if (other != trace && std::filesystem::path(other).filename().string() == name) return trace;
  return name;
}

std::string position_of(uint32_t turn_index) {
  return turn_index >= 3 ? "turn 3+" : "turn " + std::to_string(turn_index);
}

// A payload as one short line: text as it is, audio by its length.
std::string payload_text(const trace::Payload& p) {
  if (p.type == 2) {
    const double seconds = p.sample_rate > 0 ? static_cast<double>(p.size) / 2.0 / p.sample_rate : 0;
    return "(audio, " + fixed(seconds, 2) + " s)";
  }
  if (p.hashed) return "(hashed, " + std::to_string(p.size) + " bytes)";
  if (p.type == 0) return "(none)";
  return shorten(p.bytes, kShortText);
}

std::string pretty_json(const std::string& text) {
  const json j = json::parse(text, nullptr, false);
  if (j.is_discarded()) return text;
  return j.dump(2, ' ', false, json::error_handler_t::replace);
}

void chart_section(std::string& h, const std::string& title, const std::string& note, const Breakdown& b,
                   const std::vector<std::string>& series) {
  BarChart c;
  c.title = title;
  c.rows = b.rows;
  c.series = series;
  c.shares = true;
  for (const auto& r : b.rows) {
    const auto& counts = b.counts.at(r);
    std::vector<uint64_t> v;
    uint64_t total = 0, failed = 0;
    for (const auto& s : series) {
      const auto it = counts.find(s);
      v.push_back(it == counts.end() ? 0 : it->second);
      total += v.back();
      if (s != "correct" && s != kNotLabelled) failed += v.back();
    }
    c.values.push_back(std::move(v));
    c.notes.push_back(turns(total) + ", " + std::to_string(failed) + " failed (" + percent(failed, total) + ")");
  }
  h += "<h2>" + escape_html(title) + "</h2>\n";
  if (!note.empty()) h += "<p class=\"muted\">" + escape_html(note) + "</p>\n";
  h += svg_bar_chart(c);
}

void confusion_section(std::string& h, const Scores& s, const std::string& reference) {
  h += "<h2>Against the reference: " + escape_html(reference.empty() ? "(unnamed)" : reference) + "</h2>\n";
  h += "<p>" + turns(s.turns) + ", accuracy " + fixed(s.accuracy * 100, 1) + "%, macro-F1 <b>" +
       fixed(s.macro_f1, 3) + "</b></p>\n";
  uint64_t largest = 0;
  for (const auto& row : s.confusion)
    for (uint64_t v : row) largest = std::max(largest, v);
  h += "<table class=\"confusion\"><caption>Rows: reference, columns: predicted</caption>\n<tr><th></th>";
  for (const auto& c : s.classes) h += "<th>" + escape_html(c) + "</th>";
  h += "</tr>\n";
  for (size_t r = 0; r < s.classes.size() && r < s.confusion.size(); ++r) {
    h += "<tr><th>" + escape_html(s.classes[r]) + "</th>";
    for (size_t p = 0; p < s.confusion[r].size(); ++p) {
      const uint64_t v = s.confusion[r][p];
      const double alpha = largest ? static_cast<double>(v) / static_cast<double>(largest) : 0;
      h += std::string("<td class=\"") + (r == p ? "diag" : "off") + "\" style=\"background:rgba(37,99,235," +
           fixed(alpha, 3) + ");color:" + (alpha > 0.55 ? "#fff" : "#111") + "\">" + std::to_string(v) + "</td>";
    }
    h += "</tr>\n";
  }
  h += "</table>\n<table class=\"scores\"><tr><th>class</th><th>precision</th><th>recall</th><th>F1</th>"
       "<th>support</th><th>predicted</th></tr>\n";
  for (const auto& c : s.classes) {
    const auto it = s.per_class.find(c);
    if (it == s.per_class.end()) continue;
    const ClassScore& cs = it->second;
    h += "<tr><th>" + escape_html(c) + "</th><td>" + fixed(cs.precision, 3) + "</td><td>" + fixed(cs.recall, 3) +
         "</td><td>" + fixed(cs.f1, 3) + "</td><td>" + std::to_string(cs.support) + "</td><td>" +
         std::to_string(cs.predicted) + "</td></tr>\n";
  }
  h += "<tr class=\"macro\"><th>macro</th><td></td><td></td><td>" + fixed(s.macro_f1, 3) + "</td><td>" +
       std::to_string(s.turns) + "</td><td></td></tr>\n</table>\n";
}

// Keeping only the labels at or above a score: how many, how right.
void coverage_section(std::string& h, const std::vector<CoveragePoint>& curve) {
  h += "<h3>The surer labels</h3>\n<p class=\"muted\">Keeping only the labels with a score of at least the "
       "minimum: the turns kept, and how many of them agree with the reference.</p>\n";
  h += "<table class=\"coverage\"><tr><th>min score</th><th>turns kept</th><th>share</th><th>accuracy</th>"
       "<th>macro-F1</th></tr>\n";
  for (const auto& c : curve)
    h += "<tr><td>" + fixed(c.min_score, 3) + "</td><td>" + std::to_string(c.turns) + "</td><td>" +
         fixed(c.coverage * 100, 1) + "%</td><td>" + fixed(c.accuracy * 100, 1) + "%</td><td>" + fixed(c.macro_f1, 3) +
         "</td></tr>\n";
  h += "</table>\n";
}

void example(std::string& h, const Row& row) {
  const Verdict& v = row.line->verdict;
  h += "<div class=\"example\"><h4>dialogue " + escape_html(v.dialogue_id) + " \u00b7 turn " +
       std::to_string(v.turn_index) + " \u00b7 seq " + std::to_string(v.turn_seq) + " \u00b7 " +
       escape_html(row.line->trace) + (v.analyzed ? " \u00b7 score " + fixed(v.score, 2) : "") + "</h4>\n";
  if (!v.error.empty()) h += "<p class=\"error\">" + escape_html(v.error) + "</p>\n";
  if (row.turn == nullptr) {
    h += "<p class=\"muted\">This turn is not in the traces given to the report.</p>\n";
  } else {
    const auto& rec = row.turn->record;
    h += "<p><b>Request:</b> <span class=\"request\">" +
         escape_html(rec ? payload_text(rec->input) : "(no turn record)") + "</span></p>\n";
    if (rec && !rec->gold_json.empty())
      h += "<p><b>Gold:</b> <code>" + escape_html(shorten(rec->gold_json, 400)) + "</code></p>\n";
    h += "<table class=\"stages\"><tr><th>stage</th><th>status</th><th>confidence</th><th>output</th></tr>\n";
    for (const auto& s : row.turn->stages) {
      std::string out;
      for (const auto& p : s.outputs) out += (out.empty() ? "" : "\n") + p.port + ": " + payload_text(p);
      if (s.status != trace::StageStatus::Ok && !s.error_message.empty())
        out += (out.empty() ? "" : "\n") + std::string("error: ") + shorten(s.error_message, kShortText);
      h += "<tr><td>" + escape_html(s.stage_id) + "</td><td>" + escape_html(std::string(trace::to_string(s.status))) +
           "</td><td>" + (s.has_confidence ? fixed(s.confidence, 3) : "") + "</td><td><pre>" + escape_html(out) +
           "</pre></td></tr>\n";
    }
    h += "</table>\n";
  }
  h += "<p><b>Evidence:</b></p><pre class=\"evidence\">" + escape_html(pretty_json(v.evidence)) + "</pre></div>\n";
}

const char* kStyle = R"(<style>
body{font:14px/1.45 system-ui,sans-serif;color:#111;margin:24px auto;max-width:1100px;padding:0 16px}
h1{font-size:22px}h2{font-size:18px;margin-top:32px;border-bottom:1px solid #ddd}
.muted{color:#666}.error{color:#b91c1c}
svg.chart text{font:12px system-ui,sans-serif;fill:#222}svg.chart rect.track{fill:#f1f5f9}
table{border-collapse:collapse;margin:8px 0}th,td{border:1px solid #ddd;padding:3px 8px;text-align:right}
table.stages td,table.stages th{text-align:left;vertical-align:top}
td.diag{outline:2px solid #111;outline-offset:-2px}caption{text-align:left;color:#666}
pre{margin:0;white-space:pre-wrap;word-break:break-word;font:12px ui-monospace,monospace}
pre.evidence{background:#f8fafc;border:1px solid #e2e8f0;padding:6px}
.example{border-left:4px solid #cbd5e1;padding-left:12px;margin:16px 0}
</style>)";

}  // namespace

void write_report(const std::filesystem::path& file, const ReportInput& in) {
  if (in.analysis == nullptr) throw CascadeError("N013", "the report has no analysis to show", file.string());
  const AnalysisFile& a = *in.analysis;

  // 1. Each verdict's turn.
  std::map<std::string, const trace::TraceData*> data_of;
  if (in.traces != nullptr)
    for (size_t i = 0; i < a.header.traces.size() && i < in.traces->size(); ++i)
      data_of[a.header.traces[i]] = &(*in.traces)[i];
  std::vector<Row> rows;
  std::vector<std::string> series = in.classes;
  for (const auto& line : a.lines) {
    Row r{&line, nullptr, line.verdict.analyzed ? line.verdict.label : kNotLabelled};
    if (auto it = data_of.find(line.trace); it != data_of.end()) r.turn = it->second->find_seq(line.verdict.turn_seq);
    if (std::find(series.begin(), series.end(), r.label) == series.end() && r.label != kNotLabelled)
      series.push_back(r.label);
    rows.push_back(r);
  }
  const bool unlabelled = std::any_of(rows.begin(), rows.end(), [](const Row& r) { return r.label == kNotLabelled; });
  if (unlabelled) series.push_back(kNotLabelled);

  // 2. The tallies.
  Breakdown by_position, by_noise, by_trace;
  std::map<std::string, uint64_t> per_class;
  std::map<std::string, double> noise_order;
  bool any_noise = false;
  for (const auto& r : rows) {
    ++per_class[r.label];
    ++by_position.counts[position_of(r.line->verdict.turn_index)][r.label];
    const auto db = r.turn ? noise_db(*r.turn) : std::nullopt;
    any_noise = any_noise || db.has_value();
    const auto [order, bucket] = noise_bucket(db);
    noise_order[bucket] = order;
    ++by_noise.counts[bucket][r.label];
    const std::string file = trace_name(a.header.traces, r.line->trace);
    if (by_trace.counts.find(file) == by_trace.counts.end()) by_trace.rows.push_back(file);
    ++by_trace.counts[file][r.label];
  }
  for (const auto& [k, _] : by_position.counts) by_position.rows.push_back(k);  // "turn 0" < ... < "turn 3+"
  for (const auto& [k, _] : by_noise.counts) by_noise.rows.push_back(k);
  std::sort(by_noise.rows.begin(), by_noise.rows.end(),
            [&](const std::string& x, const std::string& y) { return noise_order[x] < noise_order[y]; });

  // 3. The page.
  std::string h = "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n<title>Failure points: " +
                  escape_html(a.header.analyzer) + "</title>\n" + kStyle + "</head><body>\n";
  h += "<h1>Failure points: " + escape_html(a.header.analyzer) + " " + escape_html(a.header.analyzer_version) +
       "</h1>\n<p>Traces:";
  for (const auto& t : a.header.traces) h += " <code>" + escape_html(t) + "</code>";
  if (!a.header.pipeline.empty()) h += "<br>Replay pipeline: <code>" + escape_html(a.header.pipeline) + "</code>";
  const uint64_t failed = rows.size() - per_class["correct"] - per_class[kNotLabelled];
  h += "<br>" + turns(rows.size()) + ", " + std::to_string(per_class[kNotLabelled]) +
       " not labelled, " + std::to_string(failed) + " failed; " + std::to_string(a.header.replays) + " replays</p>\n";

  BarChart classes;
  classes.title = "Failure points per class";
  classes.rows = series;
  classes.series = series;
  classes.legend = false;
  for (size_t i = 0; i < series.size(); ++i) {
    classes.values.emplace_back(series.size(), 0);
    classes.values.back()[i] = per_class[series[i]];
    classes.notes.push_back(turns(per_class[series[i]]) + " (" + percent(per_class[series[i]], rows.size()) + ")");
  }
  h += "<h2>Failure points per class</h2>\n" + svg_bar_chart(classes);
  chart_section(h, "Failure points per dialogue position", "", by_position, series);
  if (any_noise)
    chart_section(h, "Failure points per noise level", "The SNR of the turn's speech, in 5 dB steps.", by_noise, series);
  else
    chart_section(h, "Failure points per trace file",
                  "No turn records a noise level (an snr_db feature on a stage, or in the gold): the turns are "
                  "grouped by trace file instead.",
                  by_trace, series);

  if (in.scores != nullptr) confusion_section(h, *in.scores, in.reference);
  if (in.scores != nullptr && in.coverage != nullptr && !in.coverage->empty()) coverage_section(h, *in.coverage);

  h += "<h2>Example turns</h2>\n";
  for (const auto& label : series) {
    if (label == "correct" || per_class[label] == 0) continue;
    h += "<h3>" + escape_html(label) + " <span class=\"muted\">(" + turns(per_class[label]) + "; up to " +
         std::to_string(kExamplesPerClass) + " shown)</span></h3>\n";
    size_t shown = 0;
    for (const auto& r : rows)
      if (r.label == label && shown++ < kExamplesPerClass) example(h, r);
  }
  h += "</body></html>\n";

  std::ofstream out(file, std::ios::binary | std::ios::trunc);
  if (!out) throw CascadeError("N013", "cannot write the report", file.string());
  out << h;
  out.flush();
  if (!out) throw CascadeError("N013", "writing the report failed", file.string());
}

}  // namespace cascade::cli
