// slot_prior.cpp — the slot lexicon's per-intent counts, read once.
#include "slot_prior.hpp"

#include <nlohmann/json.hpp>

#include <fstream>
#include <stdexcept>

namespace cascade::learned {

std::unique_ptr<SlotPrior> SlotPrior::load(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw std::runtime_error("slot lexicon '" + path + "' cannot be read");
  const nlohmann::json j = nlohmann::json::parse(in, nullptr, false);
  const auto fail = [&](const std::string& what) { return std::runtime_error("slot lexicon '" + path + "': " + what); };
  if (!j.is_object() || !j.contains("intent_counts") || !j["intent_counts"].is_object() ||
      !j.contains("intent_types") || !j["intent_types"].is_object())
    throw fail("not a JSON object with \"intent_counts\" and \"intent_types\" objects");
  auto prior = std::unique_ptr<SlotPrior>(new SlotPrior());
  for (const auto& [intent, count] : j["intent_counts"].items()) {
    if (!count.is_number() || count.get<double>() <= 0) throw fail("intent_counts." + intent + " is not a positive number");
    prior->intents_[intent].requests = count.get<double>();
  }
  for (const auto& [intent, types] : j["intent_types"].items()) {
    const auto it = prior->intents_.find(intent);
    if (it == prior->intents_.end()) throw fail("intent_types." + intent + " has no intent_counts entry");
    if (!types.is_object()) throw fail("intent_types." + intent + " is not an object");
    for (const auto& [type, count] : types.items()) {
      if (!count.is_number() || count.get<double>() < 0)
        throw fail("intent_types." + intent + "." + type + " is not a number >= 0");
      it->second.types[type] = count.get<double>();
      it->second.slots += count.get<double>();
    }
  }
  return prior;
}

std::optional<double> SlotPrior::type_probability(std::string_view intent, std::string_view type) const {
  const auto it = intents_.find(intent);
  if (it == intents_.end()) return std::nullopt;
  const Intent& i = it->second;
  const auto t = i.types.find(type);
  return t == i.types.end() || i.slots <= 0 ? 0.0 : t->second / i.slots;
}

std::optional<double> SlotPrior::slots_per_request(std::string_view intent) const {
  const auto it = intents_.find(intent);
  if (it == intents_.end()) return std::nullopt;
  return it->second.slots / it->second.requests;
}

}  // namespace cascade::learned
