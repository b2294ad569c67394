#include "eval/levels.hpp"

#include <cascade/core/run.hpp>
#include <cascade/trace/writer.hpp>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <sstream>
#include <stdexcept>
#include <thread>

namespace cascade::language::eval {

RunResult run_pipeline(const RunRequest& rq) {
  LoadedPipeline p = load_pipeline(rq.pipeline, rq.overrides).take();
  const config::PipelineConfig& cfg = p.config;

  // One file (no rotation): the trace is named by the caller.
  std::error_code ec;
  std::filesystem::remove_all(rq.trace, ec);
  if (rq.trace.has_parent_path()) std::filesystem::create_directories(rq.trace.parent_path());
  trace::WriterOptions wo;
  wo.path = rq.trace;
  wo.audio = cfg.trace.audio == "hash" ? trace::AudioMode::Hash : trace::AudioMode::Inline;
  trace::Writer writer(wo);

  EngineOptions eo;
  eo.threads = rq.threads != 0 ? rq.threads : cfg.run.threads;
  if (eo.threads == 0) eo.threads = std::max(1u, std::thread::hardware_concurrency());
  eo.trace = &writer;
  Engine engine(std::move(p.plan), eo);

  auto source = open_turns(rq.input);
  RunOptions ro;
  ro.max_in_flight = cfg.run.max_in_flight;
  ro.progress = rq.progress;
  ro.trace = &writer;
  const RunSummary s = run_turns(engine, *source, ro);
  writer.close();
  return {s.turns, s.ok, s.failed, s.cancelled, s.seconds};
}

std::string snr_toml(const std::string& level) {
  if (level == "inf" || level == "+inf") return "inf";
  size_t used = 0;
  double v = 0;
  try {
    v = std::stod(level, &used);
  } catch (const std::exception&) {
    used = 0;
  }
  if (level.empty() || used != level.size() || !std::isfinite(v))
    throw std::invalid_argument("bad SNR level '" + level + "': want inf or a number of dB");
  // TOML wants a float for a double parameter: "20" -> "20.0".
  if (level.find_first_of(".eE") == std::string::npos) return level + ".0";
  return level;
}

std::vector<LevelReport> run_levels(const LevelsRequest& rq) {
  std::vector<LevelReport> out;
  const std::string name = rq.pipeline.stem().string();
  for (const auto& level : rq.snr_levels) {
    LevelReport lv;
    lv.snr_db = level;
    lv.trace = rq.out_dir / (name + "-snr" + level + ".cas");
    RunRequest run;
    run.pipeline = rq.pipeline;
    run.input = rq.input;
    run.trace = lv.trace;
    run.overrides = {"stages." + rq.speech_stage + ".params.snr_db=" + snr_toml(level)};
    run.threads = rq.threads;
    run.progress = rq.progress;
    lv.run = run_pipeline(run);
    lv.report = compute_report(lv.trace);
    out.push_back(std::move(lv));
  }
  return out;
}

nlohmann::json to_json(const std::vector<LevelReport>& levels) {
  nlohmann::json arr = nlohmann::json::array();
  for (const auto& lv : levels) {
    nlohmann::json j = to_json(lv.report);
    // JSON has no infinity: "inf" stays a string, other levels are numbers.
    const std::string t = snr_toml(lv.snr_db);
    j["snr_db"] = t == "inf" ? nlohmann::json("inf") : nlohmann::json(std::stod(t));
    arr.push_back(std::move(j));
  }
  return {{"levels", std::move(arr)}};
}

std::string format_text(const std::vector<LevelReport>& levels) {
  auto pc = [](const std::optional<double>& v) {
    if (!v) return std::string("-");
    char b[32];
    std::snprintf(b, sizeof b, "%.1f%%", *v * 100);
    return std::string(b);
  };
  auto fx = [](const std::optional<double>& v, const char* f) {
    if (!v) return std::string("-");
    char b[32];
    std::snprintf(b, sizeof b, f, *v);
    return std::string(b);
  };
  std::ostringstream o;
  char buf[512];
  std::snprintf(buf, sizeof buf, "%-7s %6s %7s %7s %6s %8s %8s %8s %8s %8s %8s %8s %8s", "snr_db", "turns", "WER",
                "wake", "false", "fw/h", "intent", "base", "slot_f1", "er", "task", "asr_xRT", "wake_xRT");
  o << buf << "\n";
  for (const auto& lv : levels) {
    const auto& r = lv.report;
    std::snprintf(buf, sizeof buf, "%-7s %6llu %7s %7s %6s %8s %8s %8s %8s %8s %8s %8s %8s", lv.snr_db.c_str(),
                  static_cast<unsigned long long>(r.turns), pc(r.wer()).c_str(),
                  r.has_wake ? pc(r.wake_hits.value()).c_str() : "-",
                  r.has_wake ? std::to_string(r.false_wakes).c_str() : "-", fx(r.false_wakes_per_hour(), "%.1f").c_str(),
                  pc(r.intent.value()).c_str(), pc(r.intent_baseline.value()).c_str(), fx(r.slots.f1(), "%.3f").c_str(),
                  pc(r.er.value()).c_str(), pc(r.task.value()).c_str(), fx(r.asr_x_realtime, "%.2f").c_str(),
                  fx(r.wake_x_realtime, "%.2f").c_str());
    o << buf << "\n";
  }
  o << "(WER over addressed turns the ASR heard; wake = addressed turns detected; false = wakes on\n"
       " non-addressed turns, fw/h per hour of their audio; base = intent majority-class baseline;\n"
       " xRT = audio seconds / processing seconds)\n";
  return o.str();
}

}  // namespace cascade::language::eval
