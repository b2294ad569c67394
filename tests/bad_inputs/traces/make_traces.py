#!/usr/bin/env python3
"""Makes the damaged traces of this corpus from good.cas (kept in git, so
this runs only when the corpus changes; needs libxxhash).

good.cas: `cascade run pipelines/text-minimal.toml --max-in-flight 1` over 6
text turns: a file header, six record chunks of one turn each, an end chunk
(layout: traces/FORMAT.md). Each damaged file and the code it must get are
listed in ../expected.txt.
"""
import ctypes
import pathlib
import struct

here = pathlib.Path(__file__).parent
xxh = ctypes.CDLL('libxxhash.so.0')
xxh.XXH3_64bits.restype = ctypes.c_uint64
xxh.XXH3_64bits.argtypes = [ctypes.c_char_p, ctypes.c_size_t]


def xxh3(b):
    return xxh.XXH3_64bits(bytes(b), len(b))


good = (here / 'good.cas').read_bytes()


def chunks(b):
    at = struct.unpack_from('<I', b, 12)[0]
    out = []
    while at + 32 <= len(b):
        length = struct.unpack_from('<I', b, at + 8)[0]
        out.append((at, 32 + length))
        at += 32 + length
    return out


def reframe(b, at):
    """Recomputes both checksums of the chunk at `at` (its damage is then
    visible only to checks beyond the checksums)."""
    length = struct.unpack_from('<I', b, at + 8)[0]
    struct.pack_into('<Q', b, at + 16, xxh3(b[at + 32:at + 32 + length]))
    struct.pack_into('<Q', b, at + 24, xxh3(b[at:at + 24]))


c = chunks(good)
cases = {}

cases['cut_mid_chunk'] = good[:c[2][0] + 100]
cases['cut_in_chunk_header'] = good[:c[2][0] + 10]
cases['cut_in_file_header'] = good[:20]

b = bytearray(good)
b[c[2][0] + 32 + 40] ^= 0x04
cases['bitflip_payload'] = b

b = bytearray(good)
b[c[1][0] + 9] ^= 0x01  # the length field, covered by the header checksum
cases['bitflip_chunk_header'] = b

b = bytearray(good)
b[20] ^= 0x40  # run_id, covered by the file header checksum
cases['bitflip_file_header'] = b

b = bytearray(good)
struct.pack_into('<I', b, c[3][0] + 8, 0xFFFFFFF0)  # a 4 GiB chunk, announced with a valid header
struct.pack_into('<Q', b, c[3][0] + 24, xxh3(b[c[3][0]:c[3][0] + 24]))
cases['huge_chunk_length'] = b

b = bytearray(good)
at = c[1][0] + 32  # the first record of chunk 2: a 16 MiB body in a 200-byte chunk
head = struct.unpack_from('<I', b, at)[0]
struct.pack_into('<I', b, at, (head & 0xFF) | (0xFFFFFE << 8))
reframe(b, c[1][0])
cases['huge_record_length'] = b

b = bytearray(good)
at = c[1][0] + 32  # the escape: the real length follows as a u64 (2^63)
head = struct.unpack_from('<I', b, at)[0]
b[at:at + 4] = struct.pack('<I', (head & 0xFF) | (0xFFFFFF << 8)) + struct.pack('<Q', 1 << 63)
struct.pack_into('<I', b, c[1][0] + 8, c[1][1] - 32 + 8)
reframe(b, c[1][0])
cases['huge_record_length_u64'] = b

cases['chunk_dropped'] = good[:c[2][0]] + good[c[2][0] + c[2][1]:]
cases['chunk_duplicated'] = good[:c[2][0]] + good[c[2][0]:c[2][0] + c[2][1]] * 2 + good[c[2][0] + c[2][1]:]

b = bytearray(good)
b[0:8] = b'NOTTRACE'
cases['wrong_magic'] = b

b = bytearray(good)
struct.pack_into('<H', b, 8, 99)
cases['version_99'] = b

b = bytearray(good)  # an earlier version, its header checksum valid
struct.pack_into('<H', b, 8, 4)
header_len = struct.unpack_from('<I', b, 12)[0]
struct.pack_into('<Q', b, header_len - 8, xxh3(b[:header_len - 8]))
cases['version_4'] = b

cases['empty'] = b''
cases['text_file'] = b'this is not a trace\n' * 10

for name, data in cases.items():
    (here / f'{name}.cas').write_bytes(bytes(data))
