// format.hpp (private) — constants and little-endian primitives of the trace
// file format. The normative description is traces/FORMAT.md; every number
// here must match it.
#pragma once

#include <bit>
#include <cstdint>
#include <cstring>
#include <string_view>

namespace cascade::trace::format {

// The format is little-endian and the code writes native integers with
// memcpy: keep that honest on the machines we build for.
static_assert(std::endian::native == std::endian::little, "trace format code assumes a little-endian host");

inline constexpr char kFileMagic[8] = {'C', 'A', 'S', 'T', 'R', 'A', 'C', 'E'};
// The one format version written and read. Files of any other version
// (earlier development versions included) are refused with T004.
inline constexpr uint16_t kFormatVersion = 5;
inline constexpr uint16_t kFileFlagAudioHashed = 1;  // WriterOptions::audio == Hash
inline constexpr uint32_t kFileHeaderFixed = 40;     // bytes before the writer string
// "CCHK" read as a little-endian u32.
inline constexpr uint32_t kChunkMagic = 0x4B484343u;
inline constexpr uint32_t kChunkHeaderSize = 32;
inline constexpr uint16_t kChunkRecords = 0;
inline constexpr uint16_t kChunkEnd = 1;  // clean close marker: last chunk of a file
inline constexpr uint16_t kNoWorker = 0xFFFF;

// Type 1 is not used (a stage record with its names inline, before
// declarations became the one way to name a stage).
inline constexpr uint8_t kRecordTurn = 2;
inline constexpr uint8_t kRecordStage = 3;
// A stage's names and port names; the n-th declaration of a chunk is the
// handle n its stage records name.
inline constexpr uint8_t kRecordDecl = 4;
// A turn record followed by the stages handed over with it (a turn frame).
inline constexpr uint8_t kRecordFrame = 5;
// Record header: u32 = type | body_len << 8; body_len 0xFFFFFF means a u64
// body length follows (records of 16 MiB and more).
inline constexpr uint32_t kRecordLenEscape = 0xFFFFFF;

// A port's payload starts with a varint tag: 0 absent, kPortInline or
// kPortHashed for a payload literal, an odd tag for a reference to the
// chunk's payload literal number tag >> 1.
inline constexpr uint8_t kPortAbsent = 0;
inline constexpr uint8_t kPortInline = 2;
inline constexpr uint8_t kPortHashed = 4;

// Record flags (first byte of every record body).
inline constexpr uint8_t kStageFlagTransient = 1;
inline constexpr uint8_t kStageFlagHasConfidence = 2;
inline constexpr uint8_t kFlagSameKey = 4;  // turn key omitted: same as the previous record of the chunk
// Status ok, error_code 0, empty error_message: the three fields are omitted.
inline constexpr uint8_t kStageFlagPlain = 8;
// nbest, features and text_features all empty: their three counts are omitted.
inline constexpr uint8_t kStageFlagNoExtras = 16;
// A stage inside a turn record: its ports are omitted, they are the turn's
// payload table entries its declaration's frame ports name.
inline constexpr uint8_t kStageFlagBound = 32;

// --- raw little-endian access (unaligned, via memcpy) ----------------------
template <class T>
inline uint8_t* put(uint8_t* p, T v) noexcept {
  std::memcpy(p, &v, sizeof v);
  return p + sizeof v;
}
inline uint8_t* put_bytes(uint8_t* p, const void* data, size_t n) noexcept {
  if (n != 0) std::memcpy(p, data, n);
  return p + n;
}
inline uint8_t* put_str(uint8_t* p, std::string_view s) noexcept {
  p = put<uint32_t>(p, static_cast<uint32_t>(s.size()));
  return put_bytes(p, s.data(), s.size());
}
// Unsigned LEB128: 7 bits per byte, low groups first, high bit = more.
inline constexpr size_t varint_size(uint64_t v) noexcept { return (std::bit_width(v | 1) + 6) / 7; }
inline uint8_t* put_varint(uint8_t* p, uint64_t v) noexcept {
  // 1-3 byte values (ids, sizes, nanosecond deltas and durations of fast
  // stages) without the loop: kept for cascade-bench's "a stage record in
  // memory" row, where every stage writes four of them.
  if (v < 0x80) {
    p[0] = static_cast<uint8_t>(v);
    return p + 1;
  }
  if (v < 0x4000) {
    p[0] = static_cast<uint8_t>(v) | 0x80;
    p[1] = static_cast<uint8_t>(v >> 7);
    return p + 2;
  }
  if (v < 0x200000) {
    p[0] = static_cast<uint8_t>(v) | 0x80;
    p[1] = static_cast<uint8_t>(v >> 7) | 0x80;
    p[2] = static_cast<uint8_t>(v >> 14);
    return p + 3;
  }
  while (v >= 0x80) {
    *p++ = static_cast<uint8_t>(v) | 0x80;
    v >>= 7;
  }
  *p++ = static_cast<uint8_t>(v);
  return p;
}
// Signed values that are usually small (durations) as zigzag varints.
inline constexpr uint64_t zigzag(int64_t v) noexcept {
  return (static_cast<uint64_t>(v) << 1) ^ static_cast<uint64_t>(v >> 63);
}
inline constexpr int64_t unzigzag(uint64_t v) noexcept {
  return static_cast<int64_t>(v >> 1) ^ -static_cast<int64_t>(v & 1);
}

// memcpy without a call for the short strings records are made of: two
// overlapping loads/stores that never touch bytes outside [src, src+n).
inline uint8_t* copy_bytes(uint8_t* dst, const void* src, size_t n) noexcept {
  const auto* s = static_cast<const uint8_t*>(src);
  if (n <= 16) {
    if (n >= 8) {
      uint64_t a, b;
      std::memcpy(&a, s, 8);
      std::memcpy(&b, s + n - 8, 8);
      std::memcpy(dst, &a, 8);
      std::memcpy(dst + n - 8, &b, 8);
    } else if (n >= 4) {
      uint32_t a, b;
      std::memcpy(&a, s, 4);
      std::memcpy(&b, s + n - 4, 4);
      std::memcpy(dst, &a, 4);
      std::memcpy(dst + n - 4, &b, 4);
    } else if (n > 0) {
      dst[0] = s[0];
      dst[n / 2] = s[n / 2];
      dst[n - 1] = s[n - 1];
    }
    return dst + n;
  }
  if (n <= 32) {
    uint64_t a[2], b[2];
    std::memcpy(a, s, 16);
    std::memcpy(b, s + n - 16, 16);
    std::memcpy(dst, a, 16);
    std::memcpy(dst + n - 16, b, 16);
    return dst + n;
  }
  std::memcpy(dst, s, n);
  return dst + n;
}
inline size_t str_size(std::string_view s) noexcept { return varint_size(s.size()) + s.size(); }
inline uint8_t* put_vstr(uint8_t* p, std::string_view s) noexcept {
  p = put_varint(p, s.size());
  return copy_bytes(p, s.data(), s.size());
}

// Equality of short strings without a call (same load trick as copy_bytes).
inline bool equal_bytes(const uint8_t* a, const void* bv, size_t n) noexcept {
  const auto* b = static_cast<const uint8_t*>(bv);
  if (n <= 16) {
    if (n >= 8) {
      uint64_t x0, x1, y0, y1;
      std::memcpy(&x0, a, 8);
      std::memcpy(&x1, a + n - 8, 8);
      std::memcpy(&y0, b, 8);
      std::memcpy(&y1, b + n - 8, 8);
      return ((x0 ^ y0) | (x1 ^ y1)) == 0;
    }
    if (n >= 4) {
      uint32_t x0, x1, y0, y1;
      std::memcpy(&x0, a, 4);
      std::memcpy(&x1, a + n - 4, 4);
      std::memcpy(&y0, b, 4);
      std::memcpy(&y1, b + n - 4, 4);
      return ((x0 ^ y0) | (x1 ^ y1)) == 0;
    }
    if (n == 0) return true;
    // Branch-free over the 1..3 bytes: names like "s0", "in", "out" land here.
    return ((a[0] ^ b[0]) | (a[n / 2] ^ b[n / 2]) | (a[n - 1] ^ b[n - 1])) == 0;
  }
  if (n <= 32) {
    uint64_t x[4], y[4];
    std::memcpy(x, a, 16);
    std::memcpy(x + 2, a + n - 16, 16);
    std::memcpy(y, b, 16);
    std::memcpy(y + 2, b + n - 16, 16);
    return ((x[0] ^ y[0]) | (x[1] ^ y[1]) | (x[2] ^ y[2]) | (x[3] ^ y[3])) == 0;
  }
  return std::memcmp(a, b, n) == 0;
}

template <class T>
inline T get(const uint8_t* p) noexcept {
  T v;
  std::memcpy(&v, p, sizeof v);
  return v;
}

}  // namespace cascade::trace::format

namespace cascade::trace::format {
// cascade_payload_type values (sdk/include/cascade/abi/cascade_abi.h); the
// trace stores the number as-is, these are the ones the tools interpret.
inline constexpr uint32_t kPayloadNone = 0;
inline constexpr uint32_t kPayloadText = 1;
inline constexpr uint32_t kPayloadAudio = 2;
inline constexpr uint32_t kPayloadJson = 3;

inline constexpr const char* kWriterName = "cascade-traces/0.1.0";
}  // namespace cascade::trace::format
