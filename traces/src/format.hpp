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
inline constexpr uint16_t kFormatVersion = 1;
inline constexpr uint16_t kFileFlagAudioHashed = 1;  // WriterOptions::audio == Hash
inline constexpr uint32_t kFileHeaderFixed = 40;     // bytes before the writer string
// "CCHK" read as a little-endian u32.
inline constexpr uint32_t kChunkMagic = 0x4B484343u;
inline constexpr uint32_t kChunkHeaderSize = 32;
inline constexpr uint16_t kChunkRecords = 0;
inline constexpr uint16_t kChunkEnd = 1;  // clean close marker: last chunk of a file
inline constexpr uint16_t kNoWorker = 0xFFFF;

inline constexpr uint8_t kRecordStage = 1;
inline constexpr uint8_t kRecordTurn = 2;
inline constexpr uint32_t kRecordHeaderSize = 5;  // u8 type + u32 body length

inline constexpr uint8_t kPayloadInline = 0;
inline constexpr uint8_t kPayloadHashed = 1;

inline constexpr uint8_t kStageFlagTransient = 1;
inline constexpr uint8_t kStageFlagHasConfidence = 2;

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
