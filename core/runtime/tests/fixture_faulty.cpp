// Test fixture: a text stage that misbehaves on demand, to pin down the
// engine's error policies. It misbehaves only on inputs containing
// `trigger` (every input when trigger is empty).
//   mode = "ok"        emit prefix + text
//   mode = "error"     return an error status (transient if transient=true)
//   mode = "throw"     throw std::runtime_error (the SDK turns it into a status)
//   mode = "sleep"     sleep sleep_ms, ignoring should_stop(), then emit
//   mode = "poll"      sleep up to sleep_ms in 1 ms steps, stopping at should_stop()
//   mode = "forward_to_json"  forward the text input onto the JSON output `meta`
//                      (the host must refuse the type: ABI 1.1 forward)
// Modes that take the whole process down, for crash isolation and the
// CLI's fatal-signal messages (run them in process mode, or expect the
// host to die):
//   mode = "segfault"  write to an address in the (unmapped) first page
//   mode = "abort"     std::abort()
//   mode = "exit"      std::exit(exit_code)
//   mode = "hang"      sleep forever, ignoring should_stop()
//   mode = "spin"      burn CPU forever, ignoring should_stop()
//   mode = "alloc"     allocate and touch memory without bound
//   mode = "fdleak"    open /dev/null 64 times a call and never close it
//   mode = "garbage"   emit an output whose size (1 TiB) and pointer are lies
//   mode = "scribble"  (in cascade-stage-worker only) write junk on the
//                      worker's socket to the engine, then return normally:
//                      scribble = "header"    16 bytes that are no header
//                      scribble = "length"    a Result header claiming 64 GiB
//                      scribble = "truncated" a Result header claiming 64
//                                             bytes, and 20 of them
// In a batch call (ABI 1.2, micro_batch > 1), two more, on the whole batch
// (one turn at a time they act as "ok"):
//   mode = "throw_batch"          process_batch itself throws
//   mode = "forward_all_to_json"  Batch::forward_all of the text input onto `meta`
#include <cascade/sdk/stage.hpp>

#include <fcntl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <memory>
#include <stdexcept>
#include <thread>
#include <vector>
using namespace cascade::sdk;

class Faulty : public Stage {
 public:
  static inline Input in{"text", PayloadType::Text, "text"};
  static inline Output out{"text", PayloadType::Text, "prefix + text"};
  static inline Output meta{"meta", PayloadType::Json, "only mode forward_to_json writes it (wrongly)"};
  static inline Param<std::string> mode{"mode", "ok", "ok | error | throw | sleep | poll | segfault | abort | exit | hang | spin | alloc | fdleak | garbage | scribble"};
  static inline Param<std::string> trigger{"trigger", "", "misbehave only on inputs containing this"};
  static inline Param<std::string> prefix{"prefix", "", "put in front of the output"};
  static inline Param<int64_t> sleep_ms{"sleep_ms", 0, "for mode sleep/poll"};
  static inline Param<bool> transient{"transient", false, "for mode error"};
  static inline Param<int64_t> exit_code{"exit_code", 3, "for mode exit"};
  static inline Param<std::string> scribble{"scribble", "header", "for mode scribble: header | length | truncated"};

  void open(Context& ctx) override {
    mode_ = ctx.get(mode);
    trigger_ = ctx.get(trigger);
    prefix_ = ctx.get(prefix);
    sleep_ = ctx.get(sleep_ms);
    transient_ = ctx.get(transient);
    exit_code_ = static_cast<int>(ctx.get(exit_code));
    scribble_ = ctx.get(scribble);
  }
  void process_batch(Batch& batch) {
    if (mode_ == "throw_batch") throw Error(Status::Unavailable, "faulty: refused the whole batch");
    if (mode_ == "forward_all_to_json") return batch.forward_all(meta, in);
    batch.each([this](Call& c) { process(c); });
  }
  void process(Call& call) override {
    const std::string_view text = call.text(in);
    const bool hit = trigger_.empty() || text.find(trigger_) != std::string_view::npos;
    if (hit && mode_ == "error") throw Error(Status::Unavailable, "faulty: refused '" + std::string(text) + "'", transient_);
    if (hit && mode_ == "throw") throw std::runtime_error("faulty: exception on '" + std::string(text) + "'");
    if (hit && mode_ == "forward_to_json") call.forward(meta, in);
    if (hit) crash_if_asked();
    if (hit && mode_ == "scribble") write_junk_on_the_socket();
    if (hit && mode_ == "sleep") std::this_thread::sleep_for(std::chrono::milliseconds(sleep_));
    if (hit && mode_ == "poll") {
      for (int64_t i = 0; i < sleep_; ++i) {
        if (call.should_stop()) throw Error(Status::Cancelled, "faulty: stopped at should_stop()");
        std::this_thread::sleep_for(std::chrono::milliseconds(1));
      }
    }
    call.confidence(0.5);
    if (hit && mode_ == "garbage")
      return call.emit(out, std::string_view(reinterpret_cast<const char*>(uintptr_t{4096}), size_t{1} << 40));
    call.emit(out, prefix_ + std::string(text));
  }

 private:
  void crash_if_asked() const {
    if (mode_ == "segfault") {
      // An address in the first page, never mapped: a real SIGSEGV. Not
      // nullptr itself, which UBSan's null check reports (and exits on)
      // before the store faults, so no crash handler would see a signal.
      // (Read from a volatile, so the compiler does not see the constant.)
      volatile uintptr_t low = 16;
      *reinterpret_cast<volatile int*>(low) = 1;
    }
    if (mode_ == "abort") std::abort();
    if (mode_ == "exit") std::exit(exit_code_);
    if (mode_ == "hang")
      for (;;) std::this_thread::sleep_for(std::chrono::seconds(1));
    if (mode_ == "spin")
      for (uint64_t i = 0;; ++i) asm volatile("" : "+r"(i));
    if (mode_ == "alloc") {
      std::vector<std::unique_ptr<char[]>> hoard;
      for (;;) {
        hoard.emplace_back(new char[1 << 20]);
        std::memset(hoard.back().get(), 1, 1 << 20);
      }
    }
    if (mode_ == "garbage") return;  // emitted in process()
    if (mode_ == "fdleak")
      for (int i = 0; i < 64; ++i) (void)::open("/dev/null", O_RDONLY);
  }

  // A plugin that found its worker's socket as any plugin could (the
  // only socket among its descriptors) and wrote on it. In the engine's
  // own process that socket would be someone else's: refused there.
  void write_junk_on_the_socket() const {
    namespace fs = std::filesystem;
    if (fs::read_symlink("/proc/self/exe").filename() != "cascade-stage-worker")
      throw Error(Status::Unsupported, "faulty: scribble runs only in a stage worker");
    int fd = -1;
    for (const auto& e : fs::directory_iterator("/proc/self/fd")) {
      std::error_code ec;
      if (fs::read_symlink(e.path(), ec).string().rfind("socket:", 0) == 0) fd = std::stoi(e.path().filename());
    }
    if (fd < 0) throw Error(Status::Internal, "faulty: no socket to scribble on");
    // A header as core/isolation/wire.hpp lays it out: magic "CWRK",
    // kind 4 (Result), body size, little-endian.
    auto header = [](uint64_t size) {
      std::string h("CWRK\x04\0\0\0", 8);
      for (int i = 0; i < 8; ++i) h.push_back(static_cast<char>(size >> (8 * i)));
      return h;
    };
    std::string junk;
    if (scribble_ == "header") junk = "not a header!!!!";
    else if (scribble_ == "length") junk = header(uint64_t{1} << 36);
    else if (scribble_ == "truncated") junk = header(64) + std::string(20, '\xff');
    else throw Error(Status::InvalidArgument, "faulty: scribble must be header, length or truncated");
    if (::send(fd, junk.data(), junk.size(), MSG_NOSIGNAL) != static_cast<ssize_t>(junk.size()))
      throw Error(Status::Internal, "faulty: the scribble was not written");
  }

  std::string mode_, trigger_, prefix_, scribble_;
  int exit_code_ = 3;
  int64_t sleep_ = 0;
  bool transient_ = false;
};
CASCADE_PLUGIN(Faulty, Info{.name = "fixture_faulty", .version = "0.1.0", .description = "misbehaves on demand"},
               ports(Faulty::in), ports(Faulty::out, Faulty::meta),
               params(Faulty::mode, Faulty::trigger, Faulty::prefix, Faulty::sleep_ms, Faulty::transient,
                      Faulty::exit_code, Faulty::scribble))
