// cascade/sdk/testing.hpp — run ONE plugin on given inputs, without the
// core or a pipeline, and look at what it emitted and reported.
//
//   auto h = cascade::sdk::testing::Harness::load("build/.../cascade-hello.so",
//                                                 {{"word", "hi"}});
//   auto r = h.run({{"text", Value::text("there")}});
//   EXPECT_EQ(r.status, cascade::sdk::Status::Ok);
//   EXPECT_EQ(r.outputs.at("text").bytes, "hi there");
//
// Lifecycle: the constructor creates and opens the instance (throws
// std::runtime_error with the plugin's message if either fails); run() and
// run_batch() may be called any number of times; the destructor closes and destroys it.
// The host functions are the engine's (sdk/detail/host_api.hpp): the same
// checks and refusals (outside process(), a port out of range, an output
// of the wrong type), pinned by tests/host_api_conformance_test.cpp.
// Threading: run() may be called from several threads only if the plugin's
// max_concurrency allows it; the harness itself adds no locking beyond what
// keeps its own result buffers per call.
// A library loaded with load() stays loaded for the life of the process,
// as in the real host.
#pragma once

#include <cascade/abi/cascade_abi.h>
#include <cascade/sdk/detail/host_api.hpp>
#include <cascade/sdk/stage.hpp>

#include <dlfcn.h>

#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace cascade::sdk::testing {

// An input or output value owned by the harness.
struct Value {
  uint32_t type = CASCADE_PAYLOAD_NONE;
  std::string bytes;
  uint32_t sample_rate = 0;

  static Value text(std::string s) { return {CASCADE_PAYLOAD_TEXT, std::move(s), 0}; }
  static Value json(std::string s) { return {CASCADE_PAYLOAD_JSON, std::move(s), 0}; }
  static Value audio(const std::vector<int16_t>& pcm, uint32_t rate) {
    return {CASCADE_PAYLOAD_AUDIO,
            std::string(reinterpret_cast<const char*>(pcm.data()), pcm.size() * sizeof(int16_t)),
            rate};
  }
  [[nodiscard]] std::vector<int16_t> samples() const {
    std::vector<int16_t> out(bytes.size() / 2);
    if (!out.empty()) std::memcpy(out.data(), bytes.data(), out.size() * 2);
    return out;
  }
};

struct Result {
  Status status = Status::Ok;
  std::string error;  // set_error's message, empty if none
  bool transient = false;
  std::map<std::string, Value> outputs;  // by output port name
  std::optional<double> confidence;
  std::vector<std::pair<std::string, double>> nbest;
  std::map<std::string, double> features;
  std::map<std::string, std::string> text_features;
  std::vector<std::pair<int, std::string>> logs;
  uint32_t forwards = 0;  // outputs passed on with host->forward (ABI 1.1) rather than emit
  uint32_t stored = 0;    // outputs a batch call stored in its output entries itself (ABI 1.2)
};

class Harness {
 public:
  // `desc` must outlive the harness (a plugin's descriptor always does).
  explicit Harness(const cascade_plugin_descriptor* desc, std::map<std::string, std::string> params = {})
      : d_(desc), params_(std::move(params)) {
    if (d_ == nullptr) throw std::runtime_error("harness: null descriptor");
    host_ = detail::host_api_table<Ctx>();  // the engine's host API (sdk/detail/host_api.hpp)
    for (const auto& [k, v] : params_) {
      bool known = false;
      for (uint32_t i = 0; i < d_->n_params; ++i) known = known || k == d_->params[i].name;
      if (!known) throw std::runtime_error("harness: plugin declares no parameter '" + k + "'");
    }
    Ctx c{this, nullptr};
    if (d_->create(&host_, c.ptr(), &instance_) != CASCADE_OK)
      throw std::runtime_error("create failed: " + c.error_message);
    if (d_->open != nullptr && d_->open(instance_, c.ptr()) != CASCADE_OK) {
      d_->destroy(instance_);
      instance_ = nullptr;
      throw std::runtime_error("open failed: " + c.error_message);
    }
  }
  // dlopen()s a plugin file (RTLD_NOW) and wraps its descriptor.
  static std::unique_ptr<Harness> load(const std::string& path, std::map<std::string, std::string> params = {}) {
    void* lib = dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
    if (lib == nullptr) throw std::runtime_error(std::string("harness: ") + dlerror());
    auto entry = reinterpret_cast<cascade_plugin_entry_fn>(dlsym(lib, CASCADE_ENTRY_SYMBOL));
    if (entry == nullptr) throw std::runtime_error("harness: " + path + " has no " CASCADE_ENTRY_SYMBOL);
    return std::make_unique<Harness>(entry(), std::move(params));
  }
  Harness(const Harness&) = delete;
  Harness& operator=(const Harness&) = delete;
  ~Harness() {
    if (instance_ == nullptr) return;
    Ctx c{this, nullptr};
    if (d_->close != nullptr) d_->close(instance_, c.ptr());
    d_->destroy(instance_);
  }

  [[nodiscard]] const cascade_plugin_descriptor& descriptor() const { return *d_; }

  // Acts as an older host from now on: the host table ends where ABI
  // 1.`minor`'s did, so the plugin must do without later functions (a
  // plugin that calls them anyway reads past the table it was given).
  void emulate_host_minor(uint16_t minor) {
    host_.abi_minor = minor;
    host_.struct_size = minor >= 4   ? static_cast<uint32_t>(sizeof host_)
                        : minor >= 1 ? static_cast<uint32_t>(offsetof(cascade_host_api, turn))
                                     : static_cast<uint32_t>(offsetof(cascade_host_api, forward));
  }

  // The identity host->turn (ABI 1.4) gives the calls from now on (empty
  // ids, index and seq 0 until set).
  void set_turn(std::string dialogue_id, std::string user_id, uint32_t turn_index = 0, uint64_t turn_seq = 0) {
    turn_dialogue_ = std::move(dialogue_id);
    turn_user_ = std::move(user_id);
    turn_index_ = turn_index;
    turn_seq_ = turn_seq;
  }

  // Runs process() once. Inputs are keyed by input port name; a port left
  // out arrives as CASCADE_PAYLOAD_NONE. `stop` simulates cancellation.
  Result run(const std::map<std::string, Value>& inputs, bool stop = false) {
    const std::vector<cascade_payload> in = payloads(inputs);
    Result r;
    Ctx c{this, &r};
    c.stop = stop;
    c.in = in.data();
    c.n_in = static_cast<uint32_t>(in.size());
    auto st = d_->process(instance_, c.ptr(), in.data(), static_cast<uint32_t>(in.size()));
    r.status = static_cast<Status>(st);
    r.error = c.error_message;
    r.transient = c.transient;
    return r;
  }

  // Runs process_batch() (ABI 1.2) once for all `turns`, as a host running
  // a micro-batch does: one Result per turn. Throws if the plugin offers no
  // process_batch.
  std::vector<Result> run_batch(const std::vector<std::map<std::string, Value>>& turns) {
    if (!CASCADE_HAS_FIELD(d_, cascade_plugin_descriptor, process_batch) || d_->process_batch == nullptr)
      throw std::runtime_error("harness: the plugin offers no process_batch");
    const size_t n = turns.size();
    const cascade_payload none{sizeof(cascade_payload), CASCADE_PAYLOAD_NONE, nullptr, 0, 0};
    std::vector<std::vector<cascade_payload>> in(n), out(n, std::vector<cascade_payload>(d_->n_outputs, none));
    std::vector<Result> results(n);
    std::vector<std::unique_ptr<Ctx>> ctxs;
    std::vector<cascade_context*> ctx_ptrs(n);
    std::vector<const cascade_payload*> in_ptrs(n);
    std::vector<cascade_payload*> out_ptrs(n);
    std::vector<cascade_status> status(n, CASCADE_OK);  // the plugin writes its failures
    for (size_t i = 0; i < n; ++i) {
      in[i] = payloads(turns[i]);
      ctxs.push_back(std::make_unique<Ctx>(this, &results[i]));
      ctxs[i]->in = in[i].data();
      ctxs[i]->n_in = d_->n_inputs;
      ctxs[i]->outputs = out[i].data();
      ctx_ptrs[i] = ctxs[i]->ptr();
      in_ptrs[i] = in[i].data();
      out_ptrs[i] = out[i].data();
    }
    const cascade_batch b{sizeof(cascade_batch), static_cast<uint32_t>(n), d_->n_inputs, d_->n_outputs,
                          ctx_ptrs.data(), in_ptrs.data(), out_ptrs.data(), status.data()};
    const cascade_status all = d_->process_batch(instance_, &b);
    for (size_t i = 0; i < n; ++i) {
      Result& r = results[i];
      r.status = static_cast<Status>(all != CASCADE_OK ? all : status[i]);
      r.error = ctxs[i]->error_message;
      r.transient = ctxs[i]->transient;
      // Entries the plugin stored itself (emit() went through the host and
      // is in r.outputs already), checked as the engine checks them.
      for (uint32_t p = 0; p < d_->n_outputs; ++p) {
        const cascade_payload& v = out[i][p];
        if (v.type == CASCADE_PAYLOAD_NONE || r.outputs.count(d_->outputs[p].name) != 0) continue;
        if (r.status == Status::Ok && !detail::output_type_ok(d_->outputs[p].payload_type, v.type)) {
          r.status = Status::InvalidArgument;
          r.error = detail::stored_output_refusal(v.type, d_->outputs[p].name, d_->outputs[p].payload_type);
        }
        r.outputs[d_->outputs[p].name] =
            Value{v.type, std::string(static_cast<const char*>(v.data), static_cast<size_t>(v.size)), v.sample_rate};
        ++r.stored;
      }
    }
    return results;
  }

 private:
  // cascade_context is opaque to plugins: the harness hands out a pointer
  // to its own per-call state and casts it back in each host function.
  // The inputs keyed by port name, as the plugin's declared input array.
  [[nodiscard]] std::vector<cascade_payload> payloads(const std::map<std::string, Value>& inputs) const {
    std::vector<cascade_payload> in(d_->n_inputs);
    for (const auto& [k, v] : inputs) {
      bool found = false;
      for (uint32_t i = 0; i < d_->n_inputs; ++i) {
        if (k != d_->inputs[i].name) continue;
        found = true;
        in[i].type = v.type;
        in[i].data = v.bytes.data();
        in[i].size = v.bytes.size();
        in[i].sample_rate = v.sample_rate;
      }
      if (!found) throw std::runtime_error("harness: plugin declares no input '" + k + "'");
    }
    for (auto& p : in) p.struct_size = sizeof p;
    return in;
  }

  // The host API's Call (sdk/detail/host_api.hpp, which makes the checks
  // the engine makes): where a checked call lands.
  struct Ctx {
    Ctx(Harness* h, Result* r) : self(h), result(r) {}
    cascade_context* ptr() { return reinterpret_cast<cascade_context*>(this); }
    Harness* self;
    Result* result;  // null outside process()
    const cascade_payload* in = nullptr;  // during process()
    uint32_t n_in = 0;
    cascade_payload* outputs = nullptr;  // a batch call's output entries for this turn
    std::string error_message;
    bool transient = false;
    bool stop = false;

    [[nodiscard]] bool in_process() const { return result != nullptr; }
    [[nodiscard]] uint32_t n_outputs() const { return self->d_->n_outputs; }
    [[nodiscard]] uint32_t output_type(uint32_t port) const { return self->d_->outputs[port].payload_type; }
    [[nodiscard]] uint32_t n_inputs() const { return n_in; }
    [[nodiscard]] const cascade_payload* inputs() const { return in; }
    void store(uint32_t port, const cascade_payload& p, bool forwarded) {
      Value v;
      v.type = p.type;
      v.bytes.assign(static_cast<const char*>(p.data), static_cast<size_t>(p.size));
      v.sample_rate = p.sample_rate;
      if (outputs != nullptr) outputs[port] = p;  // a batch: the entry shows it too
      if (forwarded) ++result->forwards;
      result->outputs[self->d_->outputs[port].name] = std::move(v);
    }
    void error(cascade_status, bool is_transient, const char* msg) {
      error_message = msg;
      transient = is_transient;
    }
    void log(cascade_log_level level, const char* msg) {
      if (result != nullptr) result->logs.emplace_back(static_cast<int>(level), msg);
    }
    bool param(const char* name, const char** value, size_t* len) {
      if (auto it = self->params_.find(name); it != self->params_.end()) {
        *value = it->second.c_str();
        *len = it->second.size();
        return true;
      }
      for (uint32_t i = 0; i < self->d_->n_params; ++i) {
        if (std::string_view(self->d_->params[i].name) == name) {
          *value = self->d_->params[i].default_value;
          *len = std::strlen(*value);
          return true;
        }
      }
      return false;
    }
    void confidence(double v) { result->confidence = v; }
    void nbest(std::string_view text, double score) { result->nbest.emplace_back(std::string(text), score); }
    void feature(const char* key, double v) { result->features[key] = v; }
    void feature_text(const char* key, std::string_view v) { result->text_features[key] = std::string(v); }
    [[nodiscard]] bool stop_requested() const { return stop; }
    [[nodiscard]] int64_t remaining_ns() const { return stop ? 0 : INT64_MAX; }
    [[nodiscard]] detail::TurnIdentity turn() const {
      return {self->turn_dialogue_, self->turn_user_, self->turn_index_, self->turn_seq_};
    }
  };

  const cascade_plugin_descriptor* d_;
  std::map<std::string, std::string> params_;
  std::string turn_dialogue_, turn_user_;
  uint32_t turn_index_ = 0;
  uint64_t turn_seq_ = 0;
  cascade_host_api host_{};
  void* instance_ = nullptr;
};

}  // namespace cascade::sdk::testing
