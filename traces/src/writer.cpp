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

#include <atomic>
#include <cerrno>
#include <chrono>
#include <condition_variable>
#include <cstring>
#include <deque>
#include <exception>
#include <limits>
#include <mutex>
#include <thread>
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

std::string errno_text() { return std::strerror(errno); }

// One chunk under construction: [32-byte chunk header][payload]. The header
// space is reserved up front so the background thread frames the chunk in
// place and writes it with a single write().
struct Buffer {
  std::unique_ptr<uint8_t[]> mem;
  size_t cap = 0;
  size_t used = f::kChunkHeaderSize;
  uint32_t records = 0;
  uint16_t worker = f::kNoWorker;

  void reset() {
    used = f::kChunkHeaderSize;
    records = 0;
    worker = f::kNoWorker;
  }
};

// One per worker index, on its own cache line: workers never share one.
struct alignas(64) Slot {
  Buffer* buf = nullptr;
  std::atomic<uint64_t> records{0};  // written only by the slot's worker
};

// --- encoded sizes ------------------------------------------------------------
inline size_t str_size(std::string_view s) { return 4 + s.size(); }

inline bool hashed(const PayloadView& p, AudioMode mode) {
  return mode == AudioMode::Hash && p.type == f::kPayloadAudio;
}
inline size_t payload_size(const PayloadView& p, AudioMode mode) {
  // port, type, sample_rate, encoding, size, then bytes or the hash
  return str_size(p.port) + 4 + 4 + 1 + 8 + (hashed(p, mode) ? 8 : p.size);
}
inline size_t key_size(const TurnKey& k) { return str_size(k.dialogue_id) + str_size(k.user_id) + 4 + 8; }

size_t stage_body_size(const StageEvent& e, AudioMode mode) {
  size_t n = key_size(e.turn) + str_size(e.stage_id) + str_size(e.plugin) + str_size(e.plugin_version);
  n += 8 + 8 + 4 + 1 + 1 + 4 + 8;  // start, end, worker, status, flags, error_code, confidence
  n += str_size(e.error_message);
  n += 4;
  for (const auto& p : e.inputs) n += payload_size(p, mode);
  n += 4;
  for (const auto& p : e.outputs) n += payload_size(p, mode);
  n += 4;
  for (const auto& b : e.nbest) n += str_size(b.text) + 8;
  n += 4;
  for (const auto& ft : e.features) n += str_size(ft.key) + 8;
  n += 4;
  for (const auto& t : e.text_features) n += str_size(t.key) + str_size(t.value);
  return n;
}

size_t turn_body_size(const TurnEvent& e, AudioMode mode) {
  return key_size(e.turn) + 4 + str_size(e.timestamp) + 8 + 8 + 8 + 1 + payload_size(e.input, mode) +
         str_size(e.gold_json) + str_size(e.result_json);
}

// --- encoders (the caller guarantees room for exactly the computed size) ---------
inline uint8_t* put_key(uint8_t* p, const TurnKey& k) {
  p = f::put_str(p, k.dialogue_id);
  p = f::put_str(p, k.user_id);
  p = f::put<uint32_t>(p, k.turn_index);
  return f::put<uint64_t>(p, k.turn_seq);
}

inline uint8_t* put_payload(uint8_t* p, const PayloadView& v, AudioMode mode) {
  p = f::put_str(p, v.port);
  p = f::put<uint32_t>(p, v.type);
  p = f::put<uint32_t>(p, v.sample_rate);
  if (hashed(v, mode)) {
    p = f::put<uint8_t>(p, f::kPayloadHashed);
    p = f::put<uint64_t>(p, v.size);
    return f::put<uint64_t>(p, XXH64(v.data, static_cast<size_t>(v.size), 0));
  }
  p = f::put<uint8_t>(p, f::kPayloadInline);
  p = f::put<uint64_t>(p, v.size);
  return f::put_bytes(p, v.data, static_cast<size_t>(v.size));
}

uint8_t* put_stage(uint8_t* p, const StageEvent& e, AudioMode mode) {
  p = put_key(p, e.turn);
  p = f::put_str(p, e.stage_id);
  p = f::put_str(p, e.plugin);
  p = f::put_str(p, e.plugin_version);
  p = f::put<int64_t>(p, e.start_ns);
  p = f::put<int64_t>(p, e.end_ns);
  p = f::put<uint32_t>(p, e.worker);
  p = f::put<uint8_t>(p, static_cast<uint8_t>(e.status));
  uint8_t flags = (e.transient ? f::kStageFlagTransient : 0) | (e.has_confidence ? f::kStageFlagHasConfidence : 0);
  p = f::put<uint8_t>(p, flags);
  p = f::put<uint32_t>(p, e.error_code);
  p = f::put<double>(p, e.confidence);
  p = f::put_str(p, e.error_message);
  p = f::put<uint32_t>(p, static_cast<uint32_t>(e.inputs.size()));
  for (const auto& v : e.inputs) p = put_payload(p, v, mode);
  p = f::put<uint32_t>(p, static_cast<uint32_t>(e.outputs.size()));
  for (const auto& v : e.outputs) p = put_payload(p, v, mode);
  p = f::put<uint32_t>(p, static_cast<uint32_t>(e.nbest.size()));
  for (const auto& b : e.nbest) {
    p = f::put_str(p, b.text);
    p = f::put<double>(p, b.score);
  }
  p = f::put<uint32_t>(p, static_cast<uint32_t>(e.features.size()));
  for (const auto& ft : e.features) {
    p = f::put_str(p, ft.key);
    p = f::put<double>(p, ft.value);
  }
  p = f::put<uint32_t>(p, static_cast<uint32_t>(e.text_features.size()));
  for (const auto& t : e.text_features) {
    p = f::put_str(p, t.key);
    p = f::put_str(p, t.value);
  }
  return p;
}

uint8_t* put_turn(uint8_t* p, const TurnEvent& e, uint32_t worker, AudioMode mode) {
  p = put_key(p, e.turn);
  p = f::put<uint32_t>(p, worker);
  p = f::put_str(p, e.timestamp);
  p = f::put<uint64_t>(p, e.config_digest);
  p = f::put<int64_t>(p, e.start_ns);
  p = f::put<int64_t>(p, e.end_ns);
  p = f::put<uint8_t>(p, static_cast<uint8_t>(e.status));
  p = put_payload(p, e.input, mode);
  p = f::put_str(p, e.gold_json);
  return f::put_str(p, e.result_json);
}

}  // namespace

struct Writer::Impl {
  WriterOptions opt;
  std::vector<Slot> slots;
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
      throw TraceError(codes::kMisuse, opt.path, "max_workers must be in 1..65534");
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
    write_all(hdr, static_cast<size_t>(p - hdr));
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
    nb->mem = std::make_unique<uint8_t[]>(nb->cap);
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
    auto mem = std::make_unique<uint8_t[]>(cap);
    std::memcpy(mem.get(), b.mem.get(), b.used);
    b.mem = std::move(mem);
    b.cap = cap;
  }

  // Room for one record of `n` bytes in `worker`'s buffer.
  uint8_t* reserve(uint32_t worker, size_t n) {
    if (worker >= slots.size())
      throw TraceError(codes::kMisuse, opt.path,
                       "worker index " + std::to_string(worker) + " >= max_workers " + std::to_string(slots.size()));
    if (closed) throw TraceError(codes::kMisuse, opt.path, "write() after close()");
    if (n > std::numeric_limits<uint32_t>::max() - f::kChunkHeaderSize)
      throw TraceError(codes::kMisuse, opt.path, "record of " + std::to_string(n) + " bytes exceeds the 4 GiB chunk limit");
    Slot& s = slots[worker];
    Buffer* b = s.buf;
    if (b == nullptr || b->used + n > b->cap) [[unlikely]] {
      if (b != nullptr && b->records == 0) {
        // empty but too small: keep it and grow it below
      } else {
        s.buf = nullptr;  // if exchange throws, the buffer is already handed over
        b = exchange(b);
        s.buf = b;
      }
      if (b->used + n > b->cap) grow(*b, b->used + n);  // one oversized record: rare
      b->worker = static_cast<uint16_t>(worker);
    }
    uint8_t* p = b->mem.get() + b->used;
    b->used += n;
    ++b->records;
    s.records.store(s.records.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
    return p;
  }

  void flush() {
    if (closed) return;
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
    std::unique_lock lk(mu);
    cv_done.wait(lk, [&] { return written == submitted; });
    if (error) std::rethrow_exception(error);
    // The background thread is idle now (queue drained, no write() running):
    // the fd is safe to use from here.
    if (opt.sync_on_flush && fd >= 0 && ::fdatasync(fd) != 0)
      throw TraceError(codes::kWrite, current, "fdatasync failed: " + errno_text());
  }

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

void Writer::write(uint32_t worker, const StageEvent& ev) {
  const AudioMode mode = impl_->opt.audio;
  const size_t body = stage_body_size(ev, mode);
  uint8_t* p = impl_->reserve(worker, f::kRecordHeaderSize + body);
  p = f::put<uint8_t>(p, f::kRecordStage);
  p = f::put<uint32_t>(p, static_cast<uint32_t>(body));
  put_stage(p, ev, mode);
}

void Writer::write(uint32_t worker, const TurnEvent& ev) {
  const AudioMode mode = impl_->opt.audio;
  const size_t body = turn_body_size(ev, mode);
  uint8_t* p = impl_->reserve(worker, f::kRecordHeaderSize + body);
  p = f::put<uint8_t>(p, f::kRecordTurn);
  p = f::put<uint32_t>(p, static_cast<uint32_t>(body));
  put_turn(p, ev, worker, mode);
}

void Writer::flush() { impl_->flush(); }

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
