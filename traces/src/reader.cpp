// reader.cpp — maps trace files, walks chunks, verifies checksums, hands
// intact chunks to the decoders (decode.cpp), and turns every kind of damage
// into a Damage entry instead of an exception so a cut-off or bit-flipped
// trace still yields what is intact.
#include <cascade/trace/reader.hpp>

#include "decode.hpp"
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

namespace cascade::trace {
namespace {

namespace f = format;

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
    if (fi.format_version != f::kFormatVersion) {
      const std::string msg = "unsupported trace format version " + std::to_string(fi.format_version) +
                              " (this reader reads version " + std::to_string(f::kFormatVersion) + ")";
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
    const auto failed = decode::chunk({payload, len}, pending);
    if (failed)
      report(codes::kRecord, chunk_at + f::kChunkHeaderSize + failed->offset, len - failed->offset,
             std::string("malformed record (") + failed->what + "); rest of the chunk skipped");
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
