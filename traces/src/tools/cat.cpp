// cat.cpp — records as JSON lines.
#include <cascade/trace/tools.hpp>

#include <ostream>

namespace cascade::trace {

CatResult cat(const std::filesystem::path& path, const CatOptions& options, std::ostream& out) {
  CatResult result;
  if (options.by_turn) {
    TraceData data = read_turns(path);
    for (auto& t : data.turns) {
      if (!options.where.matches(t)) continue;
      if (options.redact) redact(t, options.redaction);
      out << dump_line(to_json(t)) << '\n';
      ++result.lines;
    }
    result.damage = data.damage;
    return result;
  }
  // Per stage record: streamed, so a multi-GB trace never sits in memory.
  Reader reader(path);
  while (auto rec = reader.next()) {
    auto* s = std::get_if<StageRecord>(&*rec);
    if (s == nullptr || !options.where.matches(*s)) continue;
    if (options.redact) redact(*s, options.redaction);
    out << dump_line(to_json(*s)) << '\n';
    ++result.lines;
  }
  result.damage = reader.damage();
  return result;
}

}  // namespace cascade::trace
