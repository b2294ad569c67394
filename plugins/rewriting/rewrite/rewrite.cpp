// rewrite — precomputed rewriting between ASR and NLU: looks the request
// up in a table built by `cascade rewrite build` and sends the rewrite on
// in its place; anything without a rewrite is forwarded untouched.
//
//   [text] --> ( rewrite: table ) --> [text]
//
// When it rewrites, it records two text features, so the trace holds both
// texts (the stage's input and output ports hold them too, but features
// survive whatever the trace does with payloads and are what the builder's
// feedback-loop guard reads):
//   original_text  the text as it arrived
//   rewritten_by   the table's identity, "cascade_rewrites/1:<fnv64 hex>"
// and a numeric feature `rewrite_gain` (B_jS - B_iS of the rewrite).
//
// Lifecycle: open() reads the whole table (W0xx errors fail the open);
// process() only reads the map, so any number of turns may run at once.
#include "table/table.hpp"

#include <cascade/sdk/stage.hpp>

#include <string>
#include <unordered_map>

using namespace cascade::sdk;
namespace rw = cascade::rewriting;

class Rewrite : public Stage {
 public:
  static inline Input in{"text", PayloadType::Text, "the normalised request"};
  static inline Output out{"text", PayloadType::Text, "the rewritten request, or the request itself"};
  static inline Param<std::string> table{"table", "", "rewrite table (cascade rewrite build ... -o FILE)"};

  void open(Context& ctx) override {
    const std::string path = ctx.get(table);
    if (path.empty()) throw Error(Status::InvalidArgument, "parameter 'table' is required: the rewrite table's path");
    try {
      const rw::RewriteTable t = rw::read_table(path, &table_id_);
      for (const auto& e : t.rewrites) rewrites_.emplace(e.from, Target{e.to, e.to_success - e.from_success});
    } catch (const rw::TableError& e) {
      throw Error(Status::InvalidArgument, e.what());
    }
    ctx.log(Level::Info, "rewrite: " + std::to_string(rewrites_.size()) + " rewrites from " + path + " (" +
                             table_id_ + ")");
  }

  void process(Call& call) override {
    const std::string_view text = call.text(in);
    const auto it = rewrites_.find(rw::canonical_request(text));
    if (it == rewrites_.end()) {
      call.forward(out, in);
      return;
    }
    call.feature("original_text", text);
    call.feature("rewritten_by", std::string_view(table_id_));
    call.feature("rewrite_gain", it->second.gain);
    call.emit(out, it->second.text);
  }

 private:
  struct Target {
    std::string text;
    double gain = 0;
  };
  std::unordered_map<std::string, Target> rewrites_;
  std::string table_id_;
};

CASCADE_PLUGIN(Rewrite,
               Info{.name = "rewrite",
                    .version = "1.0.0",
                    .description = "precomputed rewrites (absorbing Markov chain) between ASR and NLU",
                    .deterministic = true},
               ports(Rewrite::in), ports(Rewrite::out), params(Rewrite::table))
