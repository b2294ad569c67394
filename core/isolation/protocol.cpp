// The isolation messages (see protocol.hpp) and the socket I/O under them.
#include "isolation/protocol.hpp"

#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>

namespace cascade::isolation {

// ------------------------------------------------------------------ wire I/O
namespace wire {

bool write_all(int fd, const void* p, size_t n) {
  const char* c = static_cast<const char*>(p);
  while (n > 0) {
    const ssize_t w = ::send(fd, c, n, MSG_NOSIGNAL);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) return false;
    c += w;
    n -= static_cast<size_t>(w);
  }
  return true;
}

bool read_all(int fd, void* p, size_t n) {
  char* c = static_cast<char*>(p);
  while (n > 0) {
    const ssize_t r = ::read(fd, c, n);
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) return false;
    c += r;
    n -= static_cast<size_t>(r);
  }
  return true;
}

bool read_message(int fd, Kind kind, std::string& body) {
  char h[kHeaderSize];
  if (!read_all(fd, h, sizeof h)) return false;
  const uint64_t size = parse_header(h, kind);
  body.resize(static_cast<size_t>(size));
  if (!read_all(fd, body.data(), body.size())) throw WireError("message cut short");
  return true;
}

}  // namespace wire

using wire::In;
using wire::Out;
using wire::WireError;

// ------------------------------------------------------------ Hello, Ready
void encode(std::string& buf, const Hello& h) {
  wire::begin(buf, wire::Kind::Hello);
  Out o(buf);
  o.str(h.plugin_path);
  o.str(h.plugin_name);
  o.str(h.stage_id);
  o.u32(static_cast<uint32_t>(h.params.size()));
  for (const auto& [k, v] : h.params) {
    o.str(k);
    o.str(v);
  }
  o.u64(h.limits.memory_mb);
  o.u32(h.limits.cpu_s);
  o.u64(h.limits.max_payload);
  wire::finish(buf);
}

Hello decode_hello(std::string_view body) {
  In in(body);
  Hello h;
  h.plugin_path = in.str();
  h.plugin_name = in.str();
  h.stage_id = in.str();
  h.params.resize(in.count(16));
  for (auto& [k, v] : h.params) {
    k = in.str();
    v = in.str();
  }
  h.limits.memory_mb = in.u64();
  h.limits.cpu_s = in.u32();
  h.limits.max_payload = in.u64();
  if (!in.done()) throw WireError("Hello has trailing bytes");
  return h;
}

void encode(std::string& buf, const Ready& r) {
  wire::begin(buf, wire::Kind::Ready);
  Out o(buf);
  o.u8(r.ok ? 1 : 0);
  o.str(r.code);
  o.str(r.message);
  wire::finish(buf);
}

Ready decode_ready(std::string_view body) {
  In in(body);
  Ready r;
  r.ok = in.u8() != 0;
  r.code = in.str();
  r.message = in.str();
  if (!in.done()) throw WireError("Ready has trailing bytes");
  return r;
}

// ------------------------------------------------------------------- Call
void begin_call(std::string& buf, uint32_t n_turns, uint32_t n_in) {
  wire::begin(buf, wire::Kind::Call);
  Out o(buf);
  o.u32(n_turns);
  o.u32(n_in);
}

void add_call_turn(std::string& buf, int64_t remaining_ns, const TurnIdentity& turn, const cascade_payload* in,
                   uint32_t n_in) {
  Out o(buf);
  o.i64(remaining_ns);
  o.str(turn.dialogue_id);
  o.str(turn.user_id);
  o.u32(turn.turn_index);
  o.u64(turn.turn_seq);
  for (uint32_t i = 0; i < n_in; ++i) {
    o.u32(in[i].type);
    o.u32(in[i].sample_rate);
    o.str(std::string_view(static_cast<const char*>(in[i].data), in[i].data != nullptr ? in[i].size : 0));
  }
}

void decode_call(std::string_view body, CallView& out) {
  In in(body);
  out.n_turns = in.u32();
  out.n_in = in.u32();
  // Every turn holds at least its deadline, its identity (28 bytes) and 16
  // bytes per input.
  const uint64_t per_turn = 36 + uint64_t{16} * out.n_in;
  if (out.n_turns > body.size() / per_turn) throw WireError("Call counts more turns than it holds");
  out.remaining_ns.resize(out.n_turns);
  out.turns.resize(out.n_turns);
  out.inputs.resize(size_t{out.n_turns} * out.n_in);
  for (uint32_t t = 0; t < out.n_turns; ++t) {
    out.remaining_ns[t] = in.i64();
    TurnIdentity& id = out.turns[t];
    id.dialogue_id = in.str();
    id.user_id = in.str();
    id.turn_index = in.u32();
    id.turn_seq = in.u64();
    for (uint32_t i = 0; i < out.n_in; ++i) {
      cascade_payload& p = out.inputs[size_t{t} * out.n_in + i];
      p.struct_size = sizeof p;
      p.type = in.u32();
      p.sample_rate = in.u32();
      const std::string_view b = in.str();
      p.data = b.data();
      p.size = b.size();
    }
  }
  if (!in.done()) throw WireError("Call has trailing bytes");
}

// ----------------------------------------------------------------- Result
void TurnReport::clear(uint32_t n_out) {
  status = CASCADE_OK;
  code = 0;
  transient = false;
  message.clear();
  has_conf = false;
  conf = 0;
  nbest.clear();
  feats.clear();
  tfeats.clear();
  outputs.resize(n_out);
  for (auto& o : outputs) {
    o.type = CASCADE_PAYLOAD_NONE;
    o.sample_rate = 0;
    o.from_input = -1;
    o.bytes = {};
  }
}

void encode_result(std::string& buf, const TurnReport* turns, uint32_t n_turns) {
  wire::begin(buf, wire::Kind::Result);
  Out o(buf);
  o.u32(n_turns);
  for (uint32_t t = 0; t < n_turns; ++t) {
    const TurnReport& r = turns[t];
    o.u32(r.status);
    o.u32(r.code);
    o.u8(static_cast<uint8_t>((r.transient ? 1 : 0) | (r.has_conf ? 2 : 0)));
    o.str(r.message);
    o.f64(r.conf);
    o.u32(static_cast<uint32_t>(r.nbest.size()));
    for (const auto& [text, score] : r.nbest) {
      o.str(text);
      o.f64(score);
    }
    o.u32(static_cast<uint32_t>(r.feats.size()));
    for (const auto& [key, v] : r.feats) {
      o.str(key);
      o.f64(v);
    }
    o.u32(static_cast<uint32_t>(r.tfeats.size()));
    for (const auto& [key, v] : r.tfeats) {
      o.str(key);
      o.str(v);
    }
    o.u32(static_cast<uint32_t>(r.outputs.size()));
    for (const OutputReport& out : r.outputs) {
      o.u32(out.type);
      o.u32(out.sample_rate);
      o.u32(static_cast<uint32_t>(out.from_input));
      if (out.from_input < 0 && out.type != CASCADE_PAYLOAD_NONE) o.str(out.bytes);
    }
  }
  wire::finish(buf);
}

void decode_result(std::string_view body, uint32_t n_turns, uint32_t n_out, uint32_t n_in, std::vector<TurnView>& out) {
  In in(body);
  if (in.u32() != n_turns) throw WireError("Result holds another number of turns than the Call");
  out.resize(n_turns);
  for (TurnView& r : out) {
    r.status = in.u32();
    r.code = in.u32();
    const uint8_t flags = in.u8();
    r.transient = (flags & 1) != 0;
    r.has_conf = (flags & 2) != 0;
    r.message = in.str();
    r.conf = in.f64();
    r.nbest.resize(in.count(16));
    for (auto& [text, score] : r.nbest) {
      text = in.str();
      score = in.f64();
    }
    r.feats.resize(in.count(16));
    for (auto& [key, v] : r.feats) {
      key = in.str();
      v = in.f64();
    }
    r.tfeats.resize(in.count(16));
    for (auto& [key, v] : r.tfeats) {
      key = in.str();
      v = in.str();
    }
    if (in.u32() != n_out) throw WireError("Result holds another number of outputs than the stage has");
    r.outputs.resize(n_out);
    for (OutputView& o : r.outputs) {
      o.type = in.u32();
      o.sample_rate = in.u32();
      o.from_input = static_cast<int32_t>(in.u32());
      o.bytes = {};
      if (o.from_input >= 0 && static_cast<uint32_t>(o.from_input) >= n_in)
        throw WireError("an output refers to an input the turn does not have");
      if (o.from_input < 0 && o.type != CASCADE_PAYLOAD_NONE) o.bytes = in.str();
    }
  }
  if (!in.done()) throw WireError("Result has trailing bytes");
}

}  // namespace cascade::isolation
