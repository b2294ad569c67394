// cascade/sdk/stage.hpp — the header-only C++ layer plugin authors write
// against. It is compiled INTO each plugin; only the C ABI
// (cascade/abi/cascade_abi.h) crosses the library boundary.
//
// A stage in short (examples/hello_stage/hello_stage.cpp, which compiles):
//
//   #include <cascade/sdk/stage.hpp>
//   using namespace cascade::sdk;
//
//   class Hello : public Stage {
//    public:
//     static inline Input in{"text", PayloadType::Text, "text to greet"};
//     static inline Output out{"text", PayloadType::Text, "the greeting"};
//     static inline Param<std::string> word{"word", "hello", "put in front"};
//     void open(Context& ctx) override { word_ = ctx.get(word); }
//     void process(Call& call) override { call.emit(out, word_ + " " + std::string(call.text(in))); }
//    private:
//     std::string word_;
//   };
//   CASCADE_PLUGIN(Hello, Info{.name = "hello", .version = "1.0.0"},
//                  ports(Hello::in), ports(Hello::out), params(Hello::word))
//
// ports(...) comes twice: the inputs, then the outputs.
//
// Lifecycle (one object per pipeline stage; see cascade_abi.h):
//   constructor -> open(Context&) -> process(Call&)* -> close(Context&) -> destructor
// Threading: process() runs concurrently on one object from at most
//   Info::max_concurrency threads (0 = no limit; 1 = never concurrently).
//   open and close never overlap anything else.
// Errors: throw cascade::sdk::Error (or any std::exception) from any method.
//   The trampolines catch everything, report the message to the host and
//   return a status; nothing unwinds into the host.
#pragma once

#include <cascade/abi/cascade_abi.h>
#include <cascade/sdk/detail/holder.hpp>

#include <array>
#include <charconv>
#include <cstdint>
#include <cstring>
#include <exception>
#include <optional>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

namespace cascade::sdk {

enum class PayloadType : uint32_t {
  None = CASCADE_PAYLOAD_NONE,
  Text = CASCADE_PAYLOAD_TEXT,
  Audio = CASCADE_PAYLOAD_AUDIO,
  Json = CASCADE_PAYLOAD_JSON,
  Any = CASCADE_PAYLOAD_ANY,
};

enum class Status : uint32_t {
  Ok = CASCADE_OK,
  InvalidArgument = CASCADE_ERR_INVALID_ARGUMENT,
  Internal = CASCADE_ERR_INTERNAL,
  Unavailable = CASCADE_ERR_UNAVAILABLE,
  Cancelled = CASCADE_ERR_CANCELLED,
  Deadline = CASCADE_ERR_DEADLINE,
  NoResult = CASCADE_ERR_NO_RESULT,
  Unsupported = CASCADE_ERR_UNSUPPORTED,
};

enum class Kind : uint32_t {
  Stage = CASCADE_KIND_STAGE,
  Analyzer = CASCADE_KIND_ANALYZER,
  Rewriter = CASCADE_KIND_REWRITER,
};

enum class Level : int { Trace = 0, Debug, Info, Warn, Error };

// Throw from open/process/close to fail with a specific status.
class Error : public std::runtime_error {
 public:
  Error(Status status, const std::string& message, bool transient = false)
      : std::runtime_error(message), status_(status), transient_(transient) {}
  [[nodiscard]] Status status() const noexcept { return status_; }
  [[nodiscard]] bool transient() const noexcept { return transient_; }

 private:
  Status status_;
  bool transient_;
};

// A declared port. Declare as `static inline` members of the stage class;
// CASCADE_PLUGIN assigns each its index once, at load.
struct Port {
  Port(const char* name, PayloadType type, const char* doc = "", bool optional = false)
      : name(name), type(type), doc(doc), optional(optional) {}
  const char* name;
  PayloadType type;
  const char* doc;
  bool optional;
  uint32_t index = 0;  // set by the registration
};
struct Input : Port {
  using Port::Port;
};
struct Output : Port {
  using Port::Port;
};

namespace detail {
template <class T>
constexpr uint32_t param_type() {
  if constexpr (std::is_same_v<T, bool>) return CASCADE_PARAM_BOOL;
  else if constexpr (std::is_integral_v<T>) return CASCADE_PARAM_INT;
  else if constexpr (std::is_floating_point_v<T>) return CASCADE_PARAM_DOUBLE;
  else return CASCADE_PARAM_STRING;
}

template <class T>
std::string to_text(const T& v) {
  if constexpr (std::is_same_v<T, bool>) return v ? "true" : "false";
  else if constexpr (std::is_arithmetic_v<T>) {
    char buf[64];
    auto res = std::to_chars(buf, buf + sizeof buf, v);
    return std::string(buf, res.ptr);
  } else return std::string(v);
}

template <class T>
T from_text(std::string_view s, const char* name) {
  if constexpr (std::is_same_v<T, bool>) {
    if (s == "true") return true;
    if (s == "false") return false;
  } else if constexpr (std::is_arithmetic_v<T>) {
    T v{};
    auto res = std::from_chars(s.data(), s.data() + s.size(), v);
    if (res.ec == std::errc{} && res.ptr == s.data() + s.size()) return v;
  } else {
    return T(s);
  }
  throw Error(Status::InvalidArgument,
              std::string("parameter '") + name + "' has an invalid value '" + std::string(s) + "'");
}
}  // namespace detail

// A declared parameter of type bool, an integer, a floating point or std::string.
template <class T>
struct Param {
  Param(const char* name, T default_value, const char* doc = "")
      : name(name), default_text(detail::to_text(default_value)), doc(doc) {}
  const char* name;
  std::string default_text;
  const char* doc;
  static constexpr uint32_t type = detail::param_type<T>();
  using value_type = T;
};
// A string parameter initialised from a literal.
Param(const char*, const char*, const char*)->Param<std::string>;

// What create/open/close see: parameters and logging.
class Context {
 public:
  Context(const cascade_host_api* host, cascade_context* ctx) : host_(host), ctx_(ctx) {}

  template <class T>
  [[nodiscard]] T get(const Param<T>& p) const {
    const char* v = nullptr;
    size_t n = 0;
    if (!host_->get_param(ctx_, p.name, &v, &n))
      return detail::from_text<T>(p.default_text, p.name);
    return detail::from_text<T>(std::string_view(v, n), p.name);
  }
  void log(Level level, const std::string& msg) const {
    host_->log(ctx_, static_cast<cascade_log_level>(level), msg.c_str());
  }

 protected:
  const cascade_host_api* host_;
  cascade_context* ctx_;
};

struct AudioView {
  const int16_t* samples = nullptr;
  size_t count = 0;
  uint32_t sample_rate = 0;
};

// Who and where the turn of a process() call is (Call::turn()). Views
// valid during that call.
struct TurnInfo {
  std::string_view dialogue_id;
  std::string_view user_id;  // empty when the input names no user
  uint32_t turn_index = 0;   // in its dialogue
  uint64_t turn_seq = 0;     // unique within the run, increasing
};

// One process() call: this turn's inputs, outputs and features.
class Call : public Context {
 public:
  Call(const cascade_host_api* host, cascade_context* ctx, const cascade_payload* in, uint32_t n)
      : Context(host, ctx), inputs_(in), n_inputs_(n) {}
  // A turn of a batch (ABI 1.2): forward() writes the host's output entry
  // itself instead of calling the host.
  Call(const cascade_host_api* host, cascade_context* ctx, const cascade_payload* in, uint32_t n,
       cascade_payload* out, uint32_t n_out)
      : Context(host, ctx), inputs_(in), n_inputs_(n), outputs_(out), n_outputs_(n_out) {}

  [[nodiscard]] const cascade_payload& raw(const Input& p) const {
    if (p.index >= n_inputs_) throw Error(Status::Internal, "input port index out of range");
    return inputs_[p.index];
  }
  [[nodiscard]] bool has(const Input& p) const { return raw(p).type != CASCADE_PAYLOAD_NONE; }
  [[nodiscard]] std::string_view text(const Input& p) const { return bytes(p, CASCADE_PAYLOAD_TEXT); }
  [[nodiscard]] std::string_view json(const Input& p) const { return bytes(p, CASCADE_PAYLOAD_JSON); }
  [[nodiscard]] AudioView audio(const Input& p) const {
    const auto& r = need(p, CASCADE_PAYLOAD_AUDIO);
    return {static_cast<const int16_t*>(r.data), static_cast<size_t>(r.size / 2), r.sample_rate};
  }

  // Emit on a text/json/any port: the port's declared type is used (Any: text).
  void emit(const Output& p, std::string_view bytes) const {
    uint32_t t = static_cast<uint32_t>(p.type);
    if (t == CASCADE_PAYLOAD_ANY || t == CASCADE_PAYLOAD_AUDIO) t = CASCADE_PAYLOAD_TEXT;
    emit_raw(p, t, bytes.data(), bytes.size(), 0);
  }
  void emit_audio(const Output& p, const int16_t* samples, size_t count, uint32_t rate) const {
    emit_raw(p, CASCADE_PAYLOAD_AUDIO, samples, count * 2, rate);
  }
  // Pass an input through unchanged (the host does not copy it again).
  void forward(const Output& p, const Input& from) const {
    if (outputs_ != nullptr) {  // a batch: the same checks the host's forward() makes
      if (from.index >= n_inputs_ || p.index >= n_outputs_) throw Error(Status::Internal, "port index out of range");
      const cascade_payload& v = inputs_[from.index];
      const auto declared = static_cast<uint32_t>(p.type);
      if (declared != CASCADE_PAYLOAD_ANY && v.type != declared) check(CASCADE_ERR_INVALID_ARGUMENT);
      outputs_[p.index] = v;
      return;
    }
    if (CASCADE_HAS_FIELD(host_, cascade_host_api, forward) && host_->forward != nullptr) [[likely]] {
      if (from.index >= n_inputs_) throw Error(Status::Internal, "input port index out of range");
      check(host_->forward(ctx_, p.index, from.index));
    } else {
      check(host_->emit(ctx_, p.index, &raw(from)));  // a 1.0 host
    }
  }

  void confidence(double c) const { host_->report_confidence(ctx_, c); }
  void nbest(std::string_view text, double score) const {
    host_->report_nbest(ctx_, text.data(), text.size(), score);
  }
  void feature(const char* key, double v) const { host_->report_feature(ctx_, key, v); }
  void feature(const char* key, std::string_view v) const {
    host_->report_feature_text(ctx_, key, v.data(), v.size());
  }
  [[nodiscard]] bool should_stop() const { return host_->should_stop(ctx_) != 0; }
  [[nodiscard]] int64_t remaining_ns() const { return host_->remaining_ns(ctx_); }
  // The turn's identity (ABI 1.4); nullopt from an older host.
  [[nodiscard]] std::optional<TurnInfo> turn() const {
    if (!CASCADE_HAS_FIELD(host_, cascade_host_api, turn) || host_->turn == nullptr) return std::nullopt;
    cascade_turn_info t{};
    t.struct_size = sizeof t;
    if (host_->turn(ctx_, &t) != CASCADE_OK) return std::nullopt;
    return TurnInfo{{t.dialogue_id, t.dialogue_id != nullptr ? t.dialogue_id_len : 0},
                    {t.user_id, t.user_id != nullptr ? t.user_id_len : 0},
                    t.turn_index,
                    t.turn_seq};
  }

 private:
  const cascade_payload& need(const Input& p, uint32_t type) const {
    const auto& r = raw(p);
    if (r.type != type)
      throw Error(Status::InvalidArgument, std::string("input '") + p.name + "' is missing or of the wrong type");
    return r;
  }
  std::string_view bytes(const Input& p, uint32_t type) const {
    const auto& r = need(p, type);
    return {static_cast<const char*>(r.data), static_cast<size_t>(r.size)};
  }
  void emit_raw(const Output& p, uint32_t type, const void* data, size_t size, uint32_t rate) const {
    cascade_payload pl{};
    pl.struct_size = sizeof pl;
    pl.type = type;
    pl.data = data;
    pl.size = size;
    pl.sample_rate = rate;
    check(host_->emit(ctx_, p.index, &pl));
  }
  static void check(cascade_status s) {
    if (s != CASCADE_OK) throw Error(static_cast<Status>(s), "the host refused an emitted payload");
  }
  const cascade_payload* inputs_;
  uint32_t n_inputs_;
  cascade_payload* outputs_ = nullptr;  // a batch call's output entries for this turn
  uint32_t n_outputs_ = 0;
};

namespace detail {
// What the exception being handled says: a status, whether it is
// transient, a message. Call only inside a catch block.
struct Failure {
  cascade_status status;
  bool transient;
  std::string message;
};
inline Failure current_failure() noexcept {
  try {
    throw;
  } catch (const Error& e) {
    return {static_cast<cascade_status>(e.status()), e.transient(), e.what()};
  } catch (const std::exception& e) {
    return {CASCADE_ERR_INTERNAL, false, e.what()};
  } catch (...) {
    return {CASCADE_ERR_INTERNAL, false, "unknown exception"};
  }
}
}  // namespace detail

// Many turns of one stage in one call (ABI 1.2 process_batch), for a stage
// that does better than one turn at a time: a model's batched inference, or
// a pass-through. Such a stage declares, beside process() (which the host
// still calls when it runs one turn at a time),
//
//   void process_batch(cascade::sdk::Batch& batch);
//
// (a plain member, found at compile time; not virtual). Without it the SDK
// calls process() once a turn. Every turn starts out ok: fail(i, ...) or an
// exception escaping a turn's Call marks that turn failed; an exception
// escaping process_batch itself fails every turn of the batch.
// Lifecycle: valid for the duration of the process_batch call.
class Batch {
 public:
  Batch(const cascade_host_api* host, const cascade_batch* b)
      : host_(host),
        n_(b->n_turns),
        n_in_(b->n_inputs),
        n_out_(b->n_outputs),
        ctxs_(b->ctxs),
        ins_(b->inputs),
        outs_(b->outputs),
        status_(b->status) {}

  [[nodiscard]] uint32_t size() const { return n_; }
  // Turn i as one process() call sees it: inputs, emit, forward, features.
  [[nodiscard]] Call call(uint32_t i) const { return Call(host_, ctxs_[i], ins_[i], n_in_, outs_[i], n_out_); }
  // Fails turn i (the others go on).
  void fail(uint32_t i, const Error& e) const {
    fail(i, {static_cast<cascade_status>(e.status()), e.transient(), e.what()});
  }
  void fail(uint32_t i, const detail::Failure& f) const {
    host_->set_error(ctxs_[i], f.status, f.transient ? 1 : 0, f.message.c_str());
    status_[i] = f.status;
  }
  // Runs f(call) for every turn; an exception fails only its turn.
  template <class F>
  void each(F&& f) const {
    for (uint32_t i = 0; i < n_; ++i) {
      try {
        Call c = call(i);
        f(c);  // the status stays CASCADE_OK
      } catch (...) {
        fail(i, detail::current_failure());
      }
    }
  }
  // Every turn: output `p` passes input `from` through, unchanged (no host
  // call, no copy). A turn whose input does not have `p`'s declared type
  // fails, as forward() would.
  void forward_all(const Output& p, const Input& from) const {
    if (from.index >= n_in_ || p.index >= n_out_) throw Error(Status::Internal, "port index out of range");
    const auto declared = static_cast<uint32_t>(p.type);
    const uint32_t in = from.index, out = p.index;
    if (declared == CASCADE_PAYLOAD_ANY) {  // the common pass-through: a copy of 32 bytes a turn
      for (uint32_t i = 0; i < n_; ++i) outs_[i][out] = ins_[i][in];
      return;
    }
    for (uint32_t i = 0; i < n_; ++i) {
      if (ins_[i][in].type != declared) {
        fail(i, Error(Status::InvalidArgument, std::string("input '") + from.name + "' does not have output '" +
                                                   p.name + "''s type"));
        continue;
      }
      outs_[i][out] = ins_[i][in];
    }
  }

 private:
  const cascade_host_api* host_;
  uint32_t n_, n_in_, n_out_;
  cascade_context* const* ctxs_;
  const cascade_payload* const* ins_;
  cascade_payload* const* outs_;
  cascade_status* status_;
};

// Base class of every stage. Override what you need; process is required.
// A stage may also declare process_batch(Batch&): see Batch above.
class Stage {
 public:
  virtual ~Stage() = default;
  virtual void open(Context&) {}
  virtual void process(Call& call) = 0;
  virtual void close(Context&) {}
};

// The registration facts of a plugin (CASCADE_PLUGIN's second argument).
struct Info {
  const char* name = nullptr;          // Required.
  const char* version = nullptr;       // Required. semver
  const char* license = "Apache-2.0";  // SPDX identifier
  const char* description = "";
  Kind kind = Kind::Stage;
  uint32_t max_concurrency = 0;  // 0 = any; 1 = process() never overlaps
  bool deterministic = false;    // same inputs -> byte-identical outputs
};

template <class... P>
struct PortList {
  std::array<Port*, sizeof...(P)> items;
};
template <class... P>
PortList<P...> ports(P&... p) {
  return {{static_cast<Port*>(&p)...}};
}
struct ParamEntry {
  const char* name;
  uint32_t type;
  const std::string* default_text;
  const char* doc;
};
template <class... P>
std::array<ParamEntry, sizeof...(P)> params(const P&... p) {
  return {ParamEntry{p.name, P::type, &p.default_text, p.doc}...};
}

namespace detail {

// Turns whatever escaped a plugin method into a status the host can read.
inline cascade_status report(const cascade_host_api* host, cascade_context* ctx) noexcept {
  const Failure f = current_failure();
  host->set_error(ctx, f.status, f.transient ? 1 : 0, f.message.c_str());
  return f.status;
}

// What the lifecycle trampolines (detail/holder.hpp) take from this layer.
struct Layer {
  using Context = sdk::Context;
  static cascade_status report(const cascade_host_api* host, cascade_context* ctx) noexcept {
    return detail::report(host, ctx);
  }
};

// Holds a plugin's descriptor and the arrays it points into. One static
// instance per plugin library; built on the first entry-point call.
template <class T>
class Registration {
 public:
  using Holder = detail::Holder<T, Layer>;

  template <class In, class Out, size_t NP>
  Registration(const Info& info, In in, Out out, const std::array<ParamEntry, NP>& ps) {
    d_.struct_size = sizeof d_;
    d_.abi_major = CASCADE_ABI_MAJOR;
    d_.abi_minor = CASCADE_ABI_MINOR;
    d_.name = info.name;
    d_.version = info.version;
    d_.license = info.license;
    d_.description = info.description;
    d_.kind = static_cast<uint32_t>(info.kind);
    d_.flags = info.deterministic ? static_cast<uint32_t>(CASCADE_PLUGIN_DETERMINISTIC) : 0u;
    d_.max_concurrency = info.max_concurrency;
    add_ports(in.items, inputs_);
    add_ports(out.items, outputs_);
    for (const auto& p : ps) {
      cascade_param c{};
      c.struct_size = sizeof c;
      c.name = p.name;
      c.type = p.type;
      c.default_value = p.default_text->c_str();
      c.doc = p.doc;
      params_.push_back(c);
    }
    d_.inputs = inputs_.data();
    d_.n_inputs = static_cast<uint32_t>(inputs_.size());
    d_.outputs = outputs_.data();
    d_.n_outputs = static_cast<uint32_t>(outputs_.size());
    d_.params = params_.data();
    d_.n_params = static_cast<uint32_t>(params_.size());
    Holder::install(d_);
    d_.process = &process;
    d_.process_batch = &process_batch;
  }
  [[nodiscard]] const cascade_plugin_descriptor* descriptor() const noexcept { return &d_; }

 private:
  template <size_t N>
  static void add_ports(const std::array<Port*, N>& items, std::vector<cascade_port>& out) {
    for (size_t i = 0; i < N; ++i) {
      items[i]->index = static_cast<uint32_t>(i);
      cascade_port c{};
      c.struct_size = sizeof c;
      c.name = items[i]->name;
      c.payload_type = static_cast<uint32_t>(items[i]->type);
      c.flags = items[i]->optional ? static_cast<uint32_t>(CASCADE_PORT_OPTIONAL) : 0u;
      c.doc = items[i]->doc;
      out.push_back(c);
    }
  }
  static cascade_status process(void* inst, cascade_context* ctx, const cascade_payload* in,
                                uint32_t n) noexcept {
    Holder& h = Holder::of(inst);
    return Holder::guard(h.host, ctx, [&] {
      Call c(h.host, ctx, in, n);
      h.object.process(c);
    });
  }
  // One call for many turns: the per-call costs (the call into the
  // library, the host's forward) are paid once a batch, not once a turn.
  // T's own process_batch(Batch&) when it declares one; otherwise
  // process() once a turn (T is known here, so the call is direct).
  static cascade_status process_batch(void* inst, const cascade_batch* b) noexcept {
    Holder& h = Holder::of(inst);
    Batch batch(h.host, b);  // every status is CASCADE_OK on entry (the ABI)
    try {
      if constexpr (requires(T& t) { t.process_batch(batch); }) {
        h.object.process_batch(batch);
      } else {
        batch.each([&h](Call& c) { h.object.process(c); });
      }
    } catch (...) {
      // Escaped the stage's process_batch: every turn fails with it.
      const Failure f = current_failure();
      for (uint32_t i = 0; i < b->n_turns; ++i) batch.fail(i, f);
    }
    return CASCADE_OK;
  }

  cascade_plugin_descriptor d_{};
  std::vector<cascade_port> inputs_, outputs_;
  std::vector<cascade_param> params_;
};

template <class T, class In, class Out, class Ps>
const cascade_plugin_descriptor* describe(const Info& info, In in, Out out, const Ps& ps) {
  static const Registration<T> reg(info, in, out, ps);
  return reg.descriptor();
}
template <class T, class In, class Out>
const cascade_plugin_descriptor* describe(const Info& info, In in, Out out) {
  return describe<T>(info, in, out, std::array<ParamEntry, 0>{});
}

}  // namespace detail
}  // namespace cascade::sdk

// Registers stage class T as this library's plugin. Arguments after T:
// an Info{...}, ports(inputs...), ports(outputs...), optionally params(...).
// Exactly one CASCADE_PLUGIN per shared library.
#define CASCADE_PLUGIN(T, ...)                                                          \
  extern "C" CASCADE_EXPORT const cascade_plugin_descriptor* CASCADE_ENTRY_NAME(void) { \
    using namespace ::cascade::sdk;                                                     \
    try {                                                                               \
      return ::cascade::sdk::detail::describe<T>(__VA_ARGS__);                          \
    } catch (...) {                                                                     \
      return nullptr;                                                                   \
    }                                                                                   \
  }
