// Test fixture: declares max_concurrency = 1 and reports, as feature
// "overlap", how many other process() calls were running when it ran. The
// engine must never let that be above 0.
#include <cascade/sdk/stage.hpp>

#include <atomic>
#include <chrono>
#include <thread>
using namespace cascade::sdk;

class Serial : public Stage {
 public:
  static inline Input in{"text", PayloadType::Text, "text"};
  static inline Output out{"text", PayloadType::Text, "the same text"};
  void process(Call& call) override {
    const int others = active_.fetch_add(1);
    std::this_thread::sleep_for(std::chrono::microseconds(50));
    call.feature("overlap", static_cast<double>(others));
    call.emit(out, call.text(in));
    active_.fetch_sub(1);
  }

 private:
  std::atomic<int> active_{0};
};
CASCADE_PLUGIN(Serial, Info{.name = "fixture_serial", .version = "0.1.0", .max_concurrency = 1},
               ports(Serial::in), ports(Serial::out))
