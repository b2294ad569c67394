// end_totals_test.cpp — a closed file's end chunk counts its record chunks
// and records; a chunk removed or added whole, with every checksum intact,
// is damage (T013), not an OK trace with turns missing.
#include "test_util.hpp"

#include <cascade/trace/tools.hpp>

namespace cascade::trace {
namespace {

using testing::ChunkPos;
using testing::TempDir;

std::string make_closed_trace(const std::filesystem::path& p) {
  Writer w(WriterOptions{.path = p, .chunk_bytes = 1024});
  for (const auto& t : testing::make_run(60)) testing::write_turn(w, t);
  w.close();
  return testing::read_bytes(p);
}

std::vector<ChunkPos> data_chunks(const std::string& bytes) {
  std::vector<ChunkPos> out;
  for (const auto& c : testing::walk_chunks(bytes))
    if (c.kind == 0) out.push_back(c);
  return out;
}

TEST(EndTotals, AChunkCutOutWholeIsT013AtTheEndChunk) {
  TempDir dir;
  std::string bytes = make_closed_trace(dir / "t.cas");
  const auto chunks = data_chunks(bytes);
  ASSERT_GE(chunks.size(), 4u);
  const ChunkPos victim = chunks[1];
  bytes.erase(victim.offset, victim.size);  // every remaining checksum still holds
  testing::write_bytes(dir / "t.cas", bytes);
  const VerifyReport v = verify(dir / "t.cas");
  EXPECT_FALSE(v.ok());
  ASSERT_EQ(v.damage.size(), 1u) << v.damage.front().format();
  EXPECT_EQ(v.damage[0].code, codes::kTotals);
  const ChunkPos end = testing::walk_chunks(bytes).back();
  EXPECT_EQ(v.damage[0].offset, end.offset);
  EXPECT_NE(v.damage[0].message.find(std::to_string(chunks.size()) + " record chunk(s)"), std::string::npos)
      << v.damage[0].message;
  EXPECT_NE(format_text(v).find("error[T013]"), std::string::npos);
  EXPECT_EQ(v.stats.chunks, chunks.size() - 1);  // the rest still reads
}

TEST(EndTotals, AChunkAddedTwiceIsT013) {
  TempDir dir;
  std::string bytes = make_closed_trace(dir / "t.cas");
  const ChunkPos copy = data_chunks(bytes)[2];
  bytes.insert(copy.offset, bytes.substr(copy.offset, copy.size));
  testing::write_bytes(dir / "t.cas", bytes);
  const VerifyReport v = verify(dir / "t.cas");
  ASSERT_EQ(v.damage.size(), 1u);
  EXPECT_EQ(v.damage[0].code, codes::kTotals);
}

TEST(EndTotals, AnIntactFileAndADamagedChunkAreNotT013) {
  TempDir dir;
  std::string bytes = make_closed_trace(dir / "t.cas");
  EXPECT_TRUE(verify(dir / "t.cas").ok());
  // A checksum failure is reported as itself (T006); the chunk is still
  // counted, so the totals agree.
  const ChunkPos victim = data_chunks(bytes)[2];
  bytes[victim.offset + 32 + 10] ^= 0x01;
  testing::write_bytes(dir / "t.cas", bytes);
  const VerifyReport v = verify(dir / "t.cas");
  ASSERT_EQ(v.damage.size(), 1u) << v.damage.back().format();
  EXPECT_EQ(v.damage[0].code, codes::kChecksum);
}

TEST(EndTotals, EveryFileOfARotatedRunIsCheckedOnItsOwn) {
  TempDir dir;
  {
    Writer w(WriterOptions{.path = dir / "rot", .rotate_bytes = 4096, .chunk_bytes = 1024});
    for (const auto& t : testing::make_run(60)) testing::write_turn(w, t);
    w.close();
  }
  const auto files = trace_files(dir / "rot");
  ASSERT_GE(files.size(), 3u);
  EXPECT_TRUE(verify(dir / "rot").ok());
  std::string second = testing::read_bytes(files[1]);
  const ChunkPos victim = data_chunks(second).front();
  second.erase(victim.offset, victim.size);
  testing::write_bytes(files[1], second);
  const VerifyReport v = verify(dir / "rot");
  ASSERT_EQ(v.damage.size(), 1u);
  EXPECT_EQ(v.damage[0].code, codes::kTotals);
  EXPECT_EQ(v.damage[0].file, files[1]);
}

}  // namespace
}  // namespace cascade::trace
