// verify.cpp — read everything, count it, report every damaged byte range.
#include <cascade/trace/tools.hpp>

#include <sstream>

namespace cascade::trace {

VerifyReport verify(const std::filesystem::path& path) {
  Reader reader(path);
  VerifyReport r;
  while (auto rec = reader.next()) {
    if (std::holds_alternative<StageRecord>(*rec)) ++r.stage_records;
    else ++r.turn_records;
  }
  r.files = reader.files();
  r.stats = reader.stats();
  r.damage = reader.damage();
  return r;
}

std::string format_text(const VerifyReport& r) {
  std::ostringstream o;
  for (const auto& f : r.files)
    o << f.path.string() << ": " << f.size << " bytes, format v" << f.format_version << ", file #" << f.file_index
      << (f.closed_cleanly ? ", closed cleanly" : ", NOT closed cleanly (writer killed or still running)") << "\n";
  o << r.stats.records << " records (" << r.stage_records << " stage, " << r.turn_records << " turn) in "
    << r.stats.chunks << " intact chunks, " << r.stats.files << " file(s)\n";
  for (const auto& d : r.damage) o << d.format() << "\n";
  o << (r.ok() ? "OK" : "DAMAGED: " + std::to_string(r.damage.size()) + " problem(s)") << "\n";
  return o.str();
}

nlohmann::json to_json(const VerifyReport& r) {
  nlohmann::json j;
  j["ok"] = r.ok();
  j["records"] = r.stats.records;
  j["stage_records"] = r.stage_records;
  j["turn_records"] = r.turn_records;
  j["chunks"] = r.stats.chunks;
  j["bytes"] = r.stats.bytes;
  j["files"] = nlohmann::json::array();
  for (const auto& f : r.files)
    j["files"].push_back({{"path", f.path.string()},
                          {"size", f.size},
                          {"format_version", f.format_version},
                          {"file_index", f.file_index},
                          {"writer", f.writer},
                          {"closed_cleanly", f.closed_cleanly}});
  j["damage"] = nlohmann::json::array();
  for (const auto& d : r.damage) j["damage"].push_back(to_json(d));
  return j;
}

}  // namespace cascade::trace
