// reader.cpp — maps trace files, walks chunks, verifies checksums, decodes
// records, and turns every kind of damage into a Damage entry instead of an
// exception so a cut-off or bit-flipped trace still yields what is intact.
#include <cascade/trace/reader.hpp>

#include "format.hpp"

#include <xxhash.h>

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <deque>
#include <system_error>
#include <unordered_map>

namespace cascade::trace {
namespace {

namespace f = format;

struct DecodeError {
  const char* what;
};

// Chunk-local decoding state (FORMAT.md: istr table, start delta, same_key).
struct PayloadLiteral {
  bool hashed = false;
  uint64_t size = 0;
  std::string_view bytes;  // inline literals: the bytes, inside the mapped chunk
  uint64_t xxh64 = 0;      // hashed literals
};
// v3: a stage's names and ports (kRecordDecl), by handle.
struct DeclRecord {
  std::string stage_id, plugin, plugin_version;
  std::vector<std::string> inputs, outputs;
  std::vector<uint32_t> frame_ports;  // v4: index + 1 in a frame's payloads, 0 = unbound
};
struct ChunkState {
  std::unordered_map<uint32_t, DeclRecord> decls;  // v3, by handle
  std::vector<std::string_view> strings;  // literals of the chunk, by id
  std::vector<PayloadLiteral> payloads;   // payload literals of the chunk, by id (v2)
  std::optional<TurnId> previous_key;
  int64_t prev_start = 0;
};

// Bounds-checked little-endian cursor over one record body.
struct Cursor {
  const uint8_t* p;
  const uint8_t* end;
  ChunkState* chunk = nullptr;

  void need(size_t n) const {
    if (static_cast<size_t>(end - p) < n) throw DecodeError{"field runs past the end of its record"};
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
  std::string str() {
    const uint64_t n = varint();
    need(n);
    std::string s(reinterpret_cast<const char*>(p), n);
    p += n;
    return s;
  }
  // An interned string: a new literal (gets the next id) or a reference.
  std::string istr() {
    const uint64_t v = varint();
    if ((v & 1) != 0) {
      const uint64_t id = v >> 1;
      if (id >= chunk->strings.size()) throw DecodeError{"string reference to an undefined id"};
      return std::string(chunk->strings[id]);
    }
    const uint64_t n = v >> 1;
    need(n);
    std::string_view sv(reinterpret_cast<const char*>(p), n);
    p += n;
    chunk->strings.push_back(sv);
    return std::string(sv);
  }
  int64_t start() {
    chunk->prev_start = static_cast<int64_t>(static_cast<uint64_t>(chunk->prev_start) +
                                             static_cast<uint64_t>(f::unzigzag(varint())));
    return chunk->prev_start;
  }
  uint32_t count(size_t min_item) {
    const auto n = varint32();
    // Rejects absurd counts before reserving memory for them.
    if (min_item != 0 && n > static_cast<size_t>(end - p) / min_item) throw DecodeError{"list count too large"};
    return n;
  }
};

// The turn key, or the previous record's (same chunk) when flagged.
TurnId get_key(Cursor& c, uint8_t flags) {
  auto& previous = c.chunk->previous_key;
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

int64_t get_end(Cursor& c, int64_t start) {
  return static_cast<int64_t>(static_cast<uint64_t>(start) + static_cast<uint64_t>(f::unzigzag(c.varint())));
}

// After port and type: sample rate, encoding, and the bytes or a reference.
void get_payload_body(Cursor& c, Payload& p) {
  p.sample_rate = c.varint32();
  const auto enc = c.get<uint8_t>();
  if (enc == f::kPayloadRef) {
    const uint64_t id = c.varint();
    if (id >= c.chunk->payloads.size()) throw DecodeError{"payload reference to an undefined id"};
    const PayloadLiteral& lit = c.chunk->payloads[id];
    p.size = lit.size;
    p.hashed = lit.hashed;
    if (lit.hashed) p.stored_xxh64 = lit.xxh64;
    else p.bytes.assign(lit.bytes);
    return;
  }
  p.size = c.varint();
  PayloadLiteral lit{false, p.size, {}, 0};
  if (enc == f::kPayloadInline) {
    c.need(p.size);
    lit.bytes = std::string_view(reinterpret_cast<const char*>(c.p), static_cast<size_t>(p.size));
    p.bytes.assign(lit.bytes);
    c.p += p.size;
  } else if (enc == f::kPayloadHashed) {
    p.hashed = lit.hashed = true;
    p.stored_xxh64 = lit.xxh64 = c.get<uint64_t>();
  } else {
    throw DecodeError{"unknown payload encoding"};
  }
  c.chunk->payloads.push_back(lit);
}

Payload get_payload(Cursor& c) {
  Payload p;
  p.port = c.istr();
  p.type = c.varint32();
  get_payload_body(c, p);
  return p;
}

std::vector<Payload> get_payloads(Cursor& c) {
  std::vector<Payload> v(c.count(5));
  for (auto& p : v) p = get_payload(c);
  return v;
}

// Times, worker, status, confidence, message: shared by both stage kinds.
void get_stage_core(Cursor& c, uint8_t flags, StageRecord& r) {
  r.start_ns = c.start();
  r.end_ns = get_end(c, r.start_ns);
  r.worker = c.varint32();
  const bool plain = (flags & f::kStageFlagPlain) != 0;  // v2: ok, no error code, no message
  if (!plain) {
    const auto status = c.get<uint8_t>();
    if (status > static_cast<uint8_t>(StageStatus::Crashed)) throw DecodeError{"unknown stage status"};
    r.status = static_cast<StageStatus>(status);
    r.error_code = c.varint32();
  }
  if (r.has_confidence) r.confidence = c.get<double>();
  if (!plain) r.error_message = c.str();
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

// Flags and turn key: how both stage record kinds begin. Returns the flags.
uint8_t get_stage_head(Cursor& c, StageRecord& r) {
  const auto flags = c.get<uint8_t>();
  r.transient = (flags & f::kStageFlagTransient) != 0;
  r.has_confidence = (flags & f::kStageFlagHasConfidence) != 0;
  r.turn = get_key(c, flags);
  return flags;
}

StageRecord get_stage(Cursor& c) {
  StageRecord r;
  const uint8_t flags = get_stage_head(c, r);
  r.stage_id = c.istr();
  r.plugin = c.istr();
  r.plugin_version = c.istr();
  get_stage_core(c, flags, r);
  r.inputs = get_payloads(c);
  r.outputs = get_payloads(c);
  if ((flags & f::kStageFlagNoExtras) == 0) get_extras(c, r);  // v2: flag set = no extras
  return r;
}

// v3: kRecordDecl.
void get_decl(Cursor& c) {
  const uint32_t handle = c.varint32();
  DeclRecord d;
  d.stage_id = c.istr();
  d.plugin = c.istr();
  d.plugin_version = c.istr();
  d.inputs.resize(c.count(1));
  for (auto& s : d.inputs) s = c.istr();
  d.outputs.resize(c.count(1));
  for (auto& s : d.outputs) s = c.istr();
  if (c.p < c.end) {  // v4: frame ports
    d.frame_ports.resize(c.count(1));
    if (!d.frame_ports.empty() && d.frame_ports.size() != d.inputs.size() + d.outputs.size())
      throw DecodeError{"declaration lists frame ports for another number of ports"};
    for (auto& i : d.frame_ports) i = c.varint32();
  }
  c.chunk->decls[handle] = std::move(d);
}

// A declaration handle (v3/v4): its declaration, whose names go into `r`.
const DeclRecord& get_declared(Cursor& c, StageRecord& r) {
  const auto it = c.chunk->decls.find(c.varint32());
  if (it == c.chunk->decls.end()) throw DecodeError{"stage record refers to a stage not declared in its chunk"};
  const DeclRecord& d = it->second;
  r.stage_id = d.stage_id;
  r.plugin = d.plugin;
  r.plugin_version = d.plugin_version;
  return d;
}

// v3: kRecordStageDeclared. Gives the same StageRecord as kRecordStage:
// every input port listed, absent outputs left out.
StageRecord get_stage_declared(Cursor& c) {
  StageRecord r;
  const uint8_t flags = get_stage_head(c, r);
  const DeclRecord& d = get_declared(c, r);
  get_stage_core(c, flags, r);
  auto positional = [&](const std::vector<std::string>& ports, std::vector<Payload>& out, bool keep_absent) {
    out.reserve(ports.size());
    for (const auto& port : ports) {
      Payload p;
      p.port = port;
      p.type = c.varint32();
      if (p.type != f::kPayloadNone) get_payload_body(c, p);
      if (p.type != f::kPayloadNone || keep_absent) out.push_back(std::move(p));
    }
  };
  positional(d.inputs, r.inputs, true);
  positional(d.outputs, r.outputs, false);
  if ((flags & f::kStageFlagNoExtras) == 0) get_extras(c, r);
  return r;
}

// How a turn record and a turn frame begin (writer.cpp put_turn_head).
void get_turn_head(Cursor& c, TurnRecord& t) {
  const auto flags = c.get<uint8_t>();
  t.turn = get_key(c, flags);
  t.worker = c.varint32();
  t.timestamp = c.str();
  t.config_digest = c.get<uint64_t>();
  t.start_ns = c.start();
  t.end_ns = get_end(c, t.start_ns);
  const auto status = c.get<uint8_t>();
  if (status > static_cast<uint8_t>(TurnStatus::Cancelled)) throw DecodeError{"unknown turn status"};
  t.status = static_cast<TurnStatus>(status);
}

// v4: kRecordFrame. Gives the StageRecords and the TurnRecord that
// declared stage records and a turn record would give, in that order.
// All or nothing: a malformed frame yields none of its records.
std::vector<Record> get_frame(Cursor& c) {
  std::vector<Record> out;
  TurnRecord t;
  get_turn_head(c, t);
  std::vector<Payload> table(c.count(1));
  for (auto& p : table) {
    p.type = c.varint32();
    if (p.type != f::kPayloadNone) get_payload_body(c, p);
  }
  const uint32_t input = c.varint32();
  if (input >= table.size()) throw DecodeError{"turn frame input index outside its payloads"};
  t.input = table[input];
  t.input.port = "input";
  t.gold_json = c.str();
  t.result_json = c.str();
  const uint32_t n = c.count(5);
  out.reserve(n + 1);
  for (uint32_t s = 0; s < n; ++s) {
    StageRecord r;
    r.turn = t.turn;
    const DeclRecord& d = get_declared(c, r);
    const auto flags = c.get<uint8_t>();
    uint64_t at, len;
    if ((flags & f::kFrameFlagWide) == 0) {
      at = c.get<uint32_t>();
      len = c.get<uint32_t>();
    } else {
      at = static_cast<uint64_t>(f::unzigzag(c.varint()));
      len = static_cast<uint64_t>(f::unzigzag(c.varint()));
    }
    r.start_ns = static_cast<int64_t>(static_cast<uint64_t>(t.start_ns) + at);
    r.end_ns = static_cast<int64_t>(static_cast<uint64_t>(r.start_ns) + len);
    r.has_confidence = (flags & f::kStageFlagHasConfidence) != 0;
    if (r.has_confidence) r.confidence = c.get<double>();
    r.worker = c.varint32();
    if (d.frame_ports.size() != d.inputs.size() + d.outputs.size())
      throw DecodeError{"turn frame refers to a stage declared without frame ports"};
    // As get_stage_declared: every input port listed, absent outputs left out.
    const uint32_t* ref = d.frame_ports.data();
    auto ports = [&](const std::vector<std::string>& names, std::vector<Payload>& to, bool keep_absent) {
      to.reserve(names.size());
      for (const auto& name : names) {
        const uint32_t i = *ref++;
        if (i > table.size()) throw DecodeError{"turn frame port index outside its payloads"};
        Payload p;
        if (i != 0) p = table[i - 1];
        p.port = name;
        if (p.type != f::kPayloadNone || keep_absent) to.push_back(std::move(p));
      }
    };
    ports(d.inputs, r.inputs, true);
    ports(d.outputs, r.outputs, false);
    out.emplace_back(std::move(r));
  }
  out.emplace_back(std::move(t));
  return out;
}

TurnRecord get_turn(Cursor& c) {
  TurnRecord r;
  get_turn_head(c, r);
  r.input = get_payload(c);
  r.gold_json = c.str();
  r.result_json = c.str();
  return r;
}

bool valid_chunk_header(const uint8_t* p) {
  return f::get<uint32_t>(p) == f::kChunkMagic && f::get<uint64_t>(p + 24) == XXH3_64bits(p, 24);
}

// A read-only mapping of one file.
struct Mapping {
  const uint8_t* data = nullptr;
  size_t size = 0;
  void* base = nullptr;

  Mapping() = default;
  Mapping(const Mapping&) = delete;
  Mapping& operator=(const Mapping&) = delete;
  ~Mapping() { reset(); }
  void reset() {
    if (base != nullptr) ::munmap(base, size);
    base = nullptr;
    data = nullptr;
    size = 0;
  }
  void open(const std::filesystem::path& path) {
    reset();
    const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) throw TraceError(codes::kOpen, path, "cannot open trace file: " + std::generic_category().message(errno));
    struct stat st {};
    if (::fstat(fd, &st) != 0) {
      const int e = errno;
      ::close(fd);
      throw TraceError(codes::kOpen, path, "cannot stat trace file: " + std::generic_category().message(e));
    }
    size = static_cast<size_t>(st.st_size);
    if (size > 0) {
      base = ::mmap(nullptr, size, PROT_READ, MAP_PRIVATE, fd, 0);
      if (base == MAP_FAILED) {
        const int e = errno;
        base = nullptr;
        size = 0;
        ::close(fd);
        throw TraceError(codes::kOpen, path, "cannot map trace file: " + std::generic_category().message(e));
      }
      data = static_cast<const uint8_t*>(base);
    }
    ::close(fd);
  }
};

}  // namespace

// --- small value helpers -------------------------------------------------------
uint64_t Payload::xxh64() const { return hashed ? stored_xxh64 : XXH64(bytes.data(), bytes.size(), 0); }

bool Payload::same_content(const Payload& o) const {
  if (type != o.type || size != o.size) return false;
  if (hashed || o.hashed) return xxh64() == o.xxh64();
  return bytes == o.bytes;
}

const Payload* StageRecord::input(std::string_view port) const {
  for (const auto& p : inputs)
    if (p.port == port) return &p;
  return nullptr;
}
const Payload* StageRecord::output(std::string_view port) const {
  for (const auto& p : outputs)
    if (p.port == port) return &p;
  return nullptr;
}
std::optional<double> StageRecord::feature(std::string_view key) const {
  for (const auto& ft : features)
    if (ft.key == key) return ft.value;
  return std::nullopt;
}
std::optional<std::string_view> StageRecord::text_feature(std::string_view key) const {
  for (const auto& t : text_features)
    if (t.key == key) return std::string_view(t.value);
  return std::nullopt;
}

std::string Damage::format() const {
  return file.string() + ":" + std::to_string(offset) + ": error[" + code + "]: " + message + " (" +
         std::to_string(bytes) + " bytes)";
}

std::string_view to_string(StageStatus s) noexcept {
  switch (s) {
    case StageStatus::Ok: return "ok";
    case StageStatus::Error: return "error";
    case StageStatus::Timeout: return "timeout";
    case StageStatus::Skipped: return "skipped";
    case StageStatus::Cancelled: return "cancelled";
    case StageStatus::Crashed: return "crashed";
  }
  return "unknown";
}
std::string_view to_string(TurnStatus s) noexcept {
  switch (s) {
    case TurnStatus::Ok: return "ok";
    case TurnStatus::Failed: return "failed";
    case TurnStatus::Cancelled: return "cancelled";
  }
  return "unknown";
}

std::vector<std::filesystem::path> trace_files(const std::filesystem::path& path) {
  std::error_code ec;
  if (!std::filesystem::is_directory(path, ec)) {
    if (!std::filesystem::exists(path, ec)) throw TraceError(codes::kOpen, path, "no such trace file or directory");
    return {path};
  }
  std::vector<std::filesystem::path> files;
  for (const auto& e : std::filesystem::directory_iterator(path, ec)) {
    const auto name = e.path().filename().string();
    if (name.starts_with("trace-") && name.ends_with(".cas")) files.push_back(e.path());
  }
  if (ec) throw TraceError(codes::kOpen, path, "cannot list trace directory: " + ec.message());
  if (files.empty()) throw TraceError(codes::kOpen, path, "directory holds no trace-*.cas files");
  std::sort(files.begin(), files.end());
  return files;
}

// --- Reader ---------------------------------------------------------------------
struct Reader::Impl {
  std::vector<std::filesystem::path> paths;
  size_t next_file = 0;
  Mapping map;
  bool have_file = false;
  uint64_t pos = 0;
  RecordPosition pending_from;  // the chunk `pending` was decoded from
  std::deque<Record> pending;
  std::vector<Damage> damage;
  std::vector<FileInfo> infos;
  ReadStats stats;
  // What the current file's chunk headers announced, for the end chunk's
  // totals. Counted only while the file is read front to back (`next` is
  // where the next chunk of file number `file` must start); `resynced`: a
  // corrupt chunk header hid how many chunks it covered (reported as T007).
  struct Tally {
    size_t file = 0;
    uint64_t next = 0;
    uint64_t chunks = 0;
    uint64_t records = 0;
    bool resynced = false;
  } tally;

  void report(const char* code, uint64_t offset, uint64_t bytes, std::string message) {
    damage.push_back(Damage{code, infos.back().path, offset, bytes, std::move(message)});
  }

  // Opens paths[next_file]; `strict`: throw instead of reporting when the
  // file is not a usable trace at all (the first file, from the ctor).
  void open_next(bool strict) {
    const auto& path = paths[next_file++];
    map.reset();
    have_file = false;
    try {
      map.open(path);
    } catch (const TraceError& e) {
      if (strict) throw;
      infos.emplace_back().path = path;
      report(codes::kOpen, 0, 0, e.what());
      return;
    }
    FileInfo info;
    info.path = path;
    info.size = map.size;
    stats.files++;
    stats.bytes += map.size;
    infos.push_back(info);
    FileInfo& fi = infos.back();
    const uint8_t* d = map.data;
    const size_t n = map.size;
    const size_t magic_n = std::min<size_t>(n, 8);
    if (magic_n == 0 || std::memcmp(d, f::kFileMagic, magic_n) != 0) {
      if (strict) throw TraceError(codes::kNotATrace, path, "not a Cascade trace file (bad magic)");
      report(codes::kNotATrace, 0, n, "not a Cascade trace file (bad magic)");
      return;
    }
    if (n < f::kFileHeaderFixed + 4 + 8) {
      report(codes::kTruncated, 0, n, "file cut off inside its header");
      return;
    }
    fi.format_version = f::get<uint16_t>(d + 8);
    if (fi.format_version < f::kOldestFormatVersion || fi.format_version > f::kFormatVersion) {
      const std::string msg = "unsupported trace format version " + std::to_string(fi.format_version) +
                              " (this reader knows " + std::to_string(f::kOldestFormatVersion) + " to " +
                              std::to_string(f::kFormatVersion) + ")";
      if (strict) throw TraceError(codes::kVersion, path, msg);
      report(codes::kVersion, 8, n, msg);
      return;
    }
    const auto header_len = f::get<uint32_t>(d + 12);
    have_file = true;
    if (header_len < f::kFileHeaderFixed + 4 + 8 || header_len > n ||
        f::get<uint64_t>(d + header_len - 8) != XXH3_64bits(d, header_len - 8)) {
      // The header is not trustworthy; the chunks after it may still be.
      const uint64_t next = resync(8);
      report(codes::kFileHeader, 0, next, "damaged file header; resynchronised at the next chunk");
      pos = next;
      tally = Tally{.file = next_file, .next = pos, .resynced = true};
      return;
    }
    fi.audio_hashed = (f::get<uint16_t>(d + 10) & f::kFileFlagAudioHashed) != 0;
    fi.run_id = f::get<uint64_t>(d + 16);
    fi.created_ns = f::get<int64_t>(d + 24);
    fi.file_index = f::get<uint32_t>(d + 32);
    const auto wlen = f::get<uint32_t>(d + 40);
    if (f::kFileHeaderFixed + 4 + static_cast<uint64_t>(wlen) + 8 <= header_len)
      fi.writer.assign(reinterpret_cast<const char*>(d + 44), wlen);
    pos = header_len;
    tally = Tally{.file = next_file, .next = pos};
    // Rotated files of one run share run_id and count up from 1.
    if (infos.size() >= 2) {
      const FileInfo& first = infos.front();
      const FileInfo& prev = infos[infos.size() - 2];
      if (first.run_id != 0 && fi.run_id != first.run_id)
        report(codes::kMissingFile, 0, 0, "file belongs to a different run than " + first.path.string());
      else if (prev.file_index != 0 && fi.file_index != prev.file_index + 1)
        report(codes::kMissingFile, 0, 0,
               "rotated file index " + std::to_string(fi.file_index) + " follows " +
                   std::to_string(prev.file_index) + ": file(s) missing");
    }
  }

  // First offset >= from holding a valid chunk header, or the file size.
  uint64_t resync(uint64_t from) const {
    const uint8_t* d = map.data;
    const size_t n = map.size;
    static constexpr uint8_t magic[4] = {'C', 'C', 'H', 'K'};
    size_t at = from;
    while (at + f::kChunkHeaderSize <= n) {
      const void* hit = ::memmem(d + at, n - at, magic, 4);
      if (hit == nullptr) break;
      at = static_cast<size_t>(static_cast<const uint8_t*>(hit) - d);
      if (at + f::kChunkHeaderSize > n) break;
      if (valid_chunk_header(d + at)) return at;
      ++at;
    }
    return n;
  }

  // Reads chunks of the current file until one yields records or it ends.
  void read_chunks() {
    const uint8_t* d = map.data;
    const size_t n = map.size;
    while (pending.empty() && pos < n) {
      const uint64_t remaining = n - pos;
      if (remaining < f::kChunkHeaderSize) {
        report(codes::kTruncated, pos, remaining, "file cut off inside a chunk header");
        pos = n;
        break;
      }
      const uint8_t* h = d + pos;
      const bool in_sequence = pos == tally.next && next_file == tally.file;
      if (!valid_chunk_header(h)) {
        const uint64_t next = resync(pos + 1);
        report(codes::kChunkHeader, pos, next - pos,
               next < n ? "corrupt chunk header; resynchronised at the next chunk"
                        : "corrupt chunk header; no intact chunk follows");
        pos = next;
        if (in_sequence) tally.next = next;
        tally.resynced = true;
        continue;
      }
      const auto kind = f::get<uint16_t>(h + 4);
      const auto len = f::get<uint32_t>(h + 8);
      const auto nrec = f::get<uint32_t>(h + 12);
      if (len > remaining - f::kChunkHeaderSize) {
        const uint64_t announced = uint64_t{f::kChunkHeaderSize} + len;
        // A length past the end: the tail of a cut file, or a header that
        // lies. Intact chunks after it are still read.
        const uint64_t next = resync(pos + 1);
        if (next < n) {
          report(codes::kChunkHeader, pos, next - pos,
                 "chunk announces " + std::to_string(announced) + " bytes, past the end of the file; resynchronised at the next chunk");
          pos = next;
          if (in_sequence) tally.next = next;
          tally.resynced = true;
          continue;
        }
        report(codes::kTruncated, pos, remaining,
               "file cut off inside a chunk (" + std::to_string(announced) + " bytes announced, " +
                   std::to_string(remaining) + " present)");
        pos = n;
        break;
      }
      const uint8_t* payload = h + f::kChunkHeaderSize;
      const uint64_t chunk_at = pos;
      pos += f::kChunkHeaderSize + len;
      // A seek elsewhere ends the count: it no longer covers the whole file.
      tally.next = in_sequence ? pos : UINT64_MAX;
      if (kind == f::kChunkRecords) {  // the header checksum held: its counts are the writer's
        ++tally.chunks;
        tally.records += nrec;
      }
      if (f::get<uint64_t>(h + 16) != XXH3_64bits(payload, len)) {
        report(codes::kChecksum, chunk_at, f::kChunkHeaderSize + len,
               "chunk checksum mismatch; " + std::to_string(nrec) + " record(s) skipped");
        continue;
      }
      if (kind == f::kChunkEnd) {
        infos.back().closed_cleanly = true;
        if (in_sequence) check_totals(payload, len, chunk_at);
        continue;
      }
      if (kind != f::kChunkRecords) continue;  // a newer writer's chunk kind: skip it
      stats.chunks++;
      pending_from = {static_cast<uint32_t>(next_file - 1), chunk_at};
      decode_chunk(payload, len, chunk_at);
    }
  }

  // The end chunk counts the record chunks and records the writer put in
  // the file: a chunk cut out whole (checksums intact) shows only here.
  void check_totals(const uint8_t* payload, uint32_t len, uint64_t chunk_at) {
    if (len < 16) return;  // not the totals this reader knows
    const auto chunks = f::get<uint64_t>(payload);
    const auto records = f::get<uint64_t>(payload + 8);
    if (chunks == tally.chunks && records == tally.records) return;
    // Fewer after a resync: the T007 already reported covers them.
    if (tally.resynced && tally.chunks < chunks && tally.records <= records) return;
    report(codes::kTotals, chunk_at, f::kChunkHeaderSize + len,
           "the file's end chunk counts " + std::to_string(chunks) + " record chunk(s) and " +
               std::to_string(records) + " record(s), the file holds " + std::to_string(tally.chunks) + " and " +
               std::to_string(tally.records) + ": chunks were removed or added");
  }

  void decode_chunk(const uint8_t* payload, uint32_t len, uint64_t chunk_at) {
    const uint8_t* p = payload;
    const uint8_t* end = payload + len;
    ChunkState state;  // string table, previous key and start: chunk-local
    while (p < end) {
      const uint64_t rec_at = chunk_at + f::kChunkHeaderSize + static_cast<uint64_t>(p - payload);
      try {
        Cursor head{p, end};
        const auto word = head.get<uint32_t>();
        const auto type = static_cast<uint8_t>(word & 0xFF);
        uint64_t body = word >> 8;
        if (body == f::kRecordLenEscape) body = head.get<uint64_t>();
        head.need(body);
        Cursor c{head.p, head.p + body, &state};
        // Fields a newer minor version appends after the known ones are
        // skipped (the body length tells where the record ends).
        if (type == f::kRecordStage)
          pending.emplace_back(get_stage(c));
        else if (type == f::kRecordStageDeclared)
          pending.emplace_back(get_stage_declared(c));
        else if (type == f::kRecordTurn)
          pending.emplace_back(get_turn(c));
        else if (type == f::kRecordDecl)
          get_decl(c);
        else if (type == f::kRecordFrame)
          for (auto& r : get_frame(c)) pending.push_back(std::move(r));
        p = head.p + body;
      } catch (const DecodeError& e) {
        report(codes::kRecord, rec_at, static_cast<uint64_t>(end - p),
               std::string("malformed record (") + e.what + "); rest of the chunk skipped");
        return;
      }
    }
  }

  std::optional<Record> next() {
    for (;;) {
      if (!pending.empty()) {
        Record r = std::move(pending.front());
        pending.pop_front();
        stats.records++;
        return r;
      }
      if (have_file && pos < map.size) {
        read_chunks();
        continue;
      }
      if (next_file >= paths.size()) {
        map.reset();
        have_file = false;
        return std::nullopt;
      }
      open_next(false);
    }
  }
};

Reader::Reader(const std::filesystem::path& path) : impl_(std::make_unique<Impl>()) {
  impl_->paths = trace_files(path);
  impl_->open_next(true);
}
Reader::~Reader() = default;
Reader::Reader(Reader&&) noexcept = default;
Reader& Reader::operator=(Reader&&) noexcept = default;

std::optional<Record> Reader::next() { return impl_->next(); }
const std::vector<Damage>& Reader::damage() const noexcept { return impl_->damage; }
const std::vector<FileInfo>& Reader::files() const noexcept { return impl_->infos; }
ReadStats Reader::stats() const noexcept { return impl_->stats; }
RecordPosition Reader::position() const noexcept { return impl_->pending_from; }

void Reader::seek(RecordPosition at) {
  Impl& r = *impl_;
  if (at.file >= r.paths.size()) throw TraceError(codes::kUsage, {}, "seek to a file index out of range");
  r.pending.clear();
  if (!r.have_file || r.next_file != at.file + 1) {
    r.map.reset();
    r.have_file = false;
    r.map.open(r.paths[at.file]);
    r.have_file = true;
    r.next_file = at.file + 1;
  }
  r.pos = std::min<uint64_t>(at.chunk_offset, r.map.size);
}

}  // namespace cascade::trace
