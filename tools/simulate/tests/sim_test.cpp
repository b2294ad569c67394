// The simulator end to end on the real recorded-ASR assistant: the same
// seed gives the same sessions and truth, counts add up, every session
// ends within k attempts, and the trace holds every turn the truth names.
#include "population.hpp"
#include "simulate.hpp"

#include "catalog/catalog.hpp"

#include <cascade/trace/reader.hpp>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <cstdlib>
#include <fstream>
#include <map>
#include <set>
#include <sstream>

namespace fs = std::filesystem;
namespace sim = cascade::sim;
using nlohmann::json;

namespace {

fs::path scratch(const std::string& name) {
  const fs::path dir = fs::temp_directory_path() / ("cascade_sim_test_" + std::to_string(::getpid())) / name;
  fs::remove_all(dir);
  return dir;
}

sim::SimRequest small(const fs::path& out, uint64_t seed) {
  sim::SimRequest rq;
  rq.pipeline = CASCADE_SIM_PIPELINE;
  rq.slurp = CASCADE_SIM_SLURP;
  rq.catalog = CASCADE_SIM_CATALOG;
  rq.asr_model = CASCADE_SIM_ASR_MODEL;
  rq.out_dir = out;
  rq.users = 6;
  rq.days = 2;
  rq.k = 3;
  rq.seed = seed;
  rq.threads = 2;
  return rq;
}

std::string slurp(const fs::path& p) {
  std::ifstream in(p);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

std::vector<json> lines(const fs::path& p) {
  std::vector<json> out;
  std::ifstream in(p);
  for (std::string l; std::getline(in, l);) out.push_back(json::parse(l));
  return out;
}

}  // namespace

TEST(Simulate, SameSeedSameTruthOtherSeedOtherSessions) {
  const auto a = sim::simulate(small(scratch("a"), 11));
  const auto b = sim::simulate(small(scratch("b"), 11));
  const auto c = sim::simulate(small(scratch("c"), 12));
  ASSERT_GT(a.sessions, 0U);
  EXPECT_EQ(slurp(a.truth), slurp(b.truth));
  EXPECT_EQ(slurp(a.turns_file), slurp(b.turns_file));
  EXPECT_EQ(slurp(a.users_file), slurp(b.users_file));
  EXPECT_NE(slurp(a.truth), slurp(c.truth));
}

TEST(Simulate, CountsAttemptsAndTraceHoldEveryTurn) {
  auto rq = small(scratch("counts"), 5);
  rq.k = 2;
  const auto s = sim::simulate(rq);
  const auto users = lines(s.users_file);
  const auto truth = lines(s.truth);
  EXPECT_EQ(users.size(), 6U);
  EXPECT_EQ(truth.size(), s.sessions);
  std::set<std::string> seen_users;
  uint64_t turns = 0, successes = 0;
  for (const auto& session : truth) {
    seen_users.insert(session["user_id"].get<std::string>());
    const auto& t = session["turns"];
    ASSERT_GE(t.size(), 1U);
    EXPECT_LE(t.size(), rq.k) << session.dump();
    turns += t.size();
    const std::string last_next = t.back()["next"];
    EXPECT_TRUE(last_next == "end" || last_next == "give_up") << session.dump();
    EXPECT_EQ(session["success"].get<bool>(), t.back()["success"].get<bool>());
    EXPECT_EQ(session["success"].get<bool>(), session["ended"] == "success");
    for (size_t i = 0; i + 1 < t.size(); ++i) {
      EXPECT_FALSE(t[i]["success"].get<bool>());  // a success ends the session
      EXPECT_EQ(t[i]["next"], t[i + 1]["action"]);
    }
    successes += session["success"].get<bool>() ? 1 : 0;
  }
  EXPECT_EQ(seen_users.size(), 6U);  // everybody has at least one session a day
  EXPECT_EQ(turns, s.turns);
  EXPECT_EQ(successes, s.successes);
  // Not every session succeeds at once, and some do: the noise is real.
  EXPECT_GT(s.turns, s.sessions);
  EXPECT_GT(successes, 0U);

  const auto data = cascade::trace::read_turns(s.trace);
  EXPECT_TRUE(data.damage.empty());
  EXPECT_EQ(data.turns.size(), s.turns);
  for (const auto& session : truth)
    for (const auto& t : session["turns"]) {
      const auto* turn = data.find(session["session"].get<std::string>(), t["turn_index"].get<uint32_t>());
      ASSERT_NE(turn, nullptr) << session["session"] << " " << t["turn_index"];
      ASSERT_TRUE(turn->record.has_value());
      EXPECT_EQ(turn->record->timestamp, t["timestamp"].get<std::string>());
      const auto* asr = turn->stage("asr");
      ASSERT_NE(asr, nullptr);
      ASSERT_NE(asr->output("text"), nullptr);
      // The trace's asr stage records the erroneous hypothesis.
      EXPECT_EQ(asr->output("text")->text(), t["heard"].get<std::string>());
    }
}

TEST(Simulate, RetriesComeAfterTheResponseOrBargeIn) {
  const auto s = sim::simulate(small(scratch("gaps"), 3));
  bool barged = false, waited = false;
  for (const auto& session : lines(s.truth))
    for (const auto& t : session["turns"]) {
      if (t["action"] == "first") continue;
      (t["barge_in"].get<bool>() ? barged : waited) = true;
    }
  EXPECT_TRUE(barged);
  EXPECT_TRUE(waited);
}

TEST(Simulate, PersonalNamesAreNotTheCataloguesAndAreUsed) {
  const auto catalog = cascade::language::Catalog::load(CASCADE_SIM_CATALOG);
  const auto s = sim::simulate(small(scratch("habits"), 21));
  uint64_t habits = 0;
  for (const auto& u : lines(s.users_file))
    for (const auto& h : u["habits"]) {
      ++habits;
      const auto r = catalog.resolve(h["type"].get<std::string>(), h["spoken"].get<std::string>());
      EXPECT_FALSE(r.resolved && *r.resolved == h["canonical"].get<std::string>()) << h.dump();
    }
  EXPECT_GT(habits, 0U);
  bool personal_turn = false;
  for (const auto& session : lines(s.truth))
    for (const auto& t : session["turns"]) personal_turn = personal_turn || t["personal"].get<bool>();
  EXPECT_TRUE(personal_turn);
}

TEST(Simulate, BadRequestsAreRefused) {
  auto rq = small(scratch("bad"), 1);
  rq.k = 0;
  EXPECT_THROW((void)sim::simulate(rq), std::invalid_argument);
  rq = small(scratch("bad"), 1);
  rq.asr_model = scratch("bad") / "missing.json";
  EXPECT_THROW((void)sim::simulate(rq), std::runtime_error);
  // The CLI: a usage error exits 2.
  const std::string cmd = std::string(CASCADE_SIM_BINARY) + " --users 2 --k 0 --out " + scratch("cli").string() + " 2>/dev/null";
  const int rc = std::system(cmd.c_str());
  EXPECT_EQ(WEXITSTATUS(rc), 2);
}
