// speech/common/sphinx.hpp — building pocketsphinx decoders.
//
// Lifecycle: make_decoder() returns an owning DecoderPtr; free it from the
// thread that last used it (the deleter calls ps_free).
// Threading: a decoder is NOT thread-safe: use one per thread at a time
// (see pool.hpp). make_decoder() may be called from several threads; the
// calls are serialised process-wide (sphinxbase's log target is global).
#pragma once

#include "pool.hpp"

#include <memory>
#include <string>
#include <utility>
#include <vector>

struct ps_decoder_s;

namespace cascade::speech {

struct DecoderDeleter {
  void operator()(ps_decoder_s* ps) const noexcept;
};
using DecoderPtr = std::unique_ptr<ps_decoder_s, DecoderDeleter>;

// What the wake and asr stages lease decoders from. A pooled decoder keeps
// adaptation state between utterances, so scores differ in the last digits
// with the turn order: both stages are declared NOT deterministic (found
// with `cascade diff` on two runs of the same eval set: wake scores in 60 of
// 209 turns, asr n-best scores in 35).
using DecoderPool = Pool<ps_decoder_s, DecoderDeleter>;

// Throws SpeechError "A010: model file not found: <path>" unless `path`
// exists (a file, or a directory for the acoustic model).
void require_model_path(const std::string& path);

// Builds a decoder from "-name value" pairs ("-hmm", "-lm", "-dict",
// "-keyphrase", ...). Logging goes to /dev/null. Throws SpeechError A021
// when pocketsphinx rejects the configuration or the models.
DecoderPtr make_decoder(const std::vector<std::pair<std::string, std::string>>& args);

// A word as the decoder prints it, without the alternate marker: "the(2)" -> "the".
std::string base_word(const std::string& w);

// True for <s>, </s>, <sil> and [NOISE]-style filler words.
bool is_filler(const std::string& w);

// A file with given content in $TMPDIR, removed on destruction.
class TempFile {
 public:
  explicit TempFile(const std::string& content, const std::string& suffix = ".dict");
  ~TempFile();
  TempFile(const TempFile&) = delete;
  TempFile& operator=(const TempFile&) = delete;
  [[nodiscard]] const std::string& path() const { return path_; }

 private:
  std::string path_;
};

}  // namespace cascade::speech
