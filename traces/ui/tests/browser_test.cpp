// browser_test.cpp — `cascade ui` driven in headless Chromium (WebDriver):
// real traces made by `cascade run` (the text assistant twice, with a
// changed --set, over eval dialogues plus a turn whose text is a <script>;
// the audio assistant over two turns, audio stored, and one with audio
// hashed), an analysis file, then: the list, a failure-point filter, a
// turn with its stage outputs and a playable audio element, compare,
// summary and timeline. A screenshot of each view is written under
// build/test-artifacts/ui/. Skipped, saying why, only without chromium.
#include "webdriver.hpp"

#include <httplib.h>

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>

namespace cascade::ui::testing {
namespace {

const std::filesystem::path kBin = CASCADE_BIN_DIR;
const std::filesystem::path kSource = CASCADE_SOURCE_DIR;
const std::filesystem::path kWork = std::filesystem::path(CASCADE_BUILD_DIR) / "ui-browser-test";
const std::filesystem::path kArtifacts = std::filesystem::path(CASCADE_BUILD_DIR) / "test-artifacts" / "ui";

int sh(const std::string& cmd) { return std::system(cmd.c_str()); }

// The traces and the analysis file, made once for every test here.
void make_inputs() {
  std::filesystem::remove_all(kWork);
  std::filesystem::create_directories(kWork);
  std::ifstream in(std::filesystem::path(CASCADE_BUILD_DIR) / "data/assistant/eval_dialogues.jsonl");
  std::ofstream text(kWork / "turns.jsonl"), audio(kWork / "audio.jsonl");
  std::string line;
  for (int i = 0; i < 40 && std::getline(in, line); ++i) {
    text << line << "\n";
    if (i < 2) audio << line << "\n";
  }
  auto evil = nlohmann::json::parse(line);
  evil["dialogue_id"] = "<b>evil</b>";
  evil["turn_id"] = "evil-0";
  evil["turn_index"] = 0;
  evil["payload"]["text"] = "<script>window.pwned=1</script><img src=x onerror=\"window.pwned=2\">";
  text << evil.dump() << "\n";
  text.close();
  audio.close();
  const std::string cascade = (kBin / "cascade").string(), w = kWork.string(), src = kSource.string();
  ASSERT_EQ(sh(cascade + " run " + src + "/pipelines/assistant-text.toml -i " + w + "/turns.jsonl --trace " + w +
               "/a.cas -o " + w + "/a.jsonl 2>" + w + "/a.log"), 0);
  ASSERT_EQ(sh(cascade + " run " + src + "/pipelines/assistant-text.toml -i " + w + "/turns.jsonl --trace " + w +
               "/b.cas -o " + w + "/b.jsonl --set stages.asr.params.strip_prefix=hey 2>" + w + "/b.log"), 0);
  ASSERT_EQ(sh(cascade + " run " + src + "/pipelines/assistant.toml -i " + w + "/audio.jsonl --trace " + w +
               "/speech.cas -o " + w + "/speech.jsonl --set trace.audio=inline 2>" + w + "/speech.log"), 0);
  ASSERT_EQ(sh(cascade + " run " + src + "/pipelines/assistant.toml -i " + w + "/audio.jsonl --trace " + w +
               "/hashed.cas -o " + w + "/hashed.jsonl --set trace.audio=hash 2>" + w + "/hashed.log"), 0);
  // Every turn_seq of a.cas labelled: "nlu" for every 4th, else "correct".
  std::ofstream analysis(kWork / "a.analysis.jsonl");
  analysis << R"({"cascade_analysis": 1, "analyzer": "browser-test", "analyzer_version": "1", "traces": [")" << w
           << R"(/a.cas"], "classes": ["false_wake","asr","nlu","er","result","correct"]})" << "\n";
  for (int seq = 0; seq < 64; ++seq)
    analysis << nlohmann::json{{"trace", w + "/a.cas"}, {"turn_seq", seq}, {"label", seq % 4 == 1 ? "nlu" : "correct"},
                               {"score", 0.75}, {"evidence", {{"note", "<img src=x onerror=\"window.pwned=3\">"}}}}
                    .dump()
             << "\n";
}

// `cascade ui ...` on a free port; the URL is read from its first line.
class UiServer {
 public:
  UiServer() {
    int out[2];
    EXPECT_EQ(::pipe(out), 0);
    pid_ = ::fork();
    if (pid_ == 0) {
      ::dup2(out[1], 1);
      ::close(out[0]);
      const std::string cascade = (kBin / "cascade").string(), w = kWork.string();
      const std::string a = w + "/a.cas", b = w + "/b.cas", s = w + "/speech.cas", h = w + "/hashed.cas",
                        an = w + "/a.analysis.jsonl";
      ::execl(cascade.c_str(), cascade.c_str(), "ui", a.c_str(), b.c_str(), s.c_str(), h.c_str(), "--analysis",
              an.c_str(), "--port", "0", "--pipeline", "pipelines/assistant-text.toml", static_cast<char*>(nullptr));
      ::_exit(127);
    }
    ::close(out[1]);
    std::string line;
    char c = 0;
    while (::read(out[0], &c, 1) == 1 && c != '\n') line += c;
    ::close(out[0]);
    const auto at = line.find("http://");
    if (at != std::string::npos) url_ = line.substr(at, line.find(' ', at) - at);
  }
  ~UiServer() {
    ::kill(pid_, SIGTERM);
    int status = 0;
    ::waitpid(pid_, &status, 0);
  }
  [[nodiscard]] const std::string& url() const { return url_; }

 private:
  pid_t pid_ = -1;
  std::string url_;
};

class Browser : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    if (WebDriver::unavailable()) return;
    make_inputs();
    server_ = new UiServer();
    driver_ = new WebDriver();
  }
  static void TearDownTestSuite() {
    delete driver_;
    delete server_;
    driver_ = nullptr;
    server_ = nullptr;
  }
  void SetUp() override {
    if (auto why = WebDriver::unavailable()) GTEST_SKIP() << "skipped: " << *why;
    ASSERT_FALSE(server_->url().empty()) << "cascade ui printed no URL";
  }
  void open(const std::string& hash) {
    driver_->go(server_->url() + hash);
    driver_->wait_for("return document.readyState === 'complete';", "the page loaded");
  }
  static std::string count(const std::string& selector) {
    return "return document.querySelectorAll(" + nlohmann::json(selector).dump() + ").length;";
  }
  static void shot(const std::string& name) { driver_->screenshot(kArtifacts / (name + ".png")); }
  static UiServer* server_;
  static WebDriver* driver_;
};
UiServer* Browser::server_ = nullptr;
WebDriver* Browser::driver_ = nullptr;

TEST_F(Browser, ListsTheTurnsAndFiltersByFailurePoint) {
  EXPECT_EQ(server_->url().rfind("http://127.0.0.1:", 0), 0U) << server_->url();
  open("#/turns");
  driver_->wait_for("return document.getElementById('count')?.textContent.startsWith('41 turns');", "41 turns");
  EXPECT_GT(driver_->wait_for(count(".turn-row"), "turn rows").get<int>(), 10);
  EXPECT_TRUE(driver_->run("const rows = [...document.querySelectorAll('.turn-row')];"
                           "return new Set(rows.map(r => r.getBoundingClientRect().top)).size === rows.length;")
                  .get<bool>())
      << "every row has a line of its own";
  shot("list");
  driver_->run("const s = document.querySelector('select[name=label]'); s.value = 'nlu';"
               "s.dispatchEvent(new Event('change')); return true;");
  driver_->wait_for("return location.hash.includes('label=nlu') && document.getElementById('count')?.textContent"
                    ".endsWith('turns') && document.getElementById('count').textContent !== '41 turns';",
                    "the filtered list");
  const auto points = driver_->wait_for(
      "const p = [...document.querySelectorAll('.turn-row .point')].map(e => e.textContent);"
      "return p.length ? p : null;", "filtered rows");
  for (const auto& p : points) EXPECT_EQ(p, "nlu");
  EXPECT_EQ(points.size(), 10U);  // seq 1, 5, ..., 37 of 41 turns (seqs 0-40)
  shot("list-filtered");
}

TEST_F(Browser, TextFromATraceIsShownAsTextNeverRun) {
  open("#/turns?q=pwned");
  const auto text = driver_->wait_for(
      "const r = document.querySelector('.turn-row'); return r && r.textContent;", "the <script> turn");
  EXPECT_NE(text.get<std::string>().find("<script>window.pwned=1</script>"), std::string::npos) << text;
  driver_->run("document.querySelector('.turn-row').click(); return true;");
  driver_->wait_for(count(".card.stage"), "the turn's stages");
  driver_->wait_for("return document.body.textContent.includes('<b>evil</b>');", "the dialogue id as text");
  EXPECT_EQ(driver_->run("return document.querySelectorAll('#view script, #view img').length;"), 0);
  EXPECT_EQ(driver_->run("return [...document.querySelectorAll('#view b')].filter(b => b.textContent === 'evil').length;"),
            0);
  EXPECT_TRUE(driver_->run("return window.pwned === undefined;").get<bool>());
  shot("turn-script");
}

TEST_F(Browser, OpensATurnWithItsStageOutputsAndReplayCommand) {
  open("#/turns?label=nlu");
  driver_->wait_for(count(".turn-row"), "rows");
  driver_->run("document.querySelector('.turn-row').click(); return true;");
  driver_->wait_for(count(".card.stage[data-stage=result]"), "the result stage");
  for (const char* stage : {"asr", "nlu", "er", "result"})
    EXPECT_EQ(driver_->run(count(std::string(".card.stage[data-stage=") + stage + "] .payload")).get<int>() > 0, true)
        << stage;
  EXPECT_EQ(driver_->run("return document.querySelector('#failure-point .point').textContent;"), "nlu");
  EXPECT_NE(driver_->run("return document.getElementById('failure-point').textContent;").get<std::string>().find(
                "onerror"),
            std::string::npos);
  EXPECT_EQ(driver_->run(count("svg.dag .dag-node")).get<int>(), 5);  // input + 4 stages
  const auto cmd = driver_->run("return document.getElementById('replay-cmd').textContent;").get<std::string>();
  EXPECT_EQ(cmd.rfind("cascade replay ", 0), 0U) << cmd;
  EXPECT_NE(cmd.find("-p pipelines/assistant-text.toml"), std::string::npos) << cmd;
  EXPECT_NE(cmd.find("--turns seq="), std::string::npos) << cmd;
  EXPECT_NE(driver_->run("return document.querySelector('.card.stage[data-stage=nlu] .gold')?.textContent;"), nullptr);
  shot("turn");
}

TEST_F(Browser, PlaysTheAudioOfTheSpeechPipelineAndSaysWhenItIsHashed) {
  open("#/turns?trace=2");
  driver_->wait_for(count(".turn-row"), "rows of the speech trace");
  driver_->run("document.querySelector('.turn-row').click(); return true;");
  driver_->wait_for(count(".card.stage[data-stage=wake] audio"), "the wake stage's audio element");
  const auto head = driver_->run(
      "const a = document.querySelector('.card.stage[data-stage=asr] audio');"
      "return fetch(a.src).then(r => r.arrayBuffer()).then(b => String.fromCharCode(...new Uint8Array(b.slice(0, 4))));");
  EXPECT_EQ(head, "RIFF");
  shot("turn-audio");
  open("#/turns?trace=3");
  driver_->wait_for(count(".turn-row"), "rows of the hashed trace");
  driver_->run("document.querySelector('.turn-row').click(); return true;");
  driver_->wait_for(count(".card.stage[data-stage=wake] .hashed"), "the hashed-audio notice");
  EXPECT_EQ(driver_->run(count("audio")).get<int>(), 0);
}

TEST_F(Browser, ComparesTwoTraces) {
  open("#/compare?a=0&b=1");
  driver_->wait_for(count("#by-stage tr td"), "turns per first divergent stage");
  EXPECT_EQ(driver_->run("return document.querySelector('#by-stage td').textContent;"), "asr");
  driver_->run("document.querySelector('.divergence').click(); return true;");
  driver_->wait_for(count("#pair .side .card.stage.divergent"), "the two records side by side");
  EXPECT_EQ(driver_->run(count("#pair .side")).get<int>(), 2);
  shot("compare");
}

TEST_F(Browser, SummaryAndTimeline) {
  open("#/summary");
  driver_->wait_for(count("#latency tr"), "latency table");
  EXPECT_EQ(driver_->run("return [...document.querySelectorAll('#failure-points td')].map(e => e.textContent).join(' ');"),
            "correct 31 nlu 10");
  EXPECT_GE(driver_->run(count("#by-position tr")).get<int>(), 2);
  shot("summary");
  open("#/timeline?label=nlu");
  driver_->wait_for(count("#timeline-chart rect.seg"), "the timeline chart");
  EXPECT_EQ(driver_->run(count("#timeline-chart rect.seg")).get<int>(), 40);  // 10 turns x 4 stages
  const auto events = driver_->run(
      "return fetch(document.getElementById('perfetto-link').href).then(r => r.json()).then(j => j.traceEvents.length);");
  EXPECT_GT(events.get<int>(), 40);
  shot("timeline");
}

TEST_F(Browser, RefusesWhatItWasNotGiven) {
  const auto status = [](const std::string& path) {
    httplib::Client c(server_->url().substr(7, server_->url().size() - 8));  // "host:port"
    auto r = c.Get(path.c_str());
    return r ? r->status : -1;
  };
  EXPECT_EQ(status("/"), 200);
  EXPECT_EQ(status("/assets/app.js"), 200);
  EXPECT_EQ(status("/assets/../../../etc/passwd"), 404);
  EXPECT_EQ(status("/etc/passwd"), 404);
  EXPECT_EQ(status("/api/turn?trace=4&seq=0"), 404);
  EXPECT_EQ(status("/api/turns?code=abc"), 400);
}

// Without a browser: the command line's refusals, with their codes.
TEST(UiCommand, RefusesABadAnalysisFileAndABusyPort) {
  std::filesystem::create_directories(kWork);
  std::ofstream(kWork / "not-analysis.jsonl") << "{\"turn_seq\": 1}\n";
  const std::string ui = (kBin / "cascade").string() + " ui " + (kSource / "traces/FORMAT.md").string();
  const std::string err = (kWork / "cli.err").string();
  auto read_err = [&] {
    std::ifstream f(err);
    return std::string(std::istreambuf_iterator<char>(f), {});
  };
  // FORMAT.md is no trace: refused before anything is served.
  EXPECT_EQ(WEXITSTATUS(sh(ui + " --port 0 2>" + err)), 1);
  EXPECT_NE(read_err().find("error[T003]"), std::string::npos) << read_err();
  const std::string trace = (kWork / "cli.cas").string();
  ASSERT_EQ(sh((kBin / "cascade").string() + " run " + (kSource / "pipelines/text-minimal.toml").string() + " -i " +
               (std::filesystem::path(CASCADE_BUILD_DIR) / "data/assistant/eval_dialogues_small.jsonl").string() +
               " --trace " + trace + " -o /dev/null 2>/dev/null"),
            0);
  const std::string with_trace = (kBin / "cascade").string() + " ui " + trace;
  EXPECT_EQ(WEXITSTATUS(sh(with_trace + " --analysis " + (kWork / "not-analysis.jsonl").string() + " 2>" + err)), 2);
  EXPECT_NE(read_err().find("not-analysis.jsonl:1: error[U001]"), std::string::npos) << read_err();
  // A port already taken: U004, exit 1.
  const int port = free_port();
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.sin_port = htons(static_cast<uint16_t>(port));
  ASSERT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
  ASSERT_EQ(::listen(fd, 1), 0);
  EXPECT_EQ(WEXITSTATUS(sh(with_trace + " --port " + std::to_string(port) + " 2>" + err)), 1);
  EXPECT_NE(read_err().find("error[U004]"), std::string::npos) << read_err();
  ::close(fd);
}

}  // namespace
}  // namespace cascade::ui::testing
