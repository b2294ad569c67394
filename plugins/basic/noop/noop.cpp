// noop — does nothing but forward a pointer; the unit of scheduler
// overhead in cascade-bench.
//
//   [in:any] --> ( noop ) --> [out:any]
#include <cascade/sdk/stage.hpp>
using namespace cascade::sdk;

class Noop : public Stage {
 public:
  static inline Input in{"in", PayloadType::Any, "any payload", /*optional=*/true};
  static inline Output out{"out", PayloadType::Any, "the input, if any"};
  void process(Call& call) override {
    if (call.has(in)) call.forward(out, in);
  }
};
CASCADE_PLUGIN(Noop, Info{.name = "noop", .version = "1.0.0", .description = "benchmark no-op stage",
                          .deterministic = true},
               ports(Noop::in), ports(Noop::out))
