// fuzz_trace.cpp — the trace reader (traces/src/reader.cpp) and the tools
// users run on a trace someone sent them, on any bytes.
//
// The input is a .cas file. It is read as `cascade trace verify`, `cat`
// (per record and per turn), `stats` and `export` (Perfetto, OTLP) and the
// redacted views read it. The reader may throw TraceError only when the
// file cannot be used at all (T001/T003/T004); damage further in is
// reported, never thrown.
#include "fuzz_support.hpp"

#include <cascade/trace/tools.hpp>

#include <ostream>
#include <streambuf>

namespace {

// Output that goes nowhere (the JSON is built all the same).
class NullBuffer final : public std::streambuf {
 protected:
  int_type overflow(int_type c) override { return traits_type::not_eof(c); }
  std::streamsize xsputn(const char*, std::streamsize n) override { return n; }
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace cascade::trace;
  const auto file = cascade::fuzz::Scratch::get().write("trace.cas", cascade::fuzz::as_text(data, size));
  NullBuffer null_buffer;
  std::ostream null_out(&null_buffer);
  try {
    (void)verify(file);
    CatOptions per_record;
    per_record.redact = true;
    (void)cat(file, per_record, null_out);
    TraceData trace = read_turns(file);
    for (const auto& t : trace.turns) null_out << dump_line(to_json(t));
    (void)format_text(compute_stats(trace));
    (void)dump_line(export_perfetto(trace));
    (void)dump_line(export_otlp(trace));
    redact(trace, RedactOptions{});
    (void)dump_line(export_otlp(trace));
  } catch (const TraceError&) {
    // The file cannot be used at all: a coded refusal is the right answer.
  }
  return 0;
}
