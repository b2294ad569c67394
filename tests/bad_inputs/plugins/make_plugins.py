#!/usr/bin/env python3
"""Makes the bad plugin files of this corpus (expected.txt says what each
must get). Small hand-made ELF files: the loader refuses them from their
headers, before any code of theirs could run, so they need no code.
   python3 make_plugins.py   (in this directory)"""
import struct

EHDR = struct.Struct("<16sHHIQQQIHHHHHH")  # Elf64_Ehdr
SHDR = struct.Struct("<IIQQQQIIQQ")       # Elf64_Shdr
SHT_DYNSYM, SHT_STRTAB = 11, 3


def elf(sections, shoff=None):
    """An ELF64 little-endian ET_DYN header, then the section headers."""
    ident = b"\x7fELF" + bytes([2, 1, 1]) + bytes(9)
    shoff = EHDR.size if shoff is None else shoff
    head = EHDR.pack(ident, 3, 62, 1, 0, 0, shoff, 0, EHDR.size, 0, 0, SHDR.size, len(sections), 0)
    return head + b"".join(SHDR.pack(*s) for s in sections)


null = (0, 0, 0, 0, 0, 0, 0, 0, 0, 0)
# A dynamic symbol table claiming 2^60 bytes (an allocation the size of the
# claim would fail: it must be refused by its size first).
huge_dynsym = (0, SHT_DYNSYM, 0, 0, 0, 1 << 60, 2, 0, 8, 24)
strtab = (0, SHT_STRTAB, 0, 0, 0, 1, 0, 0, 1, 0)
# A string table claiming 2^62 bytes behind a sane (empty) symbol table.
empty_dynsym = (0, SHT_DYNSYM, 0, 0, 0, 0, 2, 0, 8, 24)
huge_strtab = (0, SHT_STRTAB, 0, 0, 0, 1 << 62, 0, 0, 1, 0)

files = {
    "huge_symbol_table.so": elf([null, huge_dynsym, strtab]),
    "huge_string_table.so": elf([null, empty_dynsym, huge_strtab]),
    "not_elf.so": b"this is a text file, not a shared library\n",
    "section_headers_past_end.so": elf([null], shoff=1 << 40),
}
for name, data in files.items():
    with open(name, "wb") as f:
        f.write(data)
