// isolate_report_test.cpp — `cascade isolate --report`: the HTML page built
// from real trace files (written with the traces Writer, read back with
// read_turns) and an analysis in memory, checked as text and rendered by
// headless Chromium when it is installed.
#include "isolate_report.hpp"

#include <cascade/core/diagnostic.hpp>
#include <cascade/trace/reader.hpp>
#include <cascade/trace/writer.hpp>

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <optional>
#include <span>
#include <string>
#include <vector>

namespace cascade::cli {
namespace {

namespace fs = std::filesystem;
using trace::FeatureView;
using trace::PayloadView;

// A fresh directory under /tmp, removed at the end of the test.
class TempDir {
 public:
  TempDir() {
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    path_ = fs::temp_directory_path() / ("cascade-report-" + std::to_string(::getpid()) + "-" + info->name());
    fs::remove_all(path_);
    fs::create_directories(path_);
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path_, ec);
  }
  [[nodiscard]] fs::path operator/(const std::string& name) const { return path_ / name; }

 private:
  fs::path path_;
};

// One recorded turn and what the analyzer said of it.
struct Case {
  std::string dialogue;
  uint32_t turn_index = 0;
  std::string request;             // the turn's text input
  std::string asr_text;            // the asr stage's output
  std::optional<double> snr_db;    // a "snr_db" feature on the speech stage, when set
  std::string label;               // "" : not labelled
  std::string evidence = "{}";
};

// Writes the cases as turns speech -> asr -> nlu, turn_seq = position.
void write_trace(const fs::path& path, const std::vector<Case>& cases) {
  trace::Writer w(trace::WriterOptions{.path = path});
  for (size_t i = 0; i < cases.size(); ++i) {
    const Case& c = cases[i];
    const std::string user = "u-" + c.dialogue;
    const trace::TurnKey key{c.dialogue, user, c.turn_index, i};
    const int64_t t0 = 1'700'000'000'000'000'000 + static_cast<int64_t>(i) * 10'000'000;
    auto stage = [&](std::string_view id, int k, const std::string& out, std::span<const FeatureView> features) {
      const PayloadView payload{"text", 1, 0, out.data(), out.size()};
      trace::StageEvent ev;
      ev.turn = key;
      ev.stage_id = id;
      ev.plugin = "test";
      ev.plugin_version = "1.0.0";
      ev.start_ns = t0 + k * 1'000'000;
      ev.end_ns = ev.start_ns + 1'000'000;
      ev.outputs = {&payload, 1};
      ev.features = features;
      ev.has_confidence = id == "asr";
      ev.confidence = 0.5;
      w.write(0, ev);
    };
    const FeatureView snr{"snr_db", c.snr_db.value_or(0)};
    stage("speech", 0, "(speech)", c.snr_db ? std::span<const FeatureView>(&snr, 1) : std::span<const FeatureView>());
    stage("asr", 1, c.asr_text, {});
    stage("nlu", 2, R"({"intent":"lights_on"})", {});
    trace::TurnEvent te;
    te.turn = key;
    te.start_ns = t0;
    te.end_ns = t0 + 3'000'000;
    te.input = {"input", 1, 0, c.request.data(), c.request.size()};
    te.gold_json = R"({"asr":"turn on the lights"})";
    te.result_json = R"({"success":false})";
    w.write(0, te);
  }
  w.close();
}

AnalysisFile analysis_of(const std::vector<std::pair<std::string, const std::vector<Case>*>>& traces) {
  AnalysisFile a;
  a.header.analyzer = "rules";
  a.header.analyzer_version = "1.0.0";
  for (const auto& [path, cases] : traces) {
    a.header.traces.push_back(path);
    for (size_t i = 0; i < cases->size(); ++i) {
      const Case& c = (*cases)[i];
      Verdict v;
      v.dialogue_id = c.dialogue;
      v.user_id = "u-" + c.dialogue;
      v.turn_index = c.turn_index;
      v.turn_seq = i;
      v.analyzed = !c.label.empty();
      v.label = c.label;
      v.score = 1.0;
      v.evidence = c.evidence;
      if (!v.analyzed) v.error = "turn has no gold";
      a.lines.push_back({path, v});
    }
  }
  return a;
}

std::string read_text(const fs::path& p) {
  std::ifstream f(p, std::ios::binary);
  return {std::istreambuf_iterator<char>(f), std::istreambuf_iterator<char>()};
}

size_t count(const std::string& text, const std::string& what) {
  size_t n = 0;
  for (size_t at = text.find(what); at != std::string::npos; at = text.find(what, at + what.size())) ++n;
  return n;
}

// The text between the first `from` and the next `to` after it.
std::string between(const std::string& text, const std::string& from, const std::string& to) {
  const size_t a = text.find(from);
  if (a == std::string::npos) return "";
  const size_t b = text.find(to, a + from.size());
  return text.substr(a, b == std::string::npos ? std::string::npos : b - a);
}

const std::vector<std::string> kClasses = {"false_wake", "asr", "nlu", "er", "result", "correct"};

// Two dialogues of four turns and a third of four, over two noise levels:
// 7 asr failures (more than the 5 examples shown), 2 nlu, 2 correct, one
// turn not labelled; hostile text in a request, an output and evidence.
std::vector<Case> hostile_run() {
  std::vector<Case> c;
  const char* labels[] = {"asr", "nlu", "asr", "correct", "asr", "asr", "nlu", "asr", "asr", "correct", "asr", ""};
  for (uint32_t i = 0; i < 12; ++i)
    c.push_back({"d" + std::to_string(i / 4), i % 4, "turn on the lights", "turn on the light",
                 i < 6 ? std::optional<double>(20.2) : std::optional<double>(-1.0), labels[i], "{}"});
  c[0].request = "<script>alert(1)</script>";
  c[0].asr_text = "<img src=x onerror=alert(2)>";
  c[0].evidence = R"({"asr_text":"</pre><script>alert(3)</script>","wer":0.5})";
  c[1].dialogue = "d0\"&'";
  return c;
}

struct Built {
  TempDir dir;
  fs::path html;
  std::vector<trace::TraceData> data;
  AnalysisFile analysis;
  Scores scores;
  std::vector<CoveragePoint> coverage;
};

void build(Built& b) {
  const auto cases = hostile_run();
  const fs::path trace_path = b.dir / "run.cas";
  write_trace(trace_path, cases);
  b.data.push_back(trace::read_turns(trace_path));
  b.analysis = analysis_of({{trace_path.string(), &cases}});
  // The reference: the same labels, but the oracle calls turn 2 an nlu failure.
  std::vector<std::pair<std::string, std::string>> pairs;
  for (const auto& l : b.analysis.lines)
    if (l.verdict.analyzed) pairs.emplace_back(l.verdict.turn_seq == 2 ? "nlu" : l.verdict.label, l.verdict.label);
  b.scores = score(pairs, kClasses);
  b.coverage = {{0.25, 1.0, 16, 0.9375, 0.8}, {0.75, 0.5, 8, 1.0, 1.0}};
  b.html = b.dir / "report.html";
  write_report(b.html, ReportInput{&b.analysis, &b.scores, "oracle", kClasses, &b.data, &b.coverage});
}

TEST(IsolateReport, DrawsTheChartsTheMatrixAndTheExamples) {
  Built b;
  build(b);
  const std::string h = read_text(b.html);
  ASSERT_FALSE(h.empty());
  EXPECT_EQ(h.rfind("<!DOCTYPE html>", 0), 0u);
  EXPECT_NE(h.find("<h1>Failure points: rules 1.0.0</h1>"), std::string::npos);

  // Per class: one bar per class with turns (asr, nlu, correct, not labelled).
  const std::string per_class = between(h, "<h2>Failure points per class</h2>", "</svg>");
  EXPECT_EQ(count(per_class, "class=\"bar\""), 4u);
  EXPECT_NE(per_class.find("<title>asr \u00b7 asr: 7</title>"), std::string::npos);
  EXPECT_NE(per_class.find("<title>(not labelled) \u00b7 (not labelled): 1</title>"), std::string::npos);

  // Per dialogue position: turn 0 of the three dialogues is asr, asr, asr.
  const std::string position = between(h, "<h2>Failure points per dialogue position</h2>", "</svg>");
  EXPECT_NE(position.find("<title>turn 0 \u00b7 asr: 3</title>"), std::string::npos);
  EXPECT_NE(position.find("<title>turn 3+ \u00b7 correct: 1</title>"), std::string::npos);
  EXPECT_NE(position.find("3 turns, 3 failed (100.0%)"), std::string::npos);

  // Per noise level: 20.2 dB rounds to 20, -1 dB to 0; the cleanest first.
  const std::string noise = between(h, "<h2>Failure points per noise level</h2>", "</svg>");
  ASSERT_FALSE(noise.empty());
  const size_t at20 = noise.find(">20 dB</text>");
  const size_t at0 = noise.find(">0 dB</text>");
  ASSERT_NE(at20, std::string::npos);
  ASSERT_NE(at0, std::string::npos);
  EXPECT_LT(at20, at0);
  EXPECT_NE(noise.find("<title>20 dB \u00b7 asr: 4</title>"), std::string::npos);
  EXPECT_EQ(h.find("grouped by trace file"), std::string::npos);

  // The confusion matrix: turn 2 is nlu in the reference, asr predicted.
  const std::string matrix = between(h, "<table class=\"confusion\">", "</table>");
  ASSERT_FALSE(matrix.empty());
  EXPECT_NE(h.find("Against the reference: oracle"), std::string::npos);
  char macro[64];
  std::snprintf(macro, sizeof macro, "macro-F1 <b>%.3f</b>", b.scores.macro_f1);
  EXPECT_NE(h.find(macro), std::string::npos) << macro;
  const std::string nlu_row = between(matrix, "<tr><th>nlu</th>", "</tr>");
  EXPECT_EQ(count(nlu_row, ">1</td>"), 1u);  // predicted asr
  EXPECT_EQ(count(nlu_row, ">2</td>"), 1u);  // predicted nlu

  // The surer labels: one row per point, in order.
  const std::string surer = between(h, "<table class=\"coverage\">", "</table>");
  EXPECT_EQ(count(surer, "<tr><td>"), 2u);
  EXPECT_LT(surer.find("<td>0.250</td><td>16</td><td>100.0%</td><td>93.8%</td>"),
            surer.find("<td>0.750</td><td>8</td><td>50.0%</td><td>100.0%</td>"));
  EXPECT_NE(surer.find("<td>0.750</td><td>8</td>"), std::string::npos);

  // Examples: 5 of the 7 asr turns, both nlu turns, the unlabelled one; no correct ones.
  EXPECT_EQ(count(h, "<div class=\"example\">"), 5u + 2u + 1u);
  EXPECT_NE(h.find("asr <span class=\"muted\">(7 turns; up to 5 shown)</span>"), std::string::npos);
  EXPECT_NE(h.find("turn has no gold"), std::string::npos);
  EXPECT_NE(h.find("&quot;wer&quot;: 0.5"), std::string::npos) << "the evidence is pretty-printed";
}

TEST(IsolateReport, EscapesEveryStringFromTheTraces) {
  Built b;
  build(b);
  const std::string h = read_text(b.html);
  EXPECT_NE(h.find("&lt;script&gt;alert(1)&lt;/script&gt;"), std::string::npos);
  EXPECT_NE(h.find("&lt;img src=x onerror=alert(2)&gt;"), std::string::npos);
  EXPECT_NE(h.find("&lt;/pre&gt;&lt;script&gt;alert(3)&lt;/script&gt;"), std::string::npos);
  EXPECT_NE(h.find("d0&quot;&amp;&#39;"), std::string::npos);
  // The page has no script of its own: any "<script" would be data that got through.
  EXPECT_EQ(h.find("<script"), std::string::npos);
  EXPECT_EQ(h.find("<img"), std::string::npos);
}

TEST(IsolateReport, WithoutNoiseLevelsTheTurnsAreGroupedByTraceFile) {
  TempDir dir;
  std::vector<Case> quiet = {{"a", 0, "lights on", "lights on", std::nullopt, "correct", "{}"},
                             {"a", 1, "lights off", "light soft", std::nullopt, "asr", "{}"}};
  std::vector<Case> other = {{"b", 0, "play jazz", "play jazz", std::nullopt, "er", "{}"}};
  const fs::path first = dir / "first.cas", second = dir / "second.cas";
  write_trace(first, quiet);
  write_trace(second, other);
  std::vector<trace::TraceData> data = {trace::read_turns(first), trace::read_turns(second)};
  const AnalysisFile a = analysis_of({{first.string(), &quiet}, {second.string(), &other}});
  write_report(dir / "r.html", ReportInput{&a, nullptr, "", kClasses, &data});
  const std::string h = read_text(dir / "r.html");
  EXPECT_EQ(h.find("per noise level"), std::string::npos);
  EXPECT_NE(h.find("grouped by trace file instead"), std::string::npos);
  const std::string files = between(h, "<h2>Failure points per trace file</h2>", "</svg>");
  EXPECT_NE(files.find("<title>first.cas \u00b7 asr: 1</title>"), std::string::npos);
  EXPECT_NE(files.find("<title>second.cas \u00b7 er: 1</title>"), std::string::npos);
  EXPECT_EQ(h.find("<table class=\"confusion\">"), std::string::npos) << "no reference, no matrix";
  // The stage outputs come from the trace read back.
  EXPECT_NE(h.find("text: light soft"), std::string::npos);
}

TEST(IsolateReport, AnUnwritablePathIsN013) {
  TempDir dir;
  const AnalysisFile a;
  try {
    write_report(dir / "no-such-dir" / "r.html", ReportInput{&a, nullptr, "", kClasses, nullptr});
    FAIL() << "no error";
  } catch (const CascadeError& e) {
    EXPECT_EQ(e.code(), "N013");
    EXPECT_NE(std::string(e.what()).find("no-such-dir"), std::string::npos) << e.what();
  }
}

// Headless Chromium: the page parses into a DOM with the drawn bars (and
// no script element from the data), and its screenshot is not blank.
std::string run(const std::string& command) {
  std::string out;
  if (FILE* p = ::popen(command.c_str(), "r")) {
    char buf[4096];
    for (size_t n; (n = std::fread(buf, 1, sizeof buf, p)) > 0;) out.append(buf, n);
    ::pclose(p);
  }
  return out;
}

TEST(IsolateReport, HeadlessChromiumRendersTheCharts) {
  const fs::path chromium = "/usr/bin/chromium";
  if (!fs::exists(chromium))
    GTEST_SKIP() << "chromium is not installed (apt-get install chromium): the report was not rendered";
  Built b;
  build(b);
  const fs::path profile = b.dir / "profile";
  // As root Chromium needs --no-sandbox; HOME and the profile go to /tmp.
  const std::string chrome = "HOME=" + profile.string() + " timeout 180 " + chromium.string() +
                             " --headless --no-sandbox --disable-gpu --hide-scrollbars --user-data-dir=" +
                             profile.string() + " ";
  const std::string log = " 2>>" + (b.dir / "chromium.log").string();
  const std::string dom = run(chrome + "--dump-dom file://" + b.html.string() + log);
  ASSERT_NE(dom.find("<svg"), std::string::npos) << "no SVG in the DOM; chromium said:\n"
                                                 << read_text(b.dir / "chromium.log") << dom.substr(0, 400);
  const std::string source = read_text(b.html);
  EXPECT_EQ(count(dom, "<svg"), count(source, "<svg"));
  EXPECT_GE(count(dom, "<rect class=\"bar\""), 10u);
  EXPECT_EQ(count(dom, "<rect class=\"bar\""), count(source, "<rect class=\"bar\""));
  EXPECT_EQ(dom.find("<script"), std::string::npos);
  EXPECT_NE(dom.find("&lt;script&gt;alert(1)&lt;/script&gt;"), std::string::npos);

  // The screenshot, kept as an artefact; a blank page of the same size for comparison.
  const fs::path shot = fs::path(ARTEFACT_DIR) / "isolate_report.png";
  const fs::path blank_html = b.dir / "blank.html", blank = b.dir / "blank.png";
  std::ofstream(blank_html) << "<!DOCTYPE html><html><body></body></html>";
  fs::remove(shot);
  run(chrome + "--window-size=1200,2400 --screenshot=" + shot.string() + " file://" + b.html.string() + log);
  run(chrome + "--window-size=1200,2400 --screenshot=" + blank.string() + " file://" + blank_html.string() + log);
  ASSERT_TRUE(fs::exists(shot)) << read_text(b.dir / "chromium.log");
  ASSERT_TRUE(fs::exists(blank)) << read_text(b.dir / "chromium.log");
  EXPECT_EQ(read_text(shot).substr(0, 8), "\x89PNG\r\n\x1a\n");
  // A blank page compresses to almost nothing; text and coloured bars do not.
  EXPECT_GT(fs::file_size(shot), 4 * fs::file_size(blank)) << shot;
}

}  // namespace
}  // namespace cascade::cli
