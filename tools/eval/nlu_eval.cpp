// cascade-nlu-eval — measures the language stages on the EVAL dialogues,
// from the GOLD transcripts (no ASR), by running the real nlu, er and
// result plugins through the SDK harness and judging each output with
// judges/judges.hpp. Prints:
//   intent accuracy vs the TRAIN majority-class baseline,
//   slot precision/recall/F1 (micro, over (type, value) pairs),
//   ER accuracy (judged exact/equivalent) from gold NLU and end to end,
//   task success (result judged exact/equivalent) end to end.
#include "judges/judges.hpp"

#include <cascade/sdk/testing.hpp>

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include <cstdio>
#include <fstream>
#include <map>
#include <string>

using cascade::sdk::Status;
using cascade::sdk::testing::Harness;
using cascade::sdk::testing::Value;
using json = nlohmann::json;
namespace judges = cascade::language::judges;

namespace {
json run(Harness& h, const char* port, Value v, const char* out) {
  auto r = h.run({{port, std::move(v)}});
  if (r.status != Status::Ok) return nullptr;
  return json::parse(r.outputs.at(out).bytes);
}
}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"Measure NLU, ER and task success on the EVAL dialogues (gold transcripts)"};
  std::string dir = CASCADE_ASSISTANT_DATA_DIR, nlu_so = CASCADE_NLU_PLUGIN, er_so = CASCADE_ER_PLUGIN,
              result_so = CASCADE_RESULT_PLUGIN, dialogues;
  std::string model, min_precision;
  bool verbose = false;
  app.add_option("--data-dir", dir, "assistant data directory")->capture_default_str();
  app.add_option("--dialogues", dialogues, "dialogue file (default <data-dir>/eval_dialogues.jsonl)");
  app.add_option("--nlu", nlu_so, "nlu plugin")->capture_default_str();
  app.add_option("--er", er_so, "er plugin")->capture_default_str();
  app.add_option("--result", result_so, "result plugin")->capture_default_str();
  app.add_option("--model", model, "nlu 'model' parameter (default: the plugin's)");
  app.add_option("--min-precision", min_precision, "nlu 'min_precision' parameter (default: the plugin's)");
  app.add_flag("--verbose", verbose, "print every wrong turn");
  CLI11_PARSE(app, argc, argv);
  if (dialogues.empty()) dialogues = dir + "/eval_dialogues.jsonl";

  try {
    std::map<std::string, int> train_counts;
    std::ifstream tf(dir + "/train_fasttext.txt");
    if (!tf) throw std::runtime_error("A010: training file not found: " + dir + "/train_fasttext.txt");
    for (std::string l; std::getline(tf, l);) ++train_counts[l.substr(9, l.find(' ') - 9)];
    std::string majority;
    for (const auto& [k, n] : train_counts)
      if (majority.empty() || n > train_counts[majority]) majority = k;

    std::map<std::string, std::string> nlu_params;
    if (!model.empty()) nlu_params["model"] = model;
    if (!min_precision.empty()) nlu_params["min_precision"] = min_precision;
    auto nlu = Harness::load(nlu_so, nlu_params);
    auto er = Harness::load(er_so);
    auto result = Harness::load(result_so);

    std::ifstream in(dialogues);
    if (!in) throw std::runtime_error("A010: dialogue file not found: " + dialogues);
    int n = 0, supported = 0, supported_ok = 0, intent_ok = 0, baseline = 0, nlu_ok = 0, er_gold_ok = 0, er_e2e_ok = 0, task_ok = 0, gold_success = 0;
    long tp = 0, fp = 0, fn = 0;
    for (std::string l; std::getline(in, l);) {
      auto t = json::parse(l);
      if (!t["addressed"]) continue;
      const auto& g = t["gold"];
      ++n;
      baseline += g["nlu"]["intent"] == majority;
      gold_success += g["result"]["success"].get<bool>();
      json o_nlu = run(*nlu, "text", Value::text(g["asr"]["text"]), "nlu");
      json o_er = o_nlu.is_null() ? json(nullptr) : run(*er, "nlu", Value::json(o_nlu.dump()), "er");
      json o_res = o_er.is_null() ? json(nullptr) : run(*result, "er", Value::json(o_er.dump()), "result");
      json o_er_gold = run(*er, "nlu", Value::json(g["nlu"].dump()), "er");
      bool intent_right = !o_nlu.is_null() && o_nlu["intent"] == g["nlu"]["intent"];
      intent_ok += intent_right;
      nlu_ok += judges::acceptable(judges::judge_nlu(o_nlu, g["nlu"]));
      er_gold_ok += judges::acceptable(judges::judge_er(o_er_gold, g["er"]));
      er_e2e_ok += judges::acceptable(judges::judge_er(o_er, g["er"]));
      bool task = judges::acceptable(judges::judge_result(o_res, g["result"]));
      task_ok += task;
      if (g["result"]["supported"].get<bool>()) {
        ++supported;
        supported_ok += task;
      }
      // Slot F1 over (type, value) multisets.
      std::map<std::pair<std::string, std::string>, int> gold_slots;
      for (const auto& s : g["nlu"]["slots"]) ++gold_slots[{s["type"], s["value"]}];
      int matched = 0, predicted = 0, wanted = 0;
      for (const auto& [k, c] : gold_slots) wanted += c;
      if (!o_nlu.is_null())
        for (const auto& s : o_nlu["slots"]) {
          ++predicted;
          auto it = gold_slots.find({s["type"], s["value"]});
          if (it != gold_slots.end() && it->second > 0) {
            --it->second;
            ++matched;
          }
        }
      tp += matched;
      fp += predicted - matched;
      fn += wanted - matched;
      if (verbose && !task)
        std::printf("WRONG %s: \"%s\"\n  gold  %s\n  nlu   %s\n  res   %s\n", t["turn_id"].get<std::string>().c_str(),
                    g["asr"]["text"].get<std::string>().c_str(), g["nlu"].dump().c_str(),
                    o_nlu.is_null() ? "null" : o_nlu.dump().c_str(), o_res.dump().c_str());
    }
    if (n == 0) throw std::runtime_error("no addressed turns in " + dialogues);
    auto pct = [n](int k) { return 100.0 * k / n; };
    double p = tp + fp > 0 ? static_cast<double>(tp) / static_cast<double>(tp + fp) : 0.0;
    double r = tp + fn > 0 ? static_cast<double>(tp) / static_cast<double>(tp + fn) : 0.0;
    double f1 = p + r > 0 ? 2 * p * r / (p + r) : 0.0;
    std::printf("EVAL turns (addressed, gold transcripts): %d\n", n);
    std::printf("intent accuracy:           %5.1f%% (%d/%d)\n", pct(intent_ok), intent_ok, n);
    std::printf("majority-class baseline:   %5.1f%% (always '%s')\n", pct(baseline), majority.c_str());
    std::printf("slots P/R/F1 (type,value): %.3f / %.3f / %.3f (tp %ld, fp %ld, fn %ld)\n", p, r, f1, tp, fp, fn);
    std::printf("NLU judged acceptable:     %5.1f%% (intent and slot set)\n", pct(nlu_ok));
    std::printf("ER accuracy, gold NLU in:  %5.1f%%\n", pct(er_gold_ok));
    std::printf("ER accuracy, end to end:   %5.1f%%\n", pct(er_e2e_ok));
    std::printf("task success (result ok):  %5.1f%% (gold results that succeed: %d/%d)\n", pct(task_ok),
                gold_success, n);
    std::printf("task success, supported:   %5.1f%% (%d/%d turns whose gold request the world supports)\n",
                supported > 0 ? 100.0 * supported_ok / supported : 0.0, supported_ok, supported);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "cascade-nlu-eval: error: %s\n", e.what());
    return 1;
  }
  return 0;
}
