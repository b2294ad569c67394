// Test support: scratch directories and trace files written with the
// traces library's Writer, the records laid out as the assistant pipelines
// write them (asr -> [rewrite] -> nlu, the turn record's result).
//
// Lifecycle: a TraceFile writes on turn()/dialogue() and must be close()d
// before the file is read. Single-threaded (worker 0).
#pragma once

#include <cascade/abi/cascade_abi.h>
#include <cascade/trace/writer.hpp>

#include <unistd.h>

#include <array>
#include <ctime>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace cascade::rewriting::testing_support {

inline constexpr const char* kTableId = "cascade_rewrites/1:00000000feedface";

struct ScratchDir {
  explicit ScratchDir(const std::string& name)
      : path(std::filesystem::temp_directory_path() /
             ("cascade_rewriting_" + name + "_" + std::to_string(::getpid()))) {
    std::filesystem::remove_all(path);
    std::filesystem::create_directories(path);
  }
  ~ScratchDir() { std::filesystem::remove_all(path); }
  ScratchDir(const ScratchDir&) = delete;
  ScratchDir& operator=(const ScratchDir&) = delete;
  std::filesystem::path path;
};

struct TurnSpec {
  std::string dialogue{};
  uint32_t index = 0;
  double seconds = 0;  // after 2026-01-15T09:00:00Z
  std::string asr{};   // the asr stage's output text
  std::string nlu{};   // what the nlu stage received; empty: the asr text (or the rewrite)
  std::optional<std::string> rewritten_to{};  // a rewrite stage fired, with kTableId
  bool success = false;
  bool result_in_turn_record = true;  // else only in the result stage's output
  std::string user{"user"};           // the turn record's user_id
};

class TraceFile {
 public:
  explicit TraceFile(const std::filesystem::path& path) : writer_(trace::WriterOptions{.path = path}) {}

  void turn(const TurnSpec& t) {
    const trace::TurnKey key{t.dialogue, t.user, t.index, seq_++};
    const int64_t start_ns = static_cast<int64_t>((kBase + t.seconds) * 1e9);
    const std::string nlu_text = !t.nlu.empty() ? t.nlu : t.rewritten_to ? *t.rewritten_to : t.asr;
    const std::string result = std::string("{\"success\":") + (t.success ? "true" : "false") + "}";

    const std::array<trace::PayloadView, 1> asr_out{text("text", t.asr)};
    stage(key, "asr", "normalize", start_ns, {}, asr_out, {});
    if (t.rewritten_to) {
      const std::array<trace::PayloadView, 1> in{text("text", t.asr)}, out{text("text", *t.rewritten_to)};
      const std::array<trace::TextFeatureView, 2> features{
          trace::TextFeatureView{"original_text", t.asr}, trace::TextFeatureView{"rewritten_by", kTableId}};
      stage(key, "rewrite", "rewrite", start_ns + 1, in, out, features);
    }
    const std::array<trace::PayloadView, 1> nlu_in{text("text", nlu_text)};
    stage(key, "nlu", "nlu", start_ns + 2, nlu_in, {}, {});
    const std::array<trace::PayloadView, 1> result_out{
        trace::PayloadView{"result", CASCADE_PAYLOAD_JSON, 0, result.data(), result.size()}};
    stage(key, "result", "result", start_ns + 3, {}, result_out, {});

    const std::string stamp = timestamp(t.seconds);
    trace::TurnEvent te;
    te.turn = key;
    te.timestamp = stamp;
    te.start_ns = start_ns;
    te.end_ns = start_ns + 4;
    te.input = text("input", t.asr);
    if (t.result_in_turn_record) te.result_json = result;
    writer_.write(0, te);
  }

  // One dialogue of its own, 10 s between requests; the last one's outcome.
  void dialogue(const std::vector<std::string>& requests, bool success) {
    const std::string id = "dialogue-" + std::to_string(dialogues_++);
    for (size_t k = 0; k < requests.size(); ++k)
      turn({.dialogue = id,
            .index = static_cast<uint32_t>(k),
            .seconds = 10.0 * static_cast<double>(k),
            .asr = requests[k],
            .success = k + 1 == requests.size() && success});
  }

  void close() { writer_.close(); }

 private:
  static constexpr double kBase = 1768467600;  // 2026-01-15T09:00:00Z

  static trace::PayloadView text(std::string_view port, const std::string& s) {
    return {port, CASCADE_PAYLOAD_TEXT, 0, s.data(), s.size()};
  }
  static std::string timestamp(double seconds) {
    const auto t = static_cast<std::time_t>(kBase + seconds);
    std::tm tm{};
    gmtime_r(&t, &tm);
    char buf[32];
    std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
    return buf;
  }
  void stage(const trace::TurnKey& key, std::string_view id, std::string_view plugin, int64_t start_ns,
             std::span<const trace::PayloadView> inputs, std::span<const trace::PayloadView> outputs,
             std::span<const trace::TextFeatureView> text_features) {
    trace::StageEvent ev;
    ev.turn = key;
    ev.stage_id = id;
    ev.plugin = plugin;
    ev.plugin_version = "1.0.0";
    ev.start_ns = start_ns;
    ev.end_ns = start_ns + 1;
    ev.inputs = inputs;
    ev.outputs = outputs;
    ev.text_features = text_features;
    writer_.write(0, ev);
  }

  trace::Writer writer_;
  uint64_t seq_ = 0;
  uint64_t dialogues_ = 0;
};

}  // namespace cascade::rewriting::testing_support
