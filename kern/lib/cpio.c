// Reading a cpio archive in the "newc" format (see cpio.h). Each entry is a 110-byte
// ASCII header, the name (namesize bytes, NUL included), padding to a multiple of 4,
// the data (filesize bytes), padding to a multiple of 4. The header is "070701" (or
// "070702", the same with a checksum we do not verify) then 13 fields of 8 hex digits.
// The archive ends with an entry named "TRAILER!!!". All offsets are checked against the
// archive size in a form that cannot wrap.
#include "lib/cpio.h"

#include "abi/errno.h"
#include "lib/string.h"

#define HEADER_SIZE 110
#define MAGIC_LEN   6
#define FIELD_LEN   8

// Field numbers after the magic, in header order.
enum {
    F_INO,
    F_MODE,
    F_UID,
    F_GID,
    F_NLINK,
    F_MTIME,
    F_FILESIZE,
    F_DEVMAJOR,
    F_DEVMINOR,
    F_RDEVMAJOR,
    F_RDEVMINOR,
    F_NAMESIZE,
    F_CHECK,
};

static const char trailer[] = "TRAILER!!!";

static int within(uint64_t off, uint64_t len, uint64_t size)
{
    return off <= size && len <= size - off;
}

// Field f of the header at h: 8 hex digits. Returns 0, or E_INVAL for any other character.
static int field(const char *h, int f, uint32_t *value)
{
    const char *s = h + MAGIC_LEN + f * FIELD_LEN;
    uint32_t v = 0;
    for (int i = 0; i < FIELD_LEN; i++) {
        char c = s[i];
        int d;
        if (c >= '0' && c <= '9')
            d = c - '0';
        else if (c >= 'a' && c <= 'f')
            d = c - 'a' + 10;
        else if (c >= 'A' && c <= 'F')
            d = c - 'A' + 10;
        else
            return E_INVAL;
        v = v << 4 | (uint32_t)d;
    }
    *value = v;
    return 0;
}

static uint64_t align4(uint64_t x)
{
    return (x + 3) & ~3ULL;
}

// Reads the entry at off into file; *next is where the one after it starts (at most
// size, so a last entry without its padding is still accepted).
static int parse_entry(const char *a, uint64_t size, uint64_t off, struct cpio_file *file,
                       uint64_t *next)
{
    if (!within(off, HEADER_SIZE, size))
        return E_INVAL;
    const char *h = a + off;
    if (memcmp(h, "070701", MAGIC_LEN) != 0 && memcmp(h, "070702", MAGIC_LEN) != 0)
        return E_INVAL;
    uint32_t mode, filesize, namesize;
    if (field(h, F_MODE, &mode) < 0 || field(h, F_FILESIZE, &filesize) < 0 ||
        field(h, F_NAMESIZE, &namesize) < 0)
        return E_INVAL;
    uint64_t name_off = off + HEADER_SIZE;  // <= size, checked above
    if (namesize == 0 || !within(name_off, namesize, size) || a[name_off + namesize - 1] != '\0')
        return E_INVAL;
    // Each value is below 2^32 and off <= size, so these sums cannot wrap.
    uint64_t data_off = align4(name_off + namesize);
    if (!within(data_off, filesize, size))
        return E_INVAL;
    file->name = a + name_off;
    file->name_len = namesize - 1;
    file->data = a + data_off;
    file->size = filesize;
    file->mode = mode;
    uint64_t end = align4(data_off + filesize);
    *next = end < size ? end : size;
    return 0;
}

static int is_trailer(const struct cpio_file *f)
{
    return f->name_len == sizeof(trailer) - 1 && memcmp(f->name, trailer, f->name_len) == 0;
}

int cpio_next(const void *archive, uint64_t size, uint64_t *offset, struct cpio_file *file)
{
    if (!archive || !offset || *offset > size)
        return E_INVAL;
    if (*offset == size)
        return 0;
    uint64_t next;
    if (parse_entry(archive, size, *offset, file, &next) < 0)
        return E_INVAL;
    if (is_trailer(file))
        return 0;  // *offset stays on the trailer: calling again answers 0 again
    *offset = next;
    return 1;
}

// Drops leading "./" (any number of them) from a name.
static void skip_dot_slash(const char **name, uint64_t *len)
{
    while (*len >= 2 && (*name)[0] == '.' && (*name)[1] == '/') {
        *name += 2;
        *len -= 2;
    }
}

int cpio_find(const void *archive, uint64_t size, const char *name, struct cpio_file *file)
{
    if (!name)
        return E_INVAL;
    uint64_t want_len = strlen(name);
    skip_dot_slash(&name, &want_len);
    uint64_t off = 0;
    struct cpio_file f;
    int r;
    while ((r = cpio_next(archive, size, &off, &f)) == 1) {
        const char *n = f.name;
        uint64_t n_len = f.name_len;
        skip_dot_slash(&n, &n_len);
        if (n_len == want_len && memcmp(n, name, n_len) == 0) {
            *file = f;
            return 0;
        }
    }
    return r < 0 ? E_INVAL : E_NOENT;
}
