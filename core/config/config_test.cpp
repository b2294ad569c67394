// load_config + validate against the real built-in plugins (noop,
// normalize, passthrough, join) loaded by the real loader.
#include "test_support.hpp"

#include <cascade/abi/cascade_abi.h>

#include <gtest/gtest.h>

#include <fstream>
#include <set>
#include <tuple>

namespace cascade::config {
namespace {

namespace fs = std::filesystem;
using testing::builtin_plugins;
using testing::check;
using testing::dump;
using testing::kSourceDir;

const fs::path kPipelines = kSourceDir / "pipelines";
const fs::path kFixtures = kSourceDir / "tests/config/fixtures";

using Found = std::tuple<std::string, uint32_t, uint32_t>;  // code, line, column

std::multiset<Found> found(const std::vector<Diagnostic>& ds) {
  std::multiset<Found> s;
  for (const auto& d : ds) s.emplace(d.code, d.line, d.column);
  return s;
}

// A config written for one test, in the test's own temp directory.
fs::path write_config(const std::string& name, const std::string& body) {
  fs::path dir = fs::path(::testing::TempDir()) / "cascade_config_test";
  fs::create_directories(dir);
  fs::path p = dir / (name + ".toml");
  std::ofstream(p) << "[pipeline]\nname = \"" << name << "\"\nversion = \"1.0.0\"\n" << body;
  return p;
}

// ---------------------------------------------------------------- good configs

TEST(ShippedPipelines, TextMinimalLoadsAndValidatesClean) {
  PipelineConfig cfg;
  const auto diags = check(kPipelines / "text-minimal.toml", {}, &cfg);
  ASSERT_TRUE(diags.empty()) << dump(diags);
  EXPECT_EQ(cfg.name, "text-minimal");
  EXPECT_EQ(cfg.version, "1.0.0");
  EXPECT_EQ(cfg.run.threads, 1u);
  EXPECT_EQ(cfg.run.max_in_flight, 256u);  // default
  ASSERT_EQ(cfg.stages.size(), 2u);
  EXPECT_EQ(cfg.stages[0].id, "norm");
  EXPECT_EQ(cfg.stages[0].inputs.at("text"), std::make_pair(std::string("input"), std::string("text")));
  EXPECT_EQ(cfg.stages[1].inputs.at("in"), std::make_pair(std::string("norm"), std::string("text")));
  EXPECT_EQ(cfg.edge_count(), 2u);
  // No [output]: the last stage in topological order, its first output.
  EXPECT_FALSE(cfg.output_explicit);
  EXPECT_EQ(cfg.output_result, std::make_pair(std::string("out"), std::string()));
  EXPECT_EQ(result_output(cfg, builtin_plugins()), std::make_pair(std::string("out"), std::string("out")));
}

TEST(ShippedPipelines, DagExampleValidatesCleanWithFanOutFanInAndAStandbyStage) {
  PipelineConfig cfg;
  const auto diags = check(kPipelines / "dag-example.toml", {}, &cfg);
  ASSERT_TRUE(diags.empty()) << dump(diags);
  ASSERT_EQ(cfg.stages.size(), 5u);
  const StageConfig* merge = cfg.stage("merge");
  ASSERT_NE(merge, nullptr);
  EXPECT_EQ(merge->plugin, "join");
  EXPECT_EQ(merge->inputs.size(), 2u);
  // weight = 1 is an integer literal for a double parameter: accepted.
  EXPECT_EQ(merge->params.at("weight").type, static_cast<uint32_t>(CASCADE_PARAM_INT));
  const StageConfig* shout = cfg.stage("shout");
  ASSERT_NE(shout, nullptr);
  EXPECT_EQ(shout->on_error, ErrorPolicy::Fallback);
  EXPECT_EQ(shout->timeout_ms, 200u);
  const StageConfig* standby = cfg.stage("shout_simple");
  ASSERT_NE(standby, nullptr);
  EXPECT_EQ(standby->fallback_for, "shout");
  EXPECT_TRUE(standby->inputs_inherited);
  EXPECT_EQ(standby->inputs, shout->inputs);
  EXPECT_EQ(cfg.output_result, std::make_pair(std::string("merge"), std::string("text")));
  EXPECT_EQ(cfg.edge_count(), 6u);
}

// ------------------------------------------------------------- all at once

TEST(Diagnostics, ManyErrorsInOneFileAreAllReportedAtOnce) {
  const auto diags = check(kSourceDir / "tests/config/many-errors.toml");
  const std::multiset<Found> expected{
      {"C002", 5, 1},   // colour
      {"C005", 8, 11},  // threads = -1
      {"C004", 9, 17},  // max_in_flight = "lots"
      {"C024", 14, 19}, // input.audio into a text input
      {"C012", 15, 24}, // lowercase = 1
      {"C011", 15, 27}, // strip
      {"C005", 18, 6},  // Bad-Id
      {"C022", 20, 17}, // norm.txt
      {"C010", 24, 10}, // no_such_plugin
      {"C021", 25, 17}, // nowhere.out
      {"C020", 28, 6},  // second norm
  };
  EXPECT_EQ(found(diags), expected) << dump(diags);
}

TEST(Diagnostics, MessagesSuggestTheNearestName) {
  const auto diags = check(kSourceDir / "tests/config/bad/c002_unknown_key.toml");
  ASSERT_EQ(diags.size(), 1u);
  EXPECT_NE(diags[0].message.find("did you mean 'timeout_ms'?"), std::string::npos) << diags[0].message;
  const auto p = check(kSourceDir / "tests/config/bad/c011_unknown_param.toml");
  ASSERT_EQ(p.size(), 1u);
  EXPECT_NE(p[0].message.find("did you mean 'lowercase'?"), std::string::npos) << p[0].message;
}

TEST(Diagnostics, UnknownPluginListsTheDirectoriesSearched) {
  const auto diags = check(kSourceDir / "tests/config/bad/c010_unknown_plugin.toml");
  ASSERT_EQ(diags.size(), 1u);
  EXPECT_NE(diags[0].message.find(testing::kPluginDir.string()), std::string::npos) << diags[0].message;
}

TEST(Diagnostics, DuplicateStageMentionsTheFirstDefinitionsLine) {
  const auto diags = check(kSourceDir / "tests/config/bad/c020_duplicate_stage.toml");
  ASSERT_EQ(diags.size(), 1u);
  EXPECT_NE(diags[0].message.find("line 6"), std::string::npos) << diags[0].message;
}

TEST(Diagnostics, CycleNamesItsStagesInOrder) {
  const auto diags = check(kSourceDir / "tests/config/bad/c025_cycle.toml");
  ASSERT_EQ(diags.size(), 1u);
  EXPECT_NE(diags[0].message.find("x -> y -> x"), std::string::npos) << diags[0].message;
}

TEST(Diagnostics, MissingFileIsC030AndStopsThere) {
  const LoadResult r = load_config(kFixtures / "no-such-file.toml");
  ASSERT_EQ(r.diagnostics.size(), 1u);
  EXPECT_EQ(r.diagnostics[0].code, "C030");
  EXPECT_FALSE(r.complete);
}

TEST(Diagnostics, ConfigWithoutPipelineOrStagesReportsEachMissingPart) {
  const fs::path p = fs::path(::testing::TempDir()) / "cascade_empty.toml";
  std::ofstream(p) << "# nothing here\n";
  const LoadResult r = load_config(p);
  EXPECT_EQ(found(r.diagnostics), (std::multiset<Found>{{"C003", 1, 1}, {"C003", 1, 1}, {"C003", 1, 1}}))
      << dump(r.diagnostics);
}

// ----------------------------------------------------------------- extends

TEST(Extends, DerivedFileIsAppliedKeyByKeyOnTopOfItsBase) {
  PipelineConfig cfg;
  const auto diags = check(kFixtures / "variants/derived.toml", {}, &cfg);
  ASSERT_TRUE(diags.empty()) << dump(diags);
  EXPECT_EQ(cfg.name, "derived");
  EXPECT_EQ(cfg.version, "1.1.0");
  EXPECT_EQ(cfg.description, "the base");  // inherited
  EXPECT_EQ(cfg.run.threads, 1u);          // replaced
  EXPECT_EQ(cfg.run.max_in_flight, 32u);   // inherited
  ASSERT_EQ(cfg.files.size(), 2u);
  EXPECT_EQ(cfg.files[0].filename(), "derived.toml");
  EXPECT_EQ(cfg.files[1].filename(), "base.toml");
  ASSERT_EQ(cfg.stages.size(), 3u);
  const StageConfig& norm = cfg.stages[0];
  EXPECT_EQ(norm.plugin, "normalize");                   // from the base
  EXPECT_EQ(norm.params.at("lowercase").text, "true");   // from the base
  EXPECT_EQ(norm.params.at("strip_prefix").text, "computer");  // refined
  EXPECT_EQ(norm.params.at("strip_prefix").pos.file, (kFixtures / "variants/derived.toml").string());
  EXPECT_EQ(cfg.stages[2].id, "tail");
  EXPECT_EQ(cfg.output_result.first, "tail");
}

TEST(Extends, PluginPathsResolveRelativeToTheFileThatWroteThem) {
  const LoadResult r = load_config(kFixtures / "variants/derived.toml");
  ASSERT_EQ(r.config.plugin_paths.size(), 1u);
  EXPECT_TRUE(r.config.plugin_paths[0].is_absolute());
  EXPECT_EQ(r.config.plugin_paths[0], fs::absolute(kFixtures / "plugins-here").lexically_normal());
}

TEST(Extends, ChainsOfExtendsApplyInOrder) {
  const LoadResult r = load_config(kFixtures / "variants/chained.toml");
  ASSERT_TRUE(r.ok()) << dump(r.diagnostics);
  EXPECT_EQ(r.config.name, "chained");
  EXPECT_EQ(r.config.run.threads, 3u);
  EXPECT_EQ(r.config.run.max_in_flight, 32u);
  EXPECT_EQ(r.config.files.size(), 3u);
  EXPECT_EQ(r.config.stages.size(), 3u);
}

TEST(Extends, CycleIsC030AtTheExtendsThatClosesIt) {
  const LoadResult r = load_config(kFixtures / "cycle_a.toml");
  ASSERT_EQ(r.diagnostics.size(), 1u) << dump(r.diagnostics);
  const Diagnostic& d = r.diagnostics[0];
  EXPECT_EQ(d.code, "C030");
  EXPECT_EQ(fs::path(d.file).filename(), "cycle_b.toml");
  EXPECT_EQ(d.line, 4u);
  EXPECT_EQ(d.column, 11u);
  EXPECT_NE(d.message.find("cycle_a.toml -> cycle_b.toml -> cycle_a.toml"), std::string::npos) << d.message;
  EXPECT_FALSE(r.complete);
}

TEST(Extends, DuplicateIdInsideTheDerivedFileIsStillC020) {
  const fs::path base = kFixtures / "base.toml";
  const fs::path p = write_config("dup_in_derived", "extends = \"" + base.string() +
                                                        "\"\n[[stages]]\nid = \"out\"\n[[stages]]\nid = \"out\"\n");
  // Absolute extends paths work too (parent / absolute = absolute).
  const LoadResult r = load_config(p);
  EXPECT_EQ(found(r.diagnostics), (std::multiset<Found>{{"C020", 8, 6}})) << dump(r.diagnostics);
}

// --------------------------------------------------------------- overrides

TEST(Overrides, SetRunSettingsParametersAndInputs) {
  PipelineConfig cfg;
  const auto diags = check(kPipelines / "text-minimal.toml",
                           {"run.threads=3", "stages.norm.params.lowercase=false", "stages.norm.strip_prefix=hey",
                            "trace.enabled=true", "trace.path=out/run.cas", "stages.out.inputs.in=input.text"},
                           &cfg);
  ASSERT_TRUE(diags.empty()) << dump(diags);
  EXPECT_EQ(cfg.run.threads, 3u);
  const StageConfig& norm = cfg.stages[0];
  EXPECT_EQ(norm.params.at("lowercase").text, "false");
  EXPECT_EQ(norm.params.at("lowercase").type, static_cast<uint32_t>(CASCADE_PARAM_BOOL));
  // A value that is not TOML is a plain string.
  EXPECT_EQ(norm.params.at("strip_prefix").text, "hey");
  EXPECT_EQ(norm.params.at("strip_prefix").type, static_cast<uint32_t>(CASCADE_PARAM_STRING));
  EXPECT_EQ(norm.params.at("strip_prefix").pos.file, kCommandLine);
  EXPECT_TRUE(cfg.trace.enabled);
  EXPECT_EQ(cfg.trace.path, "out/run.cas");
  EXPECT_EQ(cfg.stages[1].inputs.at("in"), std::make_pair(std::string("input"), std::string("text")));
}

TEST(Overrides, MicroBatchIsAtLeastOneAndDefaultsToOne) {
  PipelineConfig cfg;
  ASSERT_TRUE(check(kPipelines / "text-minimal.toml", {}, &cfg).empty());
  EXPECT_EQ(cfg.run.micro_batch, 1u);
  ASSERT_TRUE(check(kPipelines / "text-minimal.toml", {"run.micro_batch=32"}, &cfg).empty());
  EXPECT_EQ(cfg.run.micro_batch, 32u);
  EXPECT_EQ(found(check(kPipelines / "text-minimal.toml", {"run.micro_batch=0"})),
            (std::multiset<Found>{{"C005", 0, 17}}));
}

TEST(Isolation, AStageRunsInWorkerProcessesWithItsLimits) {
  const fs::path f = write_config("isolated", R"(
[[stages]]
id = "norm"
plugin = "normalize"
inputs = { text = "input.text" }
isolation = "process"
[stages.process]
workers = 3
memory_mb = 512
quarantine_after = 0
)");
  PipelineConfig cfg;
  ASSERT_TRUE(check(f, {}, &cfg).empty());
  EXPECT_EQ(cfg.stages[0].isolation, Isolation::Process);
  EXPECT_EQ(cfg.stages[0].process.workers, 3u);
  EXPECT_EQ(cfg.stages[0].process.memory_mb, 512u);
  EXPECT_EQ(cfg.stages[0].process.quarantine_after, 0u);
  EXPECT_EQ(cfg.stages[0].process.max_payload_mb, 64u);  // default
  ASSERT_TRUE(check(f, {"stages.norm.process.cpu_s=2", "stages.norm.isolation=in_process"}, &cfg).empty());
  EXPECT_EQ(cfg.stages[0].process.cpu_s, 2u);
  EXPECT_EQ(cfg.stages[0].isolation, Isolation::InProcess);
}

TEST(Isolation, BadValuesAndKeysAreCodedErrors) {
  const fs::path f = write_config("isolated_bad", R"(
[[stages]]
id = "norm"
plugin = "normalize"
inputs = { text = "input.text" }
isolation = "proces"
[stages.process]
worker = 2
memory_mb = "lots"
)");
  const auto diags = check(f);
  EXPECT_EQ(found(diags), (std::multiset<Found>{{"C005", 9, 13}, {"C002", 11, 1}, {"C004", 12, 13}})) << dump(diags);
  EXPECT_NE(dump(diags).find("did you mean 'process'?"), std::string::npos) << dump(diags);
  EXPECT_NE(dump(diags).find("did you mean 'workers'?"), std::string::npos) << dump(diags);
  EXPECT_EQ(found(check(kPipelines / "text-minimal.toml", {"stages.norm.process.wrkers=2"})),
            (std::multiset<Found>{{"C031", 0, 21}}));
}

TEST(Overrides, ValueErrorsPointIntoTheArgument) {
  const auto diags = check(kPipelines / "text-minimal.toml",
                           {"stages.norm.lowercase=5", "run.threads=many", "stages.norm.lowercas=true"});
  EXPECT_EQ(found(diags), (std::multiset<Found>{{"C012", 0, 23}, {"C004", 0, 13}, {"C011", 0, 13}})) << dump(diags);
  for (const auto& d : diags) EXPECT_EQ(d.file, kCommandLine);
}

TEST(Overrides, BadSyntaxOrUnknownPathIsC031AtTheOffendingPart) {
  const std::vector<std::pair<std::string, uint32_t>> cases{
      {"run.threads", 1},                // no '='
      {"=3", 1},                         // no key
      {"run..threads=1", 5},             // empty key
      {"run.threads=", 12},              // no value
      {"rn.threads=1", 1},               // unknown section
      {"run.thread=1", 5},               // unknown key
      {"run=1", 1},                      // not section.key
      {"pipeline.extends=x.toml", 10},   // not overridable
      {"stages.nope.lowercase=1", 8},    // unknown stage
      {"stages.norm=1", 8},              // no key
      {"stages.norm.id=x", 13},          // ids are fixed
      {"stages.norm.params.a.b=1", 22},  // too deep
  };
  for (const auto& [arg, column] : cases) {
    const LoadResult r = load_config(kPipelines / "text-minimal.toml", {arg});
    ASSERT_EQ(r.diagnostics.size(), 1u) << arg << "\n" << dump(r.diagnostics);
    EXPECT_EQ(r.diagnostics[0].code, "C031") << arg;
    EXPECT_EQ(r.diagnostics[0].file, kCommandLine) << arg;
    EXPECT_EQ(r.diagnostics[0].line, 0u) << arg;
    EXPECT_EQ(r.diagnostics[0].column, column) << arg << ": " << r.diagnostics[0].message;
  }
}

TEST(Overrides, UnknownKeySuggestsTheRightOne) {
  const LoadResult r = load_config(kPipelines / "text-minimal.toml", {"run.thread=1"});
  ASSERT_EQ(r.diagnostics.size(), 1u);
  EXPECT_NE(r.diagnostics[0].message.find("did you mean 'threads'?"), std::string::npos) << r.diagnostics[0].message;
}

TEST(Overrides, ApplyInOrderSoTheLastOneWins) {
  const LoadResult r = load_config(kPipelines / "text-minimal.toml", {"run.threads=2", "run.threads=5"});
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r.config.run.threads, 5u);
}

// ------------------------------------------------------------------ values

TEST(Params, CanonicalTextIsWhatThePluginWillParse) {
  const fs::path p = write_config("params",
                                  "[[stages]]\nid = \"j\"\nplugin = \"join\"\ninputs = { a = \"input.text\" }\n"
                                  "params = { separator = \" / \", max_len = 512, weight = 0.5 }\n");
  PipelineConfig cfg;
  const auto diags = check(p, {"stages.j.weight=1e-3"}, &cfg);
  ASSERT_TRUE(diags.empty()) << dump(diags);
  const auto& params = cfg.stages[0].params;
  EXPECT_EQ(params.at("separator").text, " / ");
  EXPECT_EQ(params.at("max_len").text, "512");
  EXPECT_EQ(params.at("max_len").type, static_cast<uint32_t>(CASCADE_PARAM_INT));
  EXPECT_EQ(params.at("weight").text, "0.001");
  EXPECT_EQ(params.at("weight").type, static_cast<uint32_t>(CASCADE_PARAM_DOUBLE));
}

TEST(Params, DoubleIsNotAcceptedForAnIntParameter) {
  const fs::path p = write_config("int_param",
                                  "[[stages]]\nid = \"j\"\nplugin = \"join\"\ninputs = { a = \"input.text\" }\n"
                                  "params = { max_len = 1.5 }\n");
  EXPECT_EQ(found(check(p)), (std::multiset<Found>{{"C012", 8, 22}}));
}

TEST(Params, ArrayIsNotAParameterValue) {
  const fs::path p = write_config("array_param",
                                  "[[stages]]\nid = \"j\"\nplugin = \"join\"\ninputs = { a = \"input.text\" }\n"
                                  "params = { separator = [1, 2] }\n");
  EXPECT_EQ(found(check(p)), (std::multiset<Found>{{"C004", 8, 24}}));
}

TEST(Values, ReservedOrMalformedNamesAreC005) {
  const fs::path p = write_config("names",
                                  "[[stages]]\nid = \"input\"\nplugin = \"noop\"\n"
                                  "[[stages]]\nid = \"n\"\nplugin = \"normalize\"\ninputs = { text = \"input\" }\n"
                                  "[output]\nresult = \"a.b.c\"\n");
  const LoadResult r = load_config(p);
  EXPECT_EQ(found(r.diagnostics), (std::multiset<Found>{{"C005", 5, 6}, {"C005", 10, 19}, {"C005", 12, 10}}))
      << dump(r.diagnostics);
}

// ---------------------------------------------------------------- fallback

TEST(Fallback, StandbyWithOtherPortsIsC027AtTheFallbackName) {
  // passthrough has `in`/`out`, normalize has `text`/`text`: it cannot stand in.
  const fs::path p = write_config("fb_ports",
                                  "[[stages]]\nid = \"n\"\nplugin = \"normalize\"\ninputs = { text = \"input.text\" }\n"
                                  "on_error = \"fallback\"\nfallback = \"p\"\n"
                                  "[[stages]]\nid = \"p\"\nplugin = \"passthrough\"\n");
  const auto diags = check(p);
  EXPECT_EQ(found(diags), (std::multiset<Found>{{"C027", 9, 12}, {"C027", 9, 12}, {"C027", 9, 12}})) << dump(diags);
}

TEST(Fallback, ReadingAStandbyStageDirectlyIsC027) {
  const fs::path p = write_config("fb_read",
                                  "[[stages]]\nid = \"n\"\nplugin = \"normalize\"\ninputs = { text = \"input.text\" }\n"
                                  "on_error = \"fallback\"\nfallback = \"m\"\n"
                                  "[[stages]]\nid = \"m\"\nplugin = \"normalize\"\n"
                                  "[[stages]]\nid = \"o\"\nplugin = \"passthrough\"\ninputs = { in = \"m.text\" }\n");
  EXPECT_EQ(found(check(p)), (std::multiset<Found>{{"C027", 16, 17}}));
}

TEST(Fallback, OneStandbyForTwoStagesIsC027) {
  const fs::path p = write_config(
      "fb_twice",
      "[[stages]]\nid = \"a\"\nplugin = \"normalize\"\ninputs = { text = \"input.text\" }\n"
      "on_error = \"fallback\"\nfallback = \"s\"\n"
      "[[stages]]\nid = \"b\"\nplugin = \"normalize\"\ninputs = { text = \"input.text\" }\n"
      "on_error = \"fallback\"\nfallback = \"s\"\n"
      "[[stages]]\nid = \"s\"\nplugin = \"normalize\"\n"
      "[[stages]]\nid = \"j\"\nplugin = \"join\"\ninputs = { a = \"a.text\", b = \"b.text\" }\n");
  EXPECT_EQ(found(check(p)), (std::multiset<Found>{{"C027", 15, 12}}));
}

TEST(Fallback, LoopingChainIsReportedOnce) {
  const fs::path p = write_config("fb_loop",
                                  "[[stages]]\nid = \"a\"\nplugin = \"normalize\"\ninputs = { text = \"input.text\" }\n"
                                  "on_error = \"fallback\"\nfallback = \"b\"\n"
                                  "[[stages]]\nid = \"b\"\nplugin = \"normalize\"\ninputs = { text = \"input.text\" }\n"
                                  "on_error = \"fallback\"\nfallback = \"a\"\n");
  const auto diags = check(p);
  ASSERT_EQ(found(diags), (std::multiset<Found>{{"C027", 9, 12}})) << dump(diags);
  EXPECT_NE(diags[0].message.find("a -> b -> a"), std::string::npos) << diags[0].message;
}

TEST(Fallback, StandbyDeclaringOtherInputsIsC027) {
  const fs::path p = write_config("fb_inputs",
                                  "[[stages]]\nid = \"n\"\nplugin = \"normalize\"\ninputs = { text = \"input.text\" }\n"
                                  "on_error = \"fallback\"\nfallback = \"m\"\n"
                                  "[[stages]]\nid = \"m\"\nplugin = \"normalize\"\ninputs = { text = \"n.text\" }\n");
  const auto diags = check(p);
  EXPECT_EQ(found(diags), (std::multiset<Found>{{"C027", 9, 12}})) << dump(diags);
}

TEST(Fallback, PolicyAndNameMustAgree) {
  const fs::path p = write_config("fb_policy",
                                  "[[stages]]\nid = \"n\"\nplugin = \"normalize\"\ninputs = { text = \"input.text\" }\n"
                                  "on_error = \"fallback\"\n"
                                  "[[stages]]\nid = \"m\"\nplugin = \"normalize\"\ninputs = { text = \"n.text\" }\n"
                                  "fallback = \"n\"\n");
  const LoadResult r = load_config(p);
  EXPECT_EQ(found(r.diagnostics), (std::multiset<Found>{{"C003", 8, 12}, {"C005", 13, 12}})) << dump(r.diagnostics);
}

// ------------------------------------------------------------------ digest

TEST(Digest, SameEffectivePipelineGivesTheSameDigestWhicheverFilesProducedIt) {
  const LoadResult derived = load_config(kFixtures / "variants/derived.toml");
  const LoadResult flat = load_config(kFixtures / "flat_equivalent.toml");
  ASSERT_TRUE(derived.ok() && flat.ok());
  EXPECT_NE(derived.config.digest, 0u);
  EXPECT_EQ(derived.config.digest, flat.config.digest) << canonical_json(derived.config) << "\n"
                                                       << canonical_json(flat.config);
}

TEST(Digest, ChangesWithWhatIsComputedNotWithTraceOrDescription) {
  const fs::path f = kPipelines / "text-minimal.toml";
  const uint64_t base = load_config(f).config.digest;
  EXPECT_EQ(load_config(f).config.digest, base);  // deterministic
  EXPECT_NE(load_config(f, {"stages.norm.lowercase=false"}).config.digest, base);
  EXPECT_NE(load_config(f, {"stages.norm.timeout_ms=5"}).config.digest, base);
  EXPECT_EQ(load_config(f, {"trace.enabled=true", "pipeline.description=other"}).config.digest, base);
  EXPECT_EQ(load_config(f, {"run.micro_batch=64"}).config.digest, base);  // when, not what
  EXPECT_EQ(load_config(f, {"stages.norm.isolation=process"}).config.digest, base);  // where, not what
}

// -------------------------------------------------------------------- DOT

TEST(Dot, ContainsEveryStageAndEveryEdge) {
  const LoadResult r = load_config(kPipelines / "dag-example.toml");
  ASSERT_TRUE(r.ok());
  const std::string dot = to_dot(r.config);
  EXPECT_EQ(dot.rfind("digraph \"dag-example\" {", 0), 0u) << dot;
  size_t edges = 0;
  for (const auto& s : r.config.stages) {
    EXPECT_NE(dot.find("\"" + s.id + "\" [label=\"" + s.id + "\\n" + s.plugin + "\""), std::string::npos)
        << s.id << "\n" << dot;
    for (const auto& [port, ref] : s.inputs) {
      const std::string from = ref.first == "input" ? "\"(input)\"" : "\"" + ref.first + "\"";
      const std::string label = ref.second == port ? port : ref.second + " -> " + port;
      EXPECT_NE(dot.find(from + " -> \"" + s.id + "\" [label=\"" + label + "\""), std::string::npos)
          << s.id << "." << port << "\n" << dot;
      ++edges;
    }
  }
  EXPECT_EQ(edges, 6u);
  EXPECT_NE(dot.find("\"shout\" -> \"shout_simple\" [style=dotted"), std::string::npos) << dot;
  EXPECT_NE(dot.find("\"merge\" -> \"(result)\" [label=\"text\"]"), std::string::npos) << dot;
}

TEST(Dot, QuotesAndBackslashesInNamesAreEscaped) {
  const fs::path p = write_config("dot_escape",
                                  "[[stages]]\nid = \"n\"\nplugin = \"we\\\"ird\\\\name\"\n"
                                  "inputs = { text = \"input.text\" }\n");
  const LoadResult r = load_config(p);
  ASSERT_TRUE(r.ok()) << dump(r.diagnostics);
  ASSERT_EQ(r.config.stages[0].plugin, "we\"ird\\name");
  EXPECT_NE(to_dot(r.config).find("[label=\"n\\nwe\\\"ird\\\\name\"]"), std::string::npos) << to_dot(r.config);
}

// --------------------------------------------------------------- robustness

// Every prefix of the shipped DAG example is some kind of broken config
// (cut strings, half tables, missing stages, dangling references). None
// may throw, and every diagnostic about the file must point inside it.
TEST(Robustness, EveryTruncationOfTheExampleIsReportedNeverThrown) {
  std::ifstream in(kSourceDir / "pipelines/dag-example.toml", std::ios::binary);
  const std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  ASSERT_GT(text.size(), 500u);
  // A new file per prefix: rewriting one file in place makes ext4 flush
  // it on every close (auto_da_alloc), which costs seconds for nothing.
  const fs::path dir = fs::path(::testing::TempDir()) / "cascade_truncated";
  fs::remove_all(dir);
  fs::create_directories(dir);
  size_t with_errors = 0;
  for (size_t n = 0; n < text.size(); ++n) {
    const fs::path p = dir / (std::to_string(n) + ".toml");
    std::ofstream(p, std::ios::binary) << text.substr(0, n);
    std::vector<Diagnostic> diags;
    ASSERT_NO_THROW(diags = check(p)) << "prefix of " << n << " bytes";
    if (!diags.empty()) ++with_errors;
    for (const auto& d : diags) {
      if (d.file != p.string()) continue;
      EXPECT_GE(d.line, 1u) << n << ": " << d.format();
      EXPECT_GE(d.column, 1u) << n << ": " << d.format();
    }
  }
  fs::remove_all(dir);
  // The full file is clean, so only a cut that lands after the last stage
  // could be too; most prefixes must be reported.
  EXPECT_GT(with_errors, text.size() / 2);
}

}  // namespace
}  // namespace cascade::config
