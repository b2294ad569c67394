// hello_stage — the smallest useful Cascade stage, built out of tree.
//
//   [text] --> ( hello ) --> [text]
#include <cascade/sdk/stage.hpp>
using namespace cascade::sdk;

class Hello : public Stage {
 public:
  static inline Input in{"text", PayloadType::Text, "text to greet"};
  static inline Output out{"text", PayloadType::Text, "greeting followed by the text"};
  static inline Param<std::string> word{"word", "hello", "word put in front"};

  void open(Context& ctx) override { word_ = ctx.get(word); }
  void process(Call& call) override { call.emit(out, word_ + ", " + std::string(call.text(in))); }

 private:
  std::string word_;
};
CASCADE_PLUGIN(Hello, Info{.name = "hello", .version = "1.0.0", .deterministic = true},
               ports(Hello::in), ports(Hello::out), params(Hello::word))
