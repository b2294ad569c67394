// Internal to process isolation: the messages between the engine and a
// stage's worker process (core/isolation/worker_main.cpp), and the
// little-endian primitives they are made of.
//
// A message is a 16-byte header {magic, kind, body size} and a body. One
// conversation per worker, strictly request/reply:
//
//   host  -> worker  Hello   plugin file, stage id, parameters, limits
//   worker-> host    Ready   ok, or the code and message of what failed
//   host  -> worker  Call    n turns, each with its inputs and deadline
//   worker-> host    Result  per turn: status, report, outputs
//   ... Call/Result until the host closes the socket (the worker then
//   closes its instance and exits 0).
//
// Both sides treat what they read as untrusted: every length is checked
// against the bytes that are there before anything is allocated (a
// plugin corrupting its worker must not corrupt the host). The engine
// also reads the worker's socket as a stream its plugin may have written
// junk on: a message's buffer grows with the bytes that came, not by the
// size its header claims, and a message that stops part-way is an error
// (WorkerProcess::exchange_raw).
//
// Lifecycle: plain functions and two cursor types over caller-owned
// buffers. Threading: none of their own.
#pragma once

#include <cstdint>
#include <cstring>
#include <stdexcept>
#include <string>
#include <string_view>

namespace cascade::isolation::wire {

inline constexpr uint32_t kMagic = 0x4B525743u;  // "CWRK" read as a little-endian u32
inline constexpr size_t kHeaderSize = 16;
// No message is larger: a worker asking for more is broken.
inline constexpr uint64_t kMaxMessage = uint64_t{1} << 36;

enum class Kind : uint32_t { Hello = 1, Ready = 2, Call = 3, Result = 4 };

// A message that breaks the rules above (too short, a length past its end,
// an unknown kind).
struct WireError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// Appends to a buffer.
class Out {
 public:
  explicit Out(std::string& b) : b_(b) {}
  void u8(uint8_t v) { b_.push_back(static_cast<char>(v)); }
  void u32(uint32_t v) { raw(&v, sizeof v); }
  void u64(uint64_t v) { raw(&v, sizeof v); }
  void i64(int64_t v) { raw(&v, sizeof v); }
  void f64(double v) { raw(&v, sizeof v); }
  void str(std::string_view s) {
    u64(s.size());
    raw(s.data(), s.size());
  }
  void raw(const void* p, size_t n) {
    if (n > 0) b_.append(static_cast<const char*>(p), n);
  }

 private:
  std::string& b_;
};

// Reads from a body; throws WireError rather than read past its end.
class In {
 public:
  explicit In(std::string_view body) : p_(body.data()), end_(body.data() + body.size()) {}
  uint8_t u8() { return get<uint8_t>(); }
  uint32_t u32() { return get<uint32_t>(); }
  uint64_t u64() { return get<uint64_t>(); }
  int64_t i64() { return get<int64_t>(); }
  double f64() { return get<double>(); }
  std::string_view str() { return bytes(u64()); }
  std::string_view bytes(uint64_t n) {
    if (n > static_cast<uint64_t>(end_ - p_)) throw WireError("a length runs past the end of the message");
    std::string_view v(p_, static_cast<size_t>(n));
    p_ += n;
    return v;
  }
  // A count of items of at least `min_item` bytes each, checked against
  // what is left before the caller sizes anything by it.
  uint32_t count(size_t min_item) {
    const uint32_t n = u32();
    if (min_item > 0 && n > static_cast<uint64_t>(end_ - p_) / min_item)
      throw WireError("a count is larger than the message can hold");
    return n;
  }
  [[nodiscard]] bool done() const { return p_ == end_; }

 private:
  template <class T>
  T get() {
    if (static_cast<size_t>(end_ - p_) < sizeof(T)) throw WireError("message ends inside a field");
    T v;
    std::memcpy(&v, p_, sizeof v);
    p_ += sizeof v;
    return v;
  }
  const char* p_;
  const char* end_;
};

// Starts a message of `kind` in `buf` (cleared); finish() fills its size.
inline void begin(std::string& buf, Kind kind) {
  buf.clear();
  Out o(buf);
  o.u32(kMagic);
  o.u32(static_cast<uint32_t>(kind));
  o.u64(0);
}
inline void finish(std::string& buf) {
  const uint64_t size = buf.size() - kHeaderSize;
  std::memcpy(buf.data() + 8, &size, sizeof size);
}

// The header's body size, after checking magic and kind.
inline uint64_t parse_header(const char (&h)[kHeaderSize], Kind expected) {
  uint32_t magic = 0, kind = 0;
  uint64_t size = 0;
  std::memcpy(&magic, h, 4);
  std::memcpy(&kind, h + 4, 4);
  std::memcpy(&size, h + 8, 8);
  if (magic != kMagic) throw WireError("bad message magic");
  if (kind != static_cast<uint32_t>(expected))
    throw WireError("unexpected message kind " + std::to_string(kind) + ", wanted " +
                    std::to_string(static_cast<uint32_t>(expected)));
  if (size > kMaxMessage) throw WireError("message larger than the limit");
  return size;
}

// Blocking whole-buffer I/O on a socket (EINTR retried). write_all never
// raises SIGPIPE (MSG_NOSIGNAL). Both return false on EOF or error.
bool write_all(int fd, const void* p, size_t n);
bool read_all(int fd, void* p, size_t n);
// One whole message of `kind` into `body`: false on EOF before the header;
// throws WireError on a malformed one.
bool read_message(int fd, Kind kind, std::string& body);

}  // namespace cascade::isolation::wire
