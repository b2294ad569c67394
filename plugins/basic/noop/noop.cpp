// noop — does nothing but forward a pointer; the unit of scheduler
// overhead in cascade-bench. In a micro-batch (run.micro_batch > 1) it
// passes every turn's input on in one loop (Batch::forward_all), so what a
// batch costs is the scheduler's.
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
  // An absent input stays absent: the same as process() above.
  void process_batch(Batch& batch) { batch.forward_all(out, in); }
};
CASCADE_PLUGIN(Noop, Info{.name = "noop", .version = "1.0.0", .description = "benchmark no-op stage",
                          .deterministic = true},
               ports(Noop::in), ports(Noop::out))
