// features.cpp — the learned isolator's feature vector. The enum and the
// name table below are the whole schema: add a feature by adding both (in
// the same place) and retrain; a model trained on another schema is
// refused by name.
#include "features.hpp"
#include "alternatives.hpp"
#include "common/timing.hpp"
#include "common/words.hpp"
#include "readings.hpp"

#include <array>
#include <cctype>
#include <cmath>
#include <limits>
#include <set>

namespace cascade::learned {
namespace {

using namespace cascade::sdk;
using cascade::analyzers::gap_seconds;
using cascade::analyzers::word_jaccard;
using cascade::analyzers::words;

enum Feature : size_t {
  kWakePresent,
  kWakeDetected,
  kWakeConfidence,
  kWakeScore,
  kHeardStartsWithWakeWord,
  kHeardWords,
  kAsrConfidence,
  kAsrNbestMargin,
  kAsrNbestSize,
  kAsrMinWordConfidence,
  kNluConfidence,
  kNluMargin,
  kNluNbestSpread,
  kNluSecondScore,
  kNluTop2SameDomain,
  kNluSlots,
  kNluTokens,
  kNluMinSlotScore,
  kNluSlotCoverage,
  kErConfidence,
  kErMinEntityScore,
  kErEntities,
  kErUnresolved,
  kErUnresolvedShare,
  kResultPresent,
  kResultSuccess,
  kResultSupported,
  kResultHasAction,
  kResultHasAnswer,
  kStagesRan,
  kStagesSkipped,
  kTurnFailed,
  kTurnLogMs,
  kAsrLogMs,
  kPosition,
  kDialogueTurns,
  kNextOverlap,
  kNextGapS,
  kNextRephrase,
  kNextBargeIn,
  kSilenceAfter,
  kPrevOverlap,
  kPrevSuccess,
  // What the response said (the result's "say"), against the request.
  kSayQuestion,
  kSayEcho,
  kSayFailureNoEcho,
  kUnresolvedNamedInSay,
  // How the recogniser's alternatives and word confidences disagree.
  kAsrNbestOverlap,
  kAsrNbestDiffInSlots,
  kAsrNbestNewWords,
  kAsrWordsPerS,
  kAsrLowWords,
  kAsrLowShare,
  kAsrMeanWordConfidence,
  kAsrSlotMinWordConfidence,
  kNluEntropy,
  kErResolvedChanged,
  // Second opinions on the request from the TRAIN data (checker.hpp).
  kNeighbourSimilarity,
  kNeighbourAgrees,
  kNeighbourIntentShare,
  // The user's reaction (live dialogues only): the next turn against this one.
  kNextSameIntent,
  kNextSuccess,
  kNextGapAfterSayS,
  // The pipeline replayed on the recogniser's other hypotheses (alternatives.hpp).
  kAltReplayed,
  kAltSameResult,
  kAltFirstSame,
  kAltSuccess,
  // What a wake stage that did not fire leaves: the room's noise, and
  // whether a permissive second decode found the wake word, and where.
  kWakeSnrDb,
  kWakeNearMiss,
  kWakeNearMissStartS,
  // The trainer's per-intent table (intent_prior.hpp): missing here, filled
  // by the trainer (out of fold) and by the plugin from the model.
  kIntentPriorFirst,
  kIntentPriorLast = kIntentPriorFirst + 5,
  kFeatureCount
};

constexpr std::array<const char*, kFeatureCount> kNames = {
    "wake_present", "wake_detected", "wake_confidence", "wake_score", "heard_starts_with_wake_word", "heard_words",
    "asr_confidence", "asr_nbest_margin", "asr_nbest_size", "asr_min_word_confidence",
    "nlu_confidence", "nlu_margin", "nlu_nbest_spread", "nlu_second_score", "nlu_top2_same_domain", "nlu_slots",
    "nlu_tokens", "nlu_min_slot_score", "nlu_slot_coverage",
    "er_confidence", "er_min_entity_score", "er_entities", "er_unresolved", "er_unresolved_share",
    "result_present", "result_success", "result_supported", "result_has_action", "result_has_answer",
    "stages_ran", "stages_skipped", "turn_failed", "turn_log_ms", "asr_log_ms",
    "position", "dialogue_turns", "next_overlap", "next_gap_s", "next_rephrase", "next_barge_in", "silence_after",
    "prev_overlap", "prev_success",
    "say_question", "say_echo", "say_failure_no_echo", "unresolved_named_in_say",
    "asr_nbest_overlap", "asr_nbest_diff_in_slots", "asr_nbest_new_words", "asr_words_per_s", "asr_low_words",
    "asr_low_share", "asr_mean_word_confidence", "asr_slot_min_word_confidence", "nlu_entropy", "er_resolved_changed",
    "neighbour_similarity", "neighbour_agrees", "neighbour_intent_share",
    "next_same_intent", "next_success", "next_gap_after_say_s",
    "alt_replayed", "alt_same_result", "alt_first_same", "alt_success",
    "wake_snr_db", "wake_near_miss", "wake_near_miss_start_s",
    "intent_prior_false_wake", "intent_prior_asr", "intent_prior_nlu", "intent_prior_er", "intent_prior_result",
    "intent_prior_correct"};

// A name missing from kNames would be a null entry at the end.
constexpr bool every_feature_named() {
  for (const char* n : kNames)
    if (n == nullptr) return false;
  return true;
}
static_assert(every_feature_named(), "every Feature needs its name in kNames, in the same order");

constexpr double kMissing = std::numeric_limits<double>::quiet_NaN();

// A recognised word below this posterior counts as unsure.
constexpr double kLowWordConfidence = 0.9;

// Transparent: a word read as a view is looked up without a copy.
using WordSet = std::set<std::string, std::less<>>;
WordSet word_set(std::string_view text) {
  auto w = words(text);
  return WordSet(std::make_move_iterator(w.begin()), std::make_move_iterator(w.end()));
}

// Words too common to say whether a response echoes the request.
const WordSet kFillers = {"a",  "an", "the", "to",   "of",     "in",   "on", "for",  "my",   "me",    "i",  "is",
                          "it", "at", "be",  "please", "can", "you", "what", "what's", "and", "or", "with", "by",
                          "this", "that"};


// Whether the device received speech: a stage read audio. Then the
// turn's text input is not what the device got but what a simulator spoke
// (speechsim reads the script and writes audio): the gold transcript, which
// no isolator may read.
bool received_speech(const TurnView& t) {
  for (const StageView& s : t.stages())
    if (auto in = s.input("audio"); in && in->type() == PayloadType::Audio) return true;
  return false;
}

// What the device heard, wake word included: the ASR stage's text input
// (a text pipeline), else its transcript, else the turn's text input when
// that is what the device received (not a simulator's script). Empty when
// nothing was recognised (e.g. the device did not wake).
std::string heard_text(const TurnView& t) {
  if (auto asr = t.stage("asr")) {
    if (auto in = asr->input("text")) return std::string(in->bytes());
    if (auto out = asr->output("text")) return std::string(out->bytes());
  }
  if (t.input().type() == PayloadType::Text && !received_speech(t)) return std::string(t.input().bytes());
  return {};
}

// The tapes the stages' JSON outputs are read with (readings.hpp): one
// per document whose reading a turn's features hold at once, kept per
// analyze() thread so that their buffers serve turn after turn instead of
// being allocated again for each.
struct Tapes {
  JsonTape nlu, word_conf, er, result, dialogue_result;
};
Tapes& tapes() {
  thread_local Tapes per_thread;
  return per_thread;
}

ResultReading result_of(const TurnView& t, JsonTape& tape) {
  if (auto result = t.stage("result"))
    if (auto out = result->output("result")) return read_result(out->bytes(), tape);
  return {};
}

double flag(bool b) { return b ? 1.0 : 0.0; }

double log_ms(double ms) { return std::log1p(std::max(0.0, ms)); }

// The NLU's JSON output: {"text", "slots": [{"start","end","score",...}]}:
// the least sure slot, and how much of the request the slots cover (a
// request mostly left out of every slot, or one slot swallowing it all,
// is often misread). Returns the words of the slots' values.
// The same output's request and intent go to the checker (a second
// opinion from the TRAIN data), when the plugin loaded one.
WordSet slot_features(const StageView& nlu, const FeatureOptions& o, std::vector<double>& f) {
  WordSet slot_words;
  const auto out = nlu.output("nlu");
  if (!out) return slot_words;
  const NluReading reading = read_nlu(out->bytes(), tapes().nlu);
  if (!reading.object) return slot_words;
  if (o.checker != nullptr && reading.text && reading.intent) {
    const CheckerOpinion c = o.checker->check(*reading.text, *reading.intent);
    f[kNeighbourSimilarity] = c.knn_similarity;
    f[kNeighbourAgrees] = c.knn_agrees;
    f[kNeighbourIntentShare] = c.knn_intent_share;
  }
  if (!reading.slots_array) return slot_words;
  const double length = reading.text ? static_cast<double>(reading.text->size()) : 0;
  double covered = 0;
  for (const auto& slot : reading.slots) {
    if (slot.score) f[kNluMinSlotScore] = std::fmin(f[kNluMinSlotScore], *slot.score);
    if (slot.start && slot.end) covered += *slot.end - *slot.start;
    if (slot.value) slot_words.merge(word_set(*slot.value));
  }
  if (length > 0) f[kNluSlotCoverage] = covered / length;
  return slot_words;
}

// How sure the recogniser was, beyond its confidence: whether its top two
// hypotheses differ, and whether they differ in the words the slots were
// read from (an alternative that changes "call" to "cool" matters less than
// one that changes the contact's name); the words the alternatives hold
// that the 1-best lacks; speaking rate (a garbled decode often has too few
// or too many words for its audio); and the per-word posteriors
// (text feature "word_conf": [{"word","conf"},...]), over all words and
// over the slots' words.
void recognition_features(const StageView& asr, const WordSet& slot_words, std::vector<double>& f) {
  const auto nbest = asr.nbest();
  if (nbest.size() >= 2) {
    const WordSet first = word_set(nbest[0].first), second = word_set(nbest[1].first);
    size_t common = 0, differing = 0, differing_in_slots = 0;
    for (const auto& w : first) common += second.count(w);
    for (const WordSet* side : {&first, &second})
      for (const auto& w : *side)
        if (!(side == &first ? second : first).contains(w)) {
          ++differing;
          differing_in_slots += slot_words.count(w);
        }
    const size_t either = first.size() + second.size() - common;
    f[kAsrNbestOverlap] = either > 0 ? static_cast<double>(common) / static_cast<double>(either) : 1.0;
    f[kAsrNbestDiffInSlots] = differing > 0 ? static_cast<double>(differing_in_slots) / static_cast<double>(differing) : 0.0;
    WordSet new_words;
    for (size_t i = 1; i < nbest.size(); ++i)
      for (auto& w : words(nbest[i].first))
        if (!first.contains(w)) new_words.insert(std::move(w));
    f[kAsrNbestNewWords] = static_cast<double>(new_words.size());
  }
  const double duration = asr.feature("duration_s").value_or(0.0);
  if (duration > 0) f[kAsrWordsPerS] = asr.feature("n_words").value_or(0.0) / duration;
  const auto word_conf = asr.text_feature("word_conf");
  if (!word_conf) return;
  double sum = 0, low = 0, n = 0;
  for (const auto& [conf, word] : read_word_confidences(*word_conf, tapes().word_conf)) {
    sum += conf;
    low += flag(conf < kLowWordConfidence);
    n += 1;
    if (word && slot_words.contains(*word))
      f[kAsrSlotMinWordConfidence] = std::fmin(f[kAsrSlotMinWordConfidence], conf);  // fmin skips NaN
  }
  if (n == 0) return;
  f[kAsrLowWords] = low;
  f[kAsrLowShare] = low / n;
  f[kAsrMeanWordConfidence] = sum / n;
}

// What the response said (the result's "say"): a question back ("Which
// list?": something was missing), how much of it echoes the request's own
// words ("I couldn't find next episode." names what failed), a failure of
// a supported request that names nothing the user said ("Sorry, something
// went wrong.": the skill itself), and whether it names an entity the ER
// stage left unresolved.
void response_features(const ResultReading& result, const WordSet& heard,
                       const std::vector<std::string_view>& unresolved, bool has_er, std::vector<double>& f) {
  if (!result.say) return;
  const std::string_view say = *result.say;
  const auto said = words(say);
  const size_t end = say.find_last_not_of(" \t\n");
  const bool question = end != std::string::npos && say[end] == '?';
  double content = 0, echoed = 0;
  for (const auto& w : said) {
    if (kFillers.contains(w)) continue;
    content += 1;
    echoed += flag(heard.contains(w));
  }
  f[kSayQuestion] = flag(question);
  f[kSayEcho] = content > 0 ? echoed / content : 0.0;
  f[kSayFailureNoEcho] =
      flag(!result.success.value_or(false) && result.supported.value_or(true) && echoed == 0 && !question);
  if (!has_er) return;
  const WordSet said_set(said.begin(), said.end());
  bool named = false;
  for (const auto& value : unresolved)
    for (const auto& w : words(value)) named = named || said_set.contains(w);
  f[kUnresolvedNamedInSay] = flag(named);
}

void stage_features(const TurnView& t, const FeatureOptions& o, std::vector<double>& f) {
  if (auto wake = t.stage("wake")) {
    f[kWakePresent] = 1;
    f[kWakeDetected] = wake->feature("detected").value_or(kMissing);
    f[kWakeConfidence] = wake->confidence().value_or(kMissing);
    f[kWakeScore] = wake->feature("score").value_or(kMissing);
    f[kWakeSnrDb] = wake->feature("snr_db").value_or(kMissing);
    f[kWakeNearMiss] = wake->feature("near_miss").value_or(kMissing);
    f[kWakeNearMissStartS] = wake->feature("near_miss_start_s").value_or(kMissing);
  } else {
    f[kWakePresent] = 0;
  }
  const auto heard = words(heard_text(t));
  f[kHeardWords] = static_cast<double>(heard.size());
  f[kHeardStartsWithWakeWord] = heard.empty() ? kMissing : flag(heard.front() == o.wake_word);

  WordSet slot_words;
  std::vector<std::string_view> unresolved_values;
  if (auto asr = t.stage("asr")) {
    f[kAsrConfidence] = asr->confidence().value_or(kMissing);
    const auto nbest = asr->nbest();
    f[kAsrNbestSize] = static_cast<double>(nbest.size());
    if (nbest.size() >= 2) f[kAsrNbestMargin] = nbest[0].second - nbest[1].second;
    f[kAsrMinWordConfidence] = asr->feature("min_word_conf").value_or(kMissing);
    f[kAsrLogMs] = log_ms(asr->millis());
  }
  if (auto nlu = t.stage("nlu")) {
    f[kNluConfidence] = nlu->confidence().value_or(kMissing);
    f[kNluMargin] = nlu->feature("margin").value_or(kMissing);
    const auto nbest = nlu->nbest();
    if (nbest.size() >= 2) {
      f[kNluNbestSpread] = nbest.front().second - nbest.back().second;
      f[kNluSecondScore] = nbest[1].second;
      // Intents are domain_action (iot_hue_lightup): a runner-up from the
      // same domain is a near miss, one from another domain a confusion.
      const auto domain = [](std::string_view intent) { return intent.substr(0, intent.find('_')); };
      f[kNluTop2SameDomain] = flag(domain(nbest[0].first) == domain(nbest[1].first));
    }
    f[kNluSlots] = nlu->feature("slots").value_or(kMissing);
    f[kNluTokens] = nlu->feature("tokens").value_or(kMissing);
    slot_words = slot_features(*nlu, o, f);
    // The n-best's entropy, the mass it does not list counted as one more
    // outcome.
    double listed = 0, entropy = 0;
    for (const auto& [intent, p] : nbest)
      if (p > 0) {
        listed += p;
        entropy -= p * std::log(p);
      }
    if (listed > 0) f[kNluEntropy] = entropy - (listed < 1 ? (1 - listed) * std::log(1 - listed) : 0.0);
  }
  if (auto asr = t.stage("asr")) recognition_features(*asr, slot_words, f);
  if (auto er = t.stage("er")) {
    f[kErConfidence] = er->confidence().value_or(kMissing);
    const double entities = er->feature("entities").value_or(kMissing);
    const double unresolved = er->feature("unresolved").value_or(kMissing);
    f[kErEntities] = entities;
    f[kErUnresolved] = unresolved;
    if (entities > 0) f[kErUnresolvedShare] = unresolved / entities;
    if (auto out = er->output("er")) {
      double changed = 0;
      for (const auto& entity : read_er(out->bytes(), tapes().er).entities) {
        if (entity.score) f[kErMinEntityScore] = std::fmin(f[kErMinEntityScore], *entity.score);  // fmin skips NaN
        if (entity.resolved_null && entity.value) unresolved_values.push_back(*entity.value);
        // Resolved to something other than what was said: a fuzzy match.
        changed += flag(entity.resolved_differs);
      }
      f[kErResolvedChanged] = changed;
    }
  }
  const ResultReading res = result_of(t, tapes().result);
  f[kResultPresent] = flag(res.object);
  if (res.object) {
    f[kResultSuccess] = flag(res.success.value_or(false));
    f[kResultSupported] = flag(res.supported.value_or(true));
    f[kResultHasAction] = flag(res.has_action);
    f[kResultHasAnswer] = flag(res.has_answer);
    response_features(res, WordSet(heard.begin(), heard.end()), unresolved_values, t.stage("er").has_value(), f);
  }
  double ran = 0, skipped = 0;
  for (const StageView& s : t.stages()) {
    ran += flag(s.status() == StageStatus::Ok);
    skipped += flag(s.status() == StageStatus::Skipped);
  }
  f[kStagesRan] = ran;
  f[kStagesSkipped] = skipped;
  f[kTurnFailed] = flag(t.status() != TurnStatus::Ok);
  f[kTurnLogMs] = log_ms(static_cast<double>(t.end_ns() - t.start_ns()) / 1e6);
}

// How long the device spoke its response: 1 s plus 65 ms a character of
// what it said (the speaking rate tools/simulate assumes). A next turn that
// starts before that interrupted it: a barge-in.
double speaking_seconds(const ResultReading& r) {
  return 1.0 + 0.065 * static_cast<double>(r.say ? r.say->size() : 0);
}

// Whether a turn's result succeeded: the result stage's "success" feature,
// which says it without parsing its output, else the output's key.
std::optional<bool> success_of(const TurnView& t, JsonTape& tape) {
  const auto result = t.stage("result");
  if (const auto success = result ? result->feature("success") : std::nullopt) return *success > 0.5;
  if (const ResultReading res = result_of(t, tape); res.object) return res.success.value_or(false);
  return std::nullopt;
}

}  // namespace

std::string_view top_intent(const TurnView& t) {
  if (auto nlu = t.stage("nlu")) {
    const auto nbest = nlu->nbest();
    if (!nbest.empty()) return nbest.front().first;
  }
  return {};
}

size_t intent_prior_column() { return kIntentPriorFirst; }

namespace {

// The user's reaction to the turn: what they did next. Only a live
// dialogue has one: in a scripted dialogue (eval dialogues, requests
// replayed from a log) the next request was written before this one ran,
// so these stay missing rather than teach the model that nobody reacts.
void reaction_features(const Analysis& a, const TurnView& now, const std::string& said, const FeatureOptions& o,
                       std::vector<double>& f) {
  const uint32_t i = a.position();
  if (i + 1 >= a.dialogue_size()) {
    f[kNextRephrase] = 0;
    f[kNextBargeIn] = 0;
    f[kSilenceAfter] = 1;
    return;
  }
  const TurnView next = a.dialogue(i + 1);
  const double gap = gap_seconds(now, next);
  const double speaking = speaking_seconds(result_of(now, tapes().dialogue_result));
  f[kNextOverlap] = word_jaccard(said, heard_text(next));
  f[kNextGapS] = gap;
  f[kNextGapAfterSayS] = gap - speaking;
  f[kNextRephrase] = flag(gap <= o.rephrase_gap_s && f[kNextOverlap] >= o.rephrase_min);
  f[kNextBargeIn] = flag(gap < speaking);
  f[kSilenceAfter] = flag(gap > o.rephrase_gap_s);
  // The same intent again: the NLU read both tries alike, so a failure
  // was more likely downstream of it (or it failed the same way twice).
  const std::string_view intent = top_intent(now), next_intent = top_intent(next);
  if (!intent.empty() && !next_intent.empty()) f[kNextSameIntent] = flag(intent == next_intent);
  if (const auto ok = success_of(next, tapes().dialogue_result)) f[kNextSuccess] = flag(*ok);
}

// The turn in its dialogue: where it is, how it relates to the turn
// before, and (live dialogues) the user's reaction to it.
void dialogue_features(const Analysis& a, const FeatureOptions& o, std::vector<double>& f) {
  const uint32_t n = a.dialogue_size();
  if (n == 0) return;  // the analyzer did not ask for the dialogue
  const uint32_t i = a.position();
  const TurnView now = a.dialogue(i);
  const std::string said = heard_text(now);
  f[kPosition] = static_cast<double>(i);
  f[kDialogueTurns] = static_cast<double>(n);
  if (o.live_dialogue) reaction_features(a, now, said, o, f);
  if (i > 0) {
    const TurnView prev = a.dialogue(i - 1);
    f[kPrevOverlap] = word_jaccard(said, heard_text(prev));
    if (const auto ok = success_of(prev, tapes().dialogue_result)) f[kPrevSuccess] = flag(*ok);
  }
}

}  // namespace

const std::vector<const char*>& classes() {
  static const std::vector<const char*> c = CASCADE_FAILURE_POINTS;
  return c;
}

const std::vector<std::string>& feature_names() {
  static const std::vector<std::string> names(kNames.begin(), kNames.end());
  return names;
}

std::vector<double> extract_features(const Analysis& a, const FeatureOptions& options) {
  std::vector<double> f(kFeatureCount, kMissing);
  stage_features(a.turn(), options, f);
  dialogue_features(a, options, f);
  const AlternativeOutcomes alt = replay_alternatives(a, options.alternatives);
  f[kAltReplayed] = alt.replayed;
  f[kAltSameResult] = alt.same_result;
  f[kAltFirstSame] = alt.first_same;
  f[kAltSuccess] = alt.success;
  return f;
}

std::string class_of_stage(std::string_view stage) {
  if (stage == "wake" || stage == "speech") return "false_wake";
  if (stage == "asr" || stage == "request") return "asr";
  if (stage == "nlu" || stage == "er") return std::string(stage);
  return "result";
}

std::optional<DirectAttribution> direct_attribution(const TurnView& t) {
  for (const StageView& s : t.stages()) {
    if (did_not_finish(s.status()))
      return DirectAttribution{class_of_stage(s.id()), std::string(s.id()), std::string(to_string(s.status())),
                               std::string(s.error_message())};
  }
  return std::nullopt;
}

}  // namespace cascade::learned
