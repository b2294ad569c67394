// cascade/sdk/analyzer_testing.hpp — run ONE analyzer plugin on turns
// described in C++, without the core, a trace file or a pipeline, and look
// at the label, score and evidence it gave each turn.
//
//   using namespace cascade::sdk::testing;
//   auto h = AnalyzerHarness::load("build-lowest/cascade-lowest_confidence.so");
//   auto v = h->run_one(RecordedTurn("d1", 0)
//       .stage(RecordedStage("nlu").output("nlu", Value::json(R"({"intent":"weather_query"})")).confidence(0.2))
//       .stage(RecordedStage("result").feature("success", 0)));
//   EXPECT_EQ(v.label, "nlu");
//
// It plays the host of cascade_analyzer.h as core/analyze does for
// `cascade isolate` (tests/analyzers/analyzer_conformance_test.cpp runs the
// same analyzers on the same turns through both and requires the same
// verdicts): the same views, the same checks of labels and evidence, the
// same error texts. Replays are answered by a function you give (forced
// stages -> the result a replay would give); without one, replay() is
// refused with CASCADE_ERR_UNAVAILABLE, and an analyzer that declares
// `replays` is refused at load, as `cascade isolate` refuses it without -p.
//
// Lifecycle: the constructor creates and opens the instance (throws
//   std::runtime_error with the plugin's message if either fails); run()
//   any number of times; the destructor closes and destroys it. The library
//   stays loaded for the life of the process, as in the real host.
// Threading: run() calls analyze() for one turn after another on the
//   calling thread (the real host calls it from several threads at once: a
//   data race in an analyzer does not show here). One run() at a time.
#pragma once

#include <cascade/abi/cascade_analyzer.h>
#include <cascade/sdk/analyzer.hpp>
#include <cascade/sdk/json_check.hpp>
#include <cascade/sdk/testing.hpp>

#include <dlfcn.h>

#include <algorithm>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace cascade::sdk::testing {

// One stage's record in a turn: what the trace would hold.
struct RecordedStage {
  explicit RecordedStage(std::string stage_id) : id(std::move(stage_id)), plugin_name(id) {}

  RecordedStage& plugin(std::string name, std::string version = "1.0.0") {
    plugin_name = std::move(name), plugin_version = std::move(version);
    return *this;
  }
  RecordedStage& status(StageStatus s, std::string message = {}, uint32_t code = 0) {
    stage_status = s, error_message = std::move(message), error_code = code;
    return *this;
  }
  RecordedStage& times(int64_t start, int64_t end) { start_ns = start, end_ns = end; return *this; }
  RecordedStage& input(std::string port, Value v) {
    inputs.emplace_back(std::move(port), std::move(v));
    return *this;
  }
  RecordedStage& output(std::string port, Value v) {
    outputs.emplace_back(std::move(port), std::move(v));
    return *this;
  }
  RecordedStage& confidence(double c) { confidence_value = c; return *this; }
  RecordedStage& nbest(std::string text, double score) {
    nbest_entries.emplace_back(std::move(text), score);
    return *this;
  }
  RecordedStage& feature(std::string key, double v) {
    numeric_features.emplace_back(std::move(key), v);
    return *this;
  }
  RecordedStage& text_feature(std::string key, std::string v) {
    text_features.emplace_back(std::move(key), std::move(v));
    return *this;
  }

  std::string id, plugin_name, plugin_version = "1.0.0";
  StageStatus stage_status = StageStatus::Ok;
  uint32_t error_code = 0;
  std::string error_message;
  int64_t start_ns = 0, end_ns = 0;
  std::vector<std::pair<std::string, Value>> inputs, outputs;  // (port, payload), in order
  std::optional<double> confidence_value;
  std::vector<std::pair<std::string, double>> nbest_entries, numeric_features;
  std::vector<std::pair<std::string, std::string>> text_features;
};

// One recorded turn: its identity, input, gold, result and stages in the
// order they ran.
struct RecordedTurn {
  RecordedTurn(std::string dialogue, uint32_t index) : dialogue_id(std::move(dialogue)), turn_index(index) {}

  RecordedTurn& user(std::string id) { user_id = std::move(id); return *this; }
  RecordedTurn& seq(uint64_t s) { turn_seq = s; return *this; }
  RecordedTurn& text(std::string t) {  // the turn's input, a text on port "input"
    input_value = Value::text(std::move(t));
    return *this;
  }
  RecordedTurn& input(Value v) { input_value = std::move(v); return *this; }
  RecordedTurn& gold(std::string json) {  // a JSON object, gold annotations by stage
    gold_json = std::move(json);
    return *this;
  }
  RecordedTurn& result(std::string json) {  // the turn's result line
    result_json = std::move(json);
    return *this;
  }
  RecordedTurn& status(TurnStatus s) { turn_status = s; return *this; }
  RecordedTurn& times(int64_t start, int64_t end) { start_ns = start, end_ns = end; return *this; }
  RecordedTurn& timestamp(std::string iso) { timestamp_text = std::move(iso); return *this; }
  RecordedTurn& stage(RecordedStage s) { stages.push_back(std::move(s)); return *this; }

  std::string dialogue_id, user_id = "u1";
  uint32_t turn_index = 0;
  std::optional<uint64_t> turn_seq;  // default: the turn's position in run()'s list
  std::string timestamp_text;
  TurnStatus turn_status = TurnStatus::Ok;
  int64_t start_ns = 0, end_ns = 0;
  Value input_value;
  std::string gold_json, result_json;
  std::vector<RecordedStage> stages;
};

// What the analyzer said of one turn (core: cascade::Verdict).
struct AnalyzerVerdict {
  std::string dialogue_id;
  uint32_t turn_index = 0;
  bool analyzed = false;  // false: analyze() failed, gave no label or an undeclared one
  std::string label;
  double score = 0;
  std::string evidence = "{}";  // a JSON object: key -> the value the analyzer gave (keys sorted)
  std::string error;            // why the turn was not analyzed
  uint32_t replays = 0;
  std::vector<std::pair<int, std::string>> logs;  // (level, message) logged during analyze()
};

// What a replay gives back. A std::string converts to an ok reply with that
// JSON result.
struct ReplayReply {
  ReplayReply() = default;
  ReplayReply(std::string result_json) : result(std::move(result_json)) {}  // NOLINT: implicit on purpose
  static ReplayReply failed(std::string stage, std::string code, std::string message) {
    ReplayReply r;
    r.ok = false, r.failed_stage = std::move(stage), r.error_code = std::move(code), r.error = std::move(message);
    return r;
  }
  bool ok = true;
  std::string result;  // the pipeline's result output; empty: none
  PayloadType result_type = PayloadType::Json;
  std::string failed_stage, error_code, error;
};

// Answers one replay of `turn` with `forced` stages (sources as the
// analyzer asked: Forced::Source::Recorded, Gold or Given).
using ReplayFunction = std::function<ReplayReply(const RecordedTurn& turn, const std::vector<Forced>& forced)>;

class AnalyzerHarness {
 public:
  // `desc` must outlive the harness (a plugin's descriptor always does).
  explicit AnalyzerHarness(const cascade_plugin_descriptor* desc, std::map<std::string, std::string> params = {},
                           ReplayFunction replay = {})
      : d_(desc), params_(std::move(params)), replay_(std::move(replay)) {
    if (d_ == nullptr) throw std::runtime_error("harness: null descriptor");
    const std::string name = d_->name != nullptr ? d_->name : "";
    // The field is a pointer: sizeof of it is meant (bugprone-sizeof-expression).
    const bool has_table = CASCADE_HAS_FIELD(d_, cascade_plugin_descriptor, analyzer);  // NOLINT
    if (d_->kind != CASCADE_KIND_ANALYZER || !has_table || d_->analyzer == nullptr || d_->analyzer->analyze == nullptr)
      throw std::runtime_error("harness: plugin '" + name + "' is not an analyzer");
    if ((d_->analyzer->flags & CASCADE_ANALYZER_REPLAYS) != 0 && !replay_)
      throw std::runtime_error("harness: analyzer '" + name + "' replays turns: give the harness a ReplayFunction");
    for (const auto& [k, v] : params_) {
      bool known = false;
      for (uint32_t i = 0; i < d_->n_params; ++i) known = known || k == d_->params[i].name;
      if (!known) throw std::runtime_error("harness: analyzer '" + name + "' has no parameter '" + k + "'");
    }
    fill_host_tables();
    Call c(this);
    if (d_->create(&host_, c.ptr(), &instance_) != CASCADE_OK) throw std::runtime_error("create failed: " + c.error);
    if (d_->open != nullptr && d_->open(instance_, c.ptr()) != CASCADE_OK) {
      d_->destroy(instance_);
      instance_ = nullptr;
      throw std::runtime_error("open failed: " + c.error);
    }
  }
  // dlopen()s an analyzer file (RTLD_NOW) and wraps its descriptor.
  static std::unique_ptr<AnalyzerHarness> load(const std::string& path, std::map<std::string, std::string> params = {},
                                               ReplayFunction replay = {}) {
    void* lib = dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
    if (lib == nullptr) throw std::runtime_error(std::string("harness: ") + dlerror());
    auto entry = reinterpret_cast<cascade_plugin_entry_fn>(dlsym(lib, CASCADE_ENTRY_SYMBOL));
    if (entry == nullptr) throw std::runtime_error("harness: " + path + " has no " CASCADE_ENTRY_SYMBOL);
    return std::make_unique<AnalyzerHarness>(entry(), std::move(params), std::move(replay));
  }
  AnalyzerHarness(const AnalyzerHarness&) = delete;
  AnalyzerHarness& operator=(const AnalyzerHarness&) = delete;
  ~AnalyzerHarness() {
    if (instance_ == nullptr) return;
    Call c(this);
    if (d_->close != nullptr) d_->close(instance_, c.ptr());
    d_->destroy(instance_);
  }

  [[nodiscard]] const cascade_plugin_descriptor& descriptor() const { return *d_; }

  // Analyzes every turn, one verdict per turn in the order given. Turns
  // with the same dialogue_id form a dialogue, ordered by turn_index (what
  // an analyzer that asks for the dialogue gets).
  std::vector<AnalyzerVerdict> run(const std::vector<RecordedTurn>& turns) {
    // Views in dialogue order, as the core lays them out; pointers into
    // `turns` and into per-turn storage that does not move.
    std::vector<size_t> order(turns.size());
    for (size_t i = 0; i < order.size(); ++i) order[i] = i;
    std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) {
      if (turns[a].dialogue_id != turns[b].dialogue_id) return turns[a].dialogue_id < turns[b].dialogue_id;
      return turns[a].turn_index < turns[b].turn_index;
    });
    std::vector<std::unique_ptr<TurnStorage>> storage;
    std::vector<cascade_turn_view> views;
    for (const size_t i : order) {
      storage.push_back(std::make_unique<TurnStorage>(turns[i]));
      views.push_back(storage.back()->view(turns[i], i));
    }
    std::vector<AnalyzerVerdict> verdicts(turns.size());
    for (size_t k = 0; k < order.size(); ++k) {
      size_t first = k, last = k;
      while (first > 0 && turns[order[first - 1]].dialogue_id == turns[order[k]].dialogue_id) --first;
      while (last + 1 < order.size() && turns[order[last + 1]].dialogue_id == turns[order[k]].dialogue_id) ++last;
      cascade_analysis_input in{};
      in.struct_size = sizeof in;
      in.turn = &views[k];
      if ((d_->analyzer->flags & CASCADE_ANALYZER_DIALOGUE) != 0) {
        in.dialogue = &views[first];
        in.n_dialogue = static_cast<uint32_t>(last - first + 1);
        in.position = static_cast<uint32_t>(k - first);
      }
      verdicts[order[k]] = analyze(turns[order[k]], in);
    }
    return verdicts;
  }
  AnalyzerVerdict run_one(const RecordedTurn& turn) { return run({turn}).front(); }

 private:
  // Owns the C arrays one turn's views point into.
  struct TurnStorage {
    explicit TurnStorage(const RecordedTurn& t) {
      for (const RecordedStage& s : t.stages) {
        inputs.push_back(ports(s.inputs));
        outputs.push_back(ports(s.outputs));
        std::vector<cascade_nbest_entry> nb;
        for (const auto& [text, score] : s.nbest_entries) nb.push_back({sizeof(cascade_nbest_entry), text.c_str(), text.size(), score});
        nbest.push_back(std::move(nb));
        std::vector<cascade_feature> fs;  // numeric first, then text, as the core lays them out
        for (const auto& [k, v] : s.numeric_features) fs.push_back({sizeof(cascade_feature), k.c_str(), v, nullptr, 0});
        for (const auto& [k, v] : s.text_features) fs.push_back({sizeof(cascade_feature), k.c_str(), 0, v.c_str(), v.size()});
        features.push_back(std::move(fs));
      }
      for (size_t i = 0; i < t.stages.size(); ++i) {
        const RecordedStage& s = t.stages[i];
        cascade_stage_view v{};
        v.struct_size = sizeof v;
        v.stage_id = s.id.c_str();
        v.plugin = s.plugin_name.c_str();
        v.plugin_version = s.plugin_version.c_str();
        v.status = static_cast<uint32_t>(s.stage_status);
        v.error_code = s.error_code;
        v.error_message = s.error_message.c_str();
        v.start_ns = s.start_ns;
        v.end_ns = s.end_ns;
        v.inputs = inputs[i].data();
        v.n_inputs = static_cast<uint32_t>(inputs[i].size());
        v.outputs = outputs[i].data();
        v.n_outputs = static_cast<uint32_t>(outputs[i].size());
        v.has_confidence = s.confidence_value ? 1 : 0;
        v.confidence = s.confidence_value.value_or(0);
        v.nbest = nbest[i].data();
        v.n_nbest = static_cast<uint32_t>(nbest[i].size());
        v.features = features[i].data();
        v.n_features = static_cast<uint32_t>(features[i].size());
        stages.push_back(v);
      }
    }
    static cascade_port_value port(const std::string& name, const Value& v) {
      cascade_port_value p{};
      p.struct_size = sizeof p;
      p.port = name.c_str();
      p.payload.struct_size = sizeof p.payload;
      p.payload.type = v.type;
      p.payload.data = v.bytes.data();
      p.payload.size = v.bytes.size();
      p.payload.sample_rate = v.sample_rate;
      return p;
    }
    static std::vector<cascade_port_value> ports(const std::vector<std::pair<std::string, Value>>& values) {
      std::vector<cascade_port_value> out;
      for (const auto& [name, v] : values) out.push_back(port(name, v));
      return out;
    }
    cascade_turn_view view(const RecordedTurn& t, size_t position) const {
      cascade_turn_view v{};
      v.struct_size = sizeof v;
      v.dialogue_id = t.dialogue_id.c_str();
      v.user_id = t.user_id.c_str();
      v.turn_index = t.turn_index;
      v.turn_seq = t.turn_seq.value_or(position);
      v.timestamp = t.timestamp_text.c_str();
      v.status = static_cast<uint32_t>(t.turn_status);
      v.start_ns = t.start_ns;
      v.end_ns = t.end_ns;
      v.input = port(kInputPort, t.input_value);
      v.gold_json = t.gold_json.c_str();
      v.gold_len = t.gold_json.size();
      v.result_json = t.result_json.c_str();
      v.result_len = t.result_json.size();
      v.stages = stages.data();
      v.n_stages = static_cast<uint32_t>(stages.size());
      return v;
    }
    static inline const std::string kInputPort = "input";
    std::vector<std::vector<cascade_port_value>> inputs, outputs;
    std::vector<std::vector<cascade_nbest_entry>> nbest;
    std::vector<std::vector<cascade_feature>> features;
    std::vector<cascade_stage_view> stages;
  };

  // cascade_context is opaque to plugins: the harness hands out a pointer
  // to its own per-call state and casts it back in each host function.
  struct Call {
    explicit Call(AnalyzerHarness* h, const RecordedTurn* t = nullptr) : self(h), turn(t) {}
    cascade_context* ptr() { return reinterpret_cast<cascade_context*>(this); }
    AnalyzerHarness* self;
    const RecordedTurn* turn;  // during analyze()
    bool labelled = false;
    std::string label;
    double score = 0;
    std::map<std::string, std::string> evidence;  // key -> one JSON value, as given
    std::string error;
    uint32_t replays = 0;
    ReplayReply last_reply;  // what replay()'s result points into
    std::vector<std::pair<int, std::string>> logs;
  };
  static Call& of(cascade_context* c) { return *reinterpret_cast<Call*>(c); }

  AnalyzerVerdict analyze(const RecordedTurn& turn, const cascade_analysis_input& in) {
    AnalyzerVerdict v;
    v.dialogue_id = turn.dialogue_id;
    v.turn_index = turn.turn_index;
    Call c(this, &turn);
    const cascade_status st = d_->analyzer->analyze(instance_, c.ptr(), &ahost_, &in);
    v.replays = c.replays;
    v.logs = std::move(c.logs);
    v.evidence = "{";
    for (const auto& [k, json] : c.evidence) v.evidence += (v.evidence.size() > 1 ? "," : "") + quote(k) + ":" + json;
    v.evidence += "}";
    bool declared = d_->analyzer->n_labels == 0;
    for (uint32_t i = 0; i < d_->analyzer->n_labels; ++i) declared = declared || c.label == d_->analyzer->labels[i];
    // The core host's checks and texts (core/analyze/analyzer_host.cpp).
    if (st != CASCADE_OK) {
      v.error = c.error.empty() ? "analyze() returned status " + std::to_string(st) : c.error;
    } else if (!c.labelled) {
      v.error = "analyze() gave no label";
    } else if (!declared) {
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

  void fill_host_tables() {
    host_.struct_size = sizeof host_;
    host_.abi_major = CASCADE_ABI_MAJOR;
    host_.abi_minor = CASCADE_ABI_MINOR;
    host_.log = [](cascade_context* c, cascade_log_level lvl, const char* msg) {
      of(c).logs.emplace_back(static_cast<int>(lvl), msg != nullptr ? msg : "");
    };
    host_.get_param = &get_param;
    host_.set_error = [](cascade_context* c, cascade_status code, int, const char* msg) {
      of(c).error = "status " + std::to_string(code) + ": " + (msg != nullptr ? msg : "");
    };
    // Stage-only functions: an analyzer has no ports and no deadline.
    host_.emit = [](cascade_context*, uint32_t, const cascade_payload*) { return CASCADE_ERR_UNSUPPORTED; };
    host_.report_confidence = [](cascade_context*, double) {};
    host_.report_nbest = [](cascade_context*, const char*, size_t, double) {};
    host_.report_feature = [](cascade_context*, const char*, double) {};
    host_.report_feature_text = [](cascade_context*, const char*, const char*, size_t) {};
    host_.should_stop = [](cascade_context*) { return 0; };
    host_.remaining_ns = [](cascade_context*) { return INT64_MAX; };
    host_.forward = [](cascade_context*, uint32_t, uint32_t) { return CASCADE_ERR_UNSUPPORTED; };
    ahost_.struct_size = sizeof ahost_;
    ahost_.set_label = [](cascade_context* c, const char* label, double score) {
      of(c).labelled = label != nullptr;
      of(c).label = label != nullptr ? label : "";
      of(c).score = score;
    };
    ahost_.add_evidence = [](cascade_context* c, const char* key, const char* json, uint64_t len) {
      if (key == nullptr || json == nullptr) return CASCADE_ERR_INVALID_ARGUMENT;
      const std::string_view text(json, static_cast<size_t>(len));
      if (!json_check::one_value(text)) return CASCADE_ERR_INVALID_ARGUMENT;
      of(c).evidence[key] = std::string(json_check::trim(text));
      return CASCADE_OK;
    };
    ahost_.can_replay = [](cascade_context* c) { return of(c).self->replay_ ? 1 : 0; };
    ahost_.replay = &replay;
  }

  static int get_param(cascade_context* c, const char* name, const char** v, size_t* n) {
    const AnalyzerHarness* h = of(c).self;
    if (name == nullptr) return 0;
    if (auto it = h->params_.find(name); it != h->params_.end()) {
      *v = it->second.c_str();
      *n = it->second.size();
      return 1;
    }
    for (uint32_t i = 0; i < h->d_->n_params; ++i) {
      if (std::string_view(h->d_->params[i].name) == name) {
        *v = h->d_->params[i].default_value;
        *n = std::strlen(*v);
        return 1;
      }
    }
    return 0;
  }

  static cascade_status replay(cascade_context* ctx, const cascade_replay_request* req, cascade_replay_result* out) {
    Call& c = of(ctx);
    if (!c.self->replay_ || c.turn == nullptr) {
      c.error = "replay: the harness was given no ReplayFunction";
      return CASCADE_ERR_UNAVAILABLE;
    }
    if (req == nullptr || out == nullptr || req->n_forced > 1024) return CASCADE_ERR_INVALID_ARGUMENT;
    std::vector<Forced> forced;
    for (uint32_t i = 0; i < req->n_forced; ++i) {
      const cascade_forced_stage& f = sdk::detail::at(req->forced, i);
      if (f.stage_id == nullptr || f.source < CASCADE_FORCE_RECORDED || f.source > CASCADE_FORCE_GIVEN)
        return CASCADE_ERR_INVALID_ARGUMENT;
      // The core checks the id against the replay pipeline; here the turn's
      // recorded stages stand for it.
      const bool known = std::any_of(c.turn->stages.begin(), c.turn->stages.end(),
                                     [&](const RecordedStage& s) { return s.id == f.stage_id; });
      if (!known) {
        c.error = std::string("replay: the turn has no stage '") + f.stage_id + "'";
        return CASCADE_ERR_INVALID_ARGUMENT;
      }
      Forced one;
      one.stage = f.stage_id;
      one.source = static_cast<Forced::Source>(f.source);
      one.gold_key = f.gold_key != nullptr ? f.gold_key : "";
      for (uint32_t k = 0; f.source == CASCADE_FORCE_GIVEN && k < f.n_outputs; ++k) {
        const cascade_port_value& p = sdk::detail::at(f.outputs, k);
        one.outputs.emplace_back(p.port != nullptr ? p.port : "",
                                 std::string(static_cast<const char*>(p.payload.data), static_cast<size_t>(p.payload.size)));
      }
      forced.push_back(std::move(one));
    }
    try {
      c.last_reply = c.self->replay_(*c.turn, forced);
    } catch (const std::exception& e) {
      c.error = std::string("replay: ") + e.what();
      return CASCADE_ERR_INTERNAL;
    }
    ++c.replays;
    const ReplayReply& r = c.last_reply;
    out->status = r.ok ? CASCADE_TURN_OK : CASCADE_TURN_FAILED;
    out->failed_stage = r.failed_stage.c_str();
    out->error_code = r.error_code.c_str();
    out->error_message = r.error.c_str();
    out->result = cascade_payload{};
    out->result.struct_size = sizeof out->result;
    out->result.type = r.result.empty() ? static_cast<uint32_t>(CASCADE_PAYLOAD_NONE) : static_cast<uint32_t>(r.result_type);
    out->result.data = r.result.data();
    out->result.size = r.result.size();
    return CASCADE_OK;
  }

  const cascade_plugin_descriptor* d_;
  std::map<std::string, std::string> params_;
  ReplayFunction replay_;
  cascade_host_api host_{};
  cascade_analyzer_host ahost_{};
  void* instance_ = nullptr;
};

}  // namespace cascade::sdk::testing
