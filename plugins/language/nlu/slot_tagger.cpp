#include "nlu/slot_tagger.hpp"

#include "catalog/temporal.hpp"
#include "text/text.hpp"

#include <algorithm>
#include <fstream>
#include <set>
#include <stdexcept>

namespace cascade::language {

using json = nlohmann::json;

SlotTagger SlotTagger::from_json(const json& j, double min_precision) {
  if (!j.is_object() || !j.contains("entries") || !j["entries"].is_array())
    throw std::invalid_argument("slot lexicon: expected an object with an \"entries\" array");
  SlotTagger t;
  t.min_precision_ = min_precision;
  t.max_tokens_ = j.value("max_tokens", static_cast<size_t>(6));
  for (const auto& e : j["entries"]) {
    Entry en;
    en.types = e.at("types").get<std::map<std::string, int>>();
    en.tagged = e.at("tagged").get<int>();
    en.seen = e.at("seen").get<int>();
    t.lexicon_[e.at("phrase").get<std::string>()] = std::move(en);
  }
  if (j.contains("intent_types"))
    t.intent_types_ = j["intent_types"].get<std::map<std::string, std::map<std::string, int>>>();
  if (j.contains("contexts"))
    for (const auto& c : j["contexts"])
      t.contexts_[{c.at("intent").get<std::string>(), c.at("left").get<std::string>(), c.at("right").get<std::string>()}]
                 [c.at("type").get<std::string>()] += c.at("count").get<int>();
  return t;
}

SlotTagger SlotTagger::load(const std::string& path, double min_precision) {
  std::ifstream in(path);
  if (!in) throw std::runtime_error("A010: slot lexicon not found: " + path);
  try {
    return from_json(json::parse(in), min_precision);
  } catch (const std::exception& e) {
    throw std::invalid_argument("A012: " + path + ": " + e.what());
  }
}

namespace {

bool has_date_word(const std::vector<std::string>& toks, size_t b, size_t e) {
  static const std::set<std::string, std::less<>> words{
      "monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday", "today", "tomorrow",
      "yesterday", "tonight", "weekend", "week", "month", "year", "weekdays", "january", "february", "march",
      "april", "june", "july", "august", "september", "october", "november", "december"};
  for (size_t i = b; i < e; ++i) {
    std::string t = toks[i];
    if (t.size() > 2 && t.ends_with("'s")) t.resize(t.size() - 2);
    if (words.count(t) != 0) return true;
  }
  return false;
}
bool has_time_word(const std::vector<std::string>& toks, size_t b, size_t e) {
  static const std::set<std::string, std::less<>> words{"am", "pm", "noon", "midnight", "o'clock", "minutes",
                                                        "minute", "hours", "hour", "oclock"};
  for (size_t i = b; i < e; ++i)
    if (words.count(toks[i]) != 0) return true;
  return false;
}

}  // namespace

void SlotTagger::tag_contexts(const std::vector<std::string>& toks, const std::vector<std::pair<size_t, size_t>>& spans,
                              std::string_view intent, std::vector<TaggedSlot>& out) const {
  static const std::set<std::string, std::less<>> stop{
      "the", "a", "an", "my", "me", "i", "to", "is", "it", "in", "on", "at", "for", "of", "and", "please",
      "what", "what's", "how", "you", "can", "could", "with", "from", "by", "this", "that", "be", "do", "are",
      "some", "any", "all", "up", "out", "off", "now", "tell", "play", "set", "turn", "about", "there", "will"};
  std::vector<bool> covered(toks.size(), false);
  for (const auto& s : out)
    for (size_t k = 0; k < toks.size(); ++k)
      if (spans[k].first >= s.start && spans[k].second <= s.end) covered[k] = true;
  const std::string in(intent);
  std::vector<TaggedSlot> found;
  for (size_t i = 0; i < toks.size();) {
    bool hit = false;
    for (size_t n = std::min<size_t>(3, toks.size() - i); n >= 1 && !hit; --n) {
      bool ok = true;
      for (size_t k = i; k < i + n && ok; ++k) ok = !covered[k] && stop.count(toks[k]) == 0;
      if (!ok) continue;
      std::string left = i == 0 ? "<s>" : toks[i - 1];
      std::string right = i + n == toks.size() ? "</s>" : toks[i + n];
      auto it = contexts_.find({in, left, right});
      if (it == contexts_.end()) continue;
      const std::string* type = nullptr;
      int best = 0;
      for (const auto& [t, c] : it->second)
        if (c > best) {
          best = c;
          type = &t;
        }
      if (best < kMinContext) continue;
      TaggedSlot s;
      s.type = *type;
      s.value = join(toks, i, i + n);
      s.start = spans[i].first;
      s.end = spans[i + n - 1].second;
      s.score = static_cast<double>(best) / (best + 1);
      found.push_back(std::move(s));
      i += n;
      hit = true;
    }
    if (!hit) ++i;
  }
  out.insert(out.end(), found.begin(), found.end());
  std::sort(out.begin(), out.end(), [](const TaggedSlot& a, const TaggedSlot& b) { return a.start < b.start; });
}

std::vector<TaggedSlot> SlotTagger::tag(std::string_view normalized, std::string_view intent) const {
  // Tokens with their byte offsets in `normalized`.
  std::vector<std::string> toks;
  std::vector<std::pair<size_t, size_t>> spans;
  for (size_t pos = 0; pos < normalized.size();) {
    size_t end = normalized.find(' ', pos);
    if (end == std::string_view::npos) end = normalized.size();
    if (end > pos) {
      toks.emplace_back(normalized.substr(pos, end - pos));
      spans.emplace_back(pos, end);
    }
    pos = end + 1;
  }
  const std::map<std::string, int>* prior = nullptr;
  if (auto it = intent_types_.find(std::string(intent)); it != intent_types_.end()) prior = &it->second;
  auto prior_of = [&](const std::string& type) {
    if (prior == nullptr) return 0.1;
    auto it = prior->find(type);
    return (it == prior->end() ? 0.0 : it->second) + 0.1;
  };

  std::vector<TaggedSlot> out;
  for (size_t i = 0; i < toks.size();) {
    bool found = false;
    // Patterns may be longer than any lexicon phrase: try up to 6 tokens.
    for (size_t n = std::min(std::max<size_t>(max_tokens_, 6), toks.size() - i); n >= 1 && !found; --n) {
      std::string phrase = join(toks, i, i + n);
      TaggedSlot s;
      if (auto it = lexicon_.find(phrase); it != lexicon_.end()) {
        const Entry& e = it->second;
        double precision = e.seen > 0 ? static_cast<double>(e.tagged) / e.seen : 0.0;
        if (precision >= min_precision_) {
          double best = -1;
          for (const auto& [type, count] : e.types) {
            double score = count * prior_of(type);
            if (score > best) {
              best = score;
              s.type = type;
            }
          }
          s.score = precision;
        }
      }
      // A pattern span starts and ends on a content word: the normaliser
      // would also accept "at seven am", but the slot is "seven am".
      static const std::set<std::string, std::less<>> edge{"at", "on", "the", "for", "of", "by", "around", "in"};
      if (s.type.empty() && edge.count(toks[i]) == 0 && edge.count(toks[i + n - 1]) == 0) {
        if (has_date_word(toks, i, i + n) && normalize_date(phrase)) {
          s.type = "date";
          s.score = 1.0;
        } else if (has_time_word(toks, i, i + n) && normalize_time(phrase)) {
          s.type = "time";
          s.score = 1.0;
        }
      }
      // "set an alarm for five thirty": a bare clock time right after "at"
      // (or "for" in an alarm request) is a time too.
      if (s.type.empty() && i > 0 && (toks[i - 1] == "at" || (toks[i - 1] == "for" && intent.starts_with("alarm"))) &&
          parse_number(toks, i) && normalize_time(phrase)) {
        s.type = "time";
        s.score = 1.0;
      }
      if (s.type.empty()) continue;
      s.value = phrase;
      s.start = spans[i].first;
      s.end = spans[i + n - 1].second;
      out.push_back(std::move(s));
      i += n;
      found = true;
    }
    if (!found) ++i;
  }
  tag_contexts(toks, spans, intent, out);
  return out;
}

}  // namespace cascade::language
