// cli.cpp — `cascade trace verify|cat|export|stats` and `cascade diff`.
//
// Thin: parse options, call the C++ API in tools.hpp, print, set exit_code
// (0 ok, 1 runtime failure or damage found, 2 usage error). Errors never
// escape as exceptions: the caller's process survives a bad trace.
#include <cascade/trace/tools.hpp>

#include <CLI/CLI.hpp>

#include <fstream>
#include <functional>
#include <iostream>
#include <memory>
#include <random>

namespace cascade::trace {
namespace {

struct Options {
  std::string path;
  std::string path_b;
  bool json = false;
  std::string by = "stage";
  std::vector<std::string> where;
  std::string format = "perfetto";
  std::string output;
  bool fail_on_diff = false;
  bool redact = false;
  std::string redact_key;
};

// --redact's key: the one given (to join several redacted files), else a
// fresh random one, so hashes of short strings cannot be looked up.
RedactOptions redaction(const Options& o) {
  RedactOptions r;
  if (o.redact_key.empty()) {
    std::random_device random;
    r.key = (uint64_t{random()} << 32) ^ random();
    return r;
  }
  size_t used = 0;
  try {
    r.key = std::stoull(o.redact_key, &used, 0);
  } catch (const std::exception&) {
    used = 0;
  }
  if (used == 0 || used != o.redact_key.size())
    throw TraceError(codes::kUsage, {}, "--redact-key must be an integer (decimal or 0x hex), not '" +
                                            o.redact_key + "'");
  return r;
}

void add_redact_options(CLI::App* cmd, Options& o) {
  cmd->add_flag("--redact", o.redact,
                "Replace user text, JSON strings, gold, ids and error messages by keyed hashes and drop audio "
                "(for sharing outside the team; docs/robustness.md)");
  cmd->add_option("--redact-key", o.redact_key,
                  "Hash key for --redact (implies it): the same key gives the same hashes across files "
                  "(default: a random key per run)");
}

void print_damage(const std::vector<Damage>& damage) {
  for (const auto& d : damage) std::cerr << d.format() << "\n";
}

// Runs `body`, mapping exceptions to diagnostics and exit codes.
void guarded(int& exit_code, const std::function<int()>& body) {
  try {
    exit_code = body();
  } catch (const TraceError& e) {
    std::cerr << e.what() << "\n";
    exit_code = e.code() == codes::kUsage ? 2 : 1;
  } catch (const std::exception& e) {
    std::cerr << "error: " << e.what() << "\n";
    exit_code = 1;
  }
}

int write_output(const Options& o, const std::string& text) {
  if (o.output.empty() || o.output == "-") {
    std::cout << text << "\n";
    return 0;
  }
  std::ofstream f(o.output, std::ios::binary | std::ios::trunc);
  if (!f) throw TraceError(codes::kOpen, o.output, "cannot create output file");
  f << text << "\n";
  f.close();
  if (!f) throw TraceError(codes::kWrite, o.output, "cannot write output file");
  return 0;
}

}  // namespace

void register_commands(CLI::App& app, int& exit_code) {
  auto o = std::make_shared<Options>();
  int* code = &exit_code;

  auto* trace = app.add_subcommand("trace", "Inspect, convert and summarise Cascade trace files (.cas)");
  trace->require_subcommand(1);

  auto* verify_cmd = trace->add_subcommand(
      "verify", "Check every chunk checksum; report records, chunks, damaged tails and bad chunks (exit 1 if damaged)");
  verify_cmd->add_option("path", o->path, "Trace file or directory of rotated trace files")->required();
  verify_cmd->add_flag("--json", o->json, "Print the report as JSON");
  verify_cmd->callback([o, code] {
    guarded(*code, [&] {
      const VerifyReport r = verify(o->path);
      std::cout << (o->json ? to_json(r).dump(2) + "\n" : format_text(r));
      return r.ok() ? 0 : 1;
    });
  });

  auto* cat_cmd = trace->add_subcommand("cat", "Print records as JSON lines (one per stage record, or per turn)");
  cat_cmd->add_option("path", o->path, "Trace file or directory of rotated trace files")->required();
  cat_cmd->add_option("--by", o->by, "One line per 'stage' record (default) or per 'turn'")
      ->check(CLI::IsMember({"stage", "turn"}));
  cat_cmd->add_option("--where", o->where,
                      "Filter key=value or key!=value (repeatable, ANDed); keys: dialogue, user, turn, seq, stage, "
                      "plugin, status, worker. Example: --where dialogue=d1 --where status=error");
  add_redact_options(cat_cmd, *o);
  cat_cmd->callback([o, code] {
    guarded(*code, [&] {
      CatOptions co;
      co.by_turn = o->by == "turn";
      co.where = Where::parse(o->where);
      co.redact = o->redact || !o->redact_key.empty();
      if (co.redact) co.redaction = redaction(*o);
      const CatResult r = cat(o->path, co, std::cout);
      std::cout.flush();
      print_damage(r.damage);
      return r.damage.empty() ? 0 : 1;
    });
  });

  auto* export_cmd = trace->add_subcommand(
      "export", "Convert to Perfetto/Chrome trace-event JSON (open in ui.perfetto.dev) or OTLP/JSON spans");
  export_cmd->add_option("path", o->path, "Trace file or directory of rotated trace files")->required();
  export_cmd->add_option("--format", o->format, "perfetto (default) or otlp")
      ->check(CLI::IsMember({"perfetto", "otlp"}));
  export_cmd->add_option("-o,--output", o->output, "Output file (default: standard output)");
  add_redact_options(export_cmd, *o);
  export_cmd->callback([o, code] {
    guarded(*code, [&] {
      TraceData data = read_turns(o->path);
      if (o->redact || !o->redact_key.empty()) redact(data, redaction(*o));
      const auto j = o->format == "otlp" ? export_otlp(data) : export_perfetto(data);
      write_output(*o, dump_line(j));
      print_damage(data.damage);
      return data.damage.empty() ? 0 : 1;
    });
  });

  auto* stats_cmd = trace->add_subcommand(
      "stats", "Turns, per-stage counts, latency p50/p90/p99 and error/timeout/skipped counts");
  stats_cmd->add_option("path", o->path, "Trace file or directory of rotated trace files")->required();
  stats_cmd->add_flag("--json", o->json, "Print the statistics as JSON");
  stats_cmd->callback([o, code] {
    guarded(*code, [&] {
      const StatsReport r = compute_stats(read_turns(o->path));
      std::cout << (o->json ? to_json(r).dump(2) + "\n" : format_text(r));
      if (o->json) print_damage(r.damage);
      return r.damage.empty() ? 0 : 1;
    });
  });

  auto* diff_cmd = app.add_subcommand(
      "diff", "Compare two traces turn by turn (matched by dialogue id + turn index): first stage whose status or "
              "outputs differ, and a summary per stage");
  diff_cmd->add_option("a", o->path, "Trace A (file or directory)")->required();
  diff_cmd->add_option("b", o->path_b, "Trace B (file or directory)")->required();
  diff_cmd->add_flag("--json", o->json, "Print the report as JSON");
  diff_cmd->add_flag("--fail-on-diff", o->fail_on_diff, "Exit 1 when any matched turn diverges");
  diff_cmd->callback([o, code] {
    guarded(*code, [&] {
      const DiffReport r = diff(read_turns(o->path), read_turns(o->path_b));
      std::cout << (o->json ? to_json(r).dump(2) + "\n" : format_text(r));
      if (o->json) print_damage(r.damage);
      if (!r.damage.empty()) return 1;
      return o->fail_on_diff && !r.divergences.empty() ? 1 : 0;
    });
  });
}

}  // namespace cascade::trace
