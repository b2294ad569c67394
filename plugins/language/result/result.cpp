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
// Parameter broken_skill (default ""): a comma-separated list of skills
// (the scenario before the first '_' of an intent: "calendar", "weather")
// that fail as a crashed backend would: every supported request of theirs
// answers {"success": false, "supported": true, "action": null,
// "answer": null, "say": "Sorry, something went wrong."}. A degraded world
// for measuring failure-point isolation (`cascade eval fpi`): the oracle
// meets `result` failures only when a skill is broken.
//
// Threading: max_concurrency 0 (World::execute is const).
// Errors: malformed input -> InvalidArgument "A011: ...".
#include "world/world.hpp"

#include <cascade/sdk/stage.hpp>

#include <nlohmann/json.hpp>

#include <set>
#include <sstream>

using namespace cascade::sdk;
using json = nlohmann::json;

class Result : public Stage {
 public:
  static inline Input in{"er", PayloadType::Json, "the resolved interpretation (intent, entities)"};
  static inline Output result{"result", PayloadType::Json, "success, supported, action, answer, say"};
  static inline Output say{"say", PayloadType::Text, "what TTS should speak"};
  static inline Param<std::string> broken_skill{
      "broken_skill", "", "comma-separated skills (intent scenarios, e.g. 'calendar,weather') that always fail"};

  void open(Context& ctx) override {
    world_ = cascade::language::World::initial();
    std::stringstream list(ctx.get(broken_skill));
    for (std::string skill; std::getline(list, skill, ',');)
      if (!skill.empty()) broken_.insert(skill);
  }

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
    if (r["supported"].get<bool>() && is_broken(er["intent"].get<std::string>()))
      r = {{"success", false}, {"supported", true}, {"action", nullptr}, {"answer", nullptr},
           {"say", "Sorry, something went wrong."}};
    bool ok = r["success"].get<bool>();
    call.confidence(ok ? 1.0 : 0.0);
    call.feature("success", ok ? 1.0 : 0.0);
    call.feature("supported", r["supported"].get<bool>() ? 1.0 : 0.0);
    if (r["action"].is_object()) call.feature("action", r["action"]["type"].get<std::string>());
    call.emit(result, r.dump());
    call.emit(say, r["say"].get<std::string>());
  }

 private:
  [[nodiscard]] bool is_broken(const std::string& intent) const {
    return !broken_.empty() && broken_.contains(intent.substr(0, intent.find('_')));
  }

  cascade::language::World world_;
  std::set<std::string> broken_;  // skills that fail (open() fills it; read-only after)
};

CASCADE_PLUGIN(Result,
               Info{.name = "result",
                    .version = "1.0.0",
                    .description = "executes the interpretation on a simulated home/world",
                    .max_concurrency = 0,
                    .deterministic = true},
               ports(Result::in), ports(Result::result, Result::say), params(Result::broken_skill))
