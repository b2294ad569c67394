// cascade/trace/writer.hpp — durable, binary, chunked trace recording.
//
// Lifecycle: construct (opens/creates the file or directory; throws
//   TraceError on I/O failure) -> write()* / flush()* -> close() or destroy.
// Threading: write(worker, ...) may be called concurrently from different
//   threads as long as no two threads use the same `worker` index at the
//   same time (the scheduler passes its worker index). Writers of different
//   workers share NO lock: each appends to its own buffer; a full buffer
//   becomes a chunk handed to the background writer thread.
//   flush() and close() must be called when no write() is in progress
//   (between scheduler batches); after flush() returns, every record
//   written before it is in the file (OS page cache: it survives kill -9).
#pragma once

#include <cascade/trace/error.hpp>  // TraceError, thrown by every member that can fail
#include <cascade/trace/event.hpp>

#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>

namespace cascade::trace {

enum class AudioMode : uint8_t {
  Inline = 0,  // store the samples in the trace
  Hash = 1     // store xxh64 + size + sample rate only
};

struct WriterOptions {
  std::filesystem::path path;       // a file, or a directory when rotate_bytes > 0
  uint64_t rotate_bytes = 0;        // 0: one file; else start a new file past this size
  AudioMode audio = AudioMode::Inline;
  uint32_t max_workers = 64;        // worker indices are < max_workers
  uint32_t chunk_bytes = 256 * 1024;  // target chunk payload size
  // Added: fdatasync() after flush() writes (survives power loss, not only
  // kill -9). Off by default: page cache is the promise of flush().
  bool sync_on_flush = false;
};

struct WriterStats {
  uint64_t records = 0;
  uint64_t chunks = 0;
  uint64_t bytes = 0;  // bytes written to disk
  uint32_t files = 0;
};

class Writer {
 public:
  explicit Writer(WriterOptions options);
  ~Writer();  // close()s; never throws
  Writer(const Writer&) = delete;
  Writer& operator=(const Writer&) = delete;

  // Registers a stage's names and ports; returns the handle for
  // StageEvent::decl and FrameStage::decl. The writer copies the strings
  // and frame_ports (T009 if it is neither empty nor one entry per port).
  // Setup-time: must not run concurrently with write() (call it before the
  // first batch).
  uint32_t declare(const StageDecl& decl);
  void write(uint32_t worker, const StageEvent& ev);
  void write(uint32_t worker, const TurnEvent& ev);
  // A whole turn in one record (event.hpp, "turn frames"); throws
  // TraceError(T009 misuse), writing nothing, for a handle not declared
  // with frame_ports or a payload table too short for them.
  void write(uint32_t worker, const TurnFrame& frame);
  void flush();
  // flush() in two halves, so the caller can go on (run the next batch)
  // while the chunks are written: begin_flush() hands over every record
  // written so far (same rule as flush(): no write() in progress) and
  // returns a ticket; wait_flushed(ticket) returns once they are all in
  // the file. flush() == wait_flushed(begin_flush()).
  uint64_t begin_flush();
  void wait_flushed(uint64_t ticket);
  void close();
  [[nodiscard]] WriterStats stats() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace cascade::trace
