// eval/fpi_train_folds.cpp — the TRAIN-fold runs of `cascade eval fpi`
// (fpi_train_folds.hpp).
#include "eval/fpi_train_folds.hpp"

#include "error_model.hpp"
#include "rng.hpp"
#include "trace_turns.hpp"

#include "text/text.hpp"

#include <cascade/core/baselines.hpp>
#include <cascade/trace/reader.hpp>

#include <nlohmann/json.hpp>

#include <algorithm>
#include <fstream>
#include <optional>
#include <set>
#include <stdexcept>

namespace cascade::language::eval {
namespace {

using nlohmann::json;

// The channel's only voice and noise level: it is estimated from the train
// side of every run it learns from, pooled, and applied as it is.
constexpr const char* kPooled = "pooled";

// A recogniser channel, and whether it knows the recogniser's confidence.
struct TrainSideChannel {
  sim::AsrChannel channel;
  bool confidence = true;  // false: the recogniser logged none; never write one
};

// The recogniser channel from the train side of the plain speech runs or,
// without any (a --pipeline of recorded-ASR turns), of every plain run
// whose asr stage wrote text; nullopt when no turn teaches it (none, or a
// recogniser that never erred, as a text pipeline's normaliser).
std::optional<TrainSideChannel> train_side_channel(const std::vector<FpiRun>& scored,
                                                   const std::filesystem::path& sentences) {
  const bool have_speech = std::any_of(scored.begin(), scored.end(), [](const FpiRun& r) {
    return r.variant.family == "speech" && r.variant.degradation.empty();
  });
  std::vector<sim::AsrTurn> turns;
  for (const auto& r : scored) {
    if (!r.variant.degradation.empty() || (have_speech && r.variant.family != "speech")) continue;
    const auto more = sim::asr_turns(
        trace::read_turns(r.trace), [](const trace::Turn& t) { return cascade::split_side(t.id.dialogue_id) == "train"; },
        /*require_confidence=*/false);
    turns.insert(turns.end(), more.begin(), more.end());
  }
  if (turns.empty()) return std::nullopt;
  sim::AsrErrorModel model = sim::estimate(turns, kPooled);
  if (model.substitutions + model.deletions + model.insertions == 0) return std::nullopt;
  auto& buckets = model.confidence[kPooled].buckets;
  const bool confidence = buckets[0].turns > 0;
  // Without a logged confidence, every bucket holds a placeholder the
  // channel draws and the runs never write (write_recorded's text_only).
  if (!confidence) buckets[0] = {1, {1.0}};
  // A bucket no train-side turn fell in borrows the nearest one below.
  for (size_t b = 1; b < sim::kErrorBuckets; ++b)
    if (buckets[b].turns == 0) buckets[b] = buckets[b - 1];
  model.voice_factor = {{kPooled, 1.0}};
  model.snr_factor = {{kPooled, 1.0}};
  std::set<std::string> vocabulary;
  std::ifstream f(sentences);
  for (std::string line; std::getline(f, line);)
    for (auto& w : tokenize(line)) vocabulary.insert(std::move(w));
  return TrainSideChannel{sim::AsrChannel(std::move(model), {vocabulary.begin(), vocabulary.end()}), confidence};
}

// The fold's dialogues without the scored requests; returns how many
// turns were left out.
uint64_t write_without(const std::filesystem::path& dialogues, const std::set<long>& scored,
                       const std::filesystem::path& out) {
  std::ifstream in(dialogues);
  std::ofstream f(out, std::ios::trunc);
  uint64_t left_out = 0;
  for (std::string line; std::getline(in, line);) {
    if (scored.contains(slurp_id_of(line))) {
      ++left_out;
      continue;
    }
    f << line << "\n";
  }
  f.flush();
  if (!f) throw std::runtime_error("cannot write " + out.string());
  return left_out;
}

// The fold's addressed turns with the channel's hypothesis as their
// recorded payload (the layout of fpi_recorded.hpp); seeded per turn.
// `text_only`: without the confidence, as a recogniser that logs none.
void write_recorded(const std::filesystem::path& dialogues, const sim::AsrChannel& channel,
                    const std::filesystem::path& out, bool text_only) {
  std::ifstream in(dialogues);
  std::ofstream f(out, std::ios::trunc);
  for (std::string line; std::getline(in, line);) {
    json t = json::parse(line);
    if (!t.value("addressed", false)) continue;
    sim::Rng rng(7, {"fpi-train-fold", t["turn_id"].get<std::string>()});
    const sim::Heard h = channel.hear(t["gold"]["asr"]["text"].get<std::string>(), kPooled, kPooled, rng);
    // The recogniser hears the wake word too (the request stage strips it).
    t["payload"] = {{"json", {{"text", "alexa " + h.text}}}};
    if (!text_only) t["payload"]["json"]["confidence"] = h.confidence;
    f << t.dump() << "\n";
  }
  f.flush();
  if (!f) throw std::runtime_error("cannot write " + out.string());
}

}  // namespace

std::vector<FpiVariant> plan_train_folds(const TrainFoldRequest& tf, const FpiDataRequest& data,
                                         const std::vector<FoldModels>& models, const std::vector<FpiRun>& scored,
                                         std::string& note) {
  if (tf.text_pipeline.empty()) {
    note = "TRAIN-fold runs: skipped (they run the text pipeline, and there is none)";
    return {};
  }
  if (models.empty()) {
    note = "TRAIN-fold runs: none (no fold models)";
    return {};
  }
  const bool small = data.size == "small";
  const auto used = static_cast<uint32_t>(small ? std::min<size_t>(2, models.size()) : models.size());
  std::optional<TrainSideChannel> channel;
  if (!tf.recorded_pipeline.empty())
    channel = train_side_channel(scored, std::filesystem::path(data.catalog).parent_path() / "train_sentences.txt");
  // The scored requests, which no TRAIN-fold run may hold (a team's own
  // turns may be SLURP TRAIN records).
  const std::set<long> scored_ids = slurp_ids(data.input);
  uint64_t left_out = 0;
  std::vector<FpiVariant> out;
  for (uint32_t k = 0; k < used; ++k) {
    const FoldModels& m = models[k];
    const auto& dir = m.dir;
    const auto dialogues = dir / "dialogues.jsonl";
    left_out += write_without(dir / (small ? "eval_dialogues_small.jsonl" : "eval_dialogues.jsonl"), scored_ids, dialogues);

    auto variant = [&](const std::string& degradation) {
      FpiVariant v;
      v.name = "fold" + std::to_string(k) + "-text" + (degradation.empty() ? "" : "-" + degradation);
      v.condition = "TRAIN fold " + std::to_string(k) + ", text pipeline" + (degradation.empty() ? "" : ", " + degradation);
      v.degradation = degradation;
      v.family = "text";
      v.pipeline = tf.text_pipeline;
      v.input = dialogues;
      v.train_only = true;
      v.overrides = {"trace.audio=\"hash\""};
      for (auto& o : m.overrides(degradation)) v.overrides.push_back(std::move(o));
      if (degradation == "broken-skill")
        v.overrides.push_back(std::string("stages.result.params.broken_skill=") + toml_string(kBrokenSkills));
      // What the fold's models learnt from, for an isolator's own
      // TRAIN-derived features (those it declares: fpi_isolators.hpp).
      v.isolator_params = m.isolator_params();
      out.push_back(std::move(v));
    };
    variant("");
    if (!small) {
      variant("er-cut");
      variant("broken-skill");
    }
    // The same hypotheses as logged with a confidence, and as the
    // transcript only (fpi_recorded.hpp says why both).
    for (const bool text_only : {false, true}) {
      if (!channel) break;
      if (!text_only && !channel->confidence) continue;  // the recogniser logged none
      const std::string suffix = text_only ? "-recorded-text" : "-recorded";
      const auto file = dir / ("recorded-simulated" + std::string(text_only ? "-text" : "") + ".jsonl");
      write_recorded(dialogues, channel->channel, file, text_only);
      variant("");
      FpiVariant& v = out.back();
      v.name = "fold" + std::to_string(k) + suffix;
      v.condition = "TRAIN fold " + std::to_string(k) + ", recorded ASR from a channel estimated on the train side" +
                    (text_only ? ", the transcript only" : "");
      v.family = "recorded";
      v.pipeline = tf.recorded_pipeline;
      v.input = file;
    }
  }
  note = "TRAIN-fold runs: " + std::to_string(out.size()) + " runs of SLURP TRAIN requests (" + std::to_string(used) +
         " of " + std::to_string(models.size()) +
         " folds; text, and recorded ASR from a channel estimated on the train side" +
         (!channel              ? ": none, no plain run's recogniser made an error, or no recorded pipeline"
          : channel->confidence ? ""
                                : "; the recogniser logged no confidence, so the transcript only") +
         "), each with an NLU, slot lexicon and catalogue built without its fold; training data only" +
         (left_out > 0 ? "; " + std::to_string(left_out) + " turns left out because the scored turns hold their request"
                       : "");
  return out;
}

}  // namespace cascade::language::eval
