#include "eval/fpi_data.hpp"

#include <cascade/core/config.hpp>
#include <cascade/core/diagnostic.hpp>
#include <cascade/trace/reader.hpp>

#include <nlohmann/json.hpp>

#include <fstream>
#include <stdexcept>

namespace cascade::language::eval {

std::string toml_string(const std::string& s) {
  std::string out = "\"";
  for (const char c : s) {
    if (c == '"' || c == '\\') out += '\\';
    out += c;
  }
  return out + "\"";
}

std::string shell_quote(const std::string& s) {
  std::string out = "'";
  for (const char c : s) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}

namespace {

// FNV-1a 64: a fixed hash, so the cut is the same on every machine.
uint64_t fnv1a(const std::string& s, uint64_t seed) {
  uint64_t h = 14695981039346656037ull ^ seed;
  for (const char c : s) {
    h ^= static_cast<unsigned char>(c);
    h *= 1099511628211ull;
  }
  return h;
}

bool has_stage(const std::filesystem::path& pipeline, const std::string& stage) {
  auto lr = config::load_config(pipeline, {});
  if (!lr.ok()) throw CascadeError(lr.diagnostics.front());
  for (const auto& s : lr.config.stages)
    if (s.id == stage) return true;
  return false;
}

std::filesystem::path cut_catalog_path(const FpiDataRequest& rq) { return rq.out_dir / "catalog-er-cut.json"; }

std::vector<std::string> degradation_overrides(const std::string& degradation, const FpiDataRequest& rq) {
  std::vector<std::string> o;
  if (degradation.find("er-cut") != std::string::npos)
    o.push_back("stages.er.params.catalog=" + toml_string(std::filesystem::absolute(cut_catalog_path(rq)).string()));
  if (degradation.find("broken-skill") != std::string::npos)
    o.push_back(std::string("stages.result.params.broken_skill=") + toml_string(kBrokenSkills));
  return o;
}

}  // namespace

std::vector<FpiVariant> plan_variants(const FpiDataRequest& rq) {
  if (rq.size != "small" && rq.size != "default")
    throw std::invalid_argument("unknown size '" + rq.size + "': want small or default");
  const bool small = rq.size == "small";
  std::vector<FpiVariant> out;
  // Traces keep audio hashes only: speech regenerates from text (seeded),
  // and the grid would otherwise write hundreds of MB.
  const std::string audio_hash = "trace.audio=\"hash\"";

  auto speech = [&](const std::string& voice, const std::string& snr, const std::string& degradation) {
    FpiVariant v;
    v.voice = voice;
    v.snr_db = snr;
    v.degradation = degradation;
    v.name = voice + "-snr" + snr + (degradation.empty() ? "" : "-degraded");
    v.family = "speech";
    v.condition = "voice " + voice + ", " + (snr == "inf" ? std::string("clean") : snr + " dB") +
                  (degradation.empty() ? "" : ", " + degradation);
    v.pipeline = rq.speech_pipeline;
    v.overrides = {audio_hash, "stages." + rq.speech_stage + ".params.voice=" + toml_string(voice),
                   "stages." + rq.speech_stage + ".params.snr_db=" + snr_toml(snr)};
    for (auto& o : degradation_overrides(degradation, rq)) v.overrides.push_back(std::move(o));
    out.push_back(std::move(v));
  };
  auto plain = [&](const std::filesystem::path& pipeline, const std::string& prefix, const std::string& degradation) {
    FpiVariant v;
    v.degradation = degradation;
    v.name = prefix + (degradation.empty() ? "" : "-" + degradation);
    v.family = prefix;
    v.condition = prefix + " pipeline" + (degradation.empty() ? "" : ", " + degradation);
    v.pipeline = pipeline;
    v.overrides = {audio_hash};
    for (auto& o : degradation_overrides(degradation, rq)) v.overrides.push_back(std::move(o));
    out.push_back(std::move(v));
  };

  if (has_stage(rq.speech_pipeline, rq.speech_stage)) {
    if (small) {
      // Two voices, so that the held-out-voice step runs in the tests too.
      speech("slt", "inf", "");
      speech("en-us+f2", "inf", "");
    } else {
      speech("slt", "inf", "");
      speech("slt", "20", "");
      speech("slt", "15", "");
      speech("en-us+f2", "inf", "");
      speech("en-us+f2", "20", "");
      speech("slt", "inf", "er-cut+broken-skill");
      speech("en-us+f2", "inf", "er-cut+broken-skill");
      speech("slt", "20", "er-cut+broken-skill");
    }
  } else {
    plain(rq.speech_pipeline, "main", "");
    plain(rq.speech_pipeline, "main", "er-cut+broken-skill");
  }
  if (!rq.text_pipeline.empty()) {
    plain(rq.text_pipeline, "text", "er-cut");
    plain(rq.text_pipeline, "text", "broken-skill");
  }
  return out;
}

CatalogCut write_degraded_catalog(const std::filesystem::path& in, const std::filesystem::path& out,
                                  double fraction, uint64_t seed) {
  std::ifstream f(in);
  if (!f) throw std::runtime_error("cannot read the ER catalogue " + in.string());
  nlohmann::json catalog = nlohmann::json::parse(f, nullptr, false);
  if (!catalog.is_object() || !catalog.contains("types") || !catalog["types"].is_object())
    throw std::runtime_error(in.string() + " is not an ER catalogue (no \"types\" object)");
  CatalogCut cut;
  // The threshold on a 64-bit hash: an entry goes when hash < fraction * 2^64.
  const double limit = fraction * 18446744073709551616.0;
  for (auto& [type, entries] : catalog["types"].items()) {
    if (!entries.is_object()) continue;
    nlohmann::json kept = nlohmann::json::object();
    for (auto& [canonical, entry] : entries.items()) {
      ++cut.entries;
      if (static_cast<double>(fnv1a(type + '\0' + canonical, seed)) < limit)
        ++cut.removed;
      else
        kept[canonical] = entry;
    }
    entries = std::move(kept);
  }
  if (out.has_parent_path()) std::filesystem::create_directories(out.parent_path());
  std::ofstream o(out);
  o << catalog.dump() << "\n";
  o.flush();
  if (!o) throw std::runtime_error("cannot write " + out.string());
  return cut;
}

namespace {
// Why no turn of a run ran: the first stage that failed, as its trace says.
std::string first_stage_failure(const std::filesystem::path& trace) {
  trace::Reader reader(trace);
  while (auto rec = reader.next())
    if (const auto* s = std::get_if<trace::StageRecord>(&*rec);
        s != nullptr && (s->status == trace::StageStatus::Error || s->status == trace::StageStatus::Timeout ||
                         s->status == trace::StageStatus::Crashed))
      return "stage '" + s->stage_id + "' failed: " + s->error_message;
  return "no stage failed: the turns were cancelled";
}
}  // namespace

std::vector<FpiRun> run_variants(const std::vector<FpiVariant>& variants, const FpiDataRequest& rq) {
  bool cut_written = false;
  std::vector<FpiRun> out;
  for (const auto& v : variants) {
    if (!cut_written && v.degradation.find("er-cut") != std::string::npos) {
      write_degraded_catalog(rq.catalog, cut_catalog_path(rq), kCatalogCut, kCatalogSeed);
      cut_written = true;
    }
    FpiRun r;
    r.variant = v;
    r.trace = rq.out_dir / (v.name + ".cas");
    RunRequest run;
    run.pipeline = v.pipeline;
    run.input = v.input.empty() ? rq.input : v.input;
    run.trace = r.trace;
    run.overrides = v.overrides;
    run.threads = rq.threads;
    run.progress = rq.progress;
    r.run = run_pipeline(run);
    // A run in which no turn ran is turns that do not fit the pipeline (e.g.
    // recorded hypotheses through a speech pipeline). Labelling it would
    // score every isolator on one direct attribution: stop and say why.
    if (r.run.turns > 0 && r.run.ok == 0)
      throw std::runtime_error(
          "error[N030]: run '" + v.name + "': none of its " + std::to_string(r.run.turns) + " turns ran through " +
          v.pipeline.string() + " (" + first_stage_failure(r.trace) +
          "). Do the turns fit the pipeline? Turns with a recorded ASR hypothesis (cascade-assistant-data "
          "--asr-field) run with --pipeline pipelines/assistant-recorded-asr.toml --no-text");
    out.push_back(std::move(r));
  }
  return out;
}

}  // namespace cascade::language::eval
