// `cascade isolate`: failure-point isolation over recorded traces. An
// analyzer plugin labels every turn (the oracle with gold and replays, or
// an isolator from the trace alone); the command writes the analysis file,
// prints a summary and, when a reference is at hand (the oracle run beside
// an isolator, or --against an earlier analysis), scores it.
//
// The shape of the work:
//   1. load the analyzer (a name on the plugin search path, or a .so path)
//      and, with -p, the pipeline replays run through;
//   2. per trace: read it, run the analyzer, keep its verdicts;
//   3. the reference (for an isolator): an oracle run beside the
//      isolator (-p given), or --against FILE;
//   4. write the analysis file; print the summary (text, or --json);
//      optionally the HTML report.
#include "commands.hpp"
#include "isolate_report.hpp"

#include <cascade/core/analysis_file.hpp>
#include <cascade/core/analyze.hpp>
#include <cascade/core/baselines.hpp>
#include <cascade/core/scoring.hpp>
#include <cascade/core/scoring_json.hpp>
#include <cascade/trace/error.hpp>
#include <cascade/trace/reader.hpp>

#include <nlohmann/json.hpp>

#include <fstream>
#include <iostream>
#include <limits>
#include <unistd.h>

namespace cascade::cli {
namespace {

using nlohmann::json;

const std::vector<std::string>& kClasses = cascade::failure_classes();

struct IsolateArgs {
  std::vector<std::string> traces;
  std::string isolator;
  bool oracle = false;
  std::string pipeline;
  std::vector<std::string> overrides;
  std::vector<std::string> params;  // KEY=VALUE for the analyzer
  std::string out;
  std::string against;
  std::string report;
  bool json = false;
  bool quiet = false;
  uint32_t jobs = 0;
  std::string dialogues = "all";  // all, or one side of the split by dialogue id (baselines.hpp's split_side)
};

std::map<std::string, std::string> parse_params(const std::vector<std::string>& kv) {
  std::map<std::string, std::string> out;
  for (const auto& p : kv) {
    const auto eq = p.find('=');
    if (eq == std::string::npos || eq == 0) throw CascadeError("N002", "analyzer parameter '" + p + "' is not KEY=VALUE");
    out[p.substr(0, eq)] = p.substr(eq + 1);
  }
  return out;
}

std::string key_of(const std::string& trace, uint64_t seq) {
  return std::filesystem::path(trace).filename().string() + "#" + std::to_string(seq);
}

void print_scores(std::ostream& o, const std::string& title, const Scores& s) {
  o << "\n" << title << ": accuracy " << s.accuracy * 100 << "%, macro-F1 " << s.macro_f1 << " (" << s.turns
    << " turns)\n";
  o << "  class        precision  recall   f1     support\n";
  for (const auto& c : s.classes) {
    const ClassScore& cs = s.per_class.at(c);
    char line[128];
    std::snprintf(line, sizeof line, "  %-12s %8.3f %8.3f %6.3f %9llu\n", c.c_str(), cs.precision, cs.recall, cs.f1,
                  static_cast<unsigned long long>(cs.support));
    o << line;
  }
  o << "  confusion (rows: reference, columns: predicted, in the class order above)\n";
  for (size_t r = 0; r < s.classes.size(); ++r) {
    char head[32];
    std::snprintf(head, sizeof head, "  %-12s", s.classes[r].c_str());
    o << head;
    for (uint64_t v : s.confusion[r]) {
      char cell[16];
      std::snprintf(cell, sizeof cell, " %6llu", static_cast<unsigned long long>(v));
      o << cell;
    }
    o << "\n";
  }
}

// What keeping only the surer labels gives (scoring.hpp, coverage_curve).
void print_coverage(std::ostream& o, const std::vector<CoveragePoint>& curve) {
  o << "\nkeeping only the labels with a score of at least:\n";
  o << "  min score  turns   share  accuracy  macro-F1\n";
  for (const auto& c : curve) {
    char line[96];
    std::snprintf(line, sizeof line, "  %9.3f %6llu %6.1f%% %8.1f%% %9.3f\n", c.min_score,
                  static_cast<unsigned long long>(c.turns), c.coverage * 100, c.accuracy * 100, c.macro_f1);
    o << line;
  }
}

// One analyzer over every trace.
struct Labelled {
  AnalysisFile file;
  std::vector<trace::TraceData> data;  // kept for the baselines and the report
};

Labelled run_analyzer(const LoadedPlugin& plugin, const IsolateArgs& a, const PipelinePlan* plan,
                      const std::map<std::string, std::string>& params, bool progress) {
  AnalysisOptions o;
  o.params = params;
  o.jobs = a.jobs;
  o.replay_plan = plan;
  const bool tty = progress && ::isatty(2) != 0;
  if (tty)
    o.progress = [&](uint64_t done, uint64_t total) {
      std::cerr << "\r" << plugin.info.name << ": " << done << "/" << total << " turns" << std::flush;
    };
  AnalyzerHost host(plugin, o);
  Labelled l;
  l.file.header.analyzer = plugin.info.name;
  l.file.header.analyzer_version = plugin.info.version;
  l.file.header.labels = plugin.info.labels;
  l.file.header.pipeline = plan != nullptr ? a.pipeline : "";
  for (const auto& t : a.traces) {
    l.data.push_back(trace::read_turns(t));
    for (const auto& d : l.data.back().damage) std::cerr << "warning: " << d.format() << "\n";
    if (a.dialogues != "all") {
      // One side of the split: every turn of a dialogue is on the same
      // side, so an analyzer that reads a turn's neighbours still has them.
      auto& turns = l.data.back().turns;
      std::erase_if(turns, [&](const trace::Turn& turn) { return split_side(turn.id.dialogue_id) != a.dialogues; });
    }
    AnalysisResult r = host.run(l.data.back());
    if (tty) std::cerr << "\n";
    l.file.header.traces.push_back(t);
    l.file.header.turns += r.verdicts.size();
    l.file.header.replays += r.replays;
    l.file.header.seconds += r.seconds;
    if (r.skipped > 0) std::cerr << "note: " << t << ": " << r.skipped << " turns without a turn record were not analyzed\n";
    for (auto& v : r.verdicts) l.file.lines.push_back({t, std::move(v)});
  }
  return l;
}

const LoadedPlugin& find_analyzer(PluginRegistry& reg, const std::string& name) {
  if (name.find('/') != std::string::npos || name.ends_with(".so")) return reg.load(name);
  if (const LoadedPlugin* p = reg.find(name)) return *p;
  std::string searched;
  for (const auto& d : reg.searched()) searched += (searched.empty() ? "" : ", ") + d.string();
  throw CascadeError("N001", "no analyzer plugin '" + name + "' on the search path (searched: " + searched + ")");
}

int isolate(const IsolateArgs& a, Globals& g) {
  if (a.oracle && !a.isolator.empty()) throw CascadeError("N003", "give --oracle or --isolator, not both");
  if (a.oracle && a.pipeline.empty())
    throw CascadeError("N003", "the oracle replays turns: give it the pipeline the traces came from (-p PIPELINE.toml)");
  std::optional<LoadedPipeline> pipe;
  if (!a.pipeline.empty()) {
    pipe = load_pipeline_or_print(a.pipeline, a.overrides, g);
    if (!pipe) return kUsageError;
  }
  auto reg = std::make_unique<PluginRegistry>();
  std::vector<std::filesystem::path> dirs(g.plugin_paths.begin(), g.plugin_paths.end());
  reg->scan(PluginRegistry::search_path(dirs));
  const std::string name = a.oracle ? "oracle" : (a.isolator.empty() ? "rules" : a.isolator);
  const LoadedPlugin& plugin = find_analyzer(*reg, name);
  const PipelinePlan* plan = pipe ? &pipe->plan : nullptr;
  const auto params = parse_params(a.params);

  Labelled main = run_analyzer(plugin, a, plan, params, !a.quiet);

  // The reference labels, when there is one.
  std::map<std::string, std::string> reference;
  std::string reference_name;
  if (!a.against.empty()) {
    const AnalysisFile ref = read_analysis(a.against);
    reference_name = ref.header.analyzer + " (" + a.against + ")";
    for (const auto& l : ref.lines)
      if (l.verdict.analyzed) reference[key_of(l.trace, l.verdict.turn_seq)] = l.verdict.label;
  } else if (plan != nullptr && plugin.info.name != "oracle") {
    if (const LoadedPlugin* oracle = reg->find("oracle")) {
      Labelled ref = run_analyzer(*oracle, a, plan, {}, !a.quiet);
      reference_name = "oracle";
      for (const auto& l : ref.file.lines)
        if (l.verdict.analyzed) reference[key_of(l.trace, l.verdict.turn_seq)] = l.verdict.label;
    }
  }

  // Summary.
  std::map<std::string, uint64_t> counts;
  uint64_t analyzed = 0, failed = 0;
  for (const auto& l : main.file.lines) {
    if (!l.verdict.analyzed) continue;
    ++analyzed;
    ++counts[l.verdict.label];
    failed += l.verdict.label != "correct" ? 1 : 0;
  }
  std::vector<std::string> classes = plugin.info.labels.empty() ? kClasses : plugin.info.labels;

  // Scores against the reference, with the two baselines on the same turns.
  std::optional<Scores> scored, majority, lowest;
  std::vector<CoveragePoint> coverage;
  if (!reference.empty()) {
    std::vector<std::pair<std::string, std::string>> pairs, maj, low;
    std::vector<ScoredLabel> by_score;
    std::map<std::string, uint64_t> ref_counts;
    for (const auto& [k, v] : reference) ++ref_counts[v];
    std::string top;
    for (const auto& [c, n] : ref_counts)
      if (top.empty() || n > ref_counts[top]) top = c;
    for (size_t ti = 0; ti < main.data.size(); ++ti) {
      for (const auto& t : main.data[ti].turns) {
        if (!t.record) continue;
        auto r = reference.find(key_of(a.traces[ti], t.id.turn_seq));
        if (r == reference.end()) continue;
        maj.emplace_back(r->second, top);
        low.emplace_back(r->second, lowest_confidence_label(t));
      }
    }
    for (const auto& l : main.file.lines) {
      auto r = reference.find(key_of(l.trace, l.verdict.turn_seq));
      if (r == reference.end()) continue;
      pairs.emplace_back(r->second, l.verdict.analyzed ? l.verdict.label : std::string("(none)"));
      by_score.push_back({pairs.back().first, pairs.back().second,
                          l.verdict.analyzed ? l.verdict.score : std::numeric_limits<double>::quiet_NaN()});
    }
    scored = score(pairs, classes);
    coverage = coverage_curve(by_score, classes, default_coverages());
    majority = score(maj, classes);
    lowest = score(low, classes);
  }

  // The analysis file, beside the first trace unless told otherwise.
  const std::string out_path = !a.out.empty() ? a.out : a.traces.front() + "." + plugin.info.name + ".jsonl";
  {
    std::ofstream f(out_path);
    if (!f) throw CascadeError("N013", "cannot write the analysis file", out_path);
    write_analysis(f, main.file);
    f.flush();
    if (!f) throw CascadeError("N013", "writing the analysis file failed", out_path);
  }
  const double turns_per_s = main.file.header.seconds > 0 ? static_cast<double>(analyzed) / main.file.header.seconds : 0;
  const double replays_per_turn = analyzed > 0 ? static_cast<double>(main.file.header.replays) / static_cast<double>(analyzed) : 0;

  if (a.json) {
    json j = {{"analyzer", plugin.info.name},
              {"analysis", out_path},
              {"turns", main.file.lines.size()},
              {"analyzed", analyzed},
              {"failed", failed},
              {"failed_share", analyzed > 0 ? static_cast<double>(failed) / static_cast<double>(analyzed) : 0.0},
              {"labels", counts},
              {"cost", {{"replays", main.file.header.replays},
                        {"replays_per_turn", replays_per_turn},
                        {"seconds", main.file.header.seconds},
                        {"turns_per_second", turns_per_s}}}};
    if (scored) {
      j["reference"] = reference_name;
      j["scores"] = scores_json(*scored);
      j["accuracy"] = scored->accuracy;
      j["macro_f1"] = scored->macro_f1;
      j["baselines"] = {{"majority", scores_json(*majority)}, {"lowest_confidence", scores_json(*lowest)}};
      j["coverage"] = coverage_json(coverage);
    }
    std::cout << j.dump(2) << "\n";
  } else {
    std::cout << plugin.info.name << ": " << analyzed << " of " << main.file.lines.size() << " turns labelled; "
              << failed << " failed (" << (analyzed ? 100.0 * static_cast<double>(failed) / static_cast<double>(analyzed) : 0)
              << "%)\n";
    std::cout << "failure points:";
    for (const auto& c : classes) std::cout << "  " << c << " " << counts[c];
    std::cout << "\ncost: " << main.file.header.replays << " replays (" << replays_per_turn << " a turn), "
              << turns_per_s << " turns/s\n";
    if (scored) {
      print_scores(std::cout, plugin.info.name + " against " + reference_name, *scored);
      std::cout << "\nbaselines on the same turns: majority class accuracy " << majority->accuracy * 100
                << "% (macro-F1 " << majority->macro_f1 << "), lowest-confidence stage accuracy "
                << lowest->accuracy * 100 << "% (macro-F1 " << lowest->macro_f1 << ")\n";
      print_coverage(std::cout, coverage);
    }
    std::cout << "analysis: " << out_path << "\n";
  }
  uint64_t not_analyzed = main.file.lines.size() - analyzed;
  if (not_analyzed > 0) {
    std::cerr << "note: " << not_analyzed << " turns were not labelled; the first:";
    for (const auto& l : main.file.lines)
      if (!l.verdict.analyzed) {
        std::cerr << " " << l.verdict.dialogue_id << "/" << l.verdict.turn_index << ": " << l.verdict.error << "\n";
        break;
      }
  }
  if (!a.report.empty()) {
    ReportInput in{&main.file, scored ? &*scored : nullptr, reference_name, classes, &main.data, &coverage};
    write_report(a.report, in);
    if (!a.json) std::cout << "report: " << a.report << "\n";
  }
  return kOk;
}

// `cascade isolate train ...` runs the tool cascade-isolate-train
// (isolate_train.cpp) beside this executable: only that tool links xgboost.
void add_isolate_train_command(CLI::App& isolate, Globals& g) {
  auto* t = isolate.add_subcommand("train", "Train the learned isolator on the oracle's labels (runs cascade-isolate-train; "
                                            "`cascade isolate train --help`)");
  t->prefix_command();
  t->set_help_flag();
  t->callback([t, &g] {
    std::error_code ec;
    const auto tool = std::filesystem::read_symlink("/proc/self/exe", ec).parent_path() / "cascade-isolate-train";
    std::vector<std::string> args = {tool.string()};
    for (const auto& p : g.plugin_paths) args.insert(args.end(), {"--plugin-path", p});
    for (const auto& r : t->remaining()) args.push_back(r);
    std::vector<char*> argv;
    for (auto& s : args) argv.push_back(s.data());
    argv.push_back(nullptr);
    ::execv(argv[0], argv.data());
    std::cerr << "error: cannot run " << tool.string() << " (built with the voice plugins)\n";
    g.exit_code = kRuntimeFailure;
  });
}

}  // namespace

void add_isolate_commands(CLI::App& app, Globals& g) {
  auto a = std::make_shared<IsolateArgs>();
  auto* c = app.add_subcommand("isolate", "Failure-point isolation: label every turn of the traces with the first "
                                          "stage that failed unrecovered (false_wake, asr, nlu, er, result, correct)");
  // Not ->required(): CLI11 would take `train` for a trace (checked in the callback).
  c->add_option("traces", a->traces, "Traces (files or rotated directories)")->check(CLI::ExistingPath);
  c->add_option("--isolator", a->isolator, "Analyzer plugin that decides from the trace alone (name or .so path; default: rules)");
  c->add_flag("--oracle", a->oracle, "Use the oracle: judged counterfactual replay against gold (needs -p)");
  c->add_option("-p,--pipeline", a->pipeline, "Pipeline the traces came from: replays run through it (the oracle's; "
                                              "learned's of the ASR alternatives); with an isolator, the oracle runs "
                                              "too and the isolator is scored against it (unless --against)")
      ->check(CLI::ExistingFile);
  c->add_option("--set", a->overrides, "Override a pipeline config value (repeatable)");
  c->add_option("--param", a->params, "Analyzer parameter KEY=VALUE (repeatable)");
  c->add_option("--against", a->against, "Score against the labels of an earlier analysis file (the oracle's)");
  c->add_option("-o,--out", a->out, "Analysis file to write (default: TRACE.<analyzer>.jsonl beside the first trace)");
  c->add_option("--report", a->report, "Write a self-contained HTML report here");
  c->add_option("--jobs", a->jobs, "Threads calling the analyzer (default: 2, or 64 when it replays)");
  c->add_option("--dialogues", a->dialogues,
                "Label (and score) all dialogues, or one side of the split by dialogue id that `cascade isolate train "
                "--dialogues` and `cascade eval fpi` use (train, test): a model trained on one side is scored on the "
                "other")
      ->check(CLI::IsMember({"all", "train", "test"}))
      ->capture_default_str();
  c->add_flag("--json", a->json, "Print the summary as one JSON object");
  c->add_flag("-q,--quiet", a->quiet, "No progress line");
  c->footer("Exit codes: 0 done, 1 a trace or the analyzer failed, 2 usage or config error.");
  add_isolate_train_command(*c, g);
  c->callback([a, c, &g] {
    if (c->got_subcommand("train")) return;
    if (a->traces.empty()) {
      std::cerr << "error: cascade isolate needs at least one trace (see --help)\n";
      g.exit_code = kUsageError;
      return;
    }
    try {
      g.exit_code = isolate(*a, g);
    } catch (const CascadeError& e) {
      std::cerr << e.what() << "\n";
      g.exit_code = e.code() == "N003" || e.code() == "N002" || e.code().starts_with("C") ? kUsageError : kRuntimeFailure;
    } catch (const trace::TraceError& e) {
      std::cerr << e.what() << "\n";
      g.exit_code = kRuntimeFailure;
    } catch (const std::exception& e) {
      std::cerr << "error[N000]: " << e.what() << "\n";
      g.exit_code = kRuntimeFailure;
    }
  });
}

}  // namespace cascade::cli
