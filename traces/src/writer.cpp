// writer.cpp — per-worker binary buffers, one background writer thread.
//
// Hot path (write): compute the encoded size, make room in the worker's own
// buffer, memcpy the fields. No lock, no allocation, no formatting. Only when
// a buffer is full does the worker take the queue mutex, once per chunk
// (~256 KiB, thousands of records), to hand the buffer over and take a free
// one back. The background thread checksums, frames and write()s chunks and
// returns the buffers to the free list, so steady state allocates nothing.
#include <cascade/trace/writer.hpp>

#include "format.hpp"

#include <xxhash.h>

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <condition_variable>
#include <cstring>
#include <deque>
#include <exception>
#include <system_error>
#include <limits>
#include <mutex>
#include <thread>
#include <type_traits>
#include <vector>

namespace cascade::trace {
namespace {

namespace f = format;

// Chunks queued but not yet written. Bounds memory when the disk is slower
// than the workers: producers then wait (back-pressure) instead of growing.
constexpr size_t kMaxQueued = 32;

int64_t now_unix_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// std::strerror is not thread-safe; the category message is.
std::string errno_text() { return std::generic_category().message(errno); }

// One chunk under construction: [32-byte chunk header][payload]. The header
// space is reserved up front so the background thread frames the chunk in
// place and writes it with a single write().
struct Buffer {
  std::unique_ptr<uint8_t[]> mem;
  size_t cap = 0;
  size_t used = f::kChunkHeaderSize;
  uint32_t records = 0;
  uint16_t worker = f::kNoWorker;
  // The turn key of the last record in this chunk, as offsets of its bytes
  // in `mem`: a record of the same turn stores a flag instead of the key.
  // Per chunk, so every chunk decodes on its own (a skipped damaged chunk
  // never breaks the next one).
  bool has_key = false;
  uint32_t key_index = 0;
  uint64_t key_seq = 0;
  uint32_t key_gen = 0;  // bumped whenever a record writes its turn key
  // (its strings: `dlg` and `usr` below)
  // start_ns of the previous record of the chunk: records store the delta.
  int64_t prev_start = 0;
  // The chunk's string table (FORMAT.md "istr"): the n-th literal istr of a
  // chunk has id n; a repeated string is written as a reference to its id.
  // Direct-mapped by the string's ADDRESS (see put_istr): a collision only
  // costs a literal. `len == kEmpty` marks a free entry; reset() clears the
  // table, on the background thread, so the hot path needs no generation check.
  static constexpr uint32_t kEmpty = 0xFFFFFFFFu;
  struct Interned {
    uint32_t at = 0;  // offset of the literal's bytes in mem
    uint32_t len = kEmpty;
    uint32_t id = 0;
  };
  Interned dlg, usr;  // the last turn key's strings in the table (put_key)
  std::array<Interned, 256> dict{};
  // The same table keyed by CONTENT, consulted when the address misses:
  // equal strings at other addresses (a dialogue id copied into every turn's
  // input, feature keys rebuilt per turn) still become references, instead
  // of a new literal each time that also evicts the long-lived names.
  std::array<Interned, 256> by_content{};
  uint32_t next_id = 0;
  // The chunk's payload literals (FORMAT.md "payload", encoding 2), keyed by
  // the data ADDRESS: a payload whose bytes were already stored in this
  // chunk (a stage's input is usually the previous stage's output, and a
  // no-op stage forwards its input) is written as the literal's id.
  // `ptr == nullptr` marks a free entry.
  struct PayloadSeen {
    const void* ptr = nullptr;
    uint64_t size = 0;
    uint32_t at = 0;      // offset of the literal's bytes in mem (inline only)
    uint32_t id = 0;      // payload literal id within the chunk
    uint32_t record = 0;  // `records` when it was written: same record => same bytes
    uint32_t gen = 0;     // `key_gen` when it was written (payloads_stable)
    bool hashed = false;
  };
  std::array<PayloadSeen, 32> payloads{};
  uint32_t next_payload = 0;
  // declared[h] != 0: the chunk already holds the kRecordDecl of handle h.
  std::vector<uint8_t> declared;
  uint32_t n_declared = 0;  // handles declared in this chunk: all of them skips the checks

  void reset() {
    std::fill(declared.begin(), declared.end(), uint8_t{0});
    n_declared = 0;
    used = f::kChunkHeaderSize;
    records = 0;
    worker = f::kNoWorker;
    has_key = false;
    prev_start = 0;
    for (auto& e : dict) e.len = kEmpty;
    for (auto& e : by_content) e.len = kEmpty;
    next_id = 0;
    for (auto& e : payloads) e.ptr = nullptr;
    next_payload = 0;
  }
  [[nodiscard]] bool same_key(const TurnKey& k) const noexcept {
    return has_key && k.turn_seq == key_seq && k.turn_index == key_index && k.dialogue_id.size() == dlg.len &&
           k.user_id.size() == usr.len && f::equal_bytes(mem.get() + dlg.at, k.dialogue_id.data(), dlg.len) &&
           f::equal_bytes(mem.get() + usr.at, k.user_id.data(), usr.len);
  }
};

// One per worker index, on its own cache line: workers never share one.
struct alignas(64) Slot {
  Buffer* buf = nullptr;
  std::atomic<uint64_t> records{0};  // written only by the slot's worker
};

// --- size bounds ----------------------------------------------------------------
// An upper bound of a record's encoded size, cheap to compute: the sum of the
// variable byte counts plus a constant per field (a varint of a u32 is at
// most 5 bytes, of a u64 10). The encoder then writes the record and the
// exact length is patched into the record header.
using f::varint_size;

constexpr size_t kStr = 5;           // varint length of a string (< 4 GiB)
constexpr size_t kKeyFixed = 2 * kStr + 5 + 10;
constexpr size_t kPayloadFixed = kStr + 5 + 5 + 1 + 10 + 8;

inline bool hashed(const PayloadView& p, AudioMode mode) {
  return mode == AudioMode::Hash && p.type == f::kPayloadAudio;
}
// `named`: with its port name (kRecordStage, turn records); declared
// records store the port by position.
inline size_t payload_bound(const PayloadView& p, AudioMode mode, bool named = true) {
  return kPayloadFixed - (named ? 0 : kStr) + (named ? p.port.size() : 0) + (hashed(p, mode) ? 0 : p.size);
}
inline size_t key_bound(const TurnKey& k) { return kKeyFixed + k.dialogue_id.size() + k.user_id.size(); }
inline uint64_t duration(int64_t start, int64_t end) {
  return f::zigzag(static_cast<int64_t>(static_cast<uint64_t>(end) - static_cast<uint64_t>(start)));
}

[[gnu::always_inline]] inline size_t extras_bound(const StageEvent& e) {
  size_t n = 0;
  for (const auto& b : e.nbest) n += kStr + b.text.size() + 8;
  for (const auto& ft : e.features) n += kStr + ft.key.size() + 8;
  for (const auto& t : e.text_features) n += 2 * kStr + t.key.size() + t.value.size();
  return n;
}

// `named`: kRecordStage (names and port names in the record); otherwise
// kRecordStageDeclared (a handle, ports by position).
[[gnu::always_inline]] inline size_t stage_bound(const StageEvent& e, AudioMode mode, bool named) {
  size_t n = 1 + key_bound(e.turn) + 10 + 10 + 5 + 1 + 5 + 8 + kStr + e.error_message.size() + size_t{5} * 5;
  n += named ? 3 * kStr + e.stage_id.size() + e.plugin.size() + e.plugin_version.size() : 5;
  for (const auto& p : e.inputs) n += payload_bound(p, mode, named);
  for (const auto& p : e.outputs) n += payload_bound(p, mode, named);
  // The usual record has none of the lists below: one test instead of three loops.
  if (e.nbest.empty() && e.features.empty() && e.text_features.empty()) [[likely]]
    return n;
  return n + extras_bound(e);
}

// A stage's names, owned by the writer (Writer::declare), and the most its
// kRecordDecl can take.
struct OwnedDecl {
  std::string stage_id, plugin, plugin_version;
  std::vector<std::string> inputs, outputs;
  size_t bound = 0;
  std::vector<uint32_t> frame_ports;  // StageDecl::frame_ports
};

// What put_turn_head takes, plus gold_json and result_json: the fields a
// turn record and a turn frame share.
size_t turn_fields_bound(const TurnEvent& e) {
  return 1 + key_bound(e.turn) + 5 + kStr + e.timestamp.size() + 8 + 10 + 10 + 1 + 2 * kStr + e.gold_json.size() +
         e.result_json.size();
}

size_t turn_bound(const TurnEvent& e, AudioMode mode) { return turn_fields_bound(e) + payload_bound(e.input, mode); }

// --- encoders (the caller guarantees room for exactly the computed size) ---------
// An interned string: a reference to an earlier literal of the chunk, or a
// new literal. `got` receives its table entry (where its bytes are, its id).
// The table slot is chosen by the string's ADDRESS: the scheduler passes
// views of long-lived strings (stage ids, plugin names, ports), so this is
// a few instructions instead of hashing the bytes. The content is always
// compared (an address may be reused for other bytes between two records),
// so a reused address with new content just becomes a literal.
// Slot of a string in Buffer::by_content: a hash of its bytes.
[[gnu::noinline]] uint32_t content_slot(std::string_view s) {
  uint64_t h;
  if (s.size() <= 16) {
    // The overlapping loads of format::equal_bytes, folded into two words.
    uint64_t x = 0, y = 0;
    const auto* d = reinterpret_cast<const uint8_t*>(s.data());
    const size_t n = s.size();
    if (n >= 8) {
      std::memcpy(&x, d, 8);
      std::memcpy(&y, d + n - 8, 8);
    } else if (n >= 4) {
      uint32_t a, c;
      std::memcpy(&a, d, 4);
      std::memcpy(&c, d + n - 4, 4);
      x = a;
      y = c;
    } else if (n > 0) {
      x = d[0] | (uint64_t{d[n / 2]} << 8) | (uint64_t{d[n - 1]} << 16);
    }
    h = (x * 0x9E3779B97F4A7C15ull) ^ (y * 0xC2B2AE3D27D4EB4Full) ^ n;
    h *= 0x165667B19E3779F9ull;
  } else {
    h = XXH3_64bits(s.data(), s.size());
  }
  return static_cast<uint32_t>(h >> 56);
}

[[gnu::always_inline]] inline uint8_t* put_ref(uint8_t* p, uint32_t id) {
  const uint32_t v = (id << 1) | 1;
  if (v < 0x80) [[likely]] {
    *p = static_cast<uint8_t>(v);
    return p + 1;
  }
  return f::put_varint(p, v);
}

// Address missed: look the content up, else write a literal. Out of line:
// in the steady state of a pipeline the address hits.
[[gnu::noinline]] uint8_t* put_istr_slow(uint8_t* p, std::string_view s, Buffer& b, Buffer::Interned& by_addr,
                                         Buffer::Interned* got) {
  uint8_t* const base = b.mem.get();
  Buffer::Interned& c = b.by_content[content_slot(s)];
  if (c.len == s.size() && f::equal_bytes(base + c.at, s.data(), s.size())) {
    by_addr = c;  // this address hits next time
    if (got != nullptr) *got = c;
    return put_ref(p, c.id);
  }
  p = f::put_varint(p, uint64_t{s.size()} << 1);
  const auto offset = static_cast<uint32_t>(p - base);
  by_addr = c = Buffer::Interned{offset, static_cast<uint32_t>(s.size()), b.next_id++};
  if (got != nullptr) *got = c;
  return f::copy_bytes(p, s.data(), s.size());
}

// An interned string: a reference to an earlier literal of the chunk, or a
// new literal. `got` receives its table entry (where its bytes are, its id).
// The table slot is chosen by the string's ADDRESS: the scheduler passes
// views of long-lived strings (stage ids, plugin names, ports), so this is
// a few instructions instead of hashing the bytes. The content is always
// compared (an address may be reused for other bytes between two records),
// so a reused address with new content falls back to the content table.
[[gnu::always_inline]] inline uint8_t* put_istr(uint8_t* p, std::string_view s, Buffer& b,
                                                Buffer::Interned* got = nullptr) {
  const auto addr = reinterpret_cast<uintptr_t>(s.data());
  // Multiplicative hash: string literals sit 4 bytes apart, std::strings 32.
  Buffer::Interned& e = b.dict[((addr ^ s.size()) * 0x9E3779B97F4A7C15ull) >> 56];
  if (e.len == s.size() && f::equal_bytes(b.mem.get() + e.at, s.data(), s.size())) [[likely]] {
    if (got != nullptr) *got = e;
    return put_ref(p, e.id);
  }
  return put_istr_slow(p, s, b, e, got);
}

// A varint known to be small most of the time (counts, worker, type...).
[[gnu::always_inline]] inline uint8_t* put_small(uint8_t* p, uint64_t v) {
  if (v < 0x80) [[likely]] {
    *p = static_cast<uint8_t>(v);
    return p + 1;
  }
  return f::put_varint(p, v);
}

// A turn key's string: often the previous key's (the next turn of the same
// dialogue on the same worker; an empty user id), which needs neither table
// lookup: the other strings are interned. `last`: the previous key's entry.
inline uint8_t* put_key_str(uint8_t* p, std::string_view s, Buffer& b, Buffer::Interned& last) {
  if (b.has_key && last.len == s.size() && f::equal_bytes(b.mem.get() + last.at, s.data(), s.size()))
    return put_ref(p, last.id);
  return put_istr(p, s, b, &last);
}

inline uint8_t* put_key(uint8_t* p, const TurnKey& k, Buffer& b) {
  p = put_key_str(p, k.dialogue_id, b, b.dlg);
  p = put_key_str(p, k.user_id, b, b.usr);
  p = f::put_varint(p, k.turn_index);
  p = f::put_varint(p, k.turn_seq);
  b.key_index = k.turn_index;
  b.key_seq = k.turn_seq;
  b.has_key = true;
  ++b.key_gen;
  return p;
}

inline uint8_t* put_start(uint8_t* p, int64_t start, Buffer& b) {
  p = f::put_varint(p, duration(b.prev_start, start));
  b.prev_start = start;
  return p;
}

// Payloads shorter than this are always literals: a reference (encoding
// byte + 1-2 byte id) would save too little. Measured on a replica of the
// engine's 5-stage chain with 18-byte payloads: references cost ~13% more
// instructions per record than copies (631 vs 558, callgrind: the lookup is
// ~25 instructions, a short copy ~5), but halve the bytes (176 vs 347 per
// turn), and persisted to /tmp a record then costs 70-84 ns instead of
// 110-134 ns: the background thread's write() is the bottleneck, not encoding.
constexpr uint64_t kMinPayloadRef = 8;

// payload := istr port, varint type, varint sample_rate, u8 encoding, then
// inline: varint size + bytes | hashed: varint size + u64 | ref: varint id.
// A reference needs the SAME bytes as the literal it names: within one
// record two views with equal address and size are the same bytes (the
// views are all live during write()); across records the bytes are compared
// with the literal's copy in the chunk (hashed literals are only referenced
// from their own record: their bytes are not in the chunk to compare).
// `id`, when given, receives the payload literal id the payload is or names.
inline uint8_t* put_payload_body(uint8_t* p, const PayloadView& v, AudioMode mode, bool stable, Buffer& b,
                                 uint32_t* id = nullptr) {
  p = put_small(p, v.sample_rate);
  const bool hash = hashed(v, mode);
  Buffer::PayloadSeen* seen = nullptr;
  if (v.size >= kMinPayloadRef) {
    const auto addr = reinterpret_cast<uintptr_t>(v.data);
    seen = &b.payloads[(addr * 0x9E3779B97F4A7C15ull) >> 59];
    if (seen->ptr == v.data && seen->size == v.size && seen->hashed == hash &&
        (seen->record == b.records || (stable && seen->gen == b.key_gen) ||
         (!hash && f::equal_bytes(b.mem.get() + seen->at, v.data, static_cast<size_t>(v.size))))) {
      *p++ = f::kPayloadRef;
      if (id != nullptr) *id = seen->id;
      return put_small(p, seen->id);
    }
  }
  uint8_t* const enc = p;
  p = f::put_varint(p + 1, v.size);
  if (hash) {
    *enc = f::kPayloadHashed;
    p = f::put<uint64_t>(p, XXH64(v.data, static_cast<size_t>(v.size), 0));
  } else {
    *enc = f::kPayloadInline;
  }
  if (seen != nullptr)
    *seen = Buffer::PayloadSeen{v.data, v.size, static_cast<uint32_t>(p - b.mem.get()), b.next_payload, b.records, b.key_gen, hash};
  if (id != nullptr) *id = b.next_payload;
  ++b.next_payload;  // every literal (inline or hashed) takes an id, remembered or not
  return hash ? p : f::copy_bytes(p, v.data, static_cast<size_t>(v.size));
}

inline uint8_t* put_payload(uint8_t* p, const PayloadView& v, AudioMode mode, bool stable, Buffer& b) {
  p = put_istr(p, v.port, b);
  p = put_small(p, v.type);
  return put_payload_body(p, v, mode, stable, b);
}
// v3, declared records: the port is the position; type 0 (absent) is all.
inline uint8_t* put_payload_at(uint8_t* p, const PayloadView& v, AudioMode mode, bool stable, Buffer& b) {
  p = put_small(p, v.type);
  return v.type == f::kPayloadNone ? p : put_payload_body(p, v, mode, stable, b);
}

uint8_t* put_extras(uint8_t* p, const StageEvent& e, Buffer& b) {
  p = f::put_varint(p, e.nbest.size());
  for (const auto& nb : e.nbest) {
    p = f::put_vstr(p, nb.text);
    p = f::put<double>(p, nb.score);
  }
  p = f::put_varint(p, e.features.size());
  for (const auto& ft : e.features) {
    p = put_istr(p, ft.key, b);
    p = f::put<double>(p, ft.value);
  }
  p = f::put_varint(p, e.text_features.size());
  for (const auto& t : e.text_features) {
    p = put_istr(p, t.key, b);
    p = f::put_vstr(p, t.value);
  }
  return p;
}

uint8_t stage_flags(const StageEvent& e, bool same) {
  const bool plain = e.status == StageStatus::Ok && e.error_code == 0 && e.error_message.empty();
  const bool no_extras = e.nbest.empty() && e.features.empty() && e.text_features.empty();
  return static_cast<uint8_t>((e.transient ? f::kStageFlagTransient : 0) |
                              (e.has_confidence ? f::kStageFlagHasConfidence : 0) | (same ? f::kFlagSameKey : 0) |
                              (plain ? f::kStageFlagPlain : 0) | (no_extras ? f::kStageFlagNoExtras : 0));
}

// The fields both stage record kinds share, after the names: times,
// worker, status, confidence, message.
inline uint8_t* put_stage_core(uint8_t* p, const StageEvent& e, uint8_t flags, Buffer& b) {
  p = put_start(p, e.start_ns, b);
  p = f::put_varint(p, duration(e.start_ns, e.end_ns));
  p = put_small(p, e.worker);
  const bool plain = (flags & f::kStageFlagPlain) != 0;
  if (!plain) {
    *p++ = static_cast<uint8_t>(e.status);
    p = f::put_varint(p, e.error_code);
  }
  if (e.has_confidence) p = f::put<double>(p, e.confidence);
  if (!plain) p = f::put_vstr(p, e.error_message);
  return p;
}

// v3: kRecordStageDeclared (FORMAT.md).
uint8_t* put_stage_declared(uint8_t* p, const StageEvent& e, AudioMode mode, bool same, Buffer& b) {
  const uint8_t flags = stage_flags(e, same);
  *p++ = flags;
  if (!same) p = put_key(p, e.turn, b);
  p = put_small(p, e.decl);
  p = put_stage_core(p, e, flags, b);
  for (const auto& v : e.inputs) p = put_payload_at(p, v, mode, e.payloads_stable, b);
  for (const auto& v : e.outputs) p = put_payload_at(p, v, mode, e.payloads_stable, b);
  if ((flags & f::kStageFlagNoExtras) != 0) [[likely]]
    return p;
  return put_extras(p, e, b);
}

// v3: kRecordDecl := varint handle, istr stage_id, plugin, version,
// varint n_in, istr * n_in, varint n_out, istr * n_out; v4 appends
// varint n, varint * n: the frame ports (index + 1, 0 = unbound).
uint8_t* put_decl(uint8_t* p, uint32_t handle, const OwnedDecl& d, Buffer& b) {
  p = f::put_varint(p, handle);
  p = put_istr(p, d.stage_id, b);
  p = put_istr(p, d.plugin, b);
  p = put_istr(p, d.plugin_version, b);
  p = f::put_varint(p, d.inputs.size());
  for (const auto& s : d.inputs) p = put_istr(p, s, b);
  p = f::put_varint(p, d.outputs.size());
  for (const auto& s : d.outputs) p = put_istr(p, s, b);
  p = f::put_varint(p, d.frame_ports.size());  // v4
  for (const uint32_t i : d.frame_ports) p = f::put_varint(p, static_cast<uint32_t>(i + 1u));  // kNoPayload -> 0
  return p;
}

uint8_t* put_stage(uint8_t* p, const StageEvent& e, AudioMode mode, bool same, Buffer& b) {
  const uint8_t flags = stage_flags(e, same);
  *p++ = flags;
  if (!same) p = put_key(p, e.turn, b);
  p = put_istr(p, e.stage_id, b);
  p = put_istr(p, e.plugin, b);
  p = put_istr(p, e.plugin_version, b);
  p = put_stage_core(p, e, flags, b);
  p = put_small(p, e.inputs.size());
  for (const auto& v : e.inputs) p = put_payload(p, v, mode, e.payloads_stable, b);
  p = put_small(p, e.outputs.size());
  for (const auto& v : e.outputs) p = put_payload(p, v, mode, e.payloads_stable, b);
  if ((flags & f::kStageFlagNoExtras) != 0) [[likely]]
    return p;
  return put_extras(p, e, b);
}

// How a turn record and a turn frame begin: flags, key, worker, timestamp,
// config digest, times, status.
inline uint8_t* put_turn_head(uint8_t* p, const TurnEvent& e, uint32_t worker, bool same, Buffer& b) {
  *p++ = same ? f::kFlagSameKey : 0;
  if (!same) p = put_key(p, e.turn, b);
  p = put_small(p, worker);
  p = f::put_vstr(p, e.timestamp);
  p = f::put<uint64_t>(p, e.config_digest);
  p = put_start(p, e.start_ns, b);
  p = f::put_varint(p, duration(e.start_ns, e.end_ns));
  *p++ = static_cast<uint8_t>(e.status);
  return p;
}

// v4: kRecordFrame (FORMAT.md "Turn frame"). The turn record's fields
// (without its input payload), the payload table, then the stages.
uint8_t* put_frame(uint8_t* p, const TurnFrame& fr, uint32_t worker, AudioMode mode, bool same, Buffer& b) {
  const TurnEvent& e = fr.turn;
  p = put_turn_head(p, e, worker, same, b);
  // Within one record every view is live: equal address and size are the
  // same bytes, so a forwarded payload becomes a reference without a
  // compare; the usual case, the same bytes as the entry before (a chain
  // forwarding one payload), without even the table lookup.
  p = put_small(p, fr.payloads.size());
  const PayloadView* prev = nullptr;
  uint32_t prev_id = 0;
  for (const auto& v : fr.payloads) {
    p = put_small(p, v.type);
    if (v.type == f::kPayloadNone) continue;
    if (prev != nullptr && v.data == prev->data && v.size == prev->size && v.type == prev->type) {
      p = put_small(p, v.sample_rate);
      *p++ = f::kPayloadRef;
      p = put_small(p, prev_id);
      continue;
    }
    p = put_payload_body(p, v, mode, false, b, &prev_id);
    prev = v.size >= kMinPayloadRef ? &v : nullptr;  // shorter ones stay literals (put_payload_body)
  }
  p = put_small(p, fr.input);
  p = f::put_vstr(p, e.gold_json);
  p = f::put_vstr(p, e.result_json);
  p = put_small(p, fr.stages.size());
  // Stage times as fixed u32 offsets from the turn's start: two stores
  // instead of two varints; "wide" zigzag varints when one does not fit.
  for (const auto& st : fr.stages) {
    p = put_small(p, st.decl);
    const uint64_t at = static_cast<uint64_t>(st.start_ns) - static_cast<uint64_t>(e.start_ns);
    const uint64_t len = static_cast<uint64_t>(st.end_ns) - static_cast<uint64_t>(st.start_ns);
    const bool wide = ((at | len) >> 32) != 0;
    *p++ = static_cast<uint8_t>((st.has_confidence ? f::kStageFlagHasConfidence : 0) | (wide ? f::kFrameFlagWide : 0));
    if (!wide) [[likely]] {
      p = f::put<uint32_t>(p, static_cast<uint32_t>(at));
      p = f::put<uint32_t>(p, static_cast<uint32_t>(len));
    } else {
      p = f::put_varint(p, f::zigzag(static_cast<int64_t>(at)));
      p = f::put_varint(p, f::zigzag(static_cast<int64_t>(len)));
    }
    if (st.has_confidence) p = f::put<double>(p, st.confidence);
    p = put_small(p, st.worker);
  }
  return p;
}

uint8_t* put_turn(uint8_t* p, const TurnEvent& e, uint32_t worker, AudioMode mode, bool same, Buffer& b) {
  p = put_turn_head(p, e, worker, same, b);
  p = put_payload(p, e.input, mode, e.payloads_stable, b);
  p = f::put_vstr(p, e.gold_json);
  return f::put_vstr(p, e.result_json);
}

}  // namespace

struct Writer::Impl {
  WriterOptions opt;
  std::vector<Slot> slots;
  // By handle. Entries never move: put_istr keys its table on addresses.
  std::vector<std::unique_ptr<OwnedDecl>> decls;
  // By handle, flat for append_frame()'s one pass over the stages: how many
  // payloads a frame's table needs for that stage, or kNoPayload when the
  // stage may not be in a frame (declared without frame_ports); and the
  // most that stage of a frame takes, its declaration included.
  std::vector<uint32_t> frame_need;
  std::vector<size_t> frame_cost;
  uint64_t run_id = 0;
  int64_t created_ns = 0;
  bool closed = false;  // touched only by the controlling thread (ctor/flush/close)

  // Shared between workers (once per chunk) and the background thread.
  std::mutex mu;
  std::condition_variable cv_work;  // background thread waits for chunks
  std::condition_variable cv_done;  // producers/flush wait for progress
  std::deque<Buffer*> queue;
  std::vector<Buffer*> free_list;
  std::vector<std::unique_ptr<Buffer>> owned;
  uint64_t submitted = 0;
  uint64_t written = 0;
  bool stop = false;
  std::exception_ptr error;  // first I/O failure, rethrown to callers

  // Owned by the background thread while it runs, by close() afterwards.
  int fd = -1;
  std::filesystem::path current;
  uint64_t file_bytes = 0;
  uint64_t file_chunks = 0;
  uint64_t file_records = 0;
  uint32_t file_index = 0;

  std::atomic<uint64_t> chunks{0};
  std::atomic<uint64_t> bytes{0};
  std::atomic<uint32_t> files{0};

  std::thread thread;

  explicit Impl(WriterOptions o) : opt(std::move(o)), slots(opt.max_workers) {
    if (opt.max_workers == 0 || opt.max_workers > f::kNoWorker)
      throw TraceError(codes::kMisuse, opt.path, "max_workers must be in 1..65535");
    if (opt.chunk_bytes < 1024) opt.chunk_bytes = 1024;
    created_ns = now_unix_ns();
    const uint64_t seed[3] = {static_cast<uint64_t>(created_ns), static_cast<uint64_t>(::getpid()),
                              reinterpret_cast<uintptr_t>(this)};
    run_id = XXH64(seed, sizeof seed, 0);
    if (opt.rotate_bytes > 0) prepare_directory();
    open_next_file();
    thread = std::thread([this] { run(); });
  }

  // --- files (background thread, or the constructing / closing thread) ---------
  void prepare_directory() {
    std::error_code ec;
    std::filesystem::create_directories(opt.path, ec);
    if (ec || !std::filesystem::is_directory(opt.path))
      throw TraceError(codes::kOpen, opt.path, "cannot create trace directory: " + ec.message());
    // A directory holds ONE run: files of an earlier run would be read back
    // interleaved with ours, so they go (like O_TRUNC does for a single file).
    for (const auto& entry : std::filesystem::directory_iterator(opt.path, ec)) {
      const auto name = entry.path().filename().string();
      if (name.starts_with("trace-") && name.ends_with(".cas")) std::filesystem::remove(entry.path(), ec);
    }
  }

  std::filesystem::path file_path(uint32_t index) const {
    if (opt.rotate_bytes == 0) return opt.path;
    char name[32];
    std::snprintf(name, sizeof name, "trace-%06u.cas", index);
    return opt.path / name;
  }

  void write_all(const uint8_t* p, size_t n) {
    while (n > 0) {
      ssize_t w = ::write(fd, p, n);
      if (w < 0) {
        if (errno == EINTR) continue;
        throw TraceError(codes::kWrite, current, "write failed: " + errno_text());
      }
      p += w;
      n -= static_cast<size_t>(w);
    }
  }

  void open_next_file() {
    ++file_index;
    current = file_path(file_index);
    if (opt.rotate_bytes == 0 && current.has_parent_path()) {
      std::error_code ec;
      std::filesystem::create_directories(current.parent_path(), ec);
    }
    fd = ::open(current.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) throw TraceError(codes::kOpen, current, "cannot create trace file: " + errno_text());
    // File header, see FORMAT.md "File header".
    const std::string_view writer = f::kWriterName;
    uint8_t hdr[f::kFileHeaderFixed + 4 + 64 + 8];
    const uint32_t header_len = f::kFileHeaderFixed + 4 + static_cast<uint32_t>(writer.size()) + 8;
    uint8_t* p = f::put_bytes(hdr, f::kFileMagic, 8);
    p = f::put<uint16_t>(p, f::kFormatVersion);
    p = f::put<uint16_t>(p, opt.audio == AudioMode::Hash ? f::kFileFlagAudioHashed : 0);
    p = f::put<uint32_t>(p, header_len);
    p = f::put<uint64_t>(p, run_id);
    p = f::put<int64_t>(p, created_ns);
    p = f::put<uint32_t>(p, file_index);
    p = f::put<uint32_t>(p, opt.chunk_bytes);
    p = f::put_str(p, writer);
    p = f::put<uint64_t>(p, XXH3_64bits(hdr, static_cast<size_t>(p - hdr)));
    file_bytes = 0;
    file_chunks = 0;
    file_records = 0;
    try {
      write_all(hdr, static_cast<size_t>(p - hdr));
    } catch (...) {
      ::close(fd);  // a failed constructor runs no destructor: do not leak the fd
      fd = -1;
      throw;
    }
    file_bytes += header_len;
    bytes.fetch_add(header_len, std::memory_order_relaxed);
    files.fetch_add(1, std::memory_order_relaxed);
  }

  static void frame(uint8_t* mem, uint16_t kind, uint16_t worker, uint32_t len, uint32_t records) {
    uint8_t* p = f::put<uint32_t>(mem, f::kChunkMagic);
    p = f::put<uint16_t>(p, kind);
    p = f::put<uint16_t>(p, worker);
    p = f::put<uint32_t>(p, len);
    p = f::put<uint32_t>(p, records);
    p = f::put<uint64_t>(p, XXH3_64bits(mem + f::kChunkHeaderSize, len));
    f::put<uint64_t>(p, XXH3_64bits(mem, 24));
  }

  // The clean-close marker: an empty-records chunk whose payload counts what
  // the file holds, so readers can tell "closed" from "cut at a boundary".
  void finish_file() {
    if (fd < 0) return;
    uint8_t end[f::kChunkHeaderSize + 16];
    f::put<uint64_t>(f::put<uint64_t>(end + f::kChunkHeaderSize, file_chunks), file_records);
    frame(end, f::kChunkEnd, f::kNoWorker, 16, 0);
    write_all(end, sizeof end);
    bytes.fetch_add(sizeof end, std::memory_order_relaxed);
    ::close(fd);
    fd = -1;
  }

  void write_chunk(Buffer& b) {
    const size_t len = b.used - f::kChunkHeaderSize;
    if (opt.rotate_bytes > 0 && file_chunks > 0 && file_bytes + b.used > opt.rotate_bytes) {
      finish_file();
      open_next_file();
    }
    frame(b.mem.get(), f::kChunkRecords, b.worker, static_cast<uint32_t>(len), b.records);
    write_all(b.mem.get(), b.used);
    file_bytes += b.used;
    ++file_chunks;
    file_records += b.records;
    chunks.fetch_add(1, std::memory_order_relaxed);
    bytes.fetch_add(b.used, std::memory_order_relaxed);
  }

  void run() {
    for (;;) {
      Buffer* b = nullptr;
      {
        std::unique_lock lk(mu);
        cv_work.wait(lk, [&] { return !queue.empty() || stop; });
        if (queue.empty()) return;
        b = queue.front();
        queue.pop_front();
      }
      std::exception_ptr failed;
      try {
        write_chunk(*b);
      } catch (...) {
        failed = std::current_exception();
      }
      b->reset();
      std::lock_guard lk(mu);
      if (failed && !error) error = failed;
      free_list.push_back(b);
      ++written;
      cv_done.notify_all();
    }
  }

  // --- buffers (workers, once per chunk) ---------------------------------------------
  Buffer* take_free_locked() {
    if (!free_list.empty()) {
      Buffer* b = free_list.back();
      free_list.pop_back();
      return b;
    }
    auto nb = std::make_unique<Buffer>();
    nb->cap = f::kChunkHeaderSize + opt.chunk_bytes;
    nb->mem = std::make_unique_for_overwrite<uint8_t[]>(nb->cap);  // no memset: every byte is written before use
    owned.push_back(std::move(nb));
    return owned.back().get();
  }

  // Hands `full` (may be null) to the background thread, returns an empty one.
  Buffer* exchange(Buffer* full) {
    std::unique_lock lk(mu);
    if (full != nullptr) {
      cv_done.wait(lk, [&] { return queue.size() < kMaxQueued || error; });
      if (error) {
        full->reset();
        free_list.push_back(full);
        std::rethrow_exception(error);
      }
      queue.push_back(full);
      ++submitted;
      cv_work.notify_one();
    }
    return take_free_locked();
  }

  static void grow(Buffer& b, size_t need) {
    size_t cap = b.cap;
    while (cap < need) cap *= 2;
    auto mem = std::make_unique_for_overwrite<uint8_t[]>(cap);
    std::memcpy(mem.get(), b.mem.get(), b.used);
    b.mem = std::move(mem);
    b.cap = cap;
  }

  // The worker's current buffer (taking one on first use). The fast path is
  // two compares and a load; errors and the first use go out of line.
  Buffer& buffer(uint32_t worker) {
    if (worker < slots.size() && !closed) [[likely]] {
      Buffer* b = slots[worker].buf;
      if (b != nullptr) [[likely]]
        return *b;
    }
    return first_buffer(worker);
  }

  [[gnu::noinline]] Buffer& first_buffer(uint32_t worker) {
    if (worker >= slots.size())
      throw TraceError(codes::kMisuse, opt.path,
                       "worker index " + std::to_string(worker) + " >= max_workers " + std::to_string(slots.size()));
    if (closed) throw TraceError(codes::kMisuse, opt.path, "write() after close()");
    Slot& s = slots[worker];
    s.buf = exchange(nullptr);
    s.buf->worker = static_cast<uint16_t>(worker);
    return *s.buf;
  }

  // The current buffer is full: hand it over, return an empty one with room
  // for `n` bytes (grown for one oversized record: rare).
  Buffer& next_buffer(uint32_t worker, size_t n) {
    if (n > std::numeric_limits<uint32_t>::max() - f::kChunkHeaderSize)
      throw TraceError(codes::kMisuse, opt.path, "record of " + std::to_string(n) + " bytes exceeds the 4 GiB chunk limit");
    Slot& s = slots[worker];
    Buffer* b = s.buf;
    if (b->records != 0) {
      s.buf = nullptr;  // if exchange throws, the buffer is already handed over
      b = exchange(b);
      s.buf = b;
      b->worker = static_cast<uint16_t>(worker);
    }
    if (b->used + n > b->cap) grow(*b, b->used + n);
    return *b;
  }

  uint32_t declare(const StageDecl& d) {
    OwnedDecl o;
    o.stage_id = d.stage_id;
    o.plugin = d.plugin;
    o.plugin_version = d.plugin_version;
    o.bound = size_t{3} * 5 + 3 * kStr + o.stage_id.size() + o.plugin.size() + o.plugin_version.size();
    for (auto s : d.input_ports) {
      o.inputs.emplace_back(s);
      o.bound += kStr + s.size();
    }
    for (auto s : d.output_ports) {
      o.outputs.emplace_back(s);
      o.bound += kStr + s.size();
    }
    const size_t n_ports = o.inputs.size() + o.outputs.size();
    if (!d.frame_ports.empty() && d.frame_ports.size() != n_ports)
      misuse("declaration of '" + o.stage_id + "': frame_ports lists " + std::to_string(d.frame_ports.size()) +
             " ports, the stage has " + std::to_string(n_ports));
    o.frame_ports.assign(d.frame_ports.begin(), d.frame_ports.end());
    uint32_t need = 0;
    for (const uint32_t i : o.frame_ports)
      if (i != kNoPayload) need = std::max(need, i + 1);
    // In frames: frame_ports given, or no ports at all.
    frame_need.push_back(o.frame_ports.size() == n_ports ? need : kNoPayload);
    o.bound += 5 + 5 * o.frame_ports.size();
    // the declaration, then handle, flags, start, duration, confidence, worker
    frame_cost.push_back(4 + o.bound + 5 + 1 + 10 + 10 + 8 + 5);
    decls.push_back(std::make_unique<OwnedDecl>(std::move(o)));
    return static_cast<uint32_t>(decls.size() - 1);
  }

  // Writes the record header (u32 = type | body_len << 8, or body_len field
  // 0xFFFFFF and a u64 length after it for records of 16 MiB and more) in
  // front of a body encoded at start + header; returns the record's size.
  static size_t close_record(uint8_t* start, size_t header, uint8_t type, const uint8_t* end) {
    const auto len = static_cast<uint64_t>(end - (start + header));
    if (header == 12) {
      f::put<uint64_t>(f::put<uint32_t>(start, type | (f::kRecordLenEscape << 8)), len);
    } else {
      f::put<uint32_t>(start, type | static_cast<uint32_t>(len << 8));
    }
    return header + len;
  }

  // Puts handle h's kRecordDecl into the chunk unless it is there already
  // (the caller made room: OwnedDecl::bound + 4).
  void ensure_declared(Buffer& b, uint32_t h) {
    if (h >= b.declared.size()) [[unlikely]]
      b.declared.resize(decls.size(), 0);
    if (b.declared[h] != 0) [[likely]]
      return;
    uint8_t* const at = b.mem.get() + b.used;
    b.used += close_record(at, 4, f::kRecordDecl, put_decl(at + 4, h, *decls[h], b));
    ++b.records;
    b.declared[h] = 1;
    ++b.n_declared;
  }

  // Room for a record of at most `bound` body bytes in the worker's buffer;
  // returns the buffer and the header size (4, or 12 past 16 MiB).
  Buffer& reserve(uint32_t worker, size_t bound, size_t& header) {
    header = bound >= f::kRecordLenEscape ? 12 : 4;
    Buffer* b = &buffer(worker);
    if (b->used + header + bound > b->cap) [[unlikely]]
      b = &next_buffer(worker, header + bound);
    return *b;
  }

  void count(uint32_t worker, uint64_t n) {
    Slot& s = slots[worker];
    s.records.store(s.records.load(std::memory_order_relaxed) + n, std::memory_order_relaxed);
  }

  [[noreturn]] void misuse(const std::string& what) const { throw TraceError(codes::kMisuse, opt.path, what); }

  // Which rule `fr` broke, as T009.
  [[noreturn, gnu::noinline]] void frame_misuse(const TurnFrame& fr) const {
    const size_t n_pay = fr.payloads.size();
    if (fr.input >= n_pay)
      misuse("turn frame: input index " + std::to_string(fr.input) + " outside its " + std::to_string(n_pay) +
             " payloads");
    for (const auto& st : fr.stages) {
      if (st.decl >= decls.size()) misuse("turn frame: stage with an undeclared handle");
      const std::string& id = decls[st.decl]->stage_id;
      const uint32_t need = frame_need[st.decl];
      if (need == kNoPayload) misuse("turn frame: stage '" + id + "' was declared without frame_ports");
      if (need > n_pay)
        misuse("turn frame: stage '" + id + "' needs " + std::to_string(need) + " payloads, the frame has " +
               std::to_string(n_pay));
    }
    misuse("turn frame: refused");  // not reached: append_frame found a reason
  }

  // v4: a whole turn in one kRecordFrame. Everything is checked before a
  // byte is written: a misuse leaves the chunk as it was.
  void append_frame(uint32_t worker, const TurnFrame& fr) {
    const AudioMode mode = opt.audio;
    const TurnEvent& e = fr.turn;
    const size_t n_pay = fr.payloads.size(), n_decls = frame_need.size();
    // One pass checks every stage and sums its bound.
    size_t bound = turn_fields_bound(e) + 5 + 5 + 5;  // payload count, input index, stage count
    bool bad = fr.input >= n_pay;
    for (const auto& st : fr.stages) {
      if (st.decl >= n_decls) [[unlikely]]
        frame_misuse(fr);
      bad |= frame_need[st.decl] > n_pay;
      bound += frame_cost[st.decl];
    }
    if (bad) [[unlikely]]
      frame_misuse(fr);
    if (mode == AudioMode::Hash) [[unlikely]] {
      for (const auto& v : fr.payloads) bound += payload_bound(v, mode, false);
    } else {
      // payload_bound(v, Inline, false) is a constant plus v.size.
      bound += n_pay * payload_bound(PayloadView{}, AudioMode::Inline, false);
      for (const auto& v : fr.payloads) bound += v.size;
    }
    size_t header;
    Buffer& b = reserve(worker, bound, header);
    if (b.n_declared != decls.size()) [[unlikely]]
      for (const auto& st : fr.stages) ensure_declared(b, st.decl);
    const bool same = b.same_key(e.turn);
    uint8_t* const start = b.mem.get() + b.used;
    b.used += close_record(start, header, f::kRecordFrame, put_frame(start + header, fr, worker, mode, same, b));
    // Counted as the records it stands for (FORMAT.md: record_count).
    b.records += static_cast<uint32_t>(fr.stages.size()) + 1;
    count(worker, fr.stages.size() + 1);
  }

  // Encodes one record: bounds its size, makes room, writes it, patches its
  // length. `Event` is StageEvent or TurnEvent. A declared stage record is
  // preceded by its stage's kRecordDecl the first time in each chunk, so
  // every chunk still decodes on its own.
  template <class Event>
  void append(uint32_t worker, const Event& ev) {
    constexpr bool kStage = std::is_same_v<Event, StageEvent>;
    const AudioMode mode = opt.audio;
    const OwnedDecl* decl = nullptr;
    size_t bound;
    if constexpr (kStage) {
      if (ev.decl != kNotDeclared) {
        if (ev.decl >= decls.size()) [[unlikely]]
          throw TraceError(codes::kMisuse, opt.path, "stage event with an undeclared handle");
        decl = decls[ev.decl].get();
        if (ev.inputs.size() != decl->inputs.size() || ev.outputs.size() != decl->outputs.size()) [[unlikely]]
          throw TraceError(codes::kMisuse, opt.path, "declared stage event for '" + decl->stage_id +
                                                         "' does not list one payload per declared port");
        bound = stage_bound(ev, mode, false) + 4 + decl->bound;
      } else {
        bound = stage_bound(ev, mode, true);
      }
    } else {
      bound = turn_bound(ev, mode);
    }
    size_t header;
    Buffer* b = &reserve(worker, bound, header);
    if constexpr (kStage) {
      if (decl != nullptr) ensure_declared(*b, ev.decl);
    }
    const bool same = b->same_key(ev.turn);
    uint8_t* const start = b->mem.get() + b->used;
    uint8_t* const body = start + header;
    uint8_t type;
    uint8_t* end;
    if constexpr (kStage) {
      if (decl != nullptr) {
        type = f::kRecordStageDeclared;
        end = put_stage_declared(body, ev, mode, same, *b);
      } else {
        type = f::kRecordStage;
        end = put_stage(body, ev, mode, same, *b);
      }
    } else {
      type = f::kRecordTurn;
      end = put_turn(body, ev, worker, mode, same, *b);
    }
    b->used += close_record(start, header, type, end);
    ++b->records;
    count(worker, 1);
  }

  // Hands every worker's partial buffer to the background thread; the
  // ticket is the number of chunks submitted so far (they are written in
  // submission order).
  uint64_t begin_flush() {
    if (closed) return 0;
    for (auto& s : slots) {
      if (s.buf != nullptr && s.buf->records > 0) {
        Buffer* b = s.buf;
        s.buf = nullptr;
        std::unique_lock lk(mu);
        if (error) std::rethrow_exception(error);
        queue.push_back(b);
        ++submitted;
        cv_work.notify_one();
      }
    }
    std::lock_guard lk(mu);
    return submitted;
  }

  void wait_flushed(uint64_t ticket) {
    if (closed) return;
    std::unique_lock lk(mu);
    // With sync_on_flush, wait for the background thread to go idle: the
    // fd (which rotation may replace) is then safe to use from here.
    cv_done.wait(lk, [&] { return error || (opt.sync_on_flush ? written == submitted : written >= ticket); });
    if (error) std::rethrow_exception(error);
    if (opt.sync_on_flush && fd >= 0 && ::fdatasync(fd) != 0)
      throw TraceError(codes::kWrite, current, "fdatasync failed: " + errno_text());
  }

  void flush() { wait_flushed(begin_flush()); }

  void close() {
    if (closed) return;
    std::exception_ptr failed;
    try {
      flush();
    } catch (...) {
      failed = std::current_exception();
    }
    closed = true;
    {
      std::lock_guard lk(mu);
      stop = true;
      cv_work.notify_all();
    }
    if (thread.joinable()) thread.join();
    try {
      if (!failed) finish_file();
    } catch (...) {
      failed = std::current_exception();
    }
    if (fd >= 0) {
      ::close(fd);
      fd = -1;
    }
    for (auto& s : slots) s.buf = nullptr;
    if (failed) std::rethrow_exception(failed);
  }
};

Writer::Writer(WriterOptions options) : impl_(std::make_unique<Impl>(std::move(options))) {}

Writer::~Writer() {
  try {
    close();
  } catch (...) {
    // Destructors never throw; call close() to see the error.
  }
}

uint32_t Writer::declare(const StageDecl& decl) { return impl_->declare(decl); }

void Writer::write(uint32_t worker, const StageEvent& ev) { impl_->append(worker, ev); }

void Writer::write(uint32_t worker, const TurnEvent& ev) { impl_->append(worker, ev); }

void Writer::write(uint32_t worker, const TurnFrame& frame) { impl_->append_frame(worker, frame); }

void Writer::flush() { impl_->flush(); }

uint64_t Writer::begin_flush() { return impl_->begin_flush(); }

void Writer::wait_flushed(uint64_t ticket) { impl_->wait_flushed(ticket); }

void Writer::close() { impl_->close(); }

WriterStats Writer::stats() const {
  WriterStats st;
  for (const auto& s : impl_->slots) st.records += s.records.load(std::memory_order_relaxed);
  st.chunks = impl_->chunks.load(std::memory_order_relaxed);
  st.bytes = impl_->bytes.load(std::memory_order_relaxed);
  st.files = impl_->files.load(std::memory_order_relaxed);
  return st;
}

}  // namespace cascade::trace
