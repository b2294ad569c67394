// cascade/sdk/analyzer.hpp — the header-only C++ layer for ANALYZER plugins:
// code that reads recorded turns and says something about each (a failure
// point, a feedback signal), with a label, a score and evidence. Compiled
// INTO the plugin; only the C ABI (cascade_abi.h + cascade_analyzer.h)
// crosses the library boundary, so an analyzer never links the core or the
// traces library: the host reads the traces.
//
// An analyzer in short (examples/lowest_confidence is a whole one):
//
//   class Slow : public cascade::sdk::Analyzer {
//    public:
//     static inline Param<double> limit_ms{"limit_ms", 500.0, "slower than this is a failure"};
//     static AnalyzerInfo info() {
//       return {.name = "slow", .version = "1.0.0", .labels = {"slow", "ok"}, .params = param_list(limit_ms)};
//     }
//     void open(Context& ctx) override { limit_ = ctx.get(limit_ms); }
//     void analyze(Analysis& a) override {
//       for (const StageView& s : a.turn().stages())
//         if (s.millis() > limit_) return a.label("slow", 1.0), a.evidence("stage", quote(s.id()));
//       a.label("ok", 1.0);
//     }
//    private:
//     double limit_ = 0;
//   };
//   CASCADE_ANALYZER(Slow)
//
// Lifecycle (one object per analysis run):
//   constructor -> open(Context&) -> analyze(Analysis&)* -> close(Context&) -> destructor
// Threading: analyze() runs concurrently on one object from at most
//   AnalyzerInfo::max_concurrency threads (0 = any); turns arrive in any
//   order. open and close never overlap anything else.
// Errors: throw cascade::sdk::Error (or any exception) from analyze(): that
//   turn is recorded as not analyzed, with the message; the run goes on.
#pragma once

#include <cascade/abi/cascade_analyzer.h>
#include <cascade/sdk/stage.hpp>

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace cascade::sdk {

enum class StageStatus : uint32_t {
  Ok = CASCADE_STAGE_OK,
  Error = CASCADE_STAGE_ERROR,
  Timeout = CASCADE_STAGE_TIMEOUT,
  Skipped = CASCADE_STAGE_SKIPPED,
  Cancelled = CASCADE_STAGE_CANCELLED,
  Crashed = CASCADE_STAGE_CRASHED,
};
// The stage was called and did not finish its work: an error, a timeout, a
// cancellation or a crash of its worker process. Isolators attribute such
// a stage directly, without weighing confidences.
constexpr bool did_not_finish(StageStatus s) {
  return s == StageStatus::Error || s == StageStatus::Timeout || s == StageStatus::Cancelled ||
         s == StageStatus::Crashed;
}
constexpr std::string_view to_string(StageStatus s) {
  switch (s) {
    case StageStatus::Ok: return "ok";
    case StageStatus::Error: return "error";
    case StageStatus::Timeout: return "timeout";
    case StageStatus::Skipped: return "skipped";
    case StageStatus::Cancelled: return "cancelled";
    case StageStatus::Crashed: return "crashed";
  }
  return "unknown";
}
enum class TurnStatus : uint32_t { Ok = CASCADE_TURN_OK, Failed = CASCADE_TURN_FAILED, Cancelled = CASCADE_TURN_CANCELLED };

namespace detail {
inline std::string_view view(const char* s) { return s != nullptr ? std::string_view(s) : std::string_view(); }
inline std::string_view view(const char* s, uint64_t n) {
  return s != nullptr ? std::string_view(s, static_cast<size_t>(n)) : std::string_view();
}
// The i-th element of a host array strided by its first element's struct_size.
template <class T>
const T& at(const T* base, uint32_t i) {
  const size_t stride = base->struct_size >= sizeof(uint32_t) ? base->struct_size : sizeof(T);
  return *reinterpret_cast<const T*>(reinterpret_cast<const char*>(base) + stride * i);
}
}  // namespace detail

// A payload recorded on a port. Views: valid during analyze().
class PortValue {
 public:
  explicit PortValue(const cascade_port_value* v) : v_(v) {}
  [[nodiscard]] std::string_view port() const { return detail::view(v_->port); }
  [[nodiscard]] PayloadType type() const { return static_cast<PayloadType>(v_->payload.type); }
  // Only a hash was recorded (audio with trace.audio = "hash"): no bytes.
  [[nodiscard]] bool hashed() const { return v_->hashed != 0; }
  [[nodiscard]] std::string_view bytes() const {
    return {static_cast<const char*>(v_->payload.data), static_cast<size_t>(v_->payload.data ? v_->payload.size : 0)};
  }
  [[nodiscard]] uint64_t size() const { return v_->payload.size; }
  [[nodiscard]] uint32_t sample_rate() const { return v_->payload.sample_rate; }

 private:
  const cascade_port_value* v_;
};

// One stage's record in one turn.
class StageView {
 public:
  explicit StageView(const cascade_stage_view* v) : v_(v) {}
  [[nodiscard]] std::string_view id() const { return detail::view(v_->stage_id); }
  [[nodiscard]] std::string_view plugin() const { return detail::view(v_->plugin); }
  [[nodiscard]] StageStatus status() const { return static_cast<StageStatus>(v_->status); }
  [[nodiscard]] uint32_t error_code() const { return v_->error_code; }
  [[nodiscard]] std::string_view error_message() const { return detail::view(v_->error_message); }
  [[nodiscard]] int64_t start_ns() const { return v_->start_ns; }
  [[nodiscard]] int64_t end_ns() const { return v_->end_ns; }
  [[nodiscard]] double millis() const { return static_cast<double>(v_->end_ns - v_->start_ns) / 1e6; }
  // The recorded output on `port`, or nullopt when the stage emitted none.
  [[nodiscard]] std::optional<PortValue> output(std::string_view port) const { return find(v_->outputs, v_->n_outputs, port); }
  [[nodiscard]] std::optional<PortValue> input(std::string_view port) const { return find(v_->inputs, v_->n_inputs, port); }
  [[nodiscard]] std::optional<double> confidence() const {
    return v_->has_confidence != 0 ? std::optional<double>(v_->confidence) : std::nullopt;
  }
  // The n-best list as reported, best first: (text, score).
  [[nodiscard]] std::vector<std::pair<std::string_view, double>> nbest() const {
    std::vector<std::pair<std::string_view, double>> out;
    for (uint32_t i = 0; i < v_->n_nbest; ++i) {
      const auto& e = detail::at(v_->nbest, i);
      out.emplace_back(detail::view(e.text, e.len), e.score);
    }
    return out;
  }
  [[nodiscard]] std::optional<double> feature(std::string_view key) const {
    for (uint32_t i = 0; i < v_->n_features; ++i) {
      const auto& f = detail::at(v_->features, i);
      if (f.text == nullptr && detail::view(f.key) == key) return f.value;
    }
    return std::nullopt;
  }
  [[nodiscard]] std::optional<std::string_view> text_feature(std::string_view key) const {
    for (uint32_t i = 0; i < v_->n_features; ++i) {
      const auto& f = detail::at(v_->features, i);
      if (f.text != nullptr && detail::view(f.key) == key) return detail::view(f.text, f.text_len);
    }
    return std::nullopt;
  }

 private:
  static std::optional<PortValue> find(const cascade_port_value* a, uint32_t n, std::string_view port) {
    for (uint32_t i = 0; i < n; ++i) {
      const auto& p = detail::at(a, i);
      if (detail::view(p.port) == port && p.payload.type != CASCADE_PAYLOAD_NONE) return PortValue(&p);
    }
    return std::nullopt;
  }
  const cascade_stage_view* v_;
};

// One recorded turn: identity, gold, result and its stage records in the
// order they ran.
class TurnView {
 public:
  explicit TurnView(const cascade_turn_view* v) : v_(v) {}
  [[nodiscard]] std::string_view dialogue_id() const { return detail::view(v_->dialogue_id); }
  [[nodiscard]] std::string_view user_id() const { return detail::view(v_->user_id); }
  [[nodiscard]] uint32_t turn_index() const { return v_->turn_index; }
  [[nodiscard]] uint64_t turn_seq() const { return v_->turn_seq; }
  [[nodiscard]] std::string_view timestamp() const { return detail::view(v_->timestamp); }
  [[nodiscard]] TurnStatus status() const { return static_cast<TurnStatus>(v_->status); }
  [[nodiscard]] int64_t start_ns() const { return v_->start_ns; }
  [[nodiscard]] int64_t end_ns() const { return v_->end_ns; }
  [[nodiscard]] PortValue input() const { return PortValue(&v_->input); }
  // The gold annotations (a JSON object by stage), "" when the turn has none.
  [[nodiscard]] std::string_view gold() const { return detail::view(v_->gold_json, v_->gold_len); }
  // The turn's result line (JSON), "" when none was recorded.
  [[nodiscard]] std::string_view result() const { return detail::view(v_->result_json, v_->result_len); }
  [[nodiscard]] uint32_t size() const { return v_->n_stages; }
  [[nodiscard]] StageView stage(uint32_t i) const { return StageView(&detail::at(v_->stages, i)); }
  [[nodiscard]] std::optional<StageView> stage(std::string_view id) const {
    for (uint32_t i = 0; i < v_->n_stages; ++i)
      if (stage(i).id() == id) return stage(i);
    return std::nullopt;
  }
  [[nodiscard]] std::vector<StageView> stages() const {
    std::vector<StageView> out;
    for (uint32_t i = 0; i < v_->n_stages; ++i) out.push_back(stage(i));
    return out;
  }

 private:
  const cascade_turn_view* v_;
};

// A stage forced to an output in a counterfactual replay.
struct Forced {
  enum class Source : uint32_t { Recorded = CASCADE_FORCE_RECORDED, Gold = CASCADE_FORCE_GOLD, Given = CASCADE_FORCE_GIVEN };
  std::string stage;
  Source source = Source::Recorded;
  std::string gold_key;                                        // Gold: the member (default: the stage id)
  std::vector<std::pair<std::string, std::string>> outputs;    // Given: (port, bytes); text/json by the port's type

  static Forced recorded(std::string stage) { return {std::move(stage), Source::Recorded, {}, {}}; }
  static Forced gold(std::string stage, std::string key = {}) { return {std::move(stage), Source::Gold, std::move(key), {}}; }
  static Forced given(std::string stage, std::string port, std::string bytes) {
    return {std::move(stage), Source::Given, {}, {{std::move(port), std::move(bytes)}}};
  }
};

// What a replay gave: the turn's status and the pipeline's result.
struct ReplayOutcome {
  bool ok = false;  // the replayed turn finished ok
  std::string failed_stage, error_code, error;
  PayloadType result_type = PayloadType::None;
  std::string result;  // the result output's bytes (JSON for the assistant)
};

// One analyze() call: the turn, its dialogue, the verdict and replays.
class Analysis : public Context {
 public:
  Analysis(const cascade_host_api* host, cascade_context* ctx, const cascade_analyzer_host* ahost,
           const cascade_analysis_input* in)
      : Context(host, ctx), ahost_(ahost), in_(in) {}

  [[nodiscard]] TurnView turn() const { return TurnView(in_->turn); }
  // The turn's dialogue, ordered by turn_index (AnalyzerInfo::dialogue):
  // dialogue(position()) is turn(). Empty unless asked for.
  [[nodiscard]] uint32_t dialogue_size() const { return in_->dialogue != nullptr ? in_->n_dialogue : 0; }
  [[nodiscard]] TurnView dialogue(uint32_t i) const { return TurnView(&detail::at(in_->dialogue, i)); }
  [[nodiscard]] uint32_t position() const { return in_->position; }

  // The verdict: a label (one of AnalyzerInfo::labels) and a score in [0, 1].
  void label(std::string_view label, double score) const {
    const std::string l(label);
    ahost_->set_label(ctx_, l.c_str(), score);
  }
  // Evidence: `json` is one JSON value (use quote() for a string).
  void evidence(std::string_view key, std::string_view json) const {
    const std::string k(key);
    if (ahost_->add_evidence(ctx_, k.c_str(), json.data(), json.size()) != CASCADE_OK)
      throw Error(Status::InvalidArgument, "evidence '" + k + "' is not one JSON value");
  }
  [[nodiscard]] bool can_replay() const { return ahost_->can_replay(ctx_) != 0; }
  // Re-runs this turn with `forced` stages given; the rest that the result
  // needs runs for real. Throws Error when the host cannot replay.
  [[nodiscard]] ReplayOutcome replay(const std::vector<Forced>& forced) const {
    std::vector<std::vector<cascade_port_value>> given(forced.size());
    std::vector<cascade_forced_stage> fs(forced.size());
    for (size_t i = 0; i < forced.size(); ++i) {
      for (const auto& [port, bytes] : forced[i].outputs) {
        cascade_port_value v{};
        v.struct_size = sizeof v;
        v.port = port.c_str();
        v.payload.struct_size = sizeof v.payload;
        v.payload.type = CASCADE_PAYLOAD_ANY;  // the host uses the port's declared type
        v.payload.data = bytes.data();
        v.payload.size = bytes.size();
        given[i].push_back(v);
      }
      fs[i].struct_size = sizeof fs[i];
      fs[i].stage_id = forced[i].stage.c_str();
      fs[i].source = static_cast<uint32_t>(forced[i].source);
      fs[i].gold_key = forced[i].gold_key.empty() ? nullptr : forced[i].gold_key.c_str();
      fs[i].outputs = given[i].data();
      fs[i].n_outputs = static_cast<uint32_t>(given[i].size());
    }
    cascade_replay_request req{};
    req.struct_size = sizeof req;
    req.forced = fs.data();
    req.n_forced = static_cast<uint32_t>(fs.size());
    cascade_replay_result res{};
    res.struct_size = sizeof res;
    const cascade_status st = ahost_->replay(ctx_, &req, &res);
    if (st != CASCADE_OK) throw Error(static_cast<Status>(st), "replay refused by the host");
    ReplayOutcome out;
    out.ok = res.status == CASCADE_TURN_OK;
    out.failed_stage = detail::view(res.failed_stage);
    out.error_code = detail::view(res.error_code);
    out.error = detail::view(res.error_message);
    out.result_type = static_cast<PayloadType>(res.result.type);
    if (res.result.data != nullptr) out.result.assign(static_cast<const char*>(res.result.data), res.result.size);
    return out;
  }

 private:
  const cascade_analyzer_host* ahost_;
  const cascade_analysis_input* in_;
};

// A string as a JSON string value (for evidence).
inline std::string quote(std::string_view s) {
  std::string out = "\"";
  for (const char c : s) {
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      default:
        if (static_cast<unsigned char>(c) < 0x20) {
          static constexpr char hex[] = "0123456789abcdef";
          out += "\\u00";
          out += hex[(c >> 4) & 0xf];
          out += hex[c & 0xf];
        } else {
          out += c;
        }
    }
  }
  return out + "\"";
}

// Base class of every analyzer. analyze is required.
class Analyzer {
 public:
  virtual ~Analyzer() = default;
  virtual void open(Context&) {}
  virtual void analyze(Analysis& a) = 0;
  virtual void close(Context&) {}
};

// A plugin's parameters, for AnalyzerInfo::params.
template <class... P>
std::vector<ParamEntry> param_list(const P&... p) {
  return {ParamEntry{p.name, P::type, &p.default_text, p.doc}...};
}

// What an analyzer class says of itself: `static AnalyzerInfo info();`.
struct AnalyzerInfo {
  const char* name = nullptr;     // Required.
  const char* version = nullptr;  // Required. semver
  const char* license = "Apache-2.0";
  const char* description = "";
  std::vector<const char*> labels;  // the labels analyze() gives, in report order
  bool dialogue = false;            // hand analyze() the turn's whole dialogue
  bool replays = false;             // analyze() calls replay(): a replay pipeline is required
  uint32_t max_concurrency = 0;     // 0 = any
  std::vector<ParamEntry> params;
};

namespace detail {

// Holds an analyzer's descriptor and the arrays it points into (one static
// instance per plugin library, built on the first entry-point call).
template <class T>
class AnalyzerRegistration {
 public:
  using Holder = detail::Holder<T, Layer>;  // create/open/close/destroy (detail/holder.hpp)

  explicit AnalyzerRegistration(AnalyzerInfo info) : info_(std::move(info)) {
    d_.struct_size = sizeof d_;
    d_.abi_major = CASCADE_ABI_MAJOR;
    d_.abi_minor = CASCADE_ABI_MINOR;
    d_.name = info_.name;
    d_.version = info_.version;
    d_.license = info_.license;
    d_.description = info_.description;
    d_.kind = CASCADE_KIND_ANALYZER;
    d_.max_concurrency = info_.max_concurrency;
    for (const auto& p : info_.params) {
      cascade_param c{};
      c.struct_size = sizeof c;
      c.name = p.name;
      c.type = p.type;
      c.default_value = p.default_text->c_str();
      c.doc = p.doc;
      params_.push_back(c);
    }
    d_.params = params_.data();
    d_.n_params = static_cast<uint32_t>(params_.size());
    Holder::install(d_);
    api_.struct_size = sizeof api_;
    api_.flags = (info_.dialogue ? static_cast<uint32_t>(CASCADE_ANALYZER_DIALOGUE) : 0u) |
                 (info_.replays ? static_cast<uint32_t>(CASCADE_ANALYZER_REPLAYS) : 0u);
    api_.labels = info_.labels.data();
    api_.n_labels = static_cast<uint32_t>(info_.labels.size());
    api_.analyze = &analyze;
    d_.analyzer = &api_;
  }
  [[nodiscard]] const cascade_plugin_descriptor* descriptor() const noexcept { return &d_; }

 private:
  static cascade_status analyze(void* inst, cascade_context* ctx, const cascade_analyzer_host* ahost,
                                const cascade_analysis_input* in) noexcept {
    Holder& h = Holder::of(inst);
    return Holder::guard(h.host, ctx, [&] {
      Analysis a(h.host, ctx, ahost, in);
      h.object.analyze(a);
    });
  }

  AnalyzerInfo info_;
  cascade_plugin_descriptor d_{};
  cascade_analyzer_api api_{};
  std::vector<cascade_param> params_;
};

template <class T>
const cascade_plugin_descriptor* describe_analyzer() {
  static const AnalyzerRegistration<T> reg(T::info());
  return reg.descriptor();
}

}  // namespace detail
}  // namespace cascade::sdk

// Registers analyzer class T (which has `static AnalyzerInfo info();`) as
// this library's plugin. Exactly one registration per shared library.
#define CASCADE_ANALYZER(T)                                                             \
  extern "C" CASCADE_EXPORT const cascade_plugin_descriptor* CASCADE_ENTRY_NAME(void) { \
    try {                                                                               \
      return ::cascade::sdk::detail::describe_analyzer<T>();                            \
    } catch (...) {                                                                     \
      return nullptr;                                                                   \
    }                                                                                   \
  }
