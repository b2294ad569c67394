// er — entity resolution: resolves the NLU slots against the entity
// catalogues built from TRAIN (catalog/catalog.hpp): exact canonical match,
// then fuzzy (normalised Levenshtein / token-set ratio) above `threshold`;
// dates and times through the temporal normaliser.
//
//   [nlu: Json] --> ( er ) --> [er: Json]
//   {"intent": "iot_hue_lighton", "slots": [...as received...],
//    "entities": [{"type": "house_place", "value": "kitchn",
//                  "resolved": "kitchen", "score": 0.857, "status": "resolved"},
//                 {"type": "person", "value": "zorblax", "resolved": null,
//                  "score": 0.31, "status": "unresolved"}]}
// Reports: confidence = mean entity score (1 when there is none); features
// "entities", "unresolved".
//
// Threading: max_concurrency 0 (the catalogue is read-only after open).
// Errors: missing catalogue -> Unavailable "A010: catalog file not found:
// <path>"; malformed input -> InvalidArgument "A011: ...".
#include "catalog/catalog.hpp"
#include "model_path.hpp"

#include <cascade/sdk/stage.hpp>

#include <nlohmann/json.hpp>


using namespace cascade::sdk;
using json = nlohmann::json;

class Er : public Stage {
 public:
  static inline Input in{"nlu", PayloadType::Json, "the NLU interpretation (intent, slots)"};
  static inline Output out{"er", PayloadType::Json, "intent, slots and resolved entities"};
  static inline Param<std::string> catalog{"catalog", "@models/catalog.json", "entity catalogue (catalog.json)"};
  static inline Param<double> threshold{"threshold", 0.75, "lowest fuzzy score that still resolves"};

  void open(Context& ctx) override {
    threshold_ = ctx.get(threshold);
    if (!(threshold_ > 0.0 && threshold_ <= 1.0))
      throw Error(Status::InvalidArgument, "parameter 'threshold' must be in (0, 1]");
    try {
      // "@models/...": installed or built (plugins/models/model_path.hpp).
      const std::string path = cascade::plugins::resolve_model_path(ctx.get(catalog));
      ctx.log(Level::Info, "models: " + path);
      catalog_ = cascade::language::Catalog::load(path);
    } catch (const std::exception& e) {
      throw Error(Status::Unavailable, e.what());  // "A010: ..." or "A012: ..."
    }
  }

  void process(Call& call) override {
    json nlu;
    try {
      nlu = json::parse(call.json(in));
    } catch (const json::exception& e) {
      throw Error(Status::InvalidArgument, std::string("A011: input 'nlu' is not valid JSON: ") + e.what());
    }
    if (!nlu.is_object() || !nlu.contains("intent") || !nlu["intent"].is_string())
      throw Error(Status::InvalidArgument, "A011: input 'nlu' has no string \"intent\"");
    json slots = nlu.contains("slots") ? nlu["slots"] : json::array();
    if (!slots.is_array()) throw Error(Status::InvalidArgument, "A011: input 'nlu' \"slots\" is not an array");
    json entities = json::array();
    double sum = 0;
    int unresolved = 0;
    for (const auto& s : slots) {
      if (!s.is_object() || !s.contains("type") || !s["type"].is_string() || !s.contains("value") ||
          !s["value"].is_string())
        throw Error(Status::InvalidArgument, "A011: every slot needs string \"type\" and \"value\"");
      std::string type = s["type"], value = s["value"];
      auto r = catalog_.resolve(type, value, threshold_);
      sum += r.score;
      unresolved += r.resolved ? 0 : 1;
      entities.push_back({{"type", type},
                          {"value", value},
                          {"resolved", r.resolved ? json(*r.resolved) : json(nullptr)},
                          {"score", r.score},
                          {"status", r.resolved ? "resolved" : "unresolved"}});
    }
    call.confidence(entities.empty() ? 1.0 : sum / static_cast<double>(entities.size()));
    call.feature("entities", static_cast<double>(entities.size()));
    call.feature("unresolved", static_cast<double>(unresolved));
    json o{{"intent", nlu["intent"]}, {"slots", std::move(slots)}, {"entities", std::move(entities)}};
    call.emit(out, o.dump());
  }

 private:
  cascade::language::Catalog catalog_;
  double threshold_ = 0.75;
};

CASCADE_PLUGIN(Er,
               Info{.name = "er",
                    .version = "1.0.0",
                    .description = "entity resolution against TRAIN catalogues (fuzzy, dates/times)",
                    .max_concurrency = 0,
                    .deterministic = true},
               ports(Er::in), ports(Er::out), params(Er::catalog, Er::threshold))
