#include "world/world.hpp"

#include "text/text.hpp"

#include <algorithm>
#include <array>
#include <functional>
#include <map>
#include <optional>
#include <stdexcept>
#include <utility>

namespace cascade::language {

using json = nlohmann::json;

namespace {

constexpr const char* kInitialWorld = R"({
  "clock": {"date": "2026-01-15", "weekday": "thursday", "time": "09:00"},
  "home": "boston",
  "lights": {
    "living room":    {"on": true,  "brightness": 60, "color": "white"},
    "bedroom":        {"on": true,  "brightness": 40, "color": "warm white"},
    "master bedroom": {"on": false, "brightness": 50, "color": "white"},
    "kitchen":        {"on": false, "brightness": 80, "color": "white"},
    "bathroom":       {"on": false, "brightness": 70, "color": "white"},
    "hall":           {"on": false, "brightness": 50, "color": "white"},
    "office":         {"on": false, "brightness": 90, "color": "white"}
  },
  "devices": {
    "plug": {"on": false}, "lamp": {"on": false}, "desk lamp": {"on": true},
    "bedside lamp": {"on": false}, "tv": {"on": false}, "fan": {"on": false},
    "disco lights": {"on": false}
  },
  "vacuum": {"state": "docked"},
  "coffee": {"state": "idle", "kinds": ["coffee", "espresso", "cappuccino", "latte", "americano", "black coffee"]},
  "volume": {"level": 5, "muted": false},
  "alarms": [{"time": "07:00", "date": "weekdays"}, {"time": "08:30", "date": "saturday"}],
  "lists": {
    "shopping": ["milk", "eggs", "bread"],
    "grocery": ["apples", "rice"],
    "to do": ["call the plumber", "pay bills"]
  },
  "calendar": [
    {"event": "dentist appointment", "date": "day+1", "time": "10:00"},
    {"event": "team meeting", "date": "day+0", "time": "14:00"},
    {"event": "dinner with mom", "date": "friday", "time": "19:00"}
  ],
  "colors": ["red", "blue", "green", "white", "yellow", "purple", "orange", "pink", "warm white"],
  "currencies": {"us dollar": 1.0, "euro": 0.92, "british pound": 0.79, "japanese yen": 148.0,
                 "indian rupee": 83.0, "canadian dollar": 1.36, "australian dollar": 1.52,
                 "chinese yuan": 7.2, "swiss franc": 0.88, "mexican peso": 17.1},
  "weather_conditions": ["sunny", "partly cloudy", "cloudy", "rainy", "windy", "snowy", "foggy", "clear"],
  "jokes": [
    "Why did the scarecrow win an award? Because he was outstanding in his field.",
    "I told my computer I needed a break, and it said no problem, it would go to sleep.",
    "Why don't skeletons fight each other? They don't have the guts.",
    "What do you call a fake noodle? An impasta."
  ],
  "news": ["Local team wins the championship", "Markets close higher after a quiet week",
           "New park opens downtown", "Scientists report progress on battery storage",
           "City council approves new bike lanes"],
  "now_playing": {"artist": "queen", "song": "bohemian rhapsody"}
})";

// The interpretation's entities, by type, for the handlers.
class Entities {
 public:
  explicit Entities(const json& list) {
    for (const auto& e : list) {
      if (!e.is_object()) throw std::invalid_argument("every entity must be an object");
      if (!e.contains("type") || !e["type"].is_string())
        throw std::invalid_argument("every entity needs a string \"type\"");
      Item it;
      it.type = e["type"].get<std::string>();
      if (e.contains("value") && e["value"].is_string()) it.value = e["value"].get<std::string>();
      if (e.contains("resolved") && e["resolved"].is_string()) it.resolved = e["resolved"].get<std::string>();
      items_.push_back(std::move(it));
    }
  }
  // The first RESOLVED entity of `type`.
  [[nodiscard]] std::optional<std::string> resolved(std::string_view type) const {
    for (const auto& i : items_)
      if (i.type == type && i.resolved) return i.resolved;
    return std::nullopt;
  }
  // All resolved entities of `type`, in order.
  [[nodiscard]] std::vector<std::string> all(std::string_view type) const {
    std::vector<std::string> out;
    for (const auto& i : items_)
      if (i.type == type && i.resolved) out.push_back(*i.resolved);
    return out;
  }
  // The surface value of the first entity of `type` that did NOT resolve.
  [[nodiscard]] std::optional<std::string> unresolved(std::string_view type) const {
    for (const auto& i : items_)
      if (i.type == type && !i.resolved) return i.value;
    return std::nullopt;
  }

 private:
  struct Item {
    std::string type, value;
    std::optional<std::string> resolved;
  };
  std::vector<Item> items_;
};

json ok_action(json action, std::string say) {
  return {{"success", true}, {"supported", true}, {"action", std::move(action)}, {"answer", nullptr}, {"say", std::move(say)}};
}
json ok_answer(std::string answer, std::string say) {
  return {{"success", true}, {"supported", true}, {"action", nullptr}, {"answer", std::move(answer)}, {"say", std::move(say)}};
}
json failed(std::string say) {
  return {{"success", false}, {"supported", true}, {"action", nullptr}, {"answer", nullptr}, {"say", std::move(say)}};
}
json unsupported() {
  return {{"success", false}, {"supported", false}, {"action", nullptr}, {"answer", nullptr},
          {"say", "Sorry, I can't do that yet."}};
}

// Words for a canonical date ("day+1" -> "tomorrow").
std::string describe_date(const std::string& d) {
  static const std::map<std::string, std::string> named{
      {"day+0", "today"},         {"day+1", "tomorrow"},       {"day+2", "the day after tomorrow"},
      {"day-1", "yesterday"},     {"week+0", "this week"},     {"week+1", "next week"},
      {"week-1", "last week"},    {"weekend+0", "this weekend"}, {"weekend+1", "next weekend"},
      {"month+0", "this month"},  {"month+1", "next month"},   {"year+0", "this year"},
      {"weekdays", "on weekdays"}};
  if (auto it = named.find(d); it != named.end()) return it->second;
  static const std::array<const char*, 12> months{"january", "february", "march",     "april",   "may",      "june",
                                                  "july",    "august",   "september", "october", "november", "december"};
  if (d.size() == 5 && d[2] == '-' && std::isdigit(static_cast<unsigned char>(d[0])) != 0) {
    int m = std::stoi(d.substr(0, 2)), day = std::stoi(d.substr(3));
    if (m >= 1 && m <= 12) return "on " + std::string(months[static_cast<size_t>(m - 1)]) + " " + std::to_string(day);
  }
  if (d.rfind("dom-", 0) == 0) return "on the " + std::to_string(std::stoi(d.substr(4))) + "th";
  if (d.rfind("month-", 0) == 0) {
    int m = std::stoi(d.substr(6));
    if (m >= 1 && m <= 12) return "in " + std::string(months[static_cast<size_t>(m - 1)]);
  }
  return "on " + d;
}

std::string describe_time(const std::string& t) {
  if (t.rfind("PT", 0) == 0) {
    std::string n = t.substr(2, t.size() - 3);
    return "in " + n + (t.back() == 'M' ? " minutes" : " hours");
  }
  return "at " + t;
}

class Executor {
 public:
  Executor(const json& state, const Entities& e) : s_(state), e_(e) {}

  json lights(const std::string& intent) {
    std::string room = e_.resolved("house_place").value_or("living room");
    if (auto u = e_.unresolved("house_place"); u && !e_.resolved("house_place"))
      return failed("I couldn't find a room called " + *u + ".");
    bool all = room == "house";
    if (!all && !s_["lights"].contains(room)) return failed("There are no lights in the " + room + ".");
    const json light = all ? json{{"on", true}, {"brightness", 60}, {"color", "white"}} : s_["lights"][room];
    std::string where = all ? "the whole house" : "the " + room;
    if (intent == "iot_hue_lighton" || intent == "hue_lighton")
      return ok_action({{"type", "light.set"}, {"room", room}, {"on", true}}, "Turning on the lights in " + where + ".");
    if (intent == "iot_hue_lightoff" || intent == "hue_lightoff")
      return ok_action({{"type", "light.set"}, {"room", room}, {"on", false}}, "Turning off the lights in " + where + ".");
    if (intent == "iot_hue_lightdim" || intent == "iot_hue_lightup" || intent == "hue_lightup") {
      int b = light.value("brightness", 50);
      bool up = intent != "iot_hue_lightdim";
      int nb = up ? std::min(100, b + 20) : std::max(10, b - 20);
      return ok_action({{"type", "light.set"}, {"room", room}, {"on", true}, {"brightness", nb}},
                       std::string(up ? "Brightening" : "Dimming") + " the lights in " + where + " to " +
                           std::to_string(nb) + " percent.");
    }
    // iot_hue_lightchange
    auto color = e_.resolved("color_type");
    if (!color) {
      if (auto u = e_.unresolved("color_type")) return failed("I don't know the colour " + *u + ".");
      return failed("Which colour would you like?");
    }
    const auto& colors = s_["colors"];
    if (std::find(colors.begin(), colors.end(), *color) == colors.end())
      return failed("The lights can't be " + *color + ".");
    return ok_action({{"type", "light.set"}, {"room", room}, {"on", true}, {"color", *color}},
                     "Changing the lights in " + where + " to " + *color + ".");
  }

  json plug(bool on) {
    std::string dev = e_.resolved("device_type").value_or("plug");
    if (auto u = e_.unresolved("device_type"); u && !e_.resolved("device_type"))
      return failed("I couldn't find a device called " + *u + ".");
    if (!s_["devices"].contains(dev)) return failed("I can't switch the " + dev + ".");
    return ok_action({{"type", "device.set"}, {"device", dev}, {"on", on}},
                     std::string("Turning ") + (on ? "on" : "off") + " the " + dev + ".");
  }

  json cleaning() {
    std::string room = e_.resolved("house_place").value_or("house");
    return ok_action({{"type", "vacuum.start"}, {"room", room}},
                     room == "house" ? "Starting the vacuum." : "Starting the vacuum in the " + room + ".");
  }

  json coffee() {
    std::string kind = e_.resolved("coffee_type").value_or("coffee");
    const auto& kinds = s_["coffee"]["kinds"];
    if (std::find(kinds.begin(), kinds.end(), kind) == kinds.end())
      return failed("The coffee machine can't make " + kind + ".");
    return ok_action({{"type", "coffee.brew"}, {"kind", kind}}, "Making you a " + kind + ".");
  }

  json volume(const std::string& intent) {
    int level = s_["volume"]["level"];
    if (intent == "audio_volume_mute") return ok_action({{"type", "volume.mute"}}, "Muted.");
    int nl = intent == "audio_volume_up" ? std::min(10, level + 1) : std::max(0, level - 1);
    return ok_action({{"type", "volume.set"}, {"level", nl}}, "Volume " + std::to_string(nl) + ".");
  }

  json alarm(const std::string& intent) {
    auto time = e_.resolved("time");
    auto date = e_.resolved("date");
    if (intent == "alarm_set") {
      if (!time) return failed("What time should I set the alarm for?");
      json a{{"type", "alarm.add"}, {"time", *time}, {"date", date ? json(*date) : json(nullptr)}};
      return ok_action(a, "Alarm set " + describe_time(*time) + (date ? " " + describe_date(*date) : "") + ".");
    }
    const auto& alarms = s_["alarms"];
    if (intent == "alarm_query") {
      std::string list;
      for (const auto& a : alarms) {
        if (!list.empty()) list += ", ";
        list += a["time"].get<std::string>() + " " + describe_date(a["date"].get<std::string>());
      }
      return ok_answer(list, "You have " + std::to_string(alarms.size()) + " alarms: " + list + ".");
    }
    // alarm_remove
    if (!time) return ok_action({{"type", "alarm.remove"}, {"time", "all"}}, "All alarms removed.");
    for (const auto& a : alarms)
      if (a["time"] == *time) return ok_action({{"type", "alarm.remove"}, {"time", *time}}, "Alarm at " + *time + " removed.");
    return failed("You have no alarm at " + *time + ".");
  }

  json lists(const std::string& intent) {
    auto name = e_.resolved("list_name");
    const auto& lists = s_["lists"];
    if (intent == "lists_query") {
      if (!name) {
        std::string names;
        for (const auto& [k, v] : lists.items()) names += (names.empty() ? "" : ", ") + k;
        return ok_answer(names, "You have these lists: " + names + ".");
      }
      if (!lists.contains(*name)) return failed("You have no " + *name + " list.");
      std::string items;
      for (const auto& i : lists[*name]) items += (items.empty() ? "" : ", ") + i.get<std::string>();
      return ok_answer(items, "On your " + *name + " list: " + items + ".");
    }
    if (!name) {
      if (auto u = e_.unresolved("list_name")) return failed("You have no " + *u + " list.");
      return failed("Which list?");
    }
    if (intent == "lists_remove") {
      if (!lists.contains(*name)) return failed("You have no " + *name + " list.");
      return ok_action({{"type", "list.remove"}, {"list", *name}}, "Updated your " + *name + " list.");
    }
    // lists_createoradd
    if (lists.contains(*name)) return ok_action({{"type", "list.add"}, {"list", *name}}, "Added to your " + *name + " list.");
    return ok_action({{"type", "list.create"}, {"list", *name}}, "Created a " + *name + " list.");
  }

  json calendar(const std::string& intent) {
    auto event = e_.resolved("event_name");
    auto date = e_.resolved("date");
    auto time = e_.resolved("time");
    auto person = e_.resolved("person");
    const auto& cal = s_["calendar"];
    auto opt = [](const std::optional<std::string>& v) { return v ? json(*v) : json(nullptr); };
    if (intent == "calendar_set") {
      if (!event && !date && !time && !person) return failed("What should I put in your calendar?");
      json a{{"type", "calendar.add"}, {"event", opt(event)}, {"date", opt(date)}, {"time", opt(time)}, {"person", opt(person)}};
      return ok_action(a, "Added " + event.value_or("an event") + (date ? " " + describe_date(*date) : "") +
                              (time ? " " + describe_time(*time) : "") + " to your calendar.");
    }
    std::vector<const json*> hits;
    for (const auto& ev : cal) {
      bool match = true;
      if (date && ev["date"] != *date) match = false;
      if (time && ev["time"] != *time) match = false;
      if (event && text_match(ev["event"].get<std::string>(), *event) < 0.6) match = false;
      if (person && ev["event"].get<std::string>().find(*person) == std::string::npos) match = false;
      if (match) hits.push_back(&ev);
    }
    if (intent == "calendar_query") {
      std::string list;
      for (const auto* ev : hits)
        list += (list.empty() ? "" : ", ") + (*ev)["event"].get<std::string>() + " " +
                describe_date((*ev)["date"].get<std::string>()) + " at " + (*ev)["time"].get<std::string>();
      if (hits.empty()) return ok_answer("", "You have nothing in your calendar" + (date ? " " + describe_date(*date) : "") + ".");
      return ok_answer(list, "You have " + list + ".");
    }
    // calendar_remove
    if (!event && !date && !time && !person) return failed("Which event should I remove?");
    if (hits.empty()) return failed("I couldn't find that event.");
    return ok_action({{"type", "calendar.remove"}, {"event", (*hits.front())["event"]}},
                     "Removed " + (*hits.front())["event"].get<std::string>() + " from your calendar.");
  }

  json weather() {
    std::string place = e_.resolved("place_name").value_or(s_["home"].get<std::string>());
    if (auto u = e_.unresolved("place_name"); u && !e_.resolved("place_name"))
      return failed("I don't know the weather in " + *u + ".");
    std::string date = e_.resolved("date").value_or("day+0");
    uint64_t h = stable_hash(place + "|" + date);
    const auto& cond = s_["weather_conditions"];
    std::string c = cond[static_cast<size_t>(h % cond.size())];
    long temp = static_cast<long>((h >> 16) % 31) - 2;
    std::string answer = c + ", " + std::to_string(temp) + " degrees";
    return ok_answer(answer, describe_date(date) + " in " + place + ": " + answer + ".");
  }

  json datetime() {
    const auto& clk = s_["clock"];
    std::string answer = clk["weekday"].get<std::string>() + " " + clk["date"].get<std::string>() + " " +
                         clk["time"].get<std::string>();
    return ok_answer(answer, "It is " + clk["time"].get<std::string>() + " on " + clk["weekday"].get<std::string>() + ".");
  }

  json currency() {
    auto cs = e_.all("currency_name");
    const auto& rates = s_["currencies"];
    if (cs.empty()) return failed("Which currency?");
    std::string from = cs[0], to = cs.size() > 1 ? cs[1] : "us dollar";
    if (from == to && cs.size() == 1) to = "euro";
    if (!rates.contains(from) || !rates.contains(to)) return failed("I don't have rates for that currency.");
    double r = rates[to].get<double>() / rates[from].get<double>();
    char buf[64];
    std::snprintf(buf, sizeof buf, "%.4g", r);
    std::string answer = "1 " + from + " = " + buf + " " + to;
    return ok_answer(answer, "One " + from + " is " + buf + " " + to + ".");
  }

  json joke() {
    std::string kind = e_.resolved("joke_type").value_or("");
    const auto& jokes = s_["jokes"];
    std::string j = jokes[static_cast<size_t>(stable_hash(kind) % jokes.size())];
    return ok_answer(j, j);
  }

  json news() {
    std::string topic = e_.resolved("news_topic").value_or("general");
    const auto& news = s_["news"];
    std::string n = news[static_cast<size_t>(stable_hash(topic) % news.size())];
    return ok_answer(n, "Here is the " + topic + " news: " + n + ".");
  }

  json media(const std::string& intent) {
    static const std::map<std::string, std::pair<const char*, std::vector<const char*>>> kinds{
        {"play_music", {"music", {"song_name", "artist_name", "music_genre", "playlist_name", "music_descriptor"}}},
        {"play_radio", {"radio", {"radio_name", "music_genre"}}},
        {"play_podcasts", {"podcast", {"podcast_name", "podcast_descriptor"}}},
        {"play_audiobook", {"audiobook", {"audiobook_name", "audiobook_author"}}},
    };
    const auto& [kind, types] = kinds.at(intent);
    json action{{"type", "media.play"}, {"kind", kind}};
    std::string what;
    for (const char* t : types) {
      if (auto v = e_.resolved(t)) {
        action[t] = *v;
        if (what.empty()) what = *v;
      } else if (auto u = e_.unresolved(t)) {
        return failed("I couldn't find " + *u + ".");
      }
    }
    return ok_action(action, "Playing " + (what.empty() ? std::string("some ") + kind : what) + ".");
  }

  json music_other(const std::string& intent) {
    const auto& np = s_["now_playing"];
    if (intent == "music_query") {
      std::string a = np["song"].get<std::string>() + " by " + np["artist"].get<std::string>();
      return ok_answer(a, "This is " + a + ".");
    }
    if (intent == "music_likeness" || intent == "likeness")
      return ok_action({{"type", "music.like"}, {"song", np["song"]}}, "I'll remember that you like this.");
    if (intent == "music_dislikeness")
      return ok_action({{"type", "music.dislike"}, {"song", np["song"]}}, "I'll remember that you don't like this.");
    // music_settings
    auto setting = e_.resolved("player_setting");
    if (!setting) return failed("Which setting?");
    return ok_action({{"type", "player.set"}, {"setting", *setting}}, "Okay, " + *setting + ".");
  }

 private:
  static double text_match(const std::string& a, const std::string& b) {
    if (a.find(b) != std::string::npos) return 1.0;
    return similarity(a, b);
  }
  const json& s_;
  const Entities& e_;
};

using Handler = std::function<json(Executor&, const std::string&)>;

const std::map<std::string, Handler>& handlers() {
  static const std::map<std::string, Handler> h = [] {
    std::map<std::string, Handler> m;
    for (const char* i : {"iot_hue_lighton", "iot_hue_lightoff", "iot_hue_lightdim", "iot_hue_lightup",
                          "iot_hue_lightchange", "hue_lightoff", "hue_lightup"})
      m[i] = [](Executor& x, const std::string& in) { return x.lights(in); };
    m["iot_wemo_on"] = [](Executor& x, const std::string&) { return x.plug(true); };
    m["iot_wemo_off"] = [](Executor& x, const std::string&) { return x.plug(false); };
    m["iot_cleaning"] = m["cleaning"] = [](Executor& x, const std::string&) { return x.cleaning(); };
    m["iot_coffee"] = [](Executor& x, const std::string&) { return x.coffee(); };
    for (const char* i : {"audio_volume_up", "audio_volume_down", "audio_volume_mute"})
      m[i] = [](Executor& x, const std::string& in) { return x.volume(in); };
    for (const char* i : {"alarm_set", "alarm_query", "alarm_remove"})
      m[i] = [](Executor& x, const std::string& in) { return x.alarm(in); };
    for (const char* i : {"lists_createoradd", "lists_query", "lists_remove"})
      m[i] = [](Executor& x, const std::string& in) { return x.lists(in); };
    for (const char* i : {"calendar_set", "calendar_query", "calendar_remove"})
      m[i] = [](Executor& x, const std::string& in) { return x.calendar(in); };
    m["weather_query"] = [](Executor& x, const std::string&) { return x.weather(); };
    m["datetime_query"] = [](Executor& x, const std::string&) { return x.datetime(); };
    m["qa_currency"] = [](Executor& x, const std::string&) { return x.currency(); };
    m["general_joke"] = [](Executor& x, const std::string&) { return x.joke(); };
    m["news_query"] = [](Executor& x, const std::string&) { return x.news(); };
    for (const char* i : {"play_music", "play_radio", "play_podcasts", "play_audiobook"})
      m[i] = [](Executor& x, const std::string& in) { return x.media(in); };
    for (const char* i : {"music_query", "music_likeness", "likeness", "music_dislikeness", "music_settings"})
      m[i] = [](Executor& x, const std::string& in) { return x.music_other(in); };
    return m;
  }();
  return h;
}

}  // namespace

World World::initial() {
  World w;
  w.state_ = json::parse(kInitialWorld);
  return w;
}

const std::vector<std::string>& World::supported_intents() {
  static const std::vector<std::string> v = [] {
    std::vector<std::string> out;
    for (const auto& [k, h] : handlers()) out.push_back(k);
    return out;
  }();
  return v;
}

json World::execute(const json& interpretation) const {
  if (!interpretation.is_object()) throw std::invalid_argument("interpretation must be a JSON object");
  if (!interpretation.contains("intent") || !interpretation["intent"].is_string())
    throw std::invalid_argument("interpretation has no string \"intent\"");
  json empty = json::array();
  const json& list = interpretation.contains("entities") ? interpretation["entities"] : empty;
  if (!list.is_array()) throw std::invalid_argument("interpretation \"entities\" must be an array");
  std::string intent = interpretation["intent"];
  auto it = handlers().find(intent);
  if (it == handlers().end()) return unsupported();
  Entities e(list);
  Executor x(state_, e);
  return it->second(x, intent);
}

}  // namespace cascade::language
