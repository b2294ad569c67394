// encode.cpp — the record encoders (encode.hpp; layout: traces/FORMAT.md).
//
// Every encoder writes straight into the chunk's memory, which the caller
// made large enough for the record's bound; the record's exact length is
// patched into its header at the end. No allocation per record in the
// steady state: only a chunk's first sight of an undeclared stage allocates.
#include "encode.hpp"

#include <xxhash.h>

#include <algorithm>
#include <cstring>

namespace cascade::trace::encode {
namespace {

namespace f = format;

constexpr size_t kVar32 = 5;  // most bytes of a varint of a u32
constexpr size_t kVar64 = 10;
constexpr size_t kMaxHeader = 12;
// A port: tag, type, sample rate, size; then the bytes or the hash.
constexpr size_t kPortFixed = kVar32 + kVar32 + kVar32 + kVar64;
constexpr size_t kKeyFixed = 2 * kVar32 + kVar32 + kVar64;
// A stage record without names, ports or lists: flags, handle, start,
// duration, worker, status, code, confidence.
constexpr size_t kStageFixed = 1 + kVar32 + kVar64 + kVar64 + kVar32 + 1 + kVar32 + 8;

// Payloads shorter than this are always literals: a reference saves too
// little to pay for the lookup.
constexpr uint64_t kMinPayloadRef = 8;


bool is_hashed(const PayloadView& p, AudioMode mode) { return mode == AudioMode::Hash && p.type == f::kPayloadAudio; }

size_t port_bound(const PayloadView& p, AudioMode mode) {
  return kPortFixed + (is_hashed(p, mode) ? 8 : static_cast<size_t>(p.size));
}
size_t key_bound(const TurnKey& k) { return kKeyFixed + k.dialogue_id.size() + k.user_id.size(); }
size_t names_bound(std::string_view a, std::string_view b, std::string_view c) {
  return 3 * kVar32 + a.size() + b.size() + c.size();
}
// The declaration record an undeclared event needs.
size_t implicit_decl_bound(const StageEvent& e) {
  size_t n = kMaxHeader + names_bound(e.stage_id, e.plugin, e.plugin_version) + 3 * kVar32;
  for (const auto& p : e.inputs) n += kVar32 + p.port.size();
  for (const auto& p : e.outputs) n += kVar32 + p.port.size();
  return n;
}
uint64_t duration(int64_t start, int64_t end) {
  return f::zigzag(static_cast<int64_t>(static_cast<uint64_t>(end) - static_cast<uint64_t>(start)));
}

// Slot of a string in the content table: a hash of its bytes.
uint32_t content_slot(std::string_view s) {
  return static_cast<uint32_t>(XXH3_64bits(s.data(), s.size()) >> 56);
}

}  // namespace

Declaration make_declaration(const StageDecl& d) {
  Declaration o;
  o.stage_id = d.stage_id;
  o.plugin = d.plugin;
  o.plugin_version = d.plugin_version;
  o.bound = kMaxHeader + names_bound(o.stage_id, o.plugin, o.plugin_version) + 3 * kVar32;
  for (auto s : d.input_ports) {
    o.inputs.emplace_back(s);
    o.bound += kVar32 + s.size();
  }
  for (auto s : d.output_ports) {
    o.outputs.emplace_back(s);
    o.bound += kVar32 + s.size();
  }
  const size_t n_ports = o.inputs.size() + o.outputs.size();
  o.frame_ports.assign(d.frame_ports.begin(), d.frame_ports.end());
  uint32_t need = 0;
  for (const uint32_t i : o.frame_ports)
    if (i != kNoPayload) need = std::max(need, i + 1);
  // In frames: frame_ports given for every port, or no ports at all.
  o.frame_need = o.frame_ports.size() == n_ports ? need : kNoPayload;
  o.bound += kVar32 * o.frame_ports.size();
  // Its declaration, and its stage in a turn record (ports bound: none).
  o.frame_stage_bound = o.bound + kStageFixed;
  return o;
}

Chunk::Chunk(size_t capacity)
    // No memset: every byte is written before it is read.
    : mem_(std::make_unique_for_overwrite<uint8_t[]>(capacity)), cap_(capacity) {}

void Chunk::grow(size_t bytes) {
  size_t cap = cap_;
  while (cap < used + bytes) cap *= 2;
  auto mem = std::make_unique_for_overwrite<uint8_t[]>(cap);
  std::memcpy(mem.get(), mem_.get(), used);
  mem_ = std::move(mem);
  cap_ = cap;
}

void Chunk::reset() {
  used = f::kChunkHeaderSize;
  records = 0;
  worker = f::kNoWorker;
  has_key_ = false;
  dlg_.len = usr_.len = input_port_.len = kEmpty;
  prev_start_ = 0;
  for (auto& e : by_address_) e.len = kEmpty;
  for (auto& e : by_content_) e.len = kEmpty;
  next_string_ = 0;
  for (auto& e : payloads_) e.ptr = nullptr;
  next_payload_ = 0;
  std::fill(handles_.begin(), handles_.end(), 0u);
  declared_ = 0;
  next_handle_ = 0;
  implicit_.clear();
}

// The encoders, with the chunk's private state at hand.
struct Encoder {
  Chunk& c;
  AudioMode mode;
  // Every view given to one put_*() call is live during it: payloads equal
  // in address and size are then the same bytes. `serial` tells calls apart.
  uint32_t serial;

  Encoder(Chunk& chunk, AudioMode m) : c(chunk), mode(m), serial(++chunk.serial_) {}

  uint8_t* base() const { return c.mem_.get(); }

  // --- records -----------------------------------------------------------------
  // A record's body starts after its header: 4 bytes, or 12 when the body
  // may reach 16 MiB (`bound`, header included).
  static size_t header_for(size_t bound) { return bound >= f::kRecordLenEscape ? kMaxHeader : 4; }
  uint8_t* open(size_t header) const { return base() + c.used + header; }
  void close(uint8_t* body, size_t header, uint8_t type, const uint8_t* end) {
    uint8_t* const start = body - header;
    const auto len = static_cast<uint64_t>(end - body);
    if (header == kMaxHeader)
      f::put<uint64_t>(f::put<uint32_t>(start, type | (f::kRecordLenEscape << 8)), len);
    else
      f::put<uint32_t>(start, type | static_cast<uint32_t>(len << 8));
    c.used = static_cast<size_t>(end - base());
    if (type != f::kRecordDecl) ++c.records;  // what a reader gets back
  }

  // --- strings -----------------------------------------------------------------
  static uint8_t* put_ref(uint8_t* p, uint32_t id) { return f::put_varint(p, (uint64_t{id} << 1) | 1); }

  // An interned string (FORMAT.md "istr"): a reference to an earlier
  // literal of the chunk, or a new literal. `got` receives its entry. The
  // content is always compared: an address may hold other bytes by now.
  uint8_t* put_istr(uint8_t* p, std::string_view s, Chunk::Interned* got = nullptr) {
    const auto addr = reinterpret_cast<uintptr_t>(s.data());
    // Multiplicative hash: string literals sit 4 bytes apart, std::strings 32.
    Chunk::Interned& by_addr = c.by_address_[((addr ^ s.size()) * 0x9E3779B97F4A7C15ull) >> 56];
    if (by_addr.len == s.size() && f::equal_bytes(base() + by_addr.at, s.data(), s.size())) {
      if (got != nullptr) *got = by_addr;
      return put_ref(p, by_addr.id);
    }
    Chunk::Interned& by_content = c.by_content_[content_slot(s)];
    if (by_content.len == s.size() && f::equal_bytes(base() + by_content.at, s.data(), s.size())) {
      by_addr = by_content;  // this address hits next time
      if (got != nullptr) *got = by_content;
      return put_ref(p, by_content.id);
    }
    p = f::put_varint(p, uint64_t{s.size()} << 1);
    const auto at = static_cast<uint32_t>(p - base());
    by_addr = by_content = Chunk::Interned{at, static_cast<uint32_t>(s.size()), c.next_string_++};
    if (got != nullptr) *got = by_content;
    return f::copy_bytes(p, s.data(), s.size());
  }

  // --- turn keys and times --------------------------------------------------------
  // A string that is often the same as last time in its field (a key's
  // dialogue: the next turn of the same dialogue on the same worker; an
  // empty user id; a turn's input port): no table lookup then.
  uint8_t* put_repeated_str(uint8_t* p, std::string_view s, Chunk::Interned& last) {
    if (last.len == s.size() && f::equal_bytes(base() + last.at, s.data(), s.size())) return put_ref(p, last.id);
    return put_istr(p, s, &last);
  }
  bool same_key(const TurnKey& k) const {
    return c.has_key_ && k.turn_seq == c.key_seq_ && k.turn_index == c.key_index_ &&
           k.dialogue_id.size() == c.dlg_.len && k.user_id.size() == c.usr_.len &&
           f::equal_bytes(base() + c.dlg_.at, k.dialogue_id.data(), c.dlg_.len) &&
           f::equal_bytes(base() + c.usr_.at, k.user_id.data(), c.usr_.len);
  }
  uint8_t* put_key(uint8_t* p, const TurnKey& k) {
    p = put_repeated_str(p, k.dialogue_id, c.dlg_);
    p = put_repeated_str(p, k.user_id, c.usr_);
    p = f::put_varint(p, k.turn_index);
    p = f::put_varint(p, k.turn_seq);
    c.key_index_ = k.turn_index;
    c.key_seq_ = k.turn_seq;
    c.has_key_ = true;
    ++c.key_gen_;
    return p;
  }
  uint8_t* put_times(uint8_t* p, int64_t start, int64_t end) {
    p = f::put_varint(p, duration(c.prev_start_, start));
    c.prev_start_ = start;
    return f::put_varint(p, duration(start, end));
  }

  // --- payloads ------------------------------------------------------------------
  // One port (FORMAT.md "port"): absent, a literal, or a reference to a
  // literal of the chunk with the same bytes, type and sample rate. Across
  // calls the bytes are compared with the literal's copy in the chunk, or
  // trusted within one turn when the caller promised `stable` bytes
  // (hashed literals have no copy: referenced only within a call or turn).
  // `id` receives the literal id the port is or names.
  uint8_t* put_port(uint8_t* p, const PayloadView& v, bool stable, uint32_t* id = nullptr) {
    if (v.type == f::kPayloadNone) {
      *p++ = f::kPortAbsent;
      return p;
    }
    const bool hash = is_hashed(v, mode);
    Chunk::PayloadSeen* seen = nullptr;
    if (v.size >= kMinPayloadRef) {
      seen = &c.payloads_[(reinterpret_cast<uintptr_t>(v.data) * 0x9E3779B97F4A7C15ull) >> 59];
      if (seen->ptr == v.data && seen->size == v.size && seen->hashed == hash && seen->type == v.type &&
          seen->sample_rate == v.sample_rate &&
          (seen->record == serial || (stable && seen->gen == c.key_gen_) ||
           (!hash && f::equal_bytes(base() + seen->at, v.data, static_cast<size_t>(v.size))))) {
        if (id != nullptr) *id = seen->id;
        return put_ref(p, seen->id);
      }
    }
    *p++ = hash ? f::kPortHashed : f::kPortInline;
    p = f::put_varint(p, v.type);
    p = f::put_varint(p, v.sample_rate);
    p = f::put_varint(p, v.size);
    if (hash) p = f::put<uint64_t>(p, XXH64(v.data, static_cast<size_t>(v.size), 0));
    if (seen != nullptr)
      *seen = Chunk::PayloadSeen{v.data,      v.size, v.type, v.sample_rate, static_cast<uint32_t>(p - base()),
                                 c.next_payload_, serial, c.key_gen_, hash};
    if (id != nullptr) *id = c.next_payload_;
    ++c.next_payload_;  // every literal takes an id, remembered or not
    return hash ? p : f::copy_bytes(p, v.data, static_cast<size_t>(v.size));
  }

  // --- declarations ----------------------------------------------------------------
  // kRecordDecl: istr stage_id, plugin, plugin_version, varint n, istr x n
  // (inputs), varint n, istr x n (outputs). Returns its handle.
  template <class Names>
  uint32_t put_decl(size_t header, std::string_view stage, std::string_view plugin, std::string_view version,
                    const Names& in, const Names& out, std::span<const uint32_t> frame_ports) {
    uint8_t* const body = open(header);
    uint8_t* p = put_istr(body, stage);
    p = put_istr(p, plugin);
    p = put_istr(p, version);
    p = f::put_varint(p, in.size());
    for (const auto& s : in) p = put_istr(p, port_name(s));
    p = f::put_varint(p, out.size());
    for (const auto& s : out) p = put_istr(p, port_name(s));
    p = f::put_varint(p, frame_ports.size());
    for (const uint32_t i : frame_ports) p = f::put_varint(p, static_cast<uint32_t>(i + 1u));  // kNoPayload -> 0
    close(body, header, f::kRecordDecl, p);
    return c.next_handle_++;
  }
  static std::string_view port_name(const std::string& s) { return s; }
  static std::string_view port_name(const PayloadView& v) { return v.port; }

  // The chunk's handle of writer declaration `id`, declared here first if new.
  uint32_t handle(uint32_t id, const Declaration& d) {
    if (id >= c.handles_.size()) c.handles_.resize(id + 1, 0);
    uint32_t& h = c.handles_[id];
    if (h == 0) ++c.declared_, h = put_decl(header_for(d.bound), d.stage_id, d.plugin, d.plugin_version, d.inputs, d.outputs, d.frame_ports) + 1;
    return h - 1;
  }
  // The chunk's handle of an undeclared event's stage, by its names.
  uint32_t implicit_handle(const StageEvent& e) {
    std::string& key = c.scratch_;
    key.clear();
    auto add = [&](std::string_view s) {
      const auto n = static_cast<uint32_t>(s.size());
      key.append(reinterpret_cast<const char*>(&n), sizeof n).append(s);
    };
    const uint32_t counts[2] = {static_cast<uint32_t>(e.inputs.size()), static_cast<uint32_t>(e.outputs.size())};
    key.append(reinterpret_cast<const char*>(counts), sizeof counts);
    add(e.stage_id);
    add(e.plugin);
    add(e.plugin_version);
    for (const auto& v : e.inputs) add(v.port);
    for (const auto& v : e.outputs) add(v.port);
    const auto it = c.implicit_.find(key);
    if (it != c.implicit_.end()) return it->second;
    const uint32_t h =
        put_decl(header_for(implicit_decl_bound(e)), e.stage_id, e.plugin, e.plugin_version, e.inputs, e.outputs, {});
    c.implicit_.emplace(key, h);
    return h;
  }

  // --- stage records ----------------------------------------------------------------
  static uint8_t stage_flags(const StageEvent& e, bool same) {
    const bool plain = e.status == StageStatus::Ok && e.error_code == 0 && e.error_message.empty();
    const bool no_extras = e.nbest.empty() && e.features.empty() && e.text_features.empty();
    return static_cast<uint8_t>((e.transient ? f::kStageFlagTransient : 0) |
                                (e.has_confidence ? f::kStageFlagHasConfidence : 0) | (same ? f::kFlagSameKey : 0) |
                                (plain ? f::kStageFlagPlain : 0) | (no_extras ? f::kStageFlagNoExtras : 0));
  }

  uint8_t* put_extras(uint8_t* p, const StageEvent& e) {
    p = f::put_varint(p, e.nbest.size());
    for (const auto& nb : e.nbest) {
      p = f::put_vstr(p, nb.text);
      p = f::put<double>(p, nb.score);
    }
    p = f::put_varint(p, e.features.size());
    for (const auto& ft : e.features) {
      p = put_istr(p, ft.key);
      p = f::put<double>(p, ft.value);
    }
    p = f::put_varint(p, e.text_features.size());
    for (const auto& t : e.text_features) {
      p = put_istr(p, t.key);
      p = f::put_vstr(p, t.value);
    }
    return p;
  }

  // FORMAT.md "Stage record". Ports by position: the declaration's, or
  // the event's own (an undeclared event is declared by its port names).
  void stage(const StageEvent& e, uint32_t h, size_t header) {
    const bool same = same_key(e.turn);
    const uint8_t flags = stage_flags(e, same);
    uint8_t* const body = open(header);
    uint8_t* p = body;
    *p++ = flags;
    if (!same) p = put_key(p, e.turn);
    p = f::put_varint(p, h);
    p = put_times(p, e.start_ns, e.end_ns);
    p = f::put_varint(p, e.worker);
    const bool plain = (flags & f::kStageFlagPlain) != 0;
    if (!plain) {
      *p++ = static_cast<uint8_t>(e.status);
      p = f::put_varint(p, e.error_code);
    }
    if (e.has_confidence) p = f::put<double>(p, e.confidence);
    if (!plain) p = f::put_vstr(p, e.error_message);
    for (const auto& v : e.inputs) p = put_port(p, v, e.payloads_stable);
    for (const auto& v : e.outputs) p = put_port(p, v, e.payloads_stable);
    if ((flags & f::kStageFlagNoExtras) == 0) p = put_extras(p, e);
    close(body, header, f::kRecordStage, p);
  }

  // FORMAT.md "Turn record": the turn's fields and its payload table; a
  // turn frame (a TurnFrame's stages given) appends the stages, each a
  // stage record's body whose ports are the declaration's frame ports into
  // the table. The stages are declared in the chunk already.
  void turn(const TurnEvent& e, std::string_view input_port, std::span<const PayloadView> table, uint32_t input,
            std::span<const FrameStage> stages, uint32_t worker, size_t header) {
    const bool same = same_key(e.turn);
    uint8_t* const body = open(header);
    uint8_t* p = body;
    *p++ = same ? f::kFlagSameKey : 0;
    if (!same) p = put_key(p, e.turn);
    p = f::put_varint(p, worker);
    p = f::put_vstr(p, e.timestamp);
    p = f::put<uint64_t>(p, e.config_digest);
    p = put_times(p, e.start_ns, e.end_ns);
    *p++ = static_cast<uint8_t>(e.status);
    p = put_repeated_str(p, input_port, c.input_port_);
    // The table. A chain that forwards one payload gives the same view to
    // the next entry: a reference without a lookup (every view is live).
    p = f::put_varint(p, table.size());
    const PayloadView* last = nullptr;
    uint32_t last_id = 0;
    for (const auto& v : table) {
      if (last != nullptr && v.data == last->data && v.size == last->size && v.type == last->type &&
          v.sample_rate == last->sample_rate) {
        p = put_ref(p, last_id);
        continue;
      }
      p = put_port(p, v, e.payloads_stable, &last_id);
      // As put_port: short payloads stay literals, absent ones have no id.
      last = v.type != f::kPayloadNone && v.size >= kMinPayloadRef ? &v : nullptr;
    }
    p = f::put_varint(p, input);
    p = f::put_vstr(p, e.gold_json);
    p = f::put_vstr(p, e.result_json);
    if (stages.empty()) {
      close(body, header, f::kRecordTurn, p);
      return;
    }
    p = f::put_varint(p, stages.size());
    // Each stage ran ok with nothing to report but a confidence; its key is
    // the turn's, just written.
    int64_t prev_start = c.prev_start_;
    for (size_t s = 0; s < stages.size(); ++s) {
      const FrameStage& st = stages[s];
      *p++ = static_cast<uint8_t>(f::kFlagSameKey | f::kStageFlagPlain | f::kStageFlagNoExtras |
                                  f::kStageFlagBound | (st.has_confidence ? f::kStageFlagHasConfidence : 0));
      p = f::put_varint(p, c.handles_[st.decl] - 1);
      p = f::put_varint(p, duration(prev_start, st.start_ns));
      p = f::put_varint(p, duration(st.start_ns, st.end_ns));
      prev_start = st.start_ns;
      p = f::put_varint(p, st.worker);
      if (st.has_confidence) p = f::put<double>(p, st.confidence);
    }
    c.prev_start_ = prev_start;
    close(body, header, f::kRecordFrame, p);
    c.records += static_cast<uint32_t>(stages.size());  // a frame stands for its stages too
  }

  void frame(const TurnFrame& fr, uint32_t worker, std::span<const std::unique_ptr<Declaration>> decls,
             size_t header) {
    // The declarations the chunk lacks go first: the turn record names them.
    if (c.declared_ != decls.size())
      for (const auto& st : fr.stages) handle(st.decl, *decls[st.decl]);
    turn(fr.turn, "input", fr.payloads, fr.input, fr.stages, worker, header);
  }
};

size_t stage_bound(const StageEvent& e, const Declaration* d, AudioMode mode) {
  size_t n = kMaxHeader + kStageFixed + key_bound(e.turn) + kVar32 + e.error_message.size();
  for (const auto& p : e.inputs) n += port_bound(p, mode);
  for (const auto& p : e.outputs) n += port_bound(p, mode);
  if (!e.nbest.empty() || !e.features.empty() || !e.text_features.empty()) {
    n += 3 * kVar32;
    for (const auto& b : e.nbest) n += kVar32 + b.text.size() + 8;
    for (const auto& ft : e.features) n += kVar32 + ft.key.size() + 8;
    for (const auto& t : e.text_features) n += 2 * kVar32 + t.key.size() + t.value.size();
  }
  return n + (d != nullptr ? d->bound : implicit_decl_bound(e));
}

size_t turn_bound(const TurnEvent& e, AudioMode mode) {
  // ... status, input port, table count, the input, input index, gold,
  // result, stage count.
  return kMaxHeader + 1 + key_bound(e.turn) + kVar32 + kVar32 + e.timestamp.size() + 8 + 2 * kVar64 + 1 +
         kVar32 + e.input.port.size() + kVar32 + port_bound(e.input, mode) + kVar32 + 2 * kVar32 +
         e.gold_json.size() + e.result_json.size() + kVar32;
}

size_t frame_bound(const TurnFrame& fr, std::span<const std::unique_ptr<Declaration>> decls, AudioMode mode) {
  // The turn record with its table and stages, and the declarations. One
  // pass that also checks the frame: 0 when it cannot be written.
  const TurnEvent& e = fr.turn;
  const size_t n_pay = fr.payloads.size();
  bool ok = fr.input < n_pay;
  size_t n = turn_bound(e, mode) - e.input.port.size() + sizeof "input";
  for (const auto& st : fr.stages) {
    if (st.decl >= decls.size()) return 0;
    const Declaration& d = *decls[st.decl];
    ok &= d.frame_need <= n_pay;  // kNoPayload (no frame_ports) never is
    n += d.frame_stage_bound;
  }
  if (!ok) return 0;
  n += n_pay * kPortFixed;
  for (const auto& v : fr.payloads) n += is_hashed(v, mode) ? 8 : static_cast<size_t>(v.size);
  return n;
}

std::string frame_error(const TurnFrame& fr, std::span<const std::unique_ptr<Declaration>> decls) {
  const size_t n_pay = fr.payloads.size();
  if (fr.input >= n_pay)
    return "turn frame: input index " + std::to_string(fr.input) + " outside its " + std::to_string(n_pay) +
           " payloads";
  for (const auto& st : fr.stages) {
    if (st.decl >= decls.size()) return "turn frame: stage with an undeclared handle";
    const Declaration& d = *decls[st.decl];
    if (d.frame_need == kNoPayload) return "turn frame: stage '" + d.stage_id + "' was declared without frame_ports";
    if (d.frame_need > n_pay)
      return "turn frame: stage '" + d.stage_id + "' needs " + std::to_string(d.frame_need) +
             " payloads, the frame has " + std::to_string(n_pay);
  }
  return {};
}

void put_stage(Chunk& c, const StageEvent& e, uint32_t decl_id, const Declaration* d, AudioMode mode, size_t bound) {
  Encoder enc(c, mode);
  const uint32_t h = d != nullptr ? enc.handle(decl_id, *d) : enc.implicit_handle(e);
  enc.stage(e, h, Encoder::header_for(bound));
}

void put_turn(Chunk& c, const TurnEvent& e, uint32_t worker, AudioMode mode, size_t bound) {
  Encoder(c, mode).turn(e, e.input.port, {&e.input, 1}, 0, {}, worker, Encoder::header_for(bound));
}

void put_frame(Chunk& c, const TurnFrame& fr, uint32_t worker, std::span<const std::unique_ptr<Declaration>> decls,
               AudioMode mode, size_t bound) {
  Encoder(c, mode).frame(fr, worker, decls, Encoder::header_for(bound));
}

}  // namespace cascade::trace::encode
