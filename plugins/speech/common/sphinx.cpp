#include "sphinx.hpp"

#include "audio.hpp"

#include <pocketsphinx.h>
#include <sphinxbase/err.h>

#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>

namespace cascade::speech {

void DecoderDeleter::operator()(ps_decoder_s* ps) const noexcept { ps_free(ps); }

void require_model_path(const std::string& path) {
  std::error_code ec;
  if (path.empty() || !std::filesystem::exists(path, ec))
    throw SpeechError("A010", "model file not found: " + path);
}

DecoderPtr make_decoder(const std::vector<std::pair<std::string, std::string>>& args) {
  // pocketsphinx prints its whole configuration while parsing, before
  // -logfn takes effect; silence the (process-global) log first.
  err_set_logfp(nullptr);
  std::vector<std::string> store;
  store.reserve(args.size() * 2 + 2);
  for (const auto& [k, v] : args) {
    store.push_back(k);
    store.push_back(v);
  }
  store.emplace_back("-logfn");
  store.emplace_back("/dev/null");
  std::vector<char*> argv;
  argv.reserve(store.size());
  for (auto& s : store) argv.push_back(s.data());
  cmd_ln_t* config = cmd_ln_parse_r(nullptr, ps_args(), static_cast<int32>(argv.size()), argv.data(), TRUE);
  if (config == nullptr) throw SpeechError("A021", "pocketsphinx rejected its configuration");
  ps_decoder_t* ps = ps_init(config);
  cmd_ln_free_r(config);  // the decoder holds its own reference
  if (ps == nullptr) throw SpeechError("A021", "pocketsphinx could not load its models");
  return DecoderPtr(ps);
}

std::string base_word(const std::string& w) {
  const size_t p = w.find('(');
  return p == std::string::npos || p == 0 ? w : w.substr(0, p);
}

bool is_filler(const std::string& w) {
  return w.empty() || w.front() == '<' || w.front() == '[' || w.front() == '+';
}

TempFile::TempFile(const std::string& content, const std::string& suffix) {
  const char* dir = std::getenv("TMPDIR");
  std::string tmpl = std::string(dir != nullptr && *dir != '\0' ? dir : "/tmp") + "/cascade-XXXXXX" + suffix;
  const int fd = mkstemps(tmpl.data(), static_cast<int>(suffix.size()));
  if (fd < 0) throw SpeechError("A020", "cannot create a temporary file in " + tmpl);
  ::close(fd);
  path_ = tmpl;
  std::ofstream out(path_, std::ios::binary | std::ios::trunc);
  out << content;
  if (!out) throw SpeechError("A020", "cannot write temporary file " + path_);
}

TempFile::~TempFile() {
  std::error_code ec;
  std::filesystem::remove(path_, ec);
}

}  // namespace cascade::speech
