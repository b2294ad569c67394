// normalize — text normaliser: lower-cases ASCII, maps punctuation to
// spaces, folds runs of white space, optionally strips a leading wake word.
// Reports how many characters it changed as a feature.
//
//   [text] --> ( normalize ) --> [text]
#include <cascade/sdk/stage.hpp>

#include <cctype>
using namespace cascade::sdk;

class Normalize : public Stage {
 public:
  static inline Input in{"text", PayloadType::Text, "raw text"};
  static inline Output out{"text", PayloadType::Text, "normalised text"};
  static inline Param<bool> lowercase{"lowercase", true, "lower-case ASCII letters"};
  static inline Param<bool> strip_punct{"strip_punctuation", true, "replace punctuation but apostrophes with spaces"};
  static inline Param<std::string> wake_word{"strip_prefix", "", "a leading word to drop (e.g. a wake word)"};

  void open(Context& ctx) override {
    lower_ = ctx.get(lowercase);
    punct_ = ctx.get(strip_punct);
    prefix_ = ctx.get(wake_word);
  }
  void process(Call& call) override {
    std::string_view src = call.text(in);
    std::string s;
    s.reserve(src.size());
    size_t changed = 0;
    for (char c : src) {
      char d = c;
      if (lower_) d = static_cast<char>(std::tolower(static_cast<unsigned char>(d)));
      if (punct_ && std::ispunct(static_cast<unsigned char>(d)) && d != '\'') d = ' ';
      if (std::isspace(static_cast<unsigned char>(d))) {
        if (s.empty() || s.back() == ' ') {
          ++changed;
          continue;
        }
        d = ' ';
      }
      changed += d != c;
      s.push_back(d);
    }
    while (!s.empty() && s.back() == ' ') s.pop_back(), ++changed;
    if (!prefix_.empty() && s.rfind(prefix_ + " ", 0) == 0) {
      s.erase(0, prefix_.size() + 1);
      call.feature("stripped_prefix", 1.0);
    }
    call.feature("chars_changed", static_cast<double>(changed));
    call.emit(out, s);
  }

 private:
  bool lower_ = true, punct_ = true;
  std::string prefix_;
};
CASCADE_PLUGIN(Normalize,
               Info{.name = "normalize", .version = "1.0.0", .description = "text normaliser", .deterministic = true},
               ports(Normalize::in), ports(Normalize::out),
               params(Normalize::lowercase, Normalize::strip_punct, Normalize::wake_word))
