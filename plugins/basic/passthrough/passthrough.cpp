// passthrough — forwards its input unchanged (zero-copy); useful to split
// or rename a stream in a DAG and as a test fixture.
//
//   [in:any] --> ( passthrough ) --> [out:any]
#include <cascade/sdk/stage.hpp>
using namespace cascade::sdk;

class Passthrough : public Stage {
 public:
  static inline Input in{"in", PayloadType::Any, "any payload"};
  static inline Output out{"out", PayloadType::Any, "the same payload"};
  void process(Call& call) override { call.forward(out, in); }
};
CASCADE_PLUGIN(Passthrough,
               Info{.name = "passthrough", .version = "1.0.0", .description = "forwards its input unchanged",
                    .deterministic = true},
               ports(Passthrough::in), ports(Passthrough::out))
