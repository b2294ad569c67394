#include "eval/fpi_bench.hpp"
#include "eval/fpi_isolators.hpp"

#include <cascade/core/analyze.hpp>
#include <cascade/core/diagnostic.hpp>
#include <cascade/core/loader.hpp>
#include <cascade/trace/reader.hpp>
#include <cascade/trace/writer.hpp>

#include <chrono>
#include <cstdio>
#include <ctime>
#include <optional>
#include <sstream>
#include <stdexcept>

namespace cascade::language::eval {
namespace {

using Clock = std::chrono::steady_clock;

double cpu_now() { return static_cast<double>(std::clock()) / CLOCKS_PER_SEC; }

trace::PayloadView view_of(const trace::Payload& p, const std::string& zeros) {
  trace::PayloadView v;
  v.port = p.port;
  v.type = p.type;
  v.sample_rate = p.sample_rate;
  if (p.hashed) {
    v.data = zeros.data();
    v.size = std::min<uint64_t>(p.size, zeros.size());
  } else {
    v.data = p.bytes.data();
    v.size = p.bytes.size();
  }
  return v;
}

// Copies of the source's turns until `turns` are written (step 1).
void write_large_trace(const trace::TraceData& src, const FpiBenchRequest& rq) {
  std::vector<const trace::Turn*> recorded;
  uint64_t largest_hashed = 0;
  for (const auto& t : src.turns) {
    if (!t.record) continue;
    recorded.push_back(&t);
    for (const auto& s : t.stages)
      for (const auto* list : {&s.inputs, &s.outputs})
        for (const auto& p : *list)
          if (p.hashed) largest_hashed = std::max(largest_hashed, p.size);
    if (t.record->input.hashed) largest_hashed = std::max(largest_hashed, t.record->input.size);
  }
  if (recorded.empty()) throw std::invalid_argument("the source trace has no recorded turn");
  const std::string zeros(largest_hashed, '\0');

  std::error_code ec;
  std::filesystem::remove_all(rq.out, ec);
  if (rq.out.has_parent_path()) std::filesystem::create_directories(rq.out.parent_path());
  trace::WriterOptions wo;
  wo.path = rq.out;
  wo.audio = trace::AudioMode::Hash;
  trace::Writer writer(wo);

  std::vector<trace::PayloadView> inputs, outputs;
  std::vector<trace::NBestView> nbest;
  std::vector<trace::FeatureView> features;
  std::vector<trace::TextFeatureView> text_features;
  for (uint64_t seq = 0; seq < rq.turns; ++seq) {
    const trace::Turn& t = *recorded[seq % recorded.size()];
    // Copy k of dialogue d is dialogue "d~k": dialogues stay whole.
    const std::string dialogue = t.id.dialogue_id + "~" + std::to_string(seq / recorded.size());
    const trace::TurnKey key{dialogue, t.id.user_id, t.id.turn_index, seq};
    for (const auto& s : t.stages) {
      inputs.clear();
      outputs.clear();
      nbest.clear();
      features.clear();
      text_features.clear();
      for (const auto& p : s.inputs) inputs.push_back(view_of(p, zeros));
      for (const auto& p : s.outputs) outputs.push_back(view_of(p, zeros));
      for (const auto& n : s.nbest) nbest.push_back({n.text, n.score});
      for (const auto& f : s.features) features.push_back({f.key, f.value});
      for (const auto& f : s.text_features) text_features.push_back({f.key, f.value});
      trace::StageEvent ev;
      ev.turn = key;
      ev.stage_id = s.stage_id;
      ev.plugin = s.plugin;
      ev.plugin_version = s.plugin_version;
      ev.start_ns = s.start_ns;
      ev.end_ns = s.end_ns;
      ev.worker = 0;
      ev.status = s.status;
      ev.error_code = s.error_code;
      ev.transient = s.transient;
      ev.error_message = s.error_message;
      ev.inputs = inputs;
      ev.outputs = outputs;
      ev.has_confidence = s.has_confidence;
      ev.confidence = s.confidence;
      ev.nbest = nbest;
      ev.features = features;
      ev.text_features = text_features;
      writer.write(0, ev);
    }
    const trace::TurnRecord& r = *t.record;
    trace::TurnEvent te;
    te.turn = key;
    te.timestamp = r.timestamp;
    te.config_digest = r.config_digest;
    te.start_ns = r.start_ns;
    te.end_ns = r.end_ns;
    te.status = r.status;
    te.input = view_of(r.input, zeros);
    te.gold_json = r.gold_json;
    te.result_json = r.result_json;
    writer.write(0, te);
    if (seq % 4096 == 4095) writer.flush();
  }
  writer.close();
}

}  // namespace

double FpiBenchResult::read_turns_per_minute() const {
  return read_cpu_seconds > 0 ? static_cast<double>(turns) / read_cpu_seconds * 60 : 0;
}
double FpiBenchResult::isolate_turns_per_minute() const {
  return isolate_cpu_seconds > 0 ? static_cast<double>(turns) / isolate_cpu_seconds * 60 : 0;
}
double FpiBenchResult::ratio() const { return read_cpu_seconds > 0 ? isolate_cpu_seconds / read_cpu_seconds : 0; }

FpiBenchResult run_fpi_bench(const FpiBenchRequest& rq) {
  if (rq.turns == 0) throw std::invalid_argument("--turns must be at least 1");
  {
    const trace::TraceData src = trace::read_turns(rq.source);
    write_large_trace(src, rq);
  }
  FpiBenchResult res;
  res.trace_bytes = std::filesystem::is_regular_file(rq.out) ? std::filesystem::file_size(rq.out) : 0;

  // 2. Reading alone.
  {
    const double c0 = cpu_now();
    const auto t0 = Clock::now();
    const trace::TraceData data = trace::read_turns(rq.out);
    res.read_seconds = std::chrono::duration<double>(Clock::now() - t0).count();
    res.read_cpu_seconds = cpu_now() - c0;
    res.turns = data.turns.size();
  }

  // 3. The isolator, one analyze() thread.
  PluginRegistry registry;
  registry.scan(PluginRegistry::search_path({}));
  const LoadedPlugin* plugin = rq.isolator.find('/') != std::string::npos ? &registry.load(rq.isolator)
                                                                          : registry.find(rq.isolator);
  if (plugin == nullptr || plugin->info.kind != CASCADE_KIND_ANALYZER)
    throw CascadeError("N001", "no analyzer plugin '" + rq.isolator + "' on the search path");
  const trace::TraceData data = trace::read_turns(rq.out);
  AnalysisOptions o;
  o.jobs = 1;
  o.params = rq.params;
  std::optional<LoadedPipeline> pipeline;
  if (!rq.pipeline.empty()) {
    FpiVariant v;
    v.pipeline = rq.pipeline;
    v.overrides = rq.overrides;
    pipeline = load_variant(v);
    o.replay_plan = &pipeline->plan;
  }
  AnalyzerHost host(*plugin, o);
  const double c0 = cpu_now();
  const AnalysisResult r = host.run(data);
  res.isolate_cpu_seconds = cpu_now() - c0;
  res.isolate_seconds = r.seconds;
  return res;
}

nlohmann::json to_json(const FpiBenchResult& r) {
  return {{"turns", r.turns},
          {"trace_bytes", r.trace_bytes},
          {"read", {{"seconds", r.read_seconds}, {"cpu_seconds", r.read_cpu_seconds},
                    {"turns_per_minute_per_core", r.read_turns_per_minute()}}},
          {"isolate", {{"seconds", r.isolate_seconds}, {"cpu_seconds", r.isolate_cpu_seconds},
                       {"turns_per_minute_per_core", r.isolate_turns_per_minute()}}},
          {"ratio", r.ratio()}};
}

std::string format_text(const FpiBenchResult& r, const std::string& isolator) {
  std::ostringstream o;
  char b[256];
  std::snprintf(b, sizeof b, "%llu turns, trace %.1f MB\n", static_cast<unsigned long long>(r.turns),
                static_cast<double>(r.trace_bytes) / 1e6);
  o << b;
  std::snprintf(b, sizeof b, "%-24s %10s %10s %22s\n", "step", "wall s", "CPU s", "turns/min/core");
  o << b;
  std::snprintf(b, sizeof b, "%-24s %10.2f %10.2f %22.0f\n", "read the trace", r.read_seconds, r.read_cpu_seconds,
                r.read_turns_per_minute());
  o << b;
  std::snprintf(b, sizeof b, "%-24s %10.2f %10.2f %22.0f\n", (isolator + " (1 thread)").c_str(), r.isolate_seconds,
                r.isolate_cpu_seconds, r.isolate_turns_per_minute());
  o << b;
  std::snprintf(b, sizeof b, "isolator CPU / read CPU: %.2f\n", r.ratio());
  o << b;
  return o.str();
}

}  // namespace cascade::language::eval
