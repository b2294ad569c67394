// analyzer_host.cpp — AnalyzerHost (cascade/core/analyze.hpp): one analyzer
// instance, the host functions it calls, and the threads that feed it turns.
//
// The shape of one run:
//   1. lay the trace's turns out as C views, dialogue by dialogue (TurnViews);
//   2. `jobs` threads take turns from a shared counter and call analyze();
//      a per-call context collects the label, the evidence and the replays;
//   3. replay() builds a TurnInput from the recorded turn (prepare_replay)
//      and hands it to the ReplayService, which batches across threads;
//   4. verdicts are returned in turn_seq order.
#include <cascade/core/analyze.hpp>
#include <cascade/core/diagnostic.hpp>
#include <cascade/core/replay.hpp>
#include <cascade/abi/cascade_analyzer.h>
#include <cascade/trace/reader.hpp>

#include "replay_service.hpp"
#include "turn_views.hpp"

#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <mutex>
#include <thread>

namespace cascade {
namespace {

// What the host knows of one call into the plugin (cascade_context is
// opaque to plugins: this is what the pointer really is).
struct CallContext {
  AnalyzerHost::Impl* host = nullptr;
  size_t turn = SIZE_MAX;  // index into TurnViews; SIZE_MAX outside analyze()
  // Filled during analyze():
  bool labelled = false;
  std::string label;
  double score = 0;
  nlohmann::json evidence = nlohmann::json::object();
  std::string error;
  uint32_t replays = 0;
  TurnOutcome last_replay;  // what replay()'s result points into
};

CallContext& of(cascade_context* ctx) { return *reinterpret_cast<CallContext*>(ctx); }

}  // namespace

struct AnalyzerHost::Impl {
  const LoadedPlugin& plugin;
  AnalysisOptions options;
  cascade_host_api host{};
  cascade_analyzer_host ahost{};
  void* instance = nullptr;
  std::unique_ptr<analyze::ReplayService> replays;
  const analyze::TurnViews* views = nullptr;  // during run()

  Impl(const LoadedPlugin& p, AnalysisOptions o) : plugin(p), options(std::move(o)) {}

  // ---- the host functions (cascade_host_api, cascade_analyzer_host) ----

  static void log(cascade_context* ctx, cascade_log_level level, const char* msg) {
    const auto lvl = static_cast<spdlog::level::level_enum>(std::clamp(static_cast<int>(level), 0, 4));
    spdlog::log(lvl, "[{}] {}", of(ctx).host->plugin.info.name, msg != nullptr ? msg : "");
  }
  static int get_param(cascade_context* ctx, const char* name, const char** value, size_t* len) {
    const Impl& h = *of(ctx).host;
    if (name == nullptr) return 0;
    if (auto it = h.options.params.find(name); it != h.options.params.end()) {
      *value = it->second.c_str();
      *len = it->second.size();
      return 1;
    }
    if (const ParamInfo* p = h.plugin.info.param(name)) {
      *value = p->default_value.c_str();
      *len = p->default_value.size();
      return 1;
    }
    return 0;
  }
  static void set_error(cascade_context* ctx, cascade_status code, int /*transient*/, const char* message) {
    of(ctx).error = "status " + std::to_string(code) + ": " + (message != nullptr ? message : "");
  }
  // Stage-only functions: an analyzer has no ports and no deadline.
  static cascade_status emit(cascade_context*, uint32_t, const cascade_payload*) { return CASCADE_ERR_UNSUPPORTED; }
  static void report_confidence(cascade_context*, double) {}
  static void report_nbest(cascade_context*, const char*, size_t, double) {}
  static void report_feature(cascade_context*, const char*, double) {}
  static void report_feature_text(cascade_context*, const char*, const char*, size_t) {}
  static int should_stop(cascade_context*) { return 0; }
  static int64_t remaining_ns(cascade_context*) { return INT64_MAX; }
  static cascade_status forward(cascade_context*, uint32_t, uint32_t) { return CASCADE_ERR_UNSUPPORTED; }

  static void set_label(cascade_context* ctx, const char* label, double score) {
    CallContext& c = of(ctx);
    c.labelled = label != nullptr;
    c.label = label != nullptr ? label : "";
    c.score = score;
  }
  static cascade_status add_evidence(cascade_context* ctx, const char* key, const char* json, uint64_t len) {
    if (key == nullptr || json == nullptr) return CASCADE_ERR_INVALID_ARGUMENT;
    auto v = nlohmann::json::parse(std::string_view(json, len), nullptr, false);
    if (v.is_discarded()) return CASCADE_ERR_INVALID_ARGUMENT;
    of(ctx).evidence[key] = std::move(v);
    return CASCADE_OK;
  }
  static int can_replay(cascade_context* ctx) { return of(ctx).host->options.replay_plan != nullptr ? 1 : 0; }
  static cascade_status replay(cascade_context* ctx, const cascade_replay_request* req, cascade_replay_result* out) {
    CallContext& c = of(ctx);
    try {
      return c.host->replay_turn(c, req, out);
    } catch (const std::exception& e) {
      c.error = std::string("replay: ") + e.what();
      return CASCADE_ERR_INTERNAL;
    }
  }

  cascade_status replay_turn(CallContext& c, const cascade_replay_request* req, cascade_replay_result* out) {
    if (options.replay_plan == nullptr || c.turn == SIZE_MAX) {
      c.error = "replay: no replay pipeline was given (cascade isolate --oracle -p PIPELINE)";
      return CASCADE_ERR_UNAVAILABLE;
    }
    if (req == nullptr || out == nullptr || req->n_forced > 1024) return CASCADE_ERR_INVALID_ARGUMENT;
    const PipelinePlan& plan = *options.replay_plan;
    std::map<uint32_t, std::string> given;
    std::vector<InjectedOutput> extra;
    for (uint32_t i = 0; i < req->n_forced; ++i) {
      const auto& f = *reinterpret_cast<const cascade_forced_stage*>(reinterpret_cast<const char*>(req->forced) +
                                                                     static_cast<size_t>(req->forced->struct_size) * i);
      if (f.stage_id == nullptr) return CASCADE_ERR_INVALID_ARGUMENT;
      uint32_t s = 0;
      try {
        s = replay_stage_index(plan, f.stage_id);
      } catch (const CascadeError& e) {
        c.error = e.what();
        return CASCADE_ERR_INVALID_ARGUMENT;
      }
      if (f.source == CASCADE_FORCE_RECORDED) {
        given[s] = "trace";
      } else if (f.source == CASCADE_FORCE_GOLD) {
        given[s] = f.gold_key != nullptr ? std::string("gold:") + f.gold_key : "gold";
      } else if (f.source == CASCADE_FORCE_GIVEN) {
        given[s] = "given";
        const auto& outs = plan.stages[s].plugin->info.outputs;
        if (f.n_outputs > 0 && f.outputs == nullptr) return CASCADE_ERR_INVALID_ARGUMENT;
        for (uint32_t k = 0; k < f.n_outputs; ++k) {
          // Strided by the first element's struct_size, as every ABI array.
          const auto& v = *reinterpret_cast<const cascade_port_value*>(reinterpret_cast<const char*>(f.outputs) +
                                                                       size_t{f.outputs->struct_size} * k);
          if (v.payload.data == nullptr && v.payload.size > 0) return CASCADE_ERR_INVALID_ARGUMENT;
          uint32_t port = UINT32_MAX;
          for (uint32_t p = 0; p < outs.size(); ++p)
            if (v.port != nullptr && outs[p].name == v.port) port = p;
          if (port == UINT32_MAX) {
            c.error = std::string("replay: stage '") + f.stage_id + "' has no output '" + (v.port ? v.port : "") + "'";
            return CASCADE_ERR_INVALID_ARGUMENT;
          }
          const uint32_t type = outs[port].type == CASCADE_PAYLOAD_ANY ? v.payload.type : outs[port].type;
          std::string bytes = v.payload.size > 0 ? std::string(static_cast<const char*>(v.payload.data), v.payload.size)
                                                 : std::string();
          extra.push_back({s, port, type, v.payload.sample_rate, std::move(bytes), "given"});
        }
      } else {
        return CASCADE_ERR_INVALID_ARGUMENT;
      }
    }
    TurnInput in;
    prepare_replay(plan, views->turn(c.turn), given, true, in, std::move(extra));
    c.last_replay = replays->replay(in);
    ++c.replays;
    const TurnOutcome& o = c.last_replay;
    out->status = static_cast<uint32_t>(o.status);
    out->failed_stage = o.failed_stage.c_str();
    out->error_code = o.error_code.c_str();
    out->error_message = o.error.c_str();
    out->result = cascade_payload{};
    out->result.struct_size = sizeof out->result;
    out->result.type = o.result_type;
    out->result.data = o.result.data();
    out->result.size = o.result.size();
    return CASCADE_OK;
  }

  void fill_host_tables() {
    host.struct_size = sizeof host;
    host.abi_major = CASCADE_ABI_MAJOR;
    host.abi_minor = CASCADE_ABI_MINOR;
    host.log = &log;
    host.get_param = &get_param;
    host.set_error = &set_error;
    host.emit = &emit;
    host.report_confidence = &report_confidence;
    host.report_nbest = &report_nbest;
    host.report_feature = &report_feature;
    host.report_feature_text = &report_feature_text;
    host.should_stop = &should_stop;
    host.remaining_ns = &remaining_ns;
    host.forward = &forward;
    ahost.struct_size = sizeof ahost;
    ahost.set_label = &set_label;
    ahost.add_evidence = &add_evidence;
    ahost.can_replay = &can_replay;
    ahost.replay = &replay;
  }

  // One turn through analyze().
  Verdict analyze_one(size_t i) {
    const cascade_turn_view& tv = views->view(i);
    Verdict v;
    v.dialogue_id = tv.dialogue_id;
    v.user_id = tv.user_id;
    v.turn_index = tv.turn_index;
    v.turn_seq = tv.turn_seq;
    CallContext c;
    c.host = this;
    c.turn = i;
    cascade_analysis_input in{};
    in.struct_size = sizeof in;
    in.turn = &tv;
    if ((plugin.info.analyzer_flags & CASCADE_ANALYZER_DIALOGUE) != 0) {
      const size_t first = views->dialogue_first(i);
      in.dialogue = &views->view(first);
      in.n_dialogue = static_cast<uint32_t>(views->dialogue_count(i));
      in.position = static_cast<uint32_t>(i - first);
    }
    const cascade_status st =
        plugin.descriptor->analyzer->analyze(instance, reinterpret_cast<cascade_context*>(&c), &ahost, &in);
    v.replays = c.replays;
    v.evidence = c.evidence.dump();
    if (st != CASCADE_OK) {
      v.error = c.error.empty() ? "analyze() returned status " + std::to_string(st) : c.error;
    } else if (!c.labelled) {
      v.error = "analyze() gave no label";
    } else if (!plugin.info.labels.empty() &&
               std::find(plugin.info.labels.begin(), plugin.info.labels.end(), c.label) == plugin.info.labels.end()) {
      v.error = "analyze() gave label '" + c.label + "', which the analyzer does not declare";
    } else if (!(c.score >= 0.0 && c.score <= 1.0)) {  // NaN fails both
      v.error = "analyze() gave label '" + c.label + "' a score outside [0, 1]";
    } else {
      v.analyzed = true;
      v.label = std::move(c.label);
      v.score = c.score;
    }
    return v;
  }
};

AnalyzerHost::AnalyzerHost(const LoadedPlugin& plugin, AnalysisOptions options)
    : impl_(std::make_unique<Impl>(plugin, std::move(options))) {
  Impl& h = *impl_;
  const std::string& name = plugin.info.name;
  if (plugin.info.kind != CASCADE_KIND_ANALYZER || plugin.descriptor->analyzer == nullptr)
    throw CascadeError("N001", "plugin '" + name + "' is a " + std::string(kind_name(plugin.info.kind)) + ", not an analyzer");
  if ((plugin.info.analyzer_flags & CASCADE_ANALYZER_REPLAYS) != 0 && h.options.replay_plan == nullptr)
    throw CascadeError("N003", "analyzer '" + name + "' replays turns: give it a pipeline (-p PIPELINE.toml)");
  for (const auto& [k, val] : h.options.params)
    if (plugin.info.param(k) == nullptr) throw CascadeError("N002", "analyzer '" + name + "' has no parameter '" + k + "'");
  h.fill_host_tables();
  CallContext c;
  c.host = &h;
  auto* ctx = reinterpret_cast<cascade_context*>(&c);
  const cascade_plugin_descriptor* d = plugin.descriptor;
  if (d->create(&h.host, ctx, &h.instance) != CASCADE_OK)
    throw CascadeError("N002", "analyzer '" + name + "' failed to create: " + c.error);
  if (d->open != nullptr && d->open(h.instance, ctx) != CASCADE_OK) {
    d->destroy(h.instance);
    throw CascadeError("N002", "analyzer '" + name + "' failed to open: " + c.error);
  }
  if (h.options.replay_plan != nullptr)
    h.replays = std::make_unique<analyze::ReplayService>(*h.options.replay_plan, h.options.replay_threads,
                                                         h.options.replay_batch);
}

AnalyzerHost::~AnalyzerHost() {
  Impl& h = *impl_;
  const cascade_plugin_descriptor* d = h.plugin.descriptor;
  try {
    h.replays.reset();  // joins the dispatcher
    CallContext c;
    c.host = &h;
    if (d->close != nullptr && d->close(h.instance, reinterpret_cast<cascade_context*>(&c)) != CASCADE_OK)
      spdlog::warn("analyzer '{}' failed to close: {}", h.plugin.info.name, c.error);
  } catch (...) {
    // A destructor must not throw; the instance is destroyed below all the same.
  }
  d->destroy(h.instance);
}

const PluginInfo& AnalyzerHost::info() const { return impl_->plugin.info; }

AnalysisResult AnalyzerHost::run(const trace::TraceData& data) {
  Impl& h = *impl_;
  const auto t0 = std::chrono::steady_clock::now();
  analyze::TurnViews views(data);
  h.views = &views;
  const bool replaying = h.replays != nullptr;
  uint32_t jobs = h.options.jobs != 0 ? h.options.jobs : (replaying ? 64u : 2u);
  const uint32_t cap = h.plugin.info.max_concurrency;
  if (cap != 0) jobs = std::min(jobs, cap);
  jobs = std::max<uint32_t>(1, std::min<size_t>(jobs, std::max<size_t>(views.size(), 1)));

  std::vector<Verdict> verdicts(views.size());
  std::atomic<size_t> next{0}, done{0};
  auto work = [&] {
    for (size_t i; (i = next.fetch_add(1)) < views.size();) {
      verdicts[i] = h.analyze_one(i);
      done.fetch_add(1);
    }
  };
  std::vector<std::thread> threads;
  for (uint32_t j = 0; j < jobs; ++j) threads.emplace_back(work);
  while (h.options.progress && done.load() < views.size()) {
    h.options.progress(done.load(), views.size());
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  for (auto& t : threads) t.join();
  if (h.options.progress) h.options.progress(views.size(), views.size());
  h.views = nullptr;

  std::sort(verdicts.begin(), verdicts.end(), [](const Verdict& a, const Verdict& b) { return a.turn_seq < b.turn_seq; });
  AnalysisResult r;
  r.verdicts = std::move(verdicts);
  r.skipped = views.skipped();
  if (replaying) {
    r.replays = h.replays->replays();
    r.replay_batches = h.replays->batches();
  }
  r.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return r;
}

}  // namespace cascade
