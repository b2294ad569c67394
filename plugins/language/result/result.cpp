// result — executes the interpretation on the simulated world
// (world/world.hpp): a fixed initial world per turn, so the same
// interpretation always gives the same result (deterministic).
//
//   [er: Json] --> ( result ) --> [result: Json], [say: Text]
//   result: {"success": true, "supported": true,
//            "action": {"type": "light.set", "room": "kitchen", "on": true},
//            "answer": null, "say": "Turning on the lights in the kitchen."}
//   unsupported: {"success": false, "supported": false, "action": null,
//                 "answer": null, "say": "Sorry, I can't do that yet."}
//   say: the "say" sentence, for TTS.
// Reports: confidence 1 on success, 0 otherwise; features "success",
// "supported"; text feature "action" (the action type, if any).
//
// Threading: max_concurrency 0 (World::execute is const).
// Errors: malformed input -> InvalidArgument "A011: ...".
#include "world/world.hpp"

#include <cascade/sdk/stage.hpp>

#include <nlohmann/json.hpp>

using namespace cascade::sdk;
using json = nlohmann::json;

class Result : public Stage {
 public:
  static inline Input in{"er", PayloadType::Json, "the resolved interpretation (intent, entities)"};
  static inline Output result{"result", PayloadType::Json, "success, supported, action, answer, say"};
  static inline Output say{"say", PayloadType::Text, "what TTS should speak"};

  void open(Context&) override { world_ = cascade::language::World::initial(); }

  void process(Call& call) override {
    json er;
    try {
      er = json::parse(call.json(in));
    } catch (const json::exception& e) {
      throw Error(Status::InvalidArgument, std::string("A011: input 'er' is not valid JSON: ") + e.what());
    }
    json r;
    try {
      r = world_.execute(er);
    } catch (const std::invalid_argument& e) {
      throw Error(Status::InvalidArgument, std::string("A011: input 'er': ") + e.what());
    }
    bool ok = r["success"].get<bool>();
    call.confidence(ok ? 1.0 : 0.0);
    call.feature("success", ok ? 1.0 : 0.0);
    call.feature("supported", r["supported"].get<bool>() ? 1.0 : 0.0);
    if (r["action"].is_object()) call.feature("action", r["action"]["type"].get<std::string>());
    call.emit(result, r.dump());
    call.emit(say, r["say"].get<std::string>());
  }

 private:
  cascade::language::World world_;
};

CASCADE_PLUGIN(Result,
               Info{.name = "result",
                    .version = "1.0.0",
                    .description = "executes the interpretation on a simulated home/world",
                    .max_concurrency = 0,
                    .deterministic = true},
               ports(Result::in), ports(Result::result, Result::say))
