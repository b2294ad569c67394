// Turn sources: JSONL dialogues and directories of WAV files.
//
// Every unusable input becomes a turn with a coded error (recorded as a
// failed turn, the run goes on), never an exception out of next(): one bad
// line must not cost the turns after it. A JSONL line is checked in this
// order, and the first problem found is the turn's error:
//   1. length (A013: longer than kMaxLineBytes; skipped without being held
//      in memory), blank (A006)
//   2. UTF-8 (A009, with the byte column)
//   3. JSON syntax and nesting depth (A006, with the column)
//   4. each known field's type and range (A008, naming the field)
//   5. the payload: text, JSON (an object or array), or audio read by
//      read_wav (A001-A004, A007)
#include <cascade/core/run.hpp>

#include <nlohmann/json.hpp>
#include <sndfile.h>

#include <algorithm>
#include <array>
#include <fstream>
#include <limits>
#include <optional>

namespace fs = std::filesystem;

namespace cascade {
namespace {

// Audio a turn may carry. Outside these a header is lying or the file is
// not speech: a 1 Hz file upsampled to 16 kHz kept the wake stage busy for
// minutes, and a claimed size was allocated before anything was read.
constexpr int kMinSampleRate = 4000;
constexpr int kMaxSampleRate = 384000;
constexpr sf_count_t kMaxAudioSeconds = sf_count_t{30} * 60;
// A turn is a few kilobytes of JSON; a longer line is a broken file.
constexpr size_t kMaxLineBytes = size_t{16} << 20;
// Gold annotations nest a few levels. The JSON library's printer recurses
// per level: 100000 nested brackets overflowed the stack (a crash, not an
// error), so deeper lines are refused before they are parsed.
constexpr size_t kMaxJsonDepth = 256;

}  // namespace

void read_wav(const fs::path& file, std::string& pcm, uint32_t& sample_rate) {
  std::error_code ec;
  if (!fs::exists(file, ec)) throw CascadeError("A004", "audio file not found", file.string());
  SF_INFO info{};
  SNDFILE* f = sf_open(file.c_str(), SFM_READ, &info);
  if (f == nullptr) throw CascadeError("A003", std::string("not a readable audio file: ") + sf_strerror(nullptr), file.string());
  struct Closer {
    SNDFILE* f;
    ~Closer() { sf_close(f); }
  } closer{f};
  if (info.channels != 1)
    throw CascadeError("A001", "expected mono audio, the file has " + std::to_string(info.channels) +
                                   " channels (convert with: sox in.wav -c 1 out.wav)", file.string());
  if (info.samplerate <= 0) throw CascadeError("A003", "sample rate 0 in the header", file.string());
  if (info.samplerate < kMinSampleRate || info.samplerate > kMaxSampleRate)
    throw CascadeError("A007", "implausible sample rate " + std::to_string(info.samplerate) + " Hz (accepted: " +
                                   std::to_string(kMinSampleRate) + " to " + std::to_string(kMaxSampleRate) +
                                   " Hz; resample with: sox in.wav -r 16000 out.wav)", file.string());
  if (info.frames <= 0) throw CascadeError("A002", "empty audio (0 samples)", file.string());
  const sf_count_t max_frames = sf_count_t{info.samplerate} * kMaxAudioSeconds;
  if (info.frames > max_frames)
    throw CascadeError("A007", "the header claims " + std::to_string(info.frames) + " samples (" +
                                   std::to_string(info.frames / info.samplerate) + " s), more than the " +
                                   std::to_string(kMaxAudioSeconds) + " s a turn may hold", file.string());
  // Read in blocks: memory follows what the file holds, not what its
  // header claims.
  pcm.clear();
  std::array<short, 16384> block{};
  sf_count_t got = 0;
  for (;;) {
    const sf_count_t n = sf_read_short(f, block.data(), static_cast<sf_count_t>(block.size()));
    if (n <= 0) break;
    pcm.append(reinterpret_cast<const char*>(block.data()), static_cast<size_t>(n) * sizeof(short));
    got += n;
  }
  if (got == 0) throw CascadeError("A002", "empty audio (no sample could be read)", file.string());
  if (got != info.frames)
    throw CascadeError("A007", "the header claims " + std::to_string(info.frames) + " samples, the file holds " +
                                   std::to_string(got) + " (cut off, or a lying header)", file.string());
  sample_rate = static_cast<uint32_t>(info.samplerate);
}

namespace {

void fail_input(TurnInput& t, const CascadeError& e) {
  t.input_error_code = e.code();
  t.input_error = e.what();
}

// One line of `in` without its '\n'; false at the end of input. At most
// `limit` bytes are kept in `line`; `length` is the whole line's.
bool read_line(std::istream& in, std::string& line, uint64_t& length, size_t limit) {
  line.clear();
  length = 0;
  std::streambuf* buf = in.rdbuf();
  for (bool any = false;; any = true) {
    const int c = buf->sbumpc();
    if (c == std::char_traits<char>::eof()) return any;
    if (c == '\n') return true;
    if (++length <= limit) line.push_back(static_cast<char>(c));
  }
}

// Byte offset of the first invalid UTF-8 sequence in `s`, if any (overlong
// forms, surrogates and code points above U+10FFFF are invalid too).
std::optional<size_t> invalid_utf8_at(std::string_view s) {
  const auto* p = reinterpret_cast<const unsigned char*>(s.data());
  const size_t n = s.size();
  for (size_t i = 0; i < n;) {
    const unsigned char c = p[i];
    size_t len = 0;
    unsigned char lo = 0x80, hi = 0xBF;  // the range of the second byte
    if (c < 0x80) len = 1;
    else if (c >= 0xC2 && c <= 0xDF) len = 2;
    else if (c == 0xE0) len = 3, lo = 0xA0;
    else if (c == 0xED) len = 3, hi = 0x9F;
    else if (c >= 0xE1 && c <= 0xEF) len = 3;
    else if (c == 0xF0) len = 4, lo = 0x90;
    else if (c == 0xF4) len = 4, hi = 0x8F;
    else if (c >= 0xF1 && c <= 0xF3) len = 4;
    else return i;
    if (i + len > n) return i;
    if (len > 1 && (p[i + 1] < lo || p[i + 1] > hi)) return i;
    for (size_t k = 2; k < len; ++k)
      if (p[i + k] < 0x80 || p[i + k] > 0xBF) return i;
    i += len;
  }
  return std::nullopt;
}

// Byte offset of the bracket that nests deeper than kMaxJsonDepth, if any
// (brackets inside strings do not count).
std::optional<size_t> too_deep_at(std::string_view s) {
  size_t depth = 0;
  bool in_string = false;
  for (size_t i = 0; i < s.size(); ++i) {
    const char c = s[i];
    if (in_string) {
      if (c == '\\') ++i;  // skip the escaped character
      else if (c == '"') in_string = false;
    } else if (c == '"') {
      in_string = true;
    } else if (c == '[' || c == '{') {
      if (++depth > kMaxJsonDepth) return i;
    } else if ((c == ']' || c == '}') && depth > 0) {
      --depth;
    }
  }
  return std::nullopt;
}

std::string type_of(const nlohmann::json& v) {
  if (v.is_number_float()) return "the number " + v.dump();
  if (v.is_number()) return "the integer " + v.dump();
  if (v.is_string()) return "a string";
  return std::string("a value of type ") + v.type_name();
}

// What a JSONL line's fields are checked against; the position goes into
// every error.
struct LineCheck {
  const std::string& file;
  uint64_t line;

  [[nodiscard]] CascadeError error(const std::string& code, const std::string& message, size_t column = 0) const {
    return CascadeError(Diagnostic{code, message, file, static_cast<uint32_t>(std::min<uint64_t>(line, UINT32_MAX)),
                                   static_cast<uint32_t>(std::min<size_t>(column, UINT32_MAX))});
  }
  // An optional string field; absent gives `fallback`.
  [[nodiscard]] std::string string_field(const nlohmann::json& j, const char* name, std::string fallback) const {
    const auto it = j.find(name);
    if (it == j.end() || it->is_null()) return fallback;
    if (!it->is_string())
      throw error("A008", std::string("field \"") + name + "\" must be a string, not " + type_of(*it));
    return it->get<std::string>();
  }
  [[nodiscard]] uint32_t turn_index(const nlohmann::json& j) const {
    const auto it = j.find("turn_index");
    if (it == j.end() || it->is_null()) return 0;
    const bool in_range = it->is_number_unsigned() && it->get<uint64_t>() <= std::numeric_limits<uint32_t>::max();
    if (!in_range)
      throw error("A008", "field \"turn_index\" must be an integer from 0 to " +
                              std::to_string(std::numeric_limits<uint32_t>::max()) + ", not " + type_of(*it));
    return it->get<uint32_t>();
  }
};

class JsonlSource final : public TurnSource {
 public:
  explicit JsonlSource(const fs::path& file) : file_(file), name_(file.string()), in_(file, std::ios::binary) {
    if (!in_) throw CascadeError("A005", "cannot open the turns file", name_);
    // Every line is a turn (blank ones are failed turns): count newlines,
    // plus a last line without one.
    std::ifstream count(file, std::ios::binary);
    std::array<char, 65536> buf{};
    char last = '\n';
    while (count.read(buf.data(), buf.size()) || count.gcount() > 0) {
      const auto n = static_cast<size_t>(count.gcount());
      lines_ += static_cast<uint64_t>(std::count(buf.data(), buf.data() + n, '\n'));
      last = buf[n - 1];
    }
    if (last != '\n') ++lines_;
  }

  bool next(TurnInput& t) override {
    std::string line;
    uint64_t length = 0;
    if (!read_line(in_, line, length, kMaxLineBytes)) return false;
    ++line_no_;
    t = TurnInput{};
    t.turn_seq = seq_++;
    t.dialogue_id = "line-" + std::to_string(line_no_);
    const LineCheck check{name_, line_no_};
    try {
      parse(line, length, check, t);
    } catch (const CascadeError& e) {
      fail_input(t, e);
    }
    return true;
  }
  [[nodiscard]] uint64_t size_hint() const override { return lines_; }

 private:
  void parse(const std::string& line, uint64_t length, const LineCheck& check, TurnInput& t) const {
    if (length > kMaxLineBytes)
      throw check.error("A013", "line is " + std::to_string(length) + " bytes long, more than the " +
                                    std::to_string(kMaxLineBytes >> 20) + " MiB a turn may take (skipped)");
    if (line.find_first_not_of(" \t\r") == std::string::npos)
      throw check.error("A006", "empty line: expected a JSON object (one turn per line)");
    if (const auto at = invalid_utf8_at(line))
      throw check.error("A009", "line is not valid UTF-8 (byte " + std::to_string(*at + 1) + ")", *at + 1);
    if (const auto at = too_deep_at(line))
      throw check.error("A006", "JSON nested deeper than " + std::to_string(kMaxJsonDepth) + " levels", *at + 1);
    nlohmann::json j;
    try {
      j = nlohmann::json::parse(line);
    } catch (const nlohmann::json::parse_error& e) {
      // what() is "[json.exception.parse_error.101] parse error at ...": keep the part after the tag.
      std::string_view why = e.what();
      if (const auto tag = why.find("] "); tag != std::string_view::npos) why.remove_prefix(tag + 2);
      throw check.error("A006", "malformed JSON: " + std::string(why), e.byte);
    } catch (const nlohmann::json::out_of_range& e) {
      // A number beyond a double (1e999) is thrown as out_of_range, not as
      // a parse error; uncaught it ended the whole run (found by fuzzing).
      std::string_view why = e.what();
      if (const auto tag = why.find("] "); tag != std::string_view::npos) why.remove_prefix(tag + 2);
      throw check.error("A006", "malformed JSON: " + std::string(why));
    }
    if (!j.is_object()) throw check.error("A006", std::string("line is a JSON ") + j.type_name() + ", not an object");
    // Identity first: a turn that fails further on still says who it was.
    t.dialogue_id = check.string_field(j, "dialogue_id", t.dialogue_id);
    t.user_id = check.string_field(j, "user_id", "");
    t.turn_index = check.turn_index(j);
    t.timestamp = check.string_field(j, "timestamp", "");
    if (auto g = j.find("gold"); g != j.end()) t.gold_json = g->dump();
    const auto p = j.find("payload");
    if (p == j.end() || !p->is_object())
      throw check.error("A006", p == j.end() ? "turn has no \"payload\" object"
                                             : "field \"payload\" must be an object, not " + type_of(*p));
    if (auto text = p->find("text"); text != p->end()) {
      t.payload_type = CASCADE_PAYLOAD_TEXT;
      t.payload = check.string_field(*p, "text", "");
    } else if (auto audio = p->find("audio"); audio != p->end()) {
      fs::path wav = check.string_field(*p, "audio", "");
      if (wav.is_relative()) wav = file_.parent_path() / wav;
      t.payload_type = CASCADE_PAYLOAD_AUDIO;
      read_wav(wav, t.payload, t.sample_rate);
    } else if (auto doc = p->find("json"); doc != p->end()) {  // input.json, e.g. a recorded ASR hypothesis
      if (!doc->is_object() && !doc->is_array())
        throw check.error("A008", "field \"json\" must be a JSON object or array, not " + type_of(*doc));
      t.payload_type = CASCADE_PAYLOAD_JSON;
      t.payload = doc->dump();
    } else {
      throw check.error("A006", "payload needs \"text\", \"audio\" or \"json\"");
    }
  }

  fs::path file_;
  std::string name_;
  std::ifstream in_;
  uint64_t line_no_ = 0;
  uint64_t seq_ = 0;
  uint64_t lines_ = 0;
};

class WavDirSource final : public TurnSource {
 public:
  explicit WavDirSource(const fs::path& dir) {
    std::error_code ec;
    for (const auto& e : fs::directory_iterator(dir, ec))
      if (e.path().extension() == ".wav" || e.path().extension() == ".WAV") files_.push_back(e.path());
    if (ec) throw CascadeError("A005", "cannot list the directory: " + ec.message(), dir.string());
    std::sort(files_.begin(), files_.end());
  }
  bool next(TurnInput& t) override {
    if (i_ >= files_.size()) return false;
    const fs::path& f = files_[i_];
    t = TurnInput{};
    t.turn_seq = i_++;
    t.dialogue_id = f.stem().string();
    t.payload_type = CASCADE_PAYLOAD_AUDIO;
    try {
      read_wav(f, t.payload, t.sample_rate);
    } catch (const CascadeError& e) {
      fail_input(t, e);
    }
    return true;
  }
  [[nodiscard]] uint64_t size_hint() const override { return files_.size(); }

 private:
  std::vector<fs::path> files_;
  size_t i_ = 0;
};

}  // namespace

std::unique_ptr<TurnSource> open_jsonl(const fs::path& file) { return std::make_unique<JsonlSource>(file); }
std::unique_ptr<TurnSource> open_wav_dir(const fs::path& dir) { return std::make_unique<WavDirSource>(dir); }
std::unique_ptr<TurnSource> open_turns(const fs::path& path) {
  std::error_code ec;
  if (fs::is_directory(path, ec)) return open_wav_dir(path);
  if (!fs::exists(path, ec)) throw CascadeError("A005", "turns file not found", path.string());
  return open_jsonl(path);
}

}  // namespace cascade
