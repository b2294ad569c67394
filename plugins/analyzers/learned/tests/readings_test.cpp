// The stage outputs' readings (readings.hpp, off a JsonTape) against the
// same keys read the way features.cpp read them before the tape: with
// nlohmann::json's DOM. Real documents: data/stage_outputs.jsonl, NLU, ER
// and result outputs and recogniser word posteriors taken from the traces
// of a `cascade eval fpi` run (speech and text runs, degraded ones
// included). Broken documents: every prefix of each real one, bytes
// replaced, and hand-made cases of what the JSON grammar and nlohmann
// refuse or read subtly (escapes, surrogates, UTF-8, duplicate keys, -0,
// huge numbers, deep nesting). Each reading is printed with its numbers
// in hexadecimal, so a difference of one bit in any value fails.
#include "readings.hpp"

#include <nlohmann/json.hpp>
#include <gtest/gtest.h>

#include <cstdio>
#include <fstream>
#include <functional>
#include <map>
#include <string>
#include <vector>

namespace {

using namespace cascade::learned;
using nlohmann::json;

// ---- the reference: the DOM reading features.cpp did -------------------

std::optional<std::string_view> dom_string(const json& object, const char* key) {
  if (object.contains(key) && object[key].is_string()) return object[key].get_ref<const std::string&>();
  return std::nullopt;
}
std::optional<double> dom_number(const json& object, const char* key) {
  if (object.contains(key) && object[key].is_number()) return object[key].get<double>();
  return std::nullopt;
}

NluReading dom_nlu(const json& j) {
  NluReading r;
  if (!j.is_object()) return r;
  r.object = true;
  r.text = dom_string(j, "text");
  r.intent = dom_string(j, "intent");
  if (!j.contains("slots") || !j["slots"].is_array()) return r;
  r.slots_array = true;
  for (const auto& slot : j["slots"])
    if (slot.is_object())
      r.slots.push_back({dom_number(slot, "score"), dom_number(slot, "start"), dom_number(slot, "end"),
                         dom_string(slot, "value")});
  return r;
}

std::vector<WordConfidence> dom_word_confidences(const json& j) {
  std::vector<WordConfidence> out;
  if (!j.is_array()) return out;
  for (const auto& w : j)
    if (w.is_object() && w.contains("conf") && w["conf"].is_number())
      out.push_back({w["conf"].get<double>(), dom_string(w, "word")});
  return out;
}

ErReading dom_er(const json& e) {
  ErReading r;
  if (!e.is_object() || !e.contains("entities") || !e["entities"].is_array()) return r;
  for (const auto& entity : e["entities"]) {
    if (!entity.is_object()) continue;
    const json value = entity.value("value", json()), resolved = entity.value("resolved", json());
    r.entities.push_back({dom_number(entity, "score"), dom_string(entity, "value"), resolved.is_null(),
                          !resolved.is_null() && resolved != value});
  }
  return r;
}

// features.cpp read "success" and "supported" with json::value(key,
// default), which throws when the member is not a boolean (the turn then
// went unanalyzed); the tape reads such a member as absent, the default.
ResultReading dom_result(const json& res) {
  ResultReading r;
  if (!res.is_object()) return r;
  r.object = true;
  for (auto [key, field] : {std::pair{"success", &r.success}, std::pair{"supported", &r.supported}})
    if (res.contains(key) && res[key].is_boolean()) *field = res[key].get<bool>();
  r.has_action = res.contains("action") && !res["action"].is_null();
  r.has_answer = res.contains("answer") && !res["answer"].is_null();
  r.say = dom_string(res, "say");
  return r;
}

// ---- printing, bit for bit ----------------------------------------------

std::string hex(double v) {
  char b[64];
  std::snprintf(b, sizeof b, "%a", v);  // -0 and 0, every bit of the mantissa
  return b;
}
std::string show(const std::optional<double>& v) { return v ? hex(*v) : "-"; }
std::string show(const std::optional<std::string_view>& v) { return v ? json(std::string(*v)).dump() : "-"; }
std::string show(const std::optional<bool>& v) { return v ? (*v ? "true" : "false") : "-"; }

std::string show(const NluReading& r) {
  std::string s = "object=" + std::to_string(r.object) + " text=" + show(r.text) + " intent=" + show(r.intent) +
                  " slots_array=" + std::to_string(r.slots_array);
  for (const auto& slot : r.slots)
    s += " {" + show(slot.score) + " " + show(slot.start) + " " + show(slot.end) + " " + show(slot.value) + "}";
  return s;
}
std::string show(const std::vector<WordConfidence>& words) {
  std::string s;
  for (const auto& w : words) s += " {" + hex(w.conf) + " " + show(w.word) + "}";
  return s;
}
std::string show(const ErReading& r) {
  std::string s;
  for (const auto& e : r.entities)
    s += " {" + show(e.score) + " " + show(e.value) + " " + std::to_string(e.resolved_null) + " " +
         std::to_string(e.resolved_differs) + "}";
  return s;
}
std::string show(const ResultReading& r) {
  return "object=" + std::to_string(r.object) + " success=" + show(r.success) + " supported=" + show(r.supported) +
         " action=" + std::to_string(r.has_action) + " answer=" + std::to_string(r.has_answer) + " say=" + show(r.say);
}

// Both readings of `document` as `port` would be read, printed. An invalid
// document reads as a discarded DOM, which every reference treats as
// "not an object / not an array": no values.
std::pair<std::string, std::string> both_readings(const std::string& port, const std::string& document) {
  JsonTape tape;
  const json dom = json::parse(document, nullptr, false);
  if (port == "nlu") return {show(read_nlu(document, tape)), show(dom_nlu(dom))};
  if (port == "er") return {show(read_er(document, tape)), show(dom_er(dom))};
  if (port == "result") return {show(read_result(document, tape)), show(dom_result(dom))};
  if (port == "word_conf") return {show(read_word_confidences(document, tape)), show(dom_word_confidences(dom))};
  ADD_FAILURE() << "unknown port " << port;
  return {};
}

struct Document {
  std::string port, text;
};

std::vector<Document> real_documents() {
  std::ifstream in(std::string(FIXTURE_DIR) + "/stage_outputs.jsonl");
  std::vector<Document> out;
  for (std::string line; std::getline(in, line);) {
    const json j = json::parse(line);
    out.push_back({j.at("port").get<std::string>(), j.at("document").get<std::string>()});
  }
  return out;
}

void expect_same(const std::string& port, const std::string& document) {
  const auto [tape, dom] = both_readings(port, document);
  EXPECT_EQ(tape, dom) << port << " document: " << json(document).dump();
}

TEST(LearnedReadings, RealDocumentsReadAsTheDomReadsThem) {
  const auto documents = real_documents();
  std::map<std::string, int> per_port;
  for (const auto& d : documents) ++per_port[d.port];
  // The fixture holds every kind, with the values the features read.
  for (const char* port : {"nlu", "er", "result", "word_conf"}) EXPECT_GE(per_port[port], 20) << port;
  int slots = 0, unresolved = 0, fuzzy = 0;
  for (const auto& d : documents) {
    expect_same(d.port, d.text);
    JsonTape tape;
    if (d.port == "nlu") slots += static_cast<int>(read_nlu(d.text, tape).slots.size());
    if (d.port == "er")
      for (const auto& e : read_er(d.text, tape).entities) {
        unresolved += e.resolved_null && e.value;
        fuzzy += e.resolved_differs;
      }
  }
  EXPECT_GT(slots, 20);
  EXPECT_GT(unresolved, 5);
  EXPECT_GT(fuzzy, 5);
}

// Every prefix of a real document is broken JSON (or, cut at the end,
// the document itself): both must find nothing, or the same.
TEST(LearnedReadings, EveryPrefixReadsAsTheDomReadsIt) {
  for (const auto& d : real_documents())
    for (size_t n = 0; n <= d.text.size(); ++n) expect_same(d.port, d.text.substr(0, n));
}

// Bytes replaced one at a time by what changes the grammar: quotes,
// backslashes, brackets, separators, control and non-UTF-8 bytes.
TEST(LearnedReadings, ReplacedBytesReadAsTheDomReadsThem) {
  const std::string replacements = std::string("\"\\{}[],:0-eE. \x01\xff\xc3", 17) + std::string(1, '\0');
  std::map<std::string, int> taken;
  for (const auto& d : real_documents()) {
    if (++taken[d.port] > 6) continue;  // enough: each is tried at every byte
    for (size_t i = 0; i < d.text.size(); ++i)
      for (const char r : replacements) {
        std::string broken = d.text;
        broken[i] = r;
        expect_same(d.port, broken);
      }
  }
}

TEST(LearnedReadings, HandMadeCasesReadAsTheDomReadsThem) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      // escapes, decoded (the text's length is a feature)
      {"nlu", R"({"text":"caf\u00e9 \"x\" \ud83d\ude00 a\/b\\\n","intent":"a_b","slots":[]})"},
      {"nlu", R"({"text":"lone \ud800 surrogate","intent":"a"})"},
      {"nlu", R"({"text":"lone \udc00 low","intent":"a"})"},
      {"nlu", R"({"text":"bad \x escape","intent":"a"})"},
      {"nlu", R"({"text":"short \u12","intent":"a"})"},
      {"nlu", "{\"text\":\"raw \xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80\",\"intent\":\"a\"}"},
      {"nlu", "{\"text\":\"overlong \xc0\xaf\",\"intent\":\"a\"}"},
      {"nlu", "{\"text\":\"surrogate in utf8 \xed\xa0\x80\",\"intent\":\"a\"}"},
      {"nlu", "{\"text\":\"tab\tinside\",\"intent\":\"a\"}"},
      {"nlu", "\xEF\xBB\xBF{\"text\":\"after a BOM\",\"intent\":\"a\"}"},
      {"nlu", "\xEF\xBB{\"text\":\"half a BOM\"}"},
      // duplicate keys: the last one counts
      {"nlu", R"({"text":"first","text":"second","slots":[{"score":0.1,"score":0.7}],"slots":[{"score":0.2}]})"},
      // types that are not what the features expect
      {"nlu", R"({"text":5,"intent":null,"slots":{"score":1}})"},
      {"nlu", R"({"text":"t","slots":[1,"x",null,[],{"start":"0","end":3,"value":7}]})"},
      {"nlu", R"({"slots":[{"start":-0,"end":-0.0,"score":1E2,"value":""}]})"},
      {"nlu", R"({"slots":[{"start":18446744073709551615,"end":18446744073709551616,"score":-9223372036854775809}]})"},
      {"nlu", R"({"slots":[{"score":1e-400,"start":4.9e-324,"end":2.2250738585072014e-308}]})"},
      {"nlu", R"({"slots":[{"score":1e400}]})"},
      {"nlu", R"({"slots":[{"score":01}]})"},
      {"nlu", R"({"slots":[{"score":1.}]})"},
      {"nlu", R"({"slots":[{"score":.5}]})"},
      {"nlu", R"({"slots":[{"score":+1}]})"},
      {"nlu", R"({"slots":[{"score":-}]})"},
      {"nlu", R"({"slots":[{"score":0.1e+2,"start":1E-2,"end":123456789012345678901234567890}]})"},
      {"nlu", "{\"slots\":[{\"score\":1" + std::string(320, '0') + "}]}"},
      {"nlu", R"({"text":"a",})"},
      {"nlu", R"({"text":"a"} trailing)"},
      {"nlu", R"({"text":"a"}   )"},
      {"nlu", " \t\r\n{ \"text\" : \"spaced\" , \"slots\" : [ { \"score\" : 0.5 } ] } "},
      {"nlu", ""},
      {"nlu", "   "},
      {"nlu", "[]"},
      {"nlu", "null"},
      {"nlu", "tru"},
      {"nlu", std::string(100000, '[') + std::string(100000, ']')},  // deep: no recursion to exhaust
      {"nlu", "{\"a\":" + std::string(50000, '[') + "}"},
      // ER: resolved compared with value as JSON values
      {"er", R"({"entities":[{"value":"x","resolved":"x"},{"value":"x","resolved":"y"},{"value":"x"}]})"},
      {"er", R"({"entities":[{"value":1,"resolved":1.0},{"value":2,"resolved":"2"},{"resolved":{"a":[1]}},{"value":{"b":1,"a":2},"resolved":{"a":2,"b":1}}]})"},
      {"er", R"({"entities":[{"value":null,"resolved":null,"score":0.3},{"value":[1,2],"resolved":[1,2]},{"value":true,"resolved":false}]})"},
      {"er", R"({"entities":[{"value":"caf\u00e9","resolved":"café"},{"value":"a","resolved":"a","resolved":"b"}]})"},
      {"er", R"({"entities":[{"value":18446744073709551615,"resolved":18446744073709551614}]})"},
      {"er", R"({"entities":"none"})"},
      {"er", R"([{"entities":[]}])"},
      // results
      {"result", R"({"success":true,"supported":false,"action":{"x":1},"answer":null,"say":"Which list?"})"},
      {"result", R"({"success":1,"supported":"yes","action":null,"say":5})"},
      {"result", R"({"say":"dup","say":"last"})"},
      {"result", R"("just a string")"},
      // word posteriors
      {"word_conf", R"([{"word":"a","conf":1},{"word":2,"conf":0.5},{"conf":"0.2"},3,{"word":"b"},{"conf":-0}])"},
      {"word_conf", R"({"word":"a","conf":1})"},
      {"word_conf", R"([{"word":"a","conf":1},])"},
  };
  for (const auto& [port, document] : cases) expect_same(port, document);
}

// What the tape does, on its own terms, where nlohmann's reading is the
// reference above: views into the input without escapes, decoded with.
TEST(LearnedJsonTape, StringsAreViewsUnlessEscaped) {
  const std::string document = R"({"plain":"abc","escaped":"a\u00e9\n"})";
  JsonTape tape;
  ASSERT_TRUE(tape.parse(document));
  const auto root = tape.root();
  ASSERT_TRUE(root);
  const std::string_view plain = root->find("plain")->string();
  EXPECT_EQ(plain, "abc");
  EXPECT_GE(plain.data(), document.data());
  EXPECT_LT(plain.data(), document.data() + document.size());
  EXPECT_EQ(root->find("escaped")->string(), "a\xc3\xa9\n");
  EXPECT_FALSE(root->find("missing"));
  EXPECT_FALSE(tape.parse("{\"a\":"));
  EXPECT_FALSE(tape.root());
}

}  // namespace
