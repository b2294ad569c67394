// decode.cpp — the record decoders (decode.hpp; layout: traces/FORMAT.md).
//
// Every read is bounds-checked against its record's body; anything that
// does not decode throws DecodeError, which chunk() turns into a Failure.
#include "decode.hpp"

#include "format.hpp"

#include <string>
#include <string_view>
#include <vector>

namespace cascade::trace::decode {
namespace {

namespace f = format;

struct DecodeError {
  const char* what;
};

// A payload literal of the chunk, for the references to it.
struct PayloadLiteral {
  uint32_t type = 0;
  uint32_t sample_rate = 0;
  bool hashed = false;
  uint64_t size = 0;
  std::string_view bytes;  // inline literals: the bytes, inside the chunk
  uint64_t xxh64 = 0;      // hashed literals
};
// A kRecordDecl: a stage's names and port names.
struct Declaration {
  std::string stage_id, plugin, plugin_version;
  std::vector<std::string> inputs, outputs;
  std::vector<uint32_t> frame_ports;  // per port: index + 1 in a turn's payload table, 0 = unbound
};
// What the format keeps per chunk (FORMAT.md "Chunk state").
struct ChunkState {
  std::vector<Declaration> decls;         // by handle
  std::vector<std::string_view> strings;  // string literals, by id
  std::vector<PayloadLiteral> payloads;   // payload literals, by id
  std::optional<TurnId> previous_key;
  int64_t prev_start = 0;
};

// Bounds-checked little-endian cursor over one record body.
struct Cursor {
  const uint8_t* p;
  const uint8_t* end;
  ChunkState& chunk;

  void need(uint64_t n) const {
    if (static_cast<uint64_t>(end - p) < n) throw DecodeError{"field runs past the end of its record"};
  }
  template <class T>
  T get() {
    need(sizeof(T));
    T v = f::get<T>(p);
    p += sizeof(T);
    return v;
  }
  uint64_t varint() {
    uint64_t v = 0;
    for (int shift = 0; shift < 64; shift += 7) {
      need(1);
      const uint8_t b = *p++;
      v |= static_cast<uint64_t>(b & 0x7F) << shift;
      if ((b & 0x80) == 0) return v;
    }
    throw DecodeError{"varint longer than 10 bytes"};
  }
  uint32_t varint32() {
    const uint64_t v = varint();
    if (v > 0xFFFFFFFFu) throw DecodeError{"value does not fit 32 bits"};
    return static_cast<uint32_t>(v);
  }
  std::string_view bytes(uint64_t n) {
    need(n);
    std::string_view s(reinterpret_cast<const char*>(p), static_cast<size_t>(n));
    p += n;
    return s;
  }
  std::string str() { return std::string(bytes(varint())); }
  // An interned string: a new literal (it gets the next id) or a reference.
  std::string istr() {
    const uint64_t v = varint();
    if ((v & 1) != 0) {
      const uint64_t id = v >> 1;
      if (id >= chunk.strings.size()) throw DecodeError{"string reference to an undefined id"};
      return std::string(chunk.strings[id]);
    }
    chunk.strings.push_back(bytes(v >> 1));
    return std::string(chunk.strings.back());
  }
  // start_ns (a delta from the previous record's) and end_ns.
  void times(int64_t& start, int64_t& end_ns) {
    chunk.prev_start = static_cast<int64_t>(static_cast<uint64_t>(chunk.prev_start) +
                                            static_cast<uint64_t>(f::unzigzag(varint())));
    start = chunk.prev_start;
    end_ns = static_cast<int64_t>(static_cast<uint64_t>(start) + static_cast<uint64_t>(f::unzigzag(varint())));
  }
  uint32_t count(size_t min_item) {
    const auto n = varint32();
    // Rejects absurd counts before reserving memory for them.
    if (n > static_cast<size_t>(end - p) / min_item) throw DecodeError{"list count too large"};
    return n;
  }
};

// The turn key, or the previous record's (same chunk) when flagged.
TurnId get_key(Cursor& c, uint8_t flags) {
  auto& previous = c.chunk.previous_key;
  if ((flags & f::kFlagSameKey) != 0) {
    if (!previous) throw DecodeError{"record refers to a previous turn key but is first in its chunk"};
    return *previous;
  }
  TurnId id;
  id.dialogue_id = c.istr();
  id.user_id = c.istr();
  id.turn_index = c.varint32();
  id.turn_seq = c.varint();
  previous = id;
  return id;
}

// One port (FORMAT.md "port"); `p.port` is the caller's.
void get_port(Cursor& c, Payload& p) {
  const uint64_t tag = c.varint();
  if (tag == f::kPortAbsent) return;
  if ((tag & 1) != 0) {
    const uint64_t id = tag >> 1;
    if (id >= c.chunk.payloads.size()) throw DecodeError{"payload reference to an undefined id"};
    const PayloadLiteral& lit = c.chunk.payloads[id];
    p.type = lit.type;
    p.sample_rate = lit.sample_rate;
    p.size = lit.size;
    p.hashed = lit.hashed;
    if (lit.hashed) p.stored_xxh64 = lit.xxh64;
    else p.bytes.assign(lit.bytes);
    return;
  }
  if (tag != f::kPortInline && tag != f::kPortHashed) throw DecodeError{"unknown payload encoding"};
  PayloadLiteral lit;
  lit.type = c.varint32();
  lit.sample_rate = c.varint32();
  lit.size = c.varint();
  if (tag == f::kPortInline) {
    lit.bytes = c.bytes(lit.size);
    p.bytes.assign(lit.bytes);
  } else {
    lit.hashed = p.hashed = true;
    lit.xxh64 = p.stored_xxh64 = c.get<uint64_t>();
  }
  p.type = lit.type;
  p.sample_rate = lit.sample_rate;
  p.size = lit.size;
  c.chunk.payloads.push_back(lit);
}

void get_decl(Cursor& c) {
  Declaration d;
  d.stage_id = c.istr();
  d.plugin = c.istr();
  d.plugin_version = c.istr();
  d.inputs.resize(c.count(1));
  for (auto& s : d.inputs) s = c.istr();
  d.outputs.resize(c.count(1));
  for (auto& s : d.outputs) s = c.istr();
  d.frame_ports.resize(c.count(1));
  if (!d.frame_ports.empty() && d.frame_ports.size() != d.inputs.size() + d.outputs.size())
    throw DecodeError{"declaration lists frame ports for another number of ports"};
  for (auto& i : d.frame_ports) i = c.varint32();
  c.chunk.decls.push_back(std::move(d));
}

void get_extras(Cursor& c, StageRecord& r) {
  r.nbest.resize(c.count(9));
  for (auto& b : r.nbest) {
    b.text = c.str();
    b.score = c.get<double>();
  }
  r.features.resize(c.count(9));
  for (auto& ft : r.features) {
    ft.key = c.istr();
    ft.value = c.get<double>();
  }
  r.text_features.resize(c.count(2));
  for (auto& t : r.text_features) {
    t.key = c.istr();
    t.value = c.str();
  }
}

// A stage record's body, alone or inside a turn record (`table`: that
// turn's payloads, for a stage whose ports are bound to them).
StageRecord get_stage(Cursor& c, const std::vector<Payload>* table) {
  StageRecord r;
  const auto flags = c.get<uint8_t>();
  r.transient = (flags & f::kStageFlagTransient) != 0;
  r.has_confidence = (flags & f::kStageFlagHasConfidence) != 0;
  r.turn = get_key(c, flags);
  const uint32_t handle = c.varint32();
  if (handle >= c.chunk.decls.size()) throw DecodeError{"stage record refers to a stage not declared in its chunk"};
  const Declaration& d = c.chunk.decls[handle];
  r.stage_id = d.stage_id;
  r.plugin = d.plugin;
  r.plugin_version = d.plugin_version;
  c.times(r.start_ns, r.end_ns);
  r.worker = c.varint32();
  const bool plain = (flags & f::kStageFlagPlain) != 0;
  if (!plain) {
    const auto status = c.get<uint8_t>();
    if (status > static_cast<uint8_t>(StageStatus::Crashed)) throw DecodeError{"unknown stage status"};
    r.status = static_cast<StageStatus>(status);
    r.error_code = c.varint32();
  }
  if (r.has_confidence) r.confidence = c.get<double>();
  if (!plain) r.error_message = c.str();
  // Every input port is listed (absent ones with type 0); absent outputs
  // are left out. Ports are in the record, or bound to the turn's table.
  const bool bound = (flags & f::kStageFlagBound) != 0;
  if (bound && table == nullptr) throw DecodeError{"stage record with bound ports outside a turn record"};
  if (bound && d.frame_ports.size() != d.inputs.size() + d.outputs.size())
    throw DecodeError{"stage bound to a turn's payloads but declared without frame ports"};
  const uint32_t* ref = d.frame_ports.data();
  auto port = [&](const std::string& name, Payload& p) {
    if (bound) {
      const uint32_t i = *ref++;
      if (i > table->size()) throw DecodeError{"frame port outside the turn's payloads"};
      if (i != 0) p = (*table)[i - 1];
    } else {
      get_port(c, p);
    }
    p.port = name;
  };
  r.inputs.resize(d.inputs.size());
  for (size_t i = 0; i < d.inputs.size(); ++i) port(d.inputs[i], r.inputs[i]);
  r.outputs.reserve(d.outputs.size());
  for (const auto& name : d.outputs) {
    Payload p;
    port(name, p);
    if (p.type != f::kPayloadNone) r.outputs.push_back(std::move(p));
  }
  if ((flags & f::kStageFlagNoExtras) == 0) get_extras(c, r);
  return r;
}

// A turn record, or a turn frame (`frame`): its stage records, then the
// turn, appended to `out`; all or nothing (a malformed frame yields none).
void get_turn(Cursor& c, bool frame, std::deque<Record>& out) {
  TurnRecord t;
  const auto flags = c.get<uint8_t>();
  t.turn = get_key(c, flags);
  t.worker = c.varint32();
  t.timestamp = c.str();
  t.config_digest = c.get<uint64_t>();
  c.times(t.start_ns, t.end_ns);
  const auto status = c.get<uint8_t>();
  if (status > static_cast<uint8_t>(TurnStatus::Cancelled)) throw DecodeError{"unknown turn status"};
  t.status = static_cast<TurnStatus>(status);
  const std::string input_port = c.istr();
  std::vector<Payload> table(c.count(1));
  for (auto& p : table) get_port(c, p);
  const uint32_t input = c.varint32();
  if (input >= table.size()) throw DecodeError{"turn input index outside its payloads"};
  t.input = table[input];
  t.input.port = input_port;
  t.gold_json = c.str();
  t.result_json = c.str();
  const uint32_t n = frame ? c.count(4) : 0;
  std::vector<StageRecord> stages(n);
  for (auto& r : stages) r = get_stage(c, &table);
  for (auto& r : stages) out.emplace_back(std::move(r));
  out.emplace_back(std::move(t));
}

}  // namespace

std::optional<Failure> chunk(std::span<const uint8_t> payload, std::deque<Record>& out) {
  const uint8_t* p = payload.data();
  const uint8_t* const end = p + payload.size();
  ChunkState state;
  while (p < end) {
    const auto at = static_cast<size_t>(p - payload.data());
    try {
      Cursor head{p, end, state};
      const auto word = head.get<uint32_t>();
      const auto type = static_cast<uint8_t>(word & 0xFF);
      uint64_t body = word >> 8;
      if (body == f::kRecordLenEscape) body = head.get<uint64_t>();
      head.need(body);
      Cursor c{head.p, head.p + body, state};
      // Bytes past the known fields of a record are skipped, and so are
      // records of unknown types (FORMAT.md "Records").
      if (type == f::kRecordStage)
        out.emplace_back(get_stage(c, nullptr));
      else if (type == f::kRecordTurn || type == f::kRecordFrame)
        get_turn(c, type == f::kRecordFrame, out);
      else if (type == f::kRecordDecl)
        get_decl(c);
      p = head.p + body;
    } catch (const DecodeError& e) {
      return Failure{at, e.what};
    }
  }
  return std::nullopt;
}

}  // namespace cascade::trace::decode
