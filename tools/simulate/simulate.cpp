#include "simulate.hpp"

#include "error_model.hpp"
#include "population.hpp"
#include "session.hpp"

#include "text/text.hpp"

#include <cascade/core/diagnostic.hpp>
#include <cascade/core/run.hpp>
#include <cascade/trace/reader.hpp>
#include <cascade/trace/writer.hpp>

#include <nlohmann/json.hpp>

#include <algorithm>
#include <chrono>
#include <fstream>
#include <map>
#include <memory>
#include <set>
#include <stdexcept>
#include <thread>

namespace cascade::sim {

namespace fs = std::filesystem;
namespace lang = cascade::language;
using nlohmann::json;

namespace {

// The JSONL reader numbers turns from 0 in every file; one trace holds
// every round, so each round's numbers continue the last round's.
class OffsetSource final : public TurnSource {
 public:
  OffsetSource(std::unique_ptr<TurnSource> inner, uint64_t offset) : inner_(std::move(inner)), offset_(offset) {}
  bool next(TurnInput& turn) override {
    if (!inner_->next(turn)) return false;
    turn.turn_seq += offset_;
    return true;
  }
  [[nodiscard]] uint64_t size_hint() const override { return inner_->size_hint(); }

 private:
  std::unique_ptr<TurnSource> inner_;
  uint64_t offset_;
};

// The config's plugins, plan and engine, alive for one group of users.
struct PipelineRun {
  std::unique_ptr<PluginRegistry> registry;
  std::unique_ptr<Engine> engine;
  uint32_t max_in_flight = 256;
};

PipelineRun open_pipeline(const SimRequest& rq, const std::vector<std::string>& overrides, trace::Writer& writer) {
  LoadedPipeline p = load_pipeline(rq.pipeline, overrides).take();
  PipelineRun run;
  EngineOptions eo;
  eo.threads = rq.threads != 0 ? rq.threads : p.config.run.threads;
  if (eo.threads == 0) eo.threads = std::max(1U, std::thread::hardware_concurrency());
  eo.trace = &writer;
  run.engine = std::make_unique<Engine>(std::move(p.plan), eo);
  run.registry = std::move(p.registry);
  run.max_in_flight = p.config.run.max_in_flight;
  return run;
}

std::string status_name(trace::TurnStatus s) { return std::string(trace::to_string(s)); }

std::vector<std::string> vocabulary(const std::vector<lang::data::Record>& records) {
  std::set<std::string> words;
  for (const auto& r : records)
    if (!lang::data::is_eval(r.slurp_id))
      for (auto& w : lang::tokenize(r.normalized)) words.insert(std::move(w));
  return {words.begin(), words.end()};
}

AsrErrorModel read_model(const fs::path& path) {
  std::ifstream in(path);
  if (!in) throw std::runtime_error("error[A010]: ASR error model not found: " + path.string());
  try {
    return model_from_json(json::parse(in));
  } catch (const std::exception& e) {
    throw std::runtime_error("error[A012]: " + path.string() + ": " + e.what());
  }
}

}  // namespace

SimSummary simulate(const SimRequest& rq) {
  if (rq.k == 0) throw std::invalid_argument("--k must be at least 1");
  if (rq.users == 0) throw std::invalid_argument("--users must be at least 1");
  const auto started = std::chrono::steady_clock::now();

  // 1. Goals, the world the gold is computed on, the ASR error model.
  const auto records = lang::data::read_records(rq.slurp.string());
  const auto catalog = lang::Catalog::load(rq.catalog.string());
  const auto world = lang::World::initial();
  const Goals goals = load_goals(records, catalog, world, rq.seed);
  const AsrChannel channel(read_model(rq.asr_model), vocabulary(records));
  const SessionRunner runner(goals, channel, rq.seed, rq.k);

  // 2. Users and their sessions.
  std::vector<User> users;
  for (uint32_t i = 0; i < rq.users; ++i) users.push_back(make_user(rq.first_user + i, rq.seed, goals, catalog));

  fs::create_directories(rq.out_dir);
  SimSummary summary;
  summary.users = users.size();
  summary.trace = rq.out_dir / "trace.cas";
  summary.truth = rq.out_dir / "truth.jsonl";
  summary.turns_file = rq.out_dir / "turns.jsonl";
  summary.users_file = rq.out_dir / "users.jsonl";
  std::error_code ec;
  fs::remove_all(summary.trace, ec);
  trace::WriterOptions wo;
  wo.path = summary.trace;
  trace::Writer writer(wo);
  std::ofstream turns_out(summary.turns_file, std::ios::trunc);
  if (!turns_out) throw std::runtime_error("cannot write " + summary.turns_file.string());
  const fs::path round_file = rq.out_dir / "round.jsonl";

  // Groups of users that share an engine: everybody, or one at a time.
  std::vector<std::vector<size_t>> groups;
  for (size_t u = 0; u < users.size(); ++u) {
    if (rq.user_override.empty() && !groups.empty())
      groups.front().push_back(u);
    else
      groups.push_back({u});
  }

  std::vector<Session> sessions;
  uint64_t next_seq = 0;
  for (const auto& group : groups) {
    auto overrides = rq.overrides;
    if (!rq.user_override.empty()) overrides.push_back(rq.user_override + "=\"" + users[group.front()].id + "\"");
    PipelineRun run = open_pipeline(rq, overrides, writer);
    const size_t first = sessions.size();
    for (size_t u : group)
      for (uint32_t d = rq.first_day; d < rq.first_day + rq.days; ++d)
        for (const auto& plan : plan_day(users[u], d, rq.seed, goals)) sessions.push_back(runner.begin(plan, users[u]));

    // 3. Rounds until every session of the group is closed.
    for (uint32_t round = 0; round < rq.k; ++round) {
      std::map<std::string, size_t> open;  // dialogue id -> session
      {
        std::ofstream round_out(round_file, std::ios::trunc);
        for (size_t s = first; s < sessions.size(); ++s) {
          if (!sessions[s].open) continue;
          const std::string line = runner.turn_line(sessions[s]).dump();
          round_out << line << "\n";
          turns_out << line << "\n";
          open[sessions[s].plan.id] = s;
        }
        if (!round_out) throw std::runtime_error("cannot write " + round_file.string());
      }
      if (open.empty()) break;
      if (summary.turns_per_round.size() <= round) summary.turns_per_round.resize(round + 1);
      summary.turns_per_round[round] += open.size();
      OffsetSource source(open_turns(round_file), next_seq);
      RunOptions ro;
      ro.max_in_flight = run.max_in_flight;
      ro.trace = &writer;
      ro.on_turn = [&](const TurnInput& in, const TurnOutcome& out) {
        json result;
        if (out.status == trace::TurnStatus::Ok && out.result_type == CASCADE_PAYLOAD_JSON)
          result = json::parse(out.result, nullptr, false);
        if (out.status != trace::TurnStatus::Ok) ++summary.failed_turns;
        runner.conclude(sessions[open.at(in.dialogue_id)], status_name(out.status), result);
      };
      const RunSummary rs = run_turns(*run.engine, source, ro);
      if (rs.interrupted) throw std::runtime_error("interrupted");
      next_seq += rs.turns;
    }
  }
  writer.close();
  fs::remove(round_file, ec);

  // 4. Ground truth.
  std::ofstream truth(summary.truth, std::ios::trunc);
  for (const auto& s : sessions) {
    truth << SessionRunner::truth(s).dump() << "\n";
    summary.turns += s.turns.size();
    summary.successes += s.success ? 1 : 0;
  }
  summary.sessions = sessions.size();
  std::ofstream users_out(summary.users_file, std::ios::trunc);
  for (const auto& u : users) users_out << to_json(u).dump() << "\n";
  if (!truth || !users_out || !turns_out) throw std::runtime_error("cannot write the truth files in " + rq.out_dir.string());
  summary.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  return summary;
}

}  // namespace cascade::sim
