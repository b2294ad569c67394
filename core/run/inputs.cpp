// Turn sources: JSONL dialogues and directories of WAV files.
#include <cascade/core/run.hpp>

#include <nlohmann/json.hpp>
#include <sndfile.h>

#include <algorithm>
#include <fstream>

namespace fs = std::filesystem;

namespace cascade {

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
  if (info.frames <= 0) throw CascadeError("A002", "empty audio (0 samples)", file.string());
  pcm.resize(static_cast<size_t>(info.frames) * 2);
  const sf_count_t got = sf_read_short(f, reinterpret_cast<short*>(pcm.data()), info.frames);
  pcm.resize(static_cast<size_t>(std::max<sf_count_t>(got, 0)) * 2);
  if (pcm.empty()) throw CascadeError("A002", "empty audio (no sample could be read)", file.string());
  sample_rate = static_cast<uint32_t>(info.samplerate);
}

namespace {

void fail_input(TurnInput& t, const CascadeError& e) {
  t.input_error_code = e.code();
  t.input_error = e.what();
}

class JsonlSource final : public TurnSource {
 public:
  explicit JsonlSource(const fs::path& file) : file_(file), in_(file) {
    if (!in_) throw CascadeError("A005", "cannot open the turns file", file.string());
    std::ifstream count(file);
    std::string line;
    while (std::getline(count, line))
      if (line.find_first_not_of(" \t\r") != std::string::npos) ++lines_;
  }
  bool next(TurnInput& t) override {
    std::string line;
    for (;;) {
      if (!std::getline(in_, line)) return false;
      ++line_no_;
      if (line.find_first_not_of(" \t\r") != std::string::npos) break;
    }
    t = TurnInput{};
    t.turn_seq = seq_++;
    const std::string where = file_.string() + ":" + std::to_string(line_no_);
    auto j = nlohmann::json::parse(line, nullptr, false);
    if (j.is_discarded() || !j.is_object()) {
      t.dialogue_id = "line-" + std::to_string(line_no_);
      fail_input(t, CascadeError("A006", "line is not a JSON object", where));
      return true;
    }
    t.dialogue_id = j.value("dialogue_id", "line-" + std::to_string(line_no_));
    t.user_id = j.value("user_id", "");
    t.turn_index = j.value("turn_index", 0u);
    t.timestamp = j.value("timestamp", "");
    if (auto g = j.find("gold"); g != j.end()) t.gold_json = g->dump();
    const auto p = j.find("payload");
    if (p == j.end() || !p->is_object()) {
      fail_input(t, CascadeError("A006", "turn has no \"payload\" object", where));
      return true;
    }
    if (auto text = p->find("text"); text != p->end() && text->is_string()) {
      t.payload_type = CASCADE_PAYLOAD_TEXT;
      t.payload = text->get<std::string>();
    } else if (auto audio = p->find("audio"); audio != p->end() && audio->is_string()) {
      fs::path wav = audio->get<std::string>();
      if (wav.is_relative()) wav = file_.parent_path() / wav;
      t.payload_type = CASCADE_PAYLOAD_AUDIO;
      try {
        read_wav(wav, t.payload, t.sample_rate);
      } catch (const CascadeError& e) {
        fail_input(t, e);
      }
    } else {
      fail_input(t, CascadeError("A006", "payload needs \"text\" or \"audio\"", where));
    }
    return true;
  }
  [[nodiscard]] uint64_t size_hint() const override { return lines_; }

 private:
  fs::path file_;
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
