// report_html.hpp — the HTML building blocks of `cascade isolate --report`:
// one escape function for every string that comes from a trace or an
// analysis, and a horizontal bar chart drawn as inline SVG (no script, so
// the report opens offline and from a mail attachment alike).
// Threading: free functions over plain values; no shared state.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace cascade::cli {

// Text and attribute values: & < > " ' become entities. Traces are
// untrusted input; nothing from them reaches the page without this.
std::string escape_html(std::string_view text);

// At most `bytes` bytes of `text`, cut on a UTF-8 character boundary, with
// an ellipsis when something was cut. Not escaped.
std::string shorten(std::string_view text, size_t bytes);

// The fill colour of a label, the same in every chart and the legend:
// fixed for the assistant's classes, a palette by `index` for the others.
std::string label_color(const std::string& label, size_t index);

// One bar per row; each bar is made of one segment per series.
struct BarChart {
  std::string title;                          // the SVG's accessible name
  std::vector<std::string> rows;              // top to bottom
  std::vector<std::string> series;            // segment order, left to right
  std::vector<std::vector<uint64_t>> values;  // values[row][series]
  std::vector<std::string> notes;             // text right of each bar ("" or absent: none)
  bool shares = false;   // true: every bar spans the width (segments are shares of its row)
  bool legend = true;    // a legend of the series above the bars
};

// An <svg> element; bars are <rect class="bar"> with a <title> tooltip
// giving the row, the series and the value. Every label is escaped; row
// labels past 20 characters are cut in the chart (whole in the tooltip).
std::string svg_bar_chart(const BarChart& chart);

}  // namespace cascade::cli
