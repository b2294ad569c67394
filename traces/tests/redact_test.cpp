// redact_test.cpp — `cascade trace cat|export --redact`: every field that
// holds user content is replaced (no word of it survives anywhere in the
// output), everything else is kept, and the hashes group what was equal.
#include "test_util.hpp"

#include <cascade/trace/tools.hpp>

#include <CLI/CLI.hpp>

#include <iostream>
#include <sstream>

namespace cascade::trace {
namespace {

using testing::TempDir;

// Every word below is written into exactly one kind of field; none may be
// in a redacted output.
const std::vector<std::string> kSecretWords = {
    "dialoguebob",  "alice42",      // dialogue id, user id
    "jazzmiles",    "kitchenlamp",  // text input, text output
    "tangerine",    "davisartist",  // JSON output string values
    "nbestwaffle",  "featurepoem",  // n-best text, text feature value
    "lemonadefail",                 // error message
    "turninputsecret",              // the turn's input payload
    "goldphrase",   "goldslot",     // gold annotation strings
    "resultanswer",                 // result string
};
// Audio whose bytes are a word: dropped by redaction, so it must vanish too.
const std::string kAudio = "audiowhisperaudiowhisper";

void write_secret_trace(const std::filesystem::path& path) {
  Writer w({.path = path});
  for (uint32_t turn = 0; turn < 2; ++turn) {
    const std::string dialogue = "dialoguebob";
    const TurnKey key{dialogue, "alice42", turn, turn};
    const std::string input = "play jazzmiles now";
    const std::string output = "switch the kitchenlamp on";
    const std::string intent = R"({"intent":"play_music","slots":{"artist":"davisartist","fruit":"tangerine"},"n":3})";
    const PayloadView asr_in[] = {{"audio", 2, 16000, kAudio.data(), kAudio.size()}};
    const PayloadView asr_out[] = {{"text", 1, 0, input.data(), input.size()}};
    const NBestView nbest[] = {{"nbestwaffle", 0.25}};
    const FeatureView features[] = {{"snr_db", 17.5}};
    const TextFeatureView text_features[] = {{"hypothesis", "featurepoem"}};
    StageEvent asr;
    asr.turn = key;
    asr.stage_id = "asr";
    asr.plugin = "asr";
    asr.plugin_version = "2.1.0";
    asr.start_ns = 1'000 + turn * 10'000;
    asr.end_ns = 2'000 + turn * 10'000;
    asr.inputs = asr_in;
    asr.outputs = asr_out;
    asr.has_confidence = true;
    asr.confidence = 0.875;
    asr.nbest = nbest;
    asr.features = features;
    asr.text_features = text_features;
    w.write(0, asr);

    const PayloadView nlu_in[] = {{"text", 1, 0, input.data(), input.size()}};
    const PayloadView nlu_out[] = {{"json", 3, 0, intent.data(), intent.size()},
                                   {"reply", 1, 0, output.data(), output.size()}};
    StageEvent nlu;
    nlu.turn = key;
    nlu.stage_id = "nlu";
    nlu.plugin = "nlu";
    nlu.plugin_version = "1.0.0";
    nlu.start_ns = 2'000 + turn * 10'000;
    nlu.end_ns = 3'000 + turn * 10'000;
    nlu.status = StageStatus::Error;
    nlu.error_code = 7;
    nlu.error_message = "cannot parse lemonadefail";
    nlu.inputs = nlu_in;
    nlu.outputs = nlu_out;
    w.write(0, nlu);

    const std::string turn_input = "turninputsecret";
    TurnEvent t;
    t.turn = key;
    t.timestamp = "2026-01-01T00:00:00Z";
    t.config_digest = 0xC0FFEE;
    t.start_ns = asr.start_ns;
    t.end_ns = nlu.end_ns;
    t.status = TurnStatus::Failed;
    t.input = {"text", 1, 0, turn_input.data(), turn_input.size()};
    t.gold_json = R"({"text":"goldphrase","slots":{"fruit":"goldslot"},"turns":2})";
    t.result_json = R"({"answer":"resultanswer","ok":false})";
    w.write(0, t);
  }
  // A second dialogue, same user, so the hashes can be compared.
  const TurnKey other{"dialoguecarol", "alice42", 0, 2};
  const std::string text = "hello";
  const PayloadView out[] = {{"text", 1, 0, text.data(), text.size()}};
  StageEvent asr;
  asr.turn = other;
  asr.stage_id = "asr";
  asr.plugin = "asr";
  asr.plugin_version = "2.1.0";
  asr.start_ns = 50'000;
  asr.end_ns = 51'000;
  asr.outputs = out;
  w.write(0, asr);
  w.close();
}

struct CliRun {
  int exit_code = -1;
  std::string out;
};
CliRun run_cli(std::vector<std::string> args) {
  CLI::App app("cascade");
  CliRun r;
  register_commands(app, r.exit_code);
  std::vector<const char*> argv{"cascade"};
  for (const auto& a : args) argv.push_back(a.c_str());
  std::ostringstream captured;
  auto* old = std::cout.rdbuf(captured.rdbuf());
  try {
    app.parse(static_cast<int>(argv.size()), argv.data());
  } catch (const CLI::ParseError& e) {
    r.exit_code = 100 + e.get_exit_code();
  }
  std::cout.rdbuf(old);
  r.out = captured.str();
  return r;
}

void expect_no_secret(const std::string& out, const std::string& what) {
  for (const auto& word : kSecretWords) EXPECT_EQ(out.find(word), std::string::npos) << what << " leaks " << word;
  EXPECT_EQ(out.find("audiowhisper"), std::string::npos) << what << " leaks the audio bytes";
  EXPECT_NE(out.find("redacted:"), std::string::npos) << what;
}

std::vector<nlohmann::json> json_lines(const std::string& out) {
  std::vector<nlohmann::json> lines;
  std::istringstream in(out);
  for (std::string line; std::getline(in, line);) lines.push_back(nlohmann::json::parse(line));
  return lines;
}

TEST(Redact, UnredactedOutputHoldsEveryWordTheTestLooksFor) {
  // Keeps the tests below honest: without --redact, every word is there.
  TempDir dir;
  write_secret_trace(dir / "t.cas");
  std::string out = run_cli({"trace", "cat", (dir / "t.cas").string()}).out;
  out += run_cli({"trace", "cat", "--by", "turn", (dir / "t.cas").string()}).out;
  for (const auto& word : kSecretWords) EXPECT_NE(out.find(word), std::string::npos) << word;
  // The audio is stored inline: cat shows its hash, not its bytes.
  EXPECT_NE(out.find("\"stored\":true"), std::string::npos);
}

TEST(Redact, CatPerRecordLeaksNoUserContentAndKeepsTheRest) {
  TempDir dir;
  write_secret_trace(dir / "t.cas");
  const CliRun r = run_cli({"trace", "cat", "--redact", (dir / "t.cas").string()});
  ASSERT_EQ(r.exit_code, 0);
  expect_no_secret(r.out, "cat --redact");
  const auto lines = json_lines(r.out);
  ASSERT_EQ(lines.size(), 5u);
  const auto& asr = lines[0];
  EXPECT_EQ(asr["stage"], "asr");
  EXPECT_EQ(asr["plugin"], "asr");
  EXPECT_EQ(asr["plugin_version"], "2.1.0");
  EXPECT_EQ(asr["start_ns"], 1000);
  EXPECT_EQ(asr["turn"], 0);
  EXPECT_EQ(asr["confidence"], 0.875);
  EXPECT_EQ(asr["features"]["snr_db"], 17.5);
  EXPECT_EQ(asr["nbest"][0]["score"], 0.25);
  EXPECT_EQ(asr["nbest"][0]["text"].get<std::string>().rfind("redacted:", 0), 0u);
  EXPECT_EQ(asr["text_features"]["hypothesis"].get<std::string>().rfind("redacted:", 0), 0u);
  // Audio: dropped, its size and content hash kept (comparable with an unredacted trace).
  const auto& audio = asr["inputs"][0];
  EXPECT_EQ(audio["type"], "audio");
  EXPECT_EQ(audio["stored"], false);
  EXPECT_EQ(audio["bytes"], kAudio.size());
  char hex[17];
  std::snprintf(hex, sizeof hex, "%016llx", static_cast<unsigned long long>(XXH64(kAudio.data(), kAudio.size(), 0)));
  EXPECT_EQ(audio["xxh64"], hex);
  const auto& nlu = lines[1];
  EXPECT_EQ(nlu["status"], "error");
  EXPECT_EQ(nlu["error_code"], 7);
  EXPECT_EQ(nlu["error_message"].get<std::string>().rfind("redacted:", 0), 0u);
  // JSON: keys, numbers and structure stay, every string value is hashed.
  const auto& intent = nlu["outputs"][0]["json"];
  EXPECT_EQ(intent["n"], 3);
  EXPECT_TRUE(intent["slots"].contains("artist"));
  EXPECT_EQ(intent["intent"].get<std::string>().rfind("redacted:", 0), 0u);
  // The same text in two fields gets the same hash (asr's output is nlu's input).
  EXPECT_EQ(asr["outputs"][0]["text"], nlu["inputs"][0]["text"]);
}

TEST(Redact, CatByTurnHashesIdsStablySoTurnsOfADialogueStillGroup) {
  TempDir dir;
  write_secret_trace(dir / "t.cas");
  const CliRun r = run_cli({"trace", "cat", "--by", "turn", "--redact", (dir / "t.cas").string()});
  ASSERT_EQ(r.exit_code, 0);
  expect_no_secret(r.out, "cat --by turn --redact");
  const auto lines = json_lines(r.out);
  ASSERT_EQ(lines.size(), 3u);
  EXPECT_EQ(lines[0]["dialogue"], lines[1]["dialogue"]);
  EXPECT_NE(lines[0]["dialogue"], lines[2]["dialogue"]);
  EXPECT_EQ(lines[0]["user"], lines[2]["user"]);
  EXPECT_EQ(lines[0]["dialogue"].get<std::string>().rfind("redacted:", 0), 0u);
  EXPECT_EQ(lines[0]["stages"][0]["dialogue"], lines[0]["dialogue"]);
  EXPECT_EQ(lines[1]["turn"], 1);
  EXPECT_EQ(lines[0]["timestamp"], "2026-01-01T00:00:00Z");
  EXPECT_EQ(lines[0]["gold"]["turns"], 2);
  EXPECT_EQ(lines[0]["result"]["ok"], false);
}

TEST(Redact, CatWhereFiltersOnTheRecordedValues) {
  TempDir dir;
  write_secret_trace(dir / "t.cas");
  const CliRun r = run_cli({"trace", "cat", "--redact", "--where", "dialogue=dialoguecarol", (dir / "t.cas").string()});
  EXPECT_EQ(json_lines(r.out).size(), 1u);
  expect_no_secret(r.out, "cat --where --redact");
}

TEST(Redact, ExportPerfettoAndOtlpLeakNoUserContent) {
  TempDir dir;
  write_secret_trace(dir / "t.cas");
  for (const char* format : {"perfetto", "otlp"}) {
    const CliRun r = run_cli({"trace", "export", "--format", format, "--redact", (dir / "t.cas").string()});
    ASSERT_EQ(r.exit_code, 0) << format;
    expect_no_secret(r.out, std::string("export --redact --format ") + format);
    EXPECT_NE(r.out.find("\"nlu\""), std::string::npos) << format;
  }
  // Unredacted, the export does carry user content (ids, error messages, text features).
  const CliRun plain = run_cli({"trace", "export", (dir / "t.cas").string()});
  EXPECT_NE(plain.out.find("dialoguebob"), std::string::npos);
  EXPECT_NE(plain.out.find("featurepoem"), std::string::npos);
}

TEST(Redact, AKeyGivesTheSameHashesAcrossRunsAndNoKeyARandomOne) {
  TempDir dir;
  write_secret_trace(dir / "t.cas");
  const auto path = (dir / "t.cas").string();
  const CliRun a = run_cli({"trace", "cat", "--redact-key", "0x2a", path});
  const CliRun b = run_cli({"trace", "cat", "--redact-key", "42", path});
  EXPECT_EQ(a.out, b.out);
  expect_no_secret(a.out, "cat --redact-key");
  EXPECT_NE(a.out.find(redacted("dialoguebob", RedactOptions{42})), std::string::npos);
  const CliRun random1 = run_cli({"trace", "cat", "--redact", path});
  const CliRun random2 = run_cli({"trace", "cat", "--redact", path});
  EXPECT_NE(random1.out, random2.out);
  EXPECT_EQ(run_cli({"trace", "cat", "--redact-key", "forty-two", path}).exit_code, 2);
}

TEST(Redact, HashedTextPayloadsGetAKeyedHash) {
  // A text payload recorded as a hash only: the plain xxh64 of "yes" can
  // be looked up, so redaction re-keys it.
  Payload p;
  p.type = 1;
  p.hashed = true;
  p.size = 3;
  p.stored_xxh64 = XXH64("yes", 3, 0);
  redact(p, RedactOptions{7});
  EXPECT_NE(p.stored_xxh64, XXH64("yes", 3, 0));
  EXPECT_EQ(p.size, 3u);
}

}  // namespace
}  // namespace cascade::trace
