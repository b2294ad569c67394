// damage_test.cpp — a cut-off or corrupted trace still yields every intact
// chunk, and says exactly where the damage is.
#include "test_util.hpp"

#include <cascade/trace/tools.hpp>

#include <optional>

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

namespace cascade::trace {
namespace {

using testing::ChunkPos;
using testing::TempDir;

struct ReadBack {
  std::vector<uint64_t> seqs;  // turn_seq of every stage record, in order
  size_t records = 0;
  std::vector<Damage> damage;
};

ReadBack read_back(const std::filesystem::path& p) {
  ReadBack out;
  Reader r(p);
  while (auto rec = r.next()) {
    ++out.records;
    if (auto* s = std::get_if<StageRecord>(&*rec)) out.seqs.push_back(s->turn.turn_seq);
  }
  out.damage = r.damage();
  return out;
}

// Records of one worker, small chunks, several of them.
std::string make_trace(const std::filesystem::path& p, bool close) {
  WriterOptions opt{.path = p, .chunk_bytes = 1024};
  Writer w(opt);
  for (const auto& t : testing::make_run(60)) testing::write_turn(w, t);
  if (close) w.close();
  else w.flush();  // as if killed -9 right after a flush
  return testing::read_bytes(p);
}

void truncate_everywhere_in_last_two_chunks(bool closed) {
  TempDir dir;
  const std::string full = make_trace(dir / "full.cas", closed);
  const std::vector<ChunkPos> chunks = testing::walk_chunks(full);
  std::vector<ChunkPos> data;
  for (const auto& c : chunks)
    if (c.kind == 0) data.push_back(c);
  ASSERT_GE(data.size(), 4u);
  const size_t from = data[data.size() - 2].offset;
  const auto cut_path = dir / "cut.cas";
  testing::write_bytes(cut_path, full);
  // Shrinking one file (rather than rewriting it) keeps ext4 from flushing
  // it to disk at every step (auto_da_alloc on truncate-to-zero).
  for (size_t cut = full.size() - 1; cut >= from; --cut) {
    std::filesystem::resize_file(cut_path, cut);
    const ReadBack got = read_back(cut_path);
    // Expected: every chunk that ends at or before the cut.
    size_t want_records = 0;
    const ChunkPos* cut_chunk = nullptr;
    for (const auto& c : chunks) {
      if (c.offset + c.size <= cut) want_records += c.records;
      else if (c.offset < cut) cut_chunk = &c;
    }
    ASSERT_EQ(got.records, want_records) << "cut at " << cut;
    for (size_t i = 0; i < got.seqs.size(); ++i) ASSERT_EQ(got.seqs[i], i / 3) << "cut at " << cut;
    if (cut_chunk == nullptr) {
      ASSERT_TRUE(got.damage.empty()) << "cut at chunk boundary " << cut << ": " << got.damage.front().format();
    } else {
      ASSERT_EQ(got.damage.size(), 1u) << "cut at " << cut;
      EXPECT_EQ(got.damage[0].code, codes::kTruncated);
      EXPECT_EQ(got.damage[0].offset, cut_chunk->offset) << "cut at " << cut;
      EXPECT_EQ(got.damage[0].bytes, cut - cut_chunk->offset) << "cut at " << cut;
    }
  }
}

TEST(Truncation, EveryCutInTheLastTwoChunksOfAFlushedFileKeepsAllCompleteChunks) {
  truncate_everywhere_in_last_two_chunks(false);
}

TEST(Truncation, EveryCutInTheLastTwoChunksOfAClosedFileKeepsAllCompleteChunks) {
  truncate_everywhere_in_last_two_chunks(true);
}

TEST(Truncation, CutInsideTheFileHeaderIsReportedNotThrown) {
  TempDir dir;
  const std::string full = make_trace(dir / "full.cas", true);
  testing::write_bytes(dir / "cut.cas", std::string_view(full).substr(0, 20));
  const ReadBack got = read_back(dir / "cut.cas");
  EXPECT_EQ(got.records, 0u);
  ASSERT_EQ(got.damage.size(), 1u);
  EXPECT_EQ(got.damage[0].code, codes::kTruncated);
}

TEST(Checksum, CorruptPayloadIsReportedWithItsOffsetAndSkipped) {
  TempDir dir;
  std::string bytes = make_trace(dir / "t.cas", true);
  const auto chunks = testing::walk_chunks(bytes);
  ASSERT_GE(chunks.size(), 5u);
  const ChunkPos& victim = chunks[2];
  bytes[victim.offset + 32 + 100] ^= 0x20;
  testing::write_bytes(dir / "t.cas", bytes);
  const ReadBack got = read_back(dir / "t.cas");
  size_t total = 0;
  for (const auto& c : chunks) total += c.records;
  EXPECT_EQ(got.records, total - victim.records);
  ASSERT_EQ(got.damage.size(), 1u);
  EXPECT_EQ(got.damage[0].code, codes::kChecksum);
  EXPECT_EQ(got.damage[0].offset, victim.offset);
  EXPECT_EQ(got.damage[0].bytes, victim.size);
  const VerifyReport v = verify(dir / "t.cas");
  EXPECT_FALSE(v.ok());
  EXPECT_EQ(v.stats.records, total - victim.records);
}

TEST(Checksum, CorruptChunkHeaderIsReportedAndReadingResyncsAtTheNextChunk) {
  TempDir dir;
  std::string bytes = make_trace(dir / "t.cas", true);
  const auto chunks = testing::walk_chunks(bytes);
  ASSERT_GE(chunks.size(), 5u);
  const ChunkPos& victim = chunks[1];
  bytes[victim.offset + 9] ^= 0x01;  // its length field
  testing::write_bytes(dir / "t.cas", bytes);
  const ReadBack got = read_back(dir / "t.cas");
  size_t total = 0;
  for (const auto& c : chunks) total += c.records;
  EXPECT_EQ(got.records, total - victim.records);
  ASSERT_EQ(got.damage.size(), 1u);
  EXPECT_EQ(got.damage[0].code, codes::kChunkHeader);
  EXPECT_EQ(got.damage[0].offset, victim.offset);
  EXPECT_EQ(got.damage[0].bytes, victim.size);
}

TEST(Checksum, DamagedFileHeaderIsReportedAndChunksStillRead) {
  TempDir dir;
  std::string bytes = make_trace(dir / "t.cas", true);
  bytes[20] ^= 0x40;  // inside run_id, covered by the header checksum
  testing::write_bytes(dir / "t.cas", bytes);
  const ReadBack got = read_back(dir / "t.cas");
  EXPECT_EQ(got.records, 240u);
  ASSERT_EQ(got.damage.size(), 1u);
  EXPECT_EQ(got.damage[0].code, codes::kFileHeader);
}

TEST(KillDashNine, AWriterKilledMidRunLosesNothingItFlushed) {
  // A real process, really killed while its background thread writes.
  TempDir dir;
  const auto path = dir / "killed.cas";
  int fds[2];
  ASSERT_EQ(::pipe(fds), 0);
  const pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    // The child never returns into gtest: it writes until killed.
    ::close(fds[0]);
    try {
      Writer w({.path = path, .chunk_bytes = 4096});
      const std::string text = "some output text";
      PayloadView out{"out", 1, 0, text.data(), text.size()};
      StageEvent ev;
      ev.stage_id = "asr";
      ev.outputs = {&out, 1};
      for (uint64_t i = 0;; ++i) {
        ev.turn.turn_seq = i;
        w.write(0, ev);
        if (i % 1000 == 999) {
          w.flush();
          const uint64_t flushed = i + 1;
          if (::write(fds[1], &flushed, sizeof flushed) != sizeof flushed) ::_exit(3);
        }
      }
    } catch (const std::exception& e) {
      std::fprintf(stderr, "child: %s\n", e.what());
    }
    ::_exit(2);
  }
  ::close(fds[1]);
  // Whatever happens below, the child never outlives the test (it would
  // also die of SIGPIPE on its next report once the pipe is closed).
  struct Reaper {
    explicit Reaper(pid_t p) : pid(p) {}
    Reaper(const Reaper&) = delete;
    Reaper& operator=(const Reaper&) = delete;
    pid_t pid;
    ~Reaper() {
      if (pid <= 0) return;
      ::kill(pid, SIGKILL);
      ::waitpid(pid, nullptr, 0);
    }
  };
  std::optional<Reaper> reaper;
  reaper.emplace(child);
  uint64_t flushed = 0;
  while (flushed < 50000) {
    const ssize_t got = ::read(fds[0], &flushed, sizeof flushed);
    if (got != static_cast<ssize_t>(sizeof flushed)) {
      int st = 0;
      const pid_t w = ::waitpid(child, &st, 0);
      const int err = errno;
      reaper->pid = -1;
      FAIL() << "child stopped reporting after " << flushed << " records; read " << got << " waitpid " << w
             << " errno " << err << " status " << st;
    }
  }
  ::kill(child, SIGKILL);
  int status = 0;
  ::waitpid(child, &status, 0);
  reaper->pid = -1;
  reaper.reset();
  ::close(fds[0]);
  ASSERT_TRUE(WIFSIGNALED(status));
  const ReadBack got = read_back(path);
  EXPECT_GE(got.seqs.size(), flushed);
  for (size_t i = 0; i < got.seqs.size(); ++i) ASSERT_EQ(got.seqs[i], i);
  // At most a damaged tail (the kill may land mid-write), never more.
  ASSERT_LE(got.damage.size(), 1u);
  if (!got.damage.empty()) {
    EXPECT_EQ(got.damage[0].code, codes::kTruncated);
  }
  Reader r(path);
  while (r.next()) {
  }
  EXPECT_FALSE(r.files().at(0).closed_cleanly);
}

TEST(Verify, IntactFileIsOkAndCountsEverything) {
  TempDir dir;
  const std::string bytes = make_trace(dir / "t.cas", true);
  const VerifyReport v = verify(dir / "t.cas");
  EXPECT_TRUE(v.ok());
  EXPECT_EQ(v.stage_records, 180u);
  EXPECT_EQ(v.turn_records, 60u);
  size_t data_chunks = 0;
  for (const auto& c : testing::walk_chunks(bytes)) data_chunks += c.kind == 0;
  EXPECT_EQ(v.stats.chunks, data_chunks);
  EXPECT_EQ(v.stats.bytes, bytes.size());
  ASSERT_EQ(v.files.size(), 1u);
  EXPECT_TRUE(v.files[0].closed_cleanly);
  EXPECT_EQ(to_json(v)["ok"], true);
}

}  // namespace
}  // namespace cascade::trace
