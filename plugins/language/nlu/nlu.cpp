// nlu — intent classification (fastText, trained at build time by
// cascade-nlu-train) and slot filling (nlu/slot_tagger.hpp).
//
//   [text: Text] --> ( nlu ) --> [nlu: Json]
//   {"intent": "alarm_set", "confidence": 0.93,
//    "top": [{"intent": "alarm_set", "p": 0.93}, ...],       // top_k entries
//    "slots": [{"type": "time", "value": "seven am", "start": 13, "end": 21}],
//    "text": "<the normalised text the offsets refer to>"}
// Reports: confidence = top-1 probability; nbest = the top_k intents with
// their probabilities; features "margin" (p1 - p2), "slots", "tokens".
//
// Threading: max_concurrency 0. fastText's FastText::predict /
// predictLine are const and keep their scratch (Model::State) on the stack
// of the call (fasttext.h: `predict(...) const`, model.h: `predict(...,
// State&) const`; Dictionary::getLine is const for supervised models), so
// concurrent calls on one loaded model do not share mutable state. The slot
// tagger is const after load.
// Errors: missing model/lexicon -> open() fails with Unavailable,
// "A010: model file not found: <path>"; unreadable content -> Unavailable
// "A012: ..."; empty text -> NoResult.
#include "model_path.hpp"
#include "nlu/slot_tagger.hpp"
#include "text/spoken.hpp"
#include "text/text.hpp"

#include <cascade/sdk/stage.hpp>

#include <fasttext/fasttext.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <filesystem>
#include <memory>
#include <sstream>

using namespace cascade::sdk;
using json = nlohmann::json;

class Nlu : public Stage {
 public:
  static inline Input in{"text", PayloadType::Text, "the request as text (ASR hypothesis or typed)"};
  static inline Output out{"nlu", PayloadType::Json, "intent, confidence, top-k intents, slots"};
  static inline Param<std::string> model{"model", "@models/nlu/intent.bin", "fastText intent model (.bin)"};
  static inline Param<std::string> slots{"slots", "@models/slot_lexicon.json", "slot lexicon (slot_lexicon.json)"};
  static inline Param<int> top_k{"top_k", 3, "how many intents to list in top / n-best"};
  static inline Param<double> min_precision{"min_precision", 0.3,
                                            "a lexicon phrase becomes a slot if tagged in this share of its uses"};

  void open(Context& ctx) override {
    // "@models/...": installed or built (plugins/models/model_path.hpp).
    const std::string model_path = cascade::plugins::resolve_model_path(ctx.get(model));
    const std::string slots_path = cascade::plugins::resolve_model_path(ctx.get(slots));
    ctx.log(Level::Info, "models: " + model_path + ", " + slots_path);
    k_ = ctx.get(top_k);
    if (k_ < 1) throw Error(Status::InvalidArgument, "parameter 'top_k' must be >= 1");
    if (!std::filesystem::is_regular_file(model_path))
      throw Error(Status::Unavailable, "A010: model file not found: " + model_path);
    ft_ = std::make_unique<fasttext::FastText>();
    try {
      ft_->loadModel(model_path);
    } catch (const std::exception& e) {
      throw Error(Status::Unavailable, "A012: cannot load model " + model_path + ": " + e.what());
    }
    try {
      tagger_ = cascade::language::SlotTagger::load(slots_path, ctx.get(min_precision));
    } catch (const std::exception& e) {
      throw Error(Status::Unavailable, e.what());  // "A010: ..." or "A012: ..."
    }
  }

  void process(Call& call) override {
    // The spoken form: a recogniser that writes "5:30 a.m." means what the
    // training data says as "five thirty am" (text/spoken.hpp).
    std::string text = cascade::language::spoken_form(call.text(in));
    if (text.empty()) throw Error(Status::NoResult, "empty text: nothing to classify");
    std::istringstream is(text + "\n");
    std::vector<std::pair<fasttext::real, std::string>> preds;
    ft_->predictLine(is, preds, k_, 0.0);
    if (preds.empty()) throw Error(Status::NoResult, "the classifier returned no intent");
    json top = json::array();
    for (const auto& [raw_p, label] : preds) {
      // fastText's softmax uses approximations and can exceed 1 by ~1e-5.
      double p = std::clamp(static_cast<double>(raw_p), 0.0, 1.0);
      std::string intent = label.rfind("__label__", 0) == 0 ? label.substr(9) : label;
      top.push_back({{"intent", intent}, {"p", p}});
      call.nbest(intent, p);
    }
    std::string intent = top[0]["intent"];
    double p1 = top[0]["p"];
    double p2 = top.size() > 1 ? top[1]["p"].get<double>() : 0.0;
    json slots_json = json::array();
    for (const auto& s : tagger_.tag(text, intent))
      slots_json.push_back({{"type", s.type}, {"value", s.value}, {"start", s.start}, {"end", s.end}, {"score", s.score}});
    call.confidence(p1);
    call.feature("margin", p1 - p2);
    call.feature("slots", static_cast<double>(slots_json.size()));
    call.feature("tokens", static_cast<double>(cascade::language::tokenize(text).size()));
    json o{{"intent", intent}, {"confidence", p1}, {"top", std::move(top)}, {"slots", std::move(slots_json)}, {"text", text}};
    call.emit(out, o.dump());
  }

 private:
  std::unique_ptr<fasttext::FastText> ft_;
  cascade::language::SlotTagger tagger_;
  int k_ = 3;
};

CASCADE_PLUGIN(Nlu,
               Info{.name = "nlu",
                    .version = "1.0.0",
                    .description = "fastText intent classifier + gazetteer slot tagger",
                    .max_concurrency = 0,
                    .deterministic = true},
               ports(Nlu::in), ports(Nlu::out), params(Nlu::model, Nlu::slots, Nlu::top_k, Nlu::min_precision))
