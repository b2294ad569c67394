// report_html.cpp — escaping and the SVG bar chart (see report_html.hpp).
#include "report_html.hpp"

#include <algorithm>
#include <cstdio>
#include <map>

namespace cascade::cli {
namespace {

// Chart geometry, in SVG user units (= CSS pixels at 100%).
constexpr double kLabelWidth = 130;  // row labels, right-aligned before the bars
constexpr double kBarWidth = 440;
constexpr double kNoteWidth = 230;
constexpr double kRowHeight = 26;
constexpr double kBarHeight = 18;
constexpr double kLegendHeight = 24;
constexpr size_t kLabelChars = 20;   // longer row labels are cut (the tooltip has them whole)
constexpr double kWidth = kLabelWidth + kBarWidth + kNoteWidth;

std::string num(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f", v);
  return buf;
}

}  // namespace

std::string escape_html(std::string_view text) {
  std::string out;
  out.reserve(text.size() + text.size() / 8);
  for (const char c : text) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += "&#39;"; break;
      default: out += c;
    }
  }
  return out;
}

std::string shorten(std::string_view text, size_t bytes) {
  if (text.size() <= bytes) return std::string(text);
  size_t cut = bytes;
  // Back off continuation bytes (10xxxxxx) so no character is split.
  while (cut > 0 && (static_cast<unsigned char>(text[cut]) & 0xC0) == 0x80) --cut;
  return std::string(text.substr(0, cut)) + "\u2026";
}

std::string label_color(const std::string& label, size_t index) {
  static const std::map<std::string, std::string> fixed = {
      {"false_wake", "#8b5cf6"}, {"asr", "#ef4444"},    {"nlu", "#f59e0b"},           {"er", "#3b82f6"},
      {"result", "#ec4899"},     {"correct", "#22c55e"}, {"(not labelled)", "#9ca3af"}};
  static const char* palette[] = {"#0ea5e9", "#84cc16", "#f97316", "#14b8a6", "#a855f7", "#64748b"};
  if (auto it = fixed.find(label); it != fixed.end()) return it->second;
  return palette[index % (sizeof palette / sizeof palette[0])];
}

std::string svg_bar_chart(const BarChart& c) {
  const double top = c.legend ? kLegendHeight + 6 : 4;
  const double height = top + kRowHeight * static_cast<double>(c.rows.size()) + 4;
  std::string s = "<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"chart\" role=\"img\" width=\"" + num(kWidth) +
                  "\" height=\"" + num(height) + "\" viewBox=\"0 0 " + num(kWidth) + " " + num(height) +
                  "\" aria-label=\"" + escape_html(c.title) + "\">\n";

  if (c.legend) {
    double x = kLabelWidth;
    for (size_t k = 0; k < c.series.size(); ++k) {
      s += "<rect class=\"key\" x=\"" + num(x) + "\" y=\"6\" width=\"12\" height=\"12\" fill=\"" +
           label_color(c.series[k], k) + "\"/><text x=\"" + num(x + 16) + "\" y=\"16\">" + escape_html(c.series[k]) +
           "</text>\n";
      x += 16 + 7.5 * static_cast<double>(c.series[k].size()) + 14;  // a rough text width: no layout engine here
    }
  }

  // The scale: the largest bar spans the width, or every bar does (shares).
  std::vector<uint64_t> totals(c.rows.size(), 0);
  for (size_t r = 0; r < c.rows.size() && r < c.values.size(); ++r)
    for (uint64_t v : c.values[r]) totals[r] += v;
  const uint64_t largest = totals.empty() ? 0 : *std::max_element(totals.begin(), totals.end());

  for (size_t r = 0; r < c.rows.size(); ++r) {
    const double y = top + kRowHeight * static_cast<double>(r);
    const double text_y = y + kBarHeight - 5;
    s += "<text class=\"row\" x=\"" + num(kLabelWidth - 8) + "\" y=\"" + num(text_y) + "\" text-anchor=\"end\">" +
         escape_html(shorten(c.rows[r], kLabelChars)) + "</text>\n";
    s += "<rect class=\"track\" x=\"" + num(kLabelWidth) + "\" y=\"" + num(y) + "\" width=\"" + num(kBarWidth) +
         "\" height=\"" + num(kBarHeight) + "\"/>\n";
    const double scale = static_cast<double>(c.shares ? totals[r] : largest);
    double x = kLabelWidth;
    for (size_t k = 0; k < c.series.size() && r < c.values.size() && k < c.values[r].size(); ++k) {
      const uint64_t v = c.values[r][k];
      if (v == 0 || scale <= 0) continue;
      const double w = kBarWidth * static_cast<double>(v) / scale;
      s += "<rect class=\"bar\" x=\"" + num(x) + "\" y=\"" + num(y) + "\" width=\"" + num(w) + "\" height=\"" +
           num(kBarHeight) + "\" fill=\"" + label_color(c.series[k], k) + "\"><title>" + escape_html(c.rows[r]) +
           " \u00b7 " + escape_html(c.series[k]) + ": " + std::to_string(v) + "</title></rect>\n";
      x += w;
    }
    const std::string note = r < c.notes.size() ? c.notes[r] : "";
    if (!note.empty())
      s += "<text class=\"note\" x=\"" + num(kLabelWidth + kBarWidth + 8) + "\" y=\"" + num(text_y) + "\">" +
           escape_html(note) + "</text>\n";
  }
  s += "</svg>\n";
  return s;
}

}  // namespace cascade::cli
