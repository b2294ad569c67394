// join — fan-in: joins two texts with a separator. Either input may be
// missing (a skipped branch); then the other passes alone.
//
//   [a:text] ---+
//               +--> ( join ) --> [text]
//   [b:text] ---+
#include <cascade/sdk/stage.hpp>
using namespace cascade::sdk;

class Join : public Stage {
 public:
  static inline Input a{"a", PayloadType::Text, "first text", /*optional=*/true};
  static inline Input b{"b", PayloadType::Text, "second text", /*optional=*/true};
  static inline Output out{"text", PayloadType::Text, "a + separator + b"};
  static inline Param<std::string> separator{"separator", " | ", "put between a and b"};
  static inline Param<int64_t> max_len{"max_len", 4096, "cut the result to this many bytes"};
  static inline Param<double> weight{"weight", 1.0, "reported as the confidence"};

  void open(Context& ctx) override {
    sep_ = ctx.get(separator);
    max_ = ctx.get(max_len);
    weight_ = ctx.get(weight);
    if (max_ < 0) throw Error(Status::InvalidArgument, "max_len must be >= 0");
  }
  void process(Call& call) override {
    std::string s;
    if (call.has(a)) s += call.text(a);
    if (call.has(a) && call.has(b)) s += sep_;
    if (call.has(b)) s += call.text(b);
    if (s.size() > static_cast<size_t>(max_)) s.resize(static_cast<size_t>(max_));
    call.confidence(weight_);
    call.emit(out, s);
  }

 private:
  std::string sep_;
  int64_t max_ = 4096;
  double weight_ = 1.0;
};
CASCADE_PLUGIN(Join, Info{.name = "join", .version = "1.0.0", .description = "joins two texts (fan-in)",
                          .deterministic = true},
               ports(Join::a, Join::b), ports(Join::out), params(Join::separator, Join::max_len, Join::weight))
