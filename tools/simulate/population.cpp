#include "population.hpp"

#include "text/text.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <set>
#include <stdexcept>

namespace cascade::sim {

namespace lang = cascade::language;
using nlohmann::json;

namespace {

// Entity types people name in their own way; dates, times, amounts and
// descriptors are said as they are.
const std::set<std::string>& personal_types() {
  static const std::set<std::string> types = {"person",        "artist_name",   "song_name",   "house_place",
                                              "device_type",   "place_name",    "radio_name",  "playlist_name",
                                              "podcast_name",  "audiobook_name", "relation",   "business_name",
                                              "list_name"};
  return types;
}

std::string goal_key(const json& er) {
  std::vector<std::string> parts;
  for (const auto& e : er.at("entities"))
    parts.push_back(e.at("type").get<std::string>() + "=" +
                    (e.at("resolved").is_string() ? e.at("resolved").get<std::string>() : e.at("value").get<std::string>()));
  std::sort(parts.begin(), parts.end());
  std::string key = er.at("intent").get<std::string>();
  for (const auto& p : parts) key += "|" + p;
  return key;
}

template <class T>
const T& pick(const std::vector<T>& v, Rng& rng) {
  return v[rng.below(v.size())];
}

}  // namespace

size_t Goals::popular(Rng& rng) const {
  const double u = rng.uniform();
  const auto it = std::upper_bound(popularity_cdf.begin(), popularity_cdf.end(), u);
  return std::min<size_t>(static_cast<size_t>(it - popularity_cdf.begin()), goals.size() - 1);
}

Goals load_goals(const std::vector<lang::data::Record>& records, const lang::Catalog& catalog,
                 const lang::World& world, uint64_t seed) {
  std::map<std::string, Goal> by_key;
  for (const auto& r : records) {
    if (lang::data::is_eval(r.slurp_id)) continue;
    json gold = lang::data::gold_turn(r, catalog, world);
    if (!gold["result"].value("success", false)) continue;
    Goal& g = by_key[goal_key(gold["er"])];
    g.key = goal_key(gold["er"]);
    g.intent = r.intent;
    g.variants.push_back(r);
    g.golds.push_back(std::move(gold));
  }
  if (by_key.empty()) throw std::runtime_error("no TRAIN record has a goal the assistant can do");
  Goals out;
  for (auto& [key, g] : by_key) {
    // Records arrive in file order; the variants keep it (slurp_id order
    // is not needed: the order only has to be fixed).
    out.goals.push_back(std::move(g));
  }
  for (size_t i = 0; i < out.goals.size(); ++i)
    for (const auto& v : out.goals[i].variants)
      for (const auto& a : v.annotations)
        if (personal_types().contains(a.type)) {
          auto& list = out.by_entity[{a.type, lang::canonicalize(a.type, a.value)}];
          if (list.empty() || list.back() != i) list.push_back(i);
        }
  // Which goals are popular is seeded: rank r (from 1) gets weight r^-s.
  std::vector<size_t> rank(out.goals.size());
  for (size_t i = 0; i < rank.size(); ++i) rank[i] = i;
  Rng shuffle(seed, {"goal-popularity"});
  for (size_t i = rank.size(); i > 1; --i) std::swap(rank[i - 1], rank[shuffle.below(i)]);
  std::vector<double> weight(out.goals.size());
  for (size_t r = 0; r < rank.size(); ++r) weight[rank[r]] = std::pow(static_cast<double>(r + 1), -kZipfExponent);
  double total = 0;
  for (double w : weight) total += w;
  double acc = 0;
  for (double w : weight) out.popularity_cdf.push_back(acc += w / total);
  return out;
}

std::string user_id(uint32_t index) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "u%04u", index);
  return buf;
}

std::string personal_form(const std::string& type, const std::string& canonical, const lang::Catalog& catalog,
                          Rng& rng) {
  const auto words = lang::tokenize(canonical);
  std::vector<std::string> candidates;
  if (words.size() >= 2) {
    candidates.push_back(lang::join(words, 1, words.size()));  // "dragons"
    candidates.push_back(words.front());                        // "imagine"
    std::string initials;
    for (const auto& w : words) initials += w.substr(0, 1);
    candidates.push_back(initials);  // "id"
  } else if (!words.empty() && words[0].size() >= 4) {
    candidates.push_back(words[0].substr(0, 3) + "y");  // "bedroom" -> "bedy"
    candidates.push_back(words[0].substr(0, 4) + "ie");
    candidates.push_back("big " + words[0].substr(0, 3));
  }
  std::vector<std::string> usable;
  for (auto& c : candidates) {
    if (c.empty() || c == canonical) continue;
    const auto r = catalog.resolve(type, c);
    if (!r.resolved || *r.resolved != canonical) usable.push_back(std::move(c));
  }
  return usable.empty() ? std::string() : pick(usable, rng);
}

User make_user(uint32_t index, uint64_t seed, const Goals& goals, const lang::Catalog& catalog) {
  User u;
  u.id = user_id(index);
  Rng rng(seed, {"user", u.id});
  u.voice = rng.chance(0.6) ? "slt" : "en-us+f2";
  const double noise = rng.uniform();
  u.snr = noise < 0.5 ? "inf" : noise < 0.8 ? "30" : "20";
  u.sessions_per_day = rng.uniform(2.0, 6.0);
  u.give_up = rng.uniform(0.05, 0.3);
  u.rephrase = rng.uniform(0.3, 0.8);
  u.barge_in = rng.uniform(0.05, 0.4);
  u.habit_share = rng.uniform(0.2, 0.5);
  // About a third of the users say every name as the catalogue does.
  const uint64_t wanted = rng.chance(0.35) ? 0 : 1 + rng.below(3);
  if (goals.by_entity.empty()) return u;
  std::vector<std::pair<std::string, std::string>> entities;
  for (const auto& [entity, list] : goals.by_entity) entities.push_back(entity);
  for (uint64_t tries = 0; u.habits.size() < wanted && tries < 20; ++tries) {
    // Not a structured binding: clang before 16 cannot capture one.
    const auto& entity = pick(entities, rng);
    const std::string& type = entity.first;
    const std::string& canonical = entity.second;
    const bool taken = std::any_of(u.habits.begin(), u.habits.end(),
                                   [&](const Habit& h) { return h.type == type && h.canonical == canonical; });
    if (taken) continue;
    std::string spoken = personal_form(type, canonical, catalog, rng);
    if (!spoken.empty()) u.habits.push_back({type, canonical, std::move(spoken)});
  }
  return u;
}

json to_json(const User& u) {
  json habits = json::array();
  for (const auto& h : u.habits) habits.push_back({{"type", h.type}, {"canonical", h.canonical}, {"spoken", h.spoken}});
  return {{"user_id", u.id},          {"voice", u.voice},         {"snr_db", u.snr},
          {"sessions_per_day", u.sessions_per_day}, {"give_up", u.give_up}, {"rephrase", u.rephrase},
          {"barge_in", u.barge_in},   {"habit_share", u.habit_share}, {"habits", std::move(habits)}};
}

std::vector<PlannedSession> plan_day(const User& user, uint32_t day, uint64_t seed, const Goals& goals) {
  char day_tag[16];
  std::snprintf(day_tag, sizeof day_tag, "d%02u", day);
  Rng rng(seed, {"day", user.id, day_tag});
  const auto count = static_cast<uint32_t>(1 + rng.below(static_cast<uint64_t>(2 * user.sessions_per_day)));
  // Waking hours 07:00-22:00, at least 15 minutes apart (the rewrite
  // builder cuts sessions at 5 minutes of silence).
  std::vector<double> starts;
  for (uint32_t i = 0; i < count; ++i) starts.push_back(rng.uniform(7 * 3600.0, 22 * 3600.0));
  std::sort(starts.begin(), starts.end());
  for (size_t i = 1; i < starts.size(); ++i) starts[i] = std::max(starts[i], starts[i - 1] + 900.0);
  std::vector<PlannedSession> out;
  for (uint32_t i = 0; i < count; ++i) {
    PlannedSession s;
    s.id = user.id + "-" + day_tag + "-s" + std::to_string(i);
    s.day = day;
    s.index = i;
    s.start_s = day * 86400.0 + std::floor(starts[i]);
    Rng choice(seed, {"goal", s.id});
    std::vector<int> named;  // habits some goal names
    for (size_t h = 0; h < user.habits.size(); ++h)
      if (goals.by_entity.contains({user.habits[h].type, user.habits[h].canonical})) named.push_back(static_cast<int>(h));
    if (!named.empty() && choice.chance(user.habit_share)) {
      s.habit = pick(named, choice);
      const auto& habit = user.habits[static_cast<size_t>(s.habit)];
      s.goal = pick(goals.by_entity.at({habit.type, habit.canonical}), choice);
    } else {
      s.goal = goals.popular(choice);
    }
    out.push_back(std::move(s));
  }
  return out;
}

std::string timestamp(double seconds) {
  using namespace std::chrono;
  const auto ms = static_cast<int64_t>(std::llround(seconds * 1000.0));
  const sys_time<milliseconds> t = sys_days{year{2026} / January / 15} + milliseconds{ms};
  const auto day = floor<days>(t);
  const year_month_day ymd{day};
  const hh_mm_ss hms{t - day};
  char buf[64];
  std::snprintf(buf, sizeof buf, "%04d-%02u-%02uT%02ld:%02ld:%02ld.%03ldZ", static_cast<int>(ymd.year()),
                static_cast<unsigned>(ymd.month()), static_cast<unsigned>(ymd.day()),
                static_cast<long>(hms.hours().count()), static_cast<long>(hms.minutes().count()),
                static_cast<long>(hms.seconds().count()), static_cast<long>(hms.subseconds().count()));
  return buf;
}

}  // namespace cascade::sim
