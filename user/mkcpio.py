"""Writes and lists cpio archives in the "newc" format, the boot archive's format
(kern/lib/cpio.h reads it). user/SConscript packs the user programs with write_newc;
run by hand it lists an archive, in case the `cpio` tool is not installed:

    python3 user/mkcpio.py build/user/initrd.cpio

An entry is a 110-byte ASCII header ("070701" and 13 fields of 8 hex digits), the name
with its NUL, padding to 4 bytes, the data, padding to 4 bytes. The archive ends with an
entry called TRAILER!!!. Times and owners are zero so the same inputs give the same bytes.
"""

import sys

MAGIC = b"070701"
HEADER_SIZE = 110
TRAILER = "TRAILER!!!"
FIELDS = ("ino", "mode", "uid", "gid", "nlink", "mtime", "filesize",
          "devmajor", "devminor", "rdevmajor", "rdevminor", "namesize", "check")
S_IFREG = 0o100000


def _pad4(n):
    return b"\0" * (-n % 4)


def _entry(ino, name, mode, data):
    encoded = name.encode() + b"\0"
    values = {"ino": ino, "mode": mode, "nlink": 1, "filesize": len(data),
              "namesize": len(encoded)}
    header = MAGIC + b"".join(b"%08x" % values.get(f, 0) for f in FIELDS)
    assert len(header) == HEADER_SIZE
    head = header + encoded
    return head + _pad4(len(head)) + data + _pad4(len(data))


def write_newc(path, files):
    """files: (name, data bytes, permission bits) for regular files, in archive order."""
    out = []
    for ino, (name, data, perm) in enumerate(files, 1):
        out.append(_entry(ino, name, S_IFREG | perm, data))
    out.append(_entry(0, TRAILER, 0, b""))
    with open(path, "wb") as f:
        f.write(b"".join(out))


def read_newc(blob):
    """The (name, mode, data) of each entry before the trailer; raises ValueError."""
    entries, off = [], 0
    while True:
        header = blob[off:off + HEADER_SIZE]
        if len(header) < HEADER_SIZE or header[:6] not in (b"070701", b"070702"):
            raise ValueError("bad header at offset %d" % off)
        v = dict(zip(FIELDS, (int(header[6 + 8 * i:14 + 8 * i], 16) for i in range(13))))
        name_end = off + HEADER_SIZE + v["namesize"]
        name = blob[off + HEADER_SIZE:name_end - 1].decode()
        data_off = name_end + (-name_end % 4)
        data = blob[data_off:data_off + v["filesize"]]
        if len(data) != v["filesize"]:
            raise ValueError("%s: truncated" % name)
        if name == TRAILER:
            return entries
        entries.append((name, v["mode"], data))
        off = data_off + v["filesize"] + (-v["filesize"] % 4)


def main(argv):
    if len(argv) != 2:
        sys.exit("usage: mkcpio.py ARCHIVE   (lists a newc archive)")
    with open(argv[1], "rb") as f:
        for name, mode, data in read_newc(f.read()):
            print("%06o %8d %s" % (mode, len(data), name))


if __name__ == "__main__":
    main(sys.argv)
