// writer.cpp — per-worker chunks, one background writer thread, the files.
//
// Hot path (write): bound the record's size, make room in the worker's own
// chunk, encode it there (encode.cpp). No lock, no formatting. Only when a
// chunk is full does the worker take the queue mutex, once per chunk
// (~256 KiB, thousands of records), to hand it over and take a free one
// back. The background thread checksums, frames and write()s chunks and
// returns them to the free list, so steady state allocates nothing.
#include <cascade/trace/writer.hpp>

#include "encode.hpp"
#include "format.hpp"

#include <xxhash.h>

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
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

// One per worker index, on its own cache line: workers never share one.
struct alignas(64) Slot {
  encode::Chunk* buf = nullptr;
  std::atomic<uint64_t> records{0};  // written only by the slot's worker
};

}  // namespace

struct Writer::Impl {
  WriterOptions opt;
  std::vector<Slot> slots;
  // By handle. Entries never move: chunks intern their strings by address.
  std::vector<std::unique_ptr<encode::Declaration>> decls;
  uint64_t run_id = 0;
  int64_t created_ns = 0;
  bool closed = false;  // touched only by the controlling thread (ctor/flush/close)

  // Shared between workers (once per chunk) and the background thread.
  std::mutex mu;
  std::condition_variable cv_work;  // background thread waits for chunks
  std::condition_variable cv_done;  // producers/flush wait for progress
  std::deque<encode::Chunk*> queue;
  std::vector<encode::Chunk*> free_list;
  std::vector<std::unique_ptr<encode::Chunk>> owned;
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

  void write_chunk(encode::Chunk& b) {
    const size_t len = b.used - f::kChunkHeaderSize;
    if (opt.rotate_bytes > 0 && file_chunks > 0 && file_bytes + b.used > opt.rotate_bytes) {
      finish_file();
      open_next_file();
    }
    frame(b.data(), f::kChunkRecords, b.worker, static_cast<uint32_t>(len), b.records);
    write_all(b.data(), b.used);
    file_bytes += b.used;
    ++file_chunks;
    file_records += b.records;
    chunks.fetch_add(1, std::memory_order_relaxed);
    bytes.fetch_add(b.used, std::memory_order_relaxed);
  }

  void run() {
    for (;;) {
      encode::Chunk* b = nullptr;
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

  // --- chunks (workers, once per chunk) ----------------------------------------------
  encode::Chunk* take_free_locked() {
    if (!free_list.empty()) {
      encode::Chunk* b = free_list.back();
      free_list.pop_back();
      return b;
    }
    owned.push_back(std::make_unique<encode::Chunk>(f::kChunkHeaderSize + opt.chunk_bytes));
    return owned.back().get();
  }

  // Hands `full` (may be null) to the background thread, returns an empty one.
  encode::Chunk* exchange(encode::Chunk* full) {
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

  // The worker's current chunk (taking one on first use); errors and the
  // first use go out of line.
  encode::Chunk& chunk(uint32_t worker) {
    if (worker < slots.size() && !closed) {
      encode::Chunk* b = slots[worker].buf;
      if (b != nullptr) return *b;
    }
    return first_chunk(worker);
  }

  [[gnu::noinline]] encode::Chunk& first_chunk(uint32_t worker) {
    if (worker >= slots.size())
      misuse("worker index " + std::to_string(worker) + " >= max_workers " + std::to_string(slots.size()));
    if (closed) misuse("write() after close()");
    Slot& s = slots[worker];
    s.buf = exchange(nullptr);
    s.buf->worker = static_cast<uint16_t>(worker);
    return *s.buf;
  }

  // The current chunk is full: hand it over, return an empty one with room
  // for `n` bytes (grown for one oversized record: rare).
  encode::Chunk& next_chunk(uint32_t worker, size_t n) {
    if (n > std::numeric_limits<uint32_t>::max() - f::kChunkHeaderSize)
      misuse("record of " + std::to_string(n) + " bytes exceeds the 4 GiB chunk limit");
    Slot& s = slots[worker];
    encode::Chunk* b = s.buf;
    if (!b->empty()) {
      s.buf = nullptr;  // if exchange throws, the chunk is already handed over
      b = exchange(b);
      s.buf = b;
      b->worker = static_cast<uint16_t>(worker);
    }
    if (!b->room(n)) b->grow(n);
    return *b;
  }

  // Room for a record (or records) of at most `bound` bytes in the worker's chunk.
  encode::Chunk& reserve(uint32_t worker, size_t bound) {
    encode::Chunk* b = &chunk(worker);
    if (!b->room(bound)) b = &next_chunk(worker, bound);
    return *b;
  }

  uint32_t declare(const StageDecl& d) {
    const size_t n_ports = d.input_ports.size() + d.output_ports.size();
    if (!d.frame_ports.empty() && d.frame_ports.size() != n_ports)
      misuse("declaration of '" + std::string(d.stage_id) + "': frame_ports lists " +
             std::to_string(d.frame_ports.size()) + " ports, the stage has " + std::to_string(n_ports));
    decls.push_back(std::make_unique<encode::Declaration>(encode::make_declaration(d)));
    return static_cast<uint32_t>(decls.size() - 1);
  }

  void count(uint32_t worker, uint64_t n) {
    Slot& s = slots[worker];
    s.records.store(s.records.load(std::memory_order_relaxed) + n, std::memory_order_relaxed);
  }

  [[noreturn]] void misuse(const std::string& what) const { throw TraceError(codes::kMisuse, opt.path, what); }

  void write(uint32_t worker, const StageEvent& ev) {
    const encode::Declaration* d = nullptr;
    if (ev.decl != kNotDeclared) {
      if (ev.decl >= decls.size()) misuse("stage event with an undeclared handle");
      d = decls[ev.decl].get();
      if (ev.inputs.size() != d->inputs.size() || ev.outputs.size() != d->outputs.size())
        misuse("declared stage event for '" + d->stage_id + "' does not list one payload per declared port");
    }
    const size_t bound = encode::stage_bound(ev, d, opt.audio);
    encode::put_stage(reserve(worker, bound), ev, ev.decl, d, opt.audio, bound);
    count(worker, 1);
  }

  void write(uint32_t worker, const TurnEvent& ev) {
    const size_t bound = encode::turn_bound(ev, opt.audio);
    encode::put_turn(reserve(worker, bound), ev, worker, opt.audio, bound);
    count(worker, 1);
  }

  // A whole turn: checked before a byte is written, so a misuse leaves the
  // chunk as it was.
  void write(uint32_t worker, const TurnFrame& fr) {
    const size_t bound = encode::frame_bound(fr, decls, opt.audio);
    if (bound == 0) misuse(encode::frame_error(fr, decls));
    encode::put_frame(reserve(worker, bound), fr, worker, decls, opt.audio, bound);
    count(worker, fr.stages.size() + 1);
  }

  // Hands every worker's partial buffer to the background thread; the
  // ticket is the number of chunks submitted so far (they are written in
  // submission order).
  uint64_t begin_flush() {
    if (closed) return 0;
    for (auto& s : slots) {
      if (s.buf != nullptr && !s.buf->empty()) {
        encode::Chunk* b = s.buf;
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

void Writer::write(uint32_t worker, const StageEvent& ev) { impl_->write(worker, ev); }

void Writer::write(uint32_t worker, const TurnEvent& ev) { impl_->write(worker, ev); }

void Writer::write(uint32_t worker, const TurnFrame& frame) { impl_->write(worker, frame); }

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
