// online_rewrite — online rewriting before the NLU: a request that looks
// defective is replaced by the best similar successful request from the
// global index or the user's own (rewriter.hpp: trigger, retrieval,
// ranker); anything else is forwarded untouched.
//
//   [text] ------------------------> ( online_rewrite: index ) --> [text]
//   [user] (optional) ------------/
//   [asr, nlu, er, result] (optional: the turn's defect signals, signals.hpp)
//
// With the signals bound (a probe NLU/ER/result on the request as heard,
// pipelines/assistant-recorded-asr-online.toml) the stage triggers on what
// precedes a failure; without them, on unknown words (rewriter.hpp).
//
// The user: the optional `user` input (text) when a pipeline binds one,
// else the turn's own user id (host->turn, ABI 1.4: the `user_id` of the
// turn's input line), else the `user` parameter (one device, one user),
// else there is no personal layer; `personal = false` turns that layer off
// (the global index alone, whoever the user is).
//
// When it rewrites it records text features `original_text`,
// `rewritten_by` ("cascade_online_index/1:<fnv64 hex>": the precomputed
// builder's feedback-loop guard holds such sessions out too) and
// `rewrite_layer` ("global" or "personal"), and numeric `rewrite_score`,
// `rewrite_similarity`.
//
// Lifecycle: open() reads and indexes the whole file (W01x errors fail the
// open); process() only reads, so any number of turns run at once.
#include "online/rewriter.hpp"
#include "online/signals.hpp"
#include "table/table.hpp"

#include <cascade/sdk/stage.hpp>

#include <memory>
#include <sstream>
#include <string>

using namespace cascade::sdk;
namespace rw = cascade::rewriting;

class OnlineRewrite : public Stage {
 public:
  static inline Input in{"text", PayloadType::Text, "the normalised request"};
  static inline Input user_in{"user", PayloadType::Text, "the user id (optional; else the turn's user_id, else the `user` parameter)", true};
  static inline Input asr_in{"asr", PayloadType::Json, "the recogniser's hypothesis {\"confidence\"} (optional)", true};
  static inline Input nlu_in{"nlu", PayloadType::Json, "a probe NLU on the request {\"confidence\"} (optional)", true};
  static inline Input er_in{"er", PayloadType::Json, "a probe ER on it {\"entities\": [{\"status\"}]} (optional)", true};
  static inline Input result_in{"result", PayloadType::Json, "a probe result {\"success\", \"supported\"} (optional)",
                                true};
  static inline Output out{"text", PayloadType::Text, "the rewritten request, or the request itself"};
  static inline Param<std::string> index{"index", "", "online index (cascade rewrite index ... -o FILE)"};
  static inline Param<std::string> user{"user", "", "the user id when neither a `user` input nor the turn names one"};
  static inline Param<double> oov_min{"oov_min", 0.0,
                                      "trigger: an unknown word, and at least this share of the words unknown to the index"};
  static inline Param<double> min_similarity{"min_similarity", 0.5, "rewrite only to a candidate this similar"};
  static inline Param<double> min_score{"min_score", 0.45, "rewrite only to a candidate ranked this high"};
  static inline Param<double> nlu_min_confidence{"nlu_min_confidence", 0.5,
                                                  "with signals: an NLU confidence below this looks defective"};
  static inline Param<double> asr_min_confidence{
      "asr_min_confidence", 0.0, "with signals: an ASR confidence below this looks defective (0: not a trigger)"};
  static inline Param<std::string> slot_intents{
      "slot_intents", "",
      "with signals: comma-separated intents that need a slot; the NLU finding one with no slot looks defective"};
  static inline Param<bool> personal{
      "personal", true, "use the user's personal layer (false: the global index alone, whoever the user is)"};
  static inline Param<int64_t> personal_min{"personal_min", 2, "personal successes a personal request needs to count"};

  void open(Context& ctx) override {
    const std::string path = ctx.get(index);
    if (path.empty()) throw Error(Status::InvalidArgument, "parameter 'index' is required: the online index's path");
    rw::OnlineParams p;
    p.oov_min = ctx.get(oov_min);
    p.min_similarity = ctx.get(min_similarity);
    p.min_score = ctx.get(min_score);
    p.nlu_min_confidence = ctx.get(nlu_min_confidence);
    p.asr_min_confidence = ctx.get(asr_min_confidence);
    {
      std::istringstream list(ctx.get(slot_intents));
      for (std::string intent; std::getline(list, intent, ',');)
        if (!intent.empty()) p.slot_intents.insert(intent);
    }
    const int64_t pmin = ctx.get(personal_min);
    if (pmin < 1) throw Error(Status::InvalidArgument, "personal_min must be >= 1");
    p.personal_min = static_cast<uint64_t>(pmin);
    try {
      rewriter_ = std::make_unique<rw::OnlineRewriter>(rw::read_online_index(path, &index_id_), p);
    } catch (const rw::TableError& e) {
      throw Error(Status::InvalidArgument, e.what());
    }
    user_ = ctx.get(user);
    personal_ = ctx.get(personal);
    ctx.log(Level::Info, "online_rewrite: " + std::to_string(rewriter_->size()) + " global requests from " + path + " (" +
                             index_id_ + ")");
  }

  void process(Call& call) override {
    const std::string_view text = call.text(in);
    std::string_view who = user_;
    if (call.has(user_in)) {
      who = call.text(user_in);
    } else if (const auto turn = call.turn(); turn && !turn->user_id.empty()) {
      who = turn->user_id;
    }
    if (!personal_) who = {};
    const auto json_of = [&](const Input& port) { return call.has(port) ? call.json(port) : std::string_view(); };
    const rw::TurnSignals signals =
        rw::read_signals({json_of(asr_in), json_of(nlu_in), json_of(er_in), json_of(result_in)});
    const rw::RewriteDecision d = rewriter_->decide(text, who, signals);
    if (!d.rewrite) {
      call.forward(out, in);
      return;
    }
    call.feature("original_text", text);
    call.feature("rewritten_by", std::string_view(index_id_));
    call.feature("rewrite_layer", std::string_view(d.best->personal > 0 ? "personal" : "global"));
    call.feature("rewrite_trigger", std::string_view(d.trigger));
    call.feature("rewrite_score", d.best->score);
    call.feature("rewrite_similarity", d.best->similarity);
    call.emit(out, d.best->text);
  }

 private:
  std::unique_ptr<rw::OnlineRewriter> rewriter_;
  std::string index_id_, user_;
  bool personal_ = true;
};

CASCADE_PLUGIN(OnlineRewrite,
               Info{.name = "online_rewrite",
                    .version = "1.0.0",
                    .description = "online rewriting: retrieval (3-gram TF-IDF, Soundex) and ranking, global and personal",
                    .deterministic = true},
               ports(OnlineRewrite::in, OnlineRewrite::user_in, OnlineRewrite::asr_in, OnlineRewrite::nlu_in,
                     OnlineRewrite::er_in, OnlineRewrite::result_in),
               ports(OnlineRewrite::out),
               params(OnlineRewrite::index, OnlineRewrite::user, OnlineRewrite::oov_min, OnlineRewrite::min_similarity,
                      OnlineRewrite::min_score, OnlineRewrite::nlu_min_confidence, OnlineRewrite::asr_min_confidence,
                      OnlineRewrite::slot_intents, OnlineRewrite::personal,
                      OnlineRewrite::personal_min))
