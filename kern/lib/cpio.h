// Reading a cpio archive in the "newc" format (what `cpio -H newc` writes): the boot
// archive the kernel gets as its initrd. Pure code, bounds-checked against the archive.
#pragma once

#include <stdint.h>

struct cpio_file {
    const char *name;  // not NUL-terminated in the archive: use name_len
    uint64_t name_len;
    const void *data;
    uint64_t size;
    uint32_t mode;  // type and permission bits, as stat's st_mode
};

// Walks the archive: *offset starts at 0. Returns 1 with the next file, 0 at the
// TRAILER!!! entry (or at the end of the archive), E_INVAL when it is corrupt.
int cpio_next(const void *archive, uint64_t size, uint64_t *offset, struct cpio_file *file);

// Finds the file called name ("init", "bin/sh": no leading slash, "./" prefixes
// ignored). Returns 0 and fills file, E_NOENT, or E_INVAL for a corrupt archive.
int cpio_find(const void *archive, uint64_t size, const char *name, struct cpio_file *file);
