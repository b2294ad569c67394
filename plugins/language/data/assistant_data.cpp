#include "data/assistant_data.hpp"

#include "text/text.hpp"
#include "world/world.hpp"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <stdexcept>
#include <tuple>

namespace cascade::language::data {

using json = nlohmann::json;

size_t train_fold(long slurp_id, size_t folds) noexcept {
  return folds == 0 ? 0 : static_cast<size_t>(stable_hash(std::to_string(slurp_id)) % folds);
}

Record parse_record(const json& j) {
  Record r;
  r.slurp_id = j.at("slurp_id").get<long>();
  r.sentence = j.at("sentence").get<std::string>();
  r.intent = j.at("intent").get<std::string>();
  r.normalized = normalize_sentence(r.sentence);
  r.annotations = parse_annotation(j.at("sentence_annotation").get<std::string>());
  return r;
}

std::vector<Record> read_records(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw std::runtime_error("error[A010]: input file not found: " + path);
  std::vector<Record> out;
  std::string line;
  size_t n = 0;
  while (std::getline(in, line)) {
    ++n;
    if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
    try {
      out.push_back(parse_record(json::parse(line)));
    } catch (const std::exception& e) {
      throw std::runtime_error(path + ":" + std::to_string(n) + ": error[A012]: " + e.what());
    }
  }
  return out;
}

json gold_nlu(const Record& r) {
  json slots = json::array();
  for (const auto& a : r.annotations) slots.push_back({{"type", a.type}, {"value", a.value}});
  return {{"intent", r.intent}, {"slots", std::move(slots)}};
}

json gold_er(const Record& r, const Catalog& catalog) {
  json ents = json::array();
  for (const auto& a : r.annotations) {
    auto res = catalog.resolve(a.type, a.value);
    ents.push_back({{"type", a.type},
                    {"value", a.value},
                    {"resolved", res.resolved ? json(*res.resolved) : json(nullptr)}});
  }
  return {{"intent", r.intent}, {"entities", std::move(ents)}};
}

json gold_turn(const Record& r, const Catalog& catalog, const World& world) {
  json er = gold_er(r, catalog);
  json result = world.execute(er);
  return {{"wake", {{"detected", true}}},
          {"asr", {{"text", r.normalized}}},
          {"nlu", gold_nlu(r)},
          {"er", std::move(er)},
          {"result", std::move(result)}};
}

namespace {

// ISO 8601 UTC for 2026-01-15T09:00:00Z + seconds.
std::string timestamp(long offset_seconds) {
  using namespace std::chrono;
  sys_seconds base = sys_days{year{2026} / January / 15} + hours{9};
  sys_seconds t = base + seconds{offset_seconds};
  auto day = floor<days>(t);
  year_month_day ymd{day};
  hh_mm_ss hms{t - day};
  char buf[64];
  std::snprintf(buf, sizeof buf, "%04d-%02u-%02uT%02ld:%02ld:%02ldZ", static_cast<int>(ymd.year()),
                static_cast<unsigned>(ymd.month()), static_cast<unsigned>(ymd.day()),
                static_cast<long>(hms.hours().count()), static_cast<long>(hms.minutes().count()),
                static_cast<long>(hms.seconds().count()));
  return buf;
}

// Counts, over TRAIN, how often each annotated phrase is tagged (per type)
// and how often it occurs at all as a token n-gram. The slot tagger keeps a
// phrase only when it is usually an entity ("play" never is, "kitchen"
// nearly always is).
json build_lexicon(const std::vector<const Record*>& train) {
  std::map<std::string, std::map<std::string, int>> tagged;  // phrase -> type -> n
  std::map<std::string, std::map<std::string, int>> intent_types;
  std::map<std::string, int> intent_counts;
  size_t max_len = 1;
  for (const Record* r : train) {
    ++intent_counts[r->intent];
    for (const auto& a : r->annotations) {
      ++tagged[a.value][a.type];
      ++intent_types[r->intent][a.type];
      max_len = std::max(max_len, a.token_end - a.token_begin);
    }
  }
  max_len = std::min<size_t>(max_len, 6);
  // Context patterns: (intent, word before, word after) -> type, for the
  // values the gazetteer has never seen ("weather in <sydney>").
  std::map<std::tuple<std::string, std::string, std::string, std::string>, int> contexts;
  for (const Record* r : train) {
    auto toks = tokenize(r->normalized);
    for (const auto& a : r->annotations) {
      if (a.token_end > toks.size() || join(toks, a.token_begin, a.token_end) != a.value) continue;
      std::string left = a.token_begin == 0 ? "<s>" : toks[a.token_begin - 1];
      std::string right = a.token_end == toks.size() ? "</s>" : toks[a.token_end];
      ++contexts[{r->intent, left, right, a.type}];
    }
  }
  std::map<std::string, int> seen;
  for (const Record* r : train) {
    auto toks = tokenize(r->normalized);
    for (size_t i = 0; i < toks.size(); ++i)
      for (size_t n = 1; n <= max_len && i + n <= toks.size(); ++n) {
        std::string p = join(toks, i, i + n);
        if (tagged.count(p) != 0) ++seen[p];
      }
  }
  json entries = json::array();
  for (const auto& [phrase, types] : tagged) {
    int total = 0;
    for (const auto& [t, n] : types) total += n;
    entries.push_back({{"phrase", phrase}, {"types", types}, {"tagged", total}, {"seen", std::max(seen[phrase], total)}});
  }
  json ctx = json::array();
  for (const auto& [k, n] : contexts)
    ctx.push_back({{"intent", std::get<0>(k)}, {"left", std::get<1>(k)}, {"right", std::get<2>(k)},
                   {"type", std::get<3>(k)}, {"count", n}});
  return {{"version", 1}, {"max_tokens", max_len}, {"entries", std::move(entries)}, {"contexts", std::move(ctx)},
          {"intent_types", intent_types}, {"intent_counts", intent_counts}};
}

}  // namespace

DialogueLayout::DialogueLayout(const Options& opt)
    : users_(std::max<size_t>(1, opt.users)), prefix_(opt.dialogue_prefix) {}

json DialogueLayout::header() const {
  char num[16];
  std::snprintf(num, sizeof num, "%04zu", dialogue_ + 1);
  const std::string did = prefix_ + num;
  return {{"dialogue_id", did},
          {"user_id", "u" + std::to_string(1 + dialogue_ % users_)},
          {"turn_index", turn_index_},
          {"turn_id", did + "-" + std::to_string(turn_index_)},
          {"timestamp", timestamp(clock_)}};
}

json DialogueLayout::next_addressed() {
  if (started_ && addressed_in_dialogue_ == 1 + dialogue_ % 3) {
    ++dialogue_;
    addressed_in_dialogue_ = 0;
    turn_index_ = 0;
  }
  if (addressed_in_dialogue_ == 0) clock_ = static_cast<long>(dialogue_) * 600;  // a dialogue every 10 minutes
  started_ = true;
  json h = header();
  ++addressed_in_dialogue_;
  ++turn_index_;
  clock_ += 20;
  return h;
}

json DialogueLayout::next_background() {
  clock_ -= 10;  // 10 s after the addressed turn before it
  json h = header();
  ++turn_index_;
  clock_ += 20;
  return h;
}

Output build(const std::vector<Record>& records, const Options& opt) {
  Output out;
  const bool fold_mode = opt.folds >= 2;
  if (fold_mode && opt.fold >= opt.folds)
    throw std::invalid_argument("error[A012]: fold " + std::to_string(opt.fold) + " of " + std::to_string(opt.folds) +
                                ": want 0 <= fold < folds");
  std::vector<const Record*> train, eval, heldout;
  std::set<long> ids;
  for (const auto& r : records) {
    if (!ids.insert(r.slurp_id).second)
      throw std::runtime_error("error[A012]: duplicate slurp_id " + std::to_string(r.slurp_id));
    out.split.emplace_back(r.slurp_id, is_eval(r.slurp_id));
    if (is_eval(r.slurp_id))
      eval.push_back(&r);
    else if (fold_mode && train_fold(r.slurp_id, opt.folds) == opt.fold)
      heldout.push_back(&r);
    else
      train.push_back(&r);
  }
  out.train_records = train.size();
  out.eval_records = eval.size();
  out.heldout_records = heldout.size();

  // No leakage: a TRAIN sentence whose text equals an EVAL sentence (or, in
  // fold mode, a held-out one) is left out of the training files (the split
  // itself stays id-based).
  std::set<std::string> eval_text;
  for (const Record* r : eval) eval_text.insert(r->normalized);
  for (const Record* r : heldout) eval_text.insert(r->normalized);
  std::set<std::string> seen_sentence;
  std::vector<const Record*> used;
  for (const Record* r : train) {
    if (r->normalized.empty()) continue;
    if (eval_text.count(r->normalized) != 0) {
      ++out.dropped_duplicates;
      continue;
    }
    used.push_back(r);
    out.train_fasttext.push_back("__label__" + r->intent + " " + r->normalized);
    if (seen_sentence.insert(r->normalized).second) {
      out.train_sentences.push_back(r->normalized);
      // The ASR hears the whole utterance, wake word included (the wake
      // stage forwards it all): its language model must know that form too.
      if (!opt.wake_word.empty()) out.train_sentences.push_back(opt.wake_word + " " + r->normalized);
    }
    for (const auto& a : r->annotations) out.catalog.add(a.type, a.value);
  }
  out.slot_lexicon = build_lexicon(used);

  // Dialogues: EVAL records (fold mode: the held-out fold's) by slurp_id,
  // in groups of 1, 2, 3, 1, 2, 3, ...
  if (fold_mode) eval = std::move(heldout);
  std::sort(eval.begin(), eval.end(), [](const Record* a, const Record* b) { return a->slurp_id < b->slurp_id; });
  const World world = World::initial();
  DialogueLayout layout(opt);
  size_t addressed = 0;
  for (size_t k = 0; k < eval.size(); ++k) {
    const Record& r = *eval[k];
    json turn = layout.next_addressed();
    // The small file ends where its last dialogue ends (background turns included).
    if (layout.dialogue() == opt.small_dialogues && turn["turn_index"] == 0) out.small_turns = out.eval_turns.size();
    turn["addressed"] = true;
    turn["slurp_id"] = r.slurp_id;
    turn["payload"] = {{"text", opt.wake_word.empty() ? r.sentence : opt.wake_word + " " + r.sentence}};
    turn["gold"] = gold_turn(r, out.catalog, world);
    out.eval_turns.push_back(std::move(turn));
    ++addressed;
    if (opt.false_wake_every > 0 && addressed % opt.false_wake_every == 0 && eval.size() > 1) {
      // Background speech: another EVAL sentence, said without the wake
      // word by someone not talking to the device.
      size_t other = (k + 1 + (addressed * 7) % (eval.size() - 1)) % eval.size();
      if (other == k) other = (k + 1) % eval.size();
      json bg = layout.next_background();
      bg["addressed"] = false;
      bg["slurp_id"] = eval[other]->slurp_id;
      bg["payload"] = {{"text", eval[other]->sentence}};
      bg["gold"] = {{"wake", {{"detected", false}}}, {"asr", nullptr}, {"nlu", nullptr}, {"er", nullptr}, {"result", nullptr}};
      out.eval_turns.push_back(std::move(bg));
    }
  }
  out.dialogues = layout.dialogues();
  if (out.dialogues <= opt.small_dialogues) out.small_turns = out.eval_turns.size();
  return out;
}

namespace {
// Writes `bytes` to `p` unless the file already holds exactly them: the
// build's restat then sees unchanged data and does not retrain the models
// made from it when only this tool was rebuilt.
void write_if_changed(const std::filesystem::path& p, const std::string& bytes) {
  {
    std::ifstream old(p, std::ios::binary);
    if (old) {
      std::ostringstream have;
      have << old.rdbuf();
      if (have.str() == bytes) return;
    }
  }
  std::ofstream f(p, std::ios::binary | std::ios::trunc);
  if (!f || !(f << bytes) || !f.flush()) throw std::runtime_error("error[A012]: cannot write " + p.string());
}
}  // namespace

void write(const Output& out, const std::string& dir) {
  namespace fs = std::filesystem;
  fs::create_directories(dir);
  fs::path d(dir);
  std::ostringstream sentences, fasttext, split, all, small;
  for (const auto& s : out.train_sentences) sentences << s << '\n';
  for (const auto& s : out.train_fasttext) fasttext << s << '\n';
  split << "slurp_id\tsplit\n";
  for (const auto& [id, ev] : out.split) split << id << '\t' << (ev ? "EVAL" : "TRAIN") << '\n';
  for (size_t i = 0; i < out.eval_turns.size(); ++i) {
    const std::string line = out.eval_turns[i].dump();
    all << line << '\n';
    if (i < out.small_turns) small << line << '\n';
  }
  write_if_changed(d / "train_sentences.txt", sentences.str());
  write_if_changed(d / "train_fasttext.txt", fasttext.str());
  write_if_changed(d / "catalog.json", out.catalog.to_json().dump(1) + "\n");
  write_if_changed(d / "slot_lexicon.json", out.slot_lexicon.dump(1) + "\n");
  write_if_changed(d / "split.tsv", split.str());
  write_if_changed(d / "eval_dialogues.jsonl", all.str());
  write_if_changed(d / "eval_dialogues_small.jsonl", small.str());
}

}  // namespace cascade::language::data
