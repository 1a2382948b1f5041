// Tests of kern/lib/cpio.c, the reader of the boot archive. Archives are written here
// by a small newc writer of the test's own, then read back; broken ones (bad magic, bad
// hex digits, names without their NUL, sizes past the end or near 2^32) must give
// E_INVAL, and every truncation of a good archive is tried on an exact-size heap copy so
// AddressSanitizer sees any read past its end. Last, the boot archive the build made
// (build/user/initrd.cpio, written by user/mkcpio.py) is read, and each program in it
// must be a valid ELF: the Python writer checked against the C reader.
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "abi/errno.h"
#include "check.h"
#include "lib/cpio.h"
#include "lib/elf.h"
#include "lib/string.h"

#define S_REG       0100644
#define S_DIR       0040755
#define HEADER_SIZE 110

struct archive {
    uint8_t bytes[8192];
    uint64_t size;
    // For each entry: where its header starts, and where its data ends (before padding).
    uint64_t start[16], data_end[16];
    int count;
};

static void pad4(struct archive *a)
{
    while (a->size % 4)
        a->bytes[a->size++] = 0;
}

// One entry. The 13 fields after the magic: ino, mode, uid, gid, nlink, mtime, filesize,
// devmajor, devminor, rdevmajor, rdevminor, namesize, check. upper: hex in capitals.
static void add_entry(struct archive *a, const char *name, uint32_t mode, const void *data,
                      uint32_t size, bool upper)
{
    uint32_t namesize = (uint32_t)strlen(name) + 1;
    uint32_t fields[13] = {
        (uint32_t)a->count + 1, mode, 0, 0, 1, 0, size, 0, 0, 0, 0, namesize, 0
    };
    a->start[a->count] = a->size;
    char *h = (char *)a->bytes + a->size;
    memcpy(h, "070701", 6);
    for (int i = 0; i < 13; i++) {
        char field[9];
        snprintf(field, sizeof(field), upper ? "%08X" : "%08x", fields[i]);
        memcpy(h + 6 + 8 * i, field, 8);
    }
    a->size += HEADER_SIZE;
    memcpy(a->bytes + a->size, name, namesize);
    a->size += namesize;
    pad4(a);
    memcpy(a->bytes + a->size, data, size);
    a->size += size;
    a->data_end[a->count++] = a->size;
    pad4(a);
}

static void add_file(struct archive *a, const char *name, const char *text)
{
    add_entry(a, name, S_REG, text, (uint32_t)strlen(text), false);
}

static void add_trailer(struct archive *a)
{
    add_entry(a, "TRAILER!!!", 0, "", 0, false);
}

// init, ./bin/sh, an empty file, a directory, the trailer, and a file after it.
static void build_sample(struct archive *a)
{
    memset(a, 0, sizeof(*a));
    add_file(a, "init", "the init program");
    add_entry(a, "./bin/sh", S_REG, "shell!", 6, true);
    add_file(a, "empty", "");
    add_entry(a, "bin", S_DIR, "", 0, false);
    add_trailer(a);
    add_file(a, "ghost", "after the end");
}

static uint8_t *copy_of(const uint8_t *bytes, uint64_t size)
{
    uint8_t *c = malloc(size ? size : 1);
    memcpy(c, bytes, size);
    return c;
}

static int find_copy(const uint8_t *bytes, uint64_t size, const char *name)
{
    uint8_t *c = copy_of(bytes, size);
    struct cpio_file f;
    int r = cpio_find(c, size, name, &f);
    free(c);
    return r;
}

static bool file_is(const struct cpio_file *f, const char *name, const char *data)
{
    return f->name_len == strlen(name) && memcmp(f->name, name, f->name_len) == 0 &&
           f->size == strlen(data) && memcmp(f->data, data, f->size) == 0;
}

static void test_find(void)
{
    struct archive a;
    build_sample(&a);
    struct cpio_file f;
    CHECK_EQ_INT(cpio_find(a.bytes, a.size, "init", &f), 0);
    CHECK(file_is(&f, "init", "the init program"));
    CHECK_EQ_INT(f.mode, S_REG);
    CHECK_EQ_INT((const uint8_t *)f.data - a.bytes, 116);  // 110 + "init\0", padded to 4

    CHECK_EQ_INT(cpio_find(a.bytes, a.size, "bin/sh", &f), 0);  // "./" in the archive
    CHECK(file_is(&f, "./bin/sh", "shell!"));
    CHECK_EQ_INT(cpio_find(a.bytes, a.size, "./bin/sh", &f), 0);  // and in the question
    CHECK_EQ_INT(cpio_find(a.bytes, a.size, "././bin/sh", &f), 0);
    CHECK_EQ_INT(cpio_find(a.bytes, a.size, "empty", &f), 0);
    CHECK_EQ_INT(f.size, 0);
    CHECK_EQ_INT(cpio_find(a.bytes, a.size, "bin", &f), 0);
    CHECK_EQ_INT(f.mode, S_DIR);

    const char *missing[] = { "sh", "ini", "initx", "", "/init", "bin/", "TRAILER!!!", "ghost" };
    for (size_t i = 0; i < sizeof(missing) / sizeof(missing[0]); i++)
        if (!CHECK_EQ_INT(cpio_find(a.bytes, a.size, missing[i], &f), E_NOENT) && check_reporting())
            printf("  (looking for \"%s\")\n", missing[i]);
    CHECK_EQ_INT(cpio_find(a.bytes, a.size, NULL, &f), E_INVAL);
}

static void test_walk(void)
{
    struct archive a;
    build_sample(&a);
    const char *names[] = { "init", "./bin/sh", "empty", "bin" };
    uint64_t off = 0;
    struct cpio_file f;
    for (int i = 0; i < 4; i++) {
        CHECK_EQ_INT(cpio_next(a.bytes, a.size, &off, &f), 1);
        CHECK(f.name_len == strlen(names[i]) && memcmp(f.name, names[i], f.name_len) == 0);
        CHECK_EQ_INT(off, a.start[i + 1]);
    }
    CHECK_EQ_INT(cpio_next(a.bytes, a.size, &off, &f), 0);  // the trailer
    CHECK_EQ_INT(cpio_next(a.bytes, a.size, &off, &f), 0);  // and it stays there
    CHECK_EQ_INT(off, a.start[4]);

    off = a.size + 1;
    CHECK_EQ_INT(cpio_next(a.bytes, a.size, &off, &f), E_INVAL);
    off = 0;
    CHECK_EQ_INT(cpio_next(NULL, a.size, &off, &f), E_INVAL);
    CHECK_EQ_INT(cpio_next(a.bytes, a.size, NULL, &f), E_INVAL);
}

// An empty archive, one that is only a trailer, and one without a trailer whose last
// file lacks its padding: the end of the data ends the walk.
static void test_ends(void)
{
    struct cpio_file f;
    uint64_t off = 0;
    CHECK_EQ_INT(cpio_next((const void *)"", 0, &off, &f), 0);
    CHECK_EQ_INT(find_copy((const uint8_t *)"", 0, "init"), E_NOENT);

    struct archive a;
    memset(&a, 0, sizeof(a));
    add_trailer(&a);
    CHECK_EQ_INT(find_copy(a.bytes, a.size, "init"), E_NOENT);

    memset(&a, 0, sizeof(a));
    add_file(&a, "a", "xyz");
    add_file(&a, "b", "12345");
    uint64_t unpadded = a.data_end[1];
    CHECK(unpadded % 4 != 0);
    CHECK_EQ_INT(find_copy(a.bytes, unpadded, "b"), 0);
    CHECK_EQ_INT(find_copy(a.bytes, unpadded, "a"), 0);
    CHECK_EQ_INT(find_copy(a.bytes, unpadded, "c"), E_NOENT);
}

// True when a walk may legitimately end (E_NOENT) at n bytes: at an entry's start, or
// inside the padding after an entry's data.
static bool may_end_at(const struct archive *a, uint64_t n)
{
    for (int i = 0; i < a->count; i++) {
        if (n == a->start[i])
            return true;
        if (n >= a->data_end[i] && n < a->data_end[i] + 4 &&
            (i + 1 == a->count || n <= a->start[i + 1]))
            return true;
    }
    return false;
}

static void test_truncated(void)
{
    struct archive a;
    build_sample(&a);
    uint64_t full = a.start[4] + HEADER_SIZE + 11;  // through the trailer's name
    for (uint64_t n = 0; n < full; n++) {
        int r = find_copy(a.bytes, n, "missing");
        int want = may_end_at(&a, n) ? E_NOENT : E_INVAL;
        if (!CHECK_EQ_INT(r, want) && check_reporting())
            printf("  (archive cut to %lu bytes)\n", (unsigned long)n);
        // "init" is whole from its data's end on; before that, it cannot be found.
        r = find_copy(a.bytes, n, "init");
        CHECK(n >= a.data_end[0] ? r == 0 : r == E_INVAL || (n == 0 && r == E_NOENT));
    }
}

// Each breakage of the first header: E_INVAL, whatever is looked for.
struct breakage {
    const char *what;
    int at;  // offset in the first header
    const char *text;
};

static const struct breakage breakages[] = {
    { "old binary magic", 0, "070707" },
    { "magic with a letter", 5, "x" },
    { "no magic", 0, "\0\0\0\0\0\0" },
    { "g in filesize", 6 + 6 * 8 + 7, "g" },
    { "space in namesize", 6 + 11 * 8, " " },
    { "sign in mode", 6 + 1 * 8, "-" },
    { "0x in filesize", 6 + 6 * 8, "0x" },
    { "namesize 0", 6 + 11 * 8, "00000000" },
    { "namesize huge", 6 + 11 * 8, "FFFFFFFF" },
    { "namesize past end", 6 + 11 * 8, "00001000" },
    { "name without NUL", 6 + 11 * 8, "00000004" },
    { "filesize past end", 6 + 6 * 8, "00002000" },
    { "filesize huge", 6 + 6 * 8, "ffffffff" },
};

static void test_broken(void)
{
    for (size_t i = 0; i < sizeof(breakages) / sizeof(breakages[0]); i++) {
        const struct breakage *b = &breakages[i];
        struct archive a;
        build_sample(&a);
        size_t len = b->text[0] ? strlen(b->text) : 6;
        memcpy(a.bytes + b->at, b->text, len);
        int r1 = find_copy(a.bytes, a.size, "bin/sh");
        int r2 = find_copy(a.bytes, a.size, "init");
        if (!(CHECK_EQ_INT(r1, E_INVAL) & CHECK_EQ_INT(r2, E_INVAL)) && check_reporting())
            printf("  (archive with %s)\n", b->what);
    }
    // The checksum variant of the format reads the same.
    struct archive a;
    build_sample(&a);
    memcpy(a.bytes, "070702", 6);
    CHECK_EQ_INT(find_copy(a.bytes, a.size, "init"), 0);
    // A broken entry after the one looked for is never reached; before it, it is.
    build_sample(&a);
    memcpy(a.bytes + a.start[2], "XXXXXX", 6);
    CHECK_EQ_INT(find_copy(a.bytes, a.size, "init"), 0);
    CHECK_EQ_INT(find_copy(a.bytes, a.size, "bin"), E_INVAL);
}

// ---- the real boot archive -----------------------------------------------------------

static void test_boot_archive(const char *path, bool given)
{
    uint64_t size;
    uint8_t *archive = check_read_file(path, &size);
    if (!archive) {
        CHECK(!given);
        if (!given)
            printf("test_cpio: no %s (run from the top of the tree after scons)\n", path);
        return;
    }
    uint64_t off = 0;
    struct cpio_file f;
    int n = 0, r;
    while ((r = cpio_next(archive, size, &off, &f)) == 1) {
        if (n++ == 0)
            CHECK(f.name_len == 4 && memcmp(f.name, "init", 4) == 0);  // init comes first
        CHECK_EQ_INT(f.mode & 0170000, 0100000);
        uint64_t entry;
        if (!CHECK_EQ_INT(elf_check(f.data, f.size, &entry), 0) && check_reporting())
            printf("  (%.*s in %s)\n", (int)f.name_len, f.name, path);
    }
    CHECK_EQ_INT(r, 0);
    CHECK(off < size);  // stopped at the trailer, not at the end of the data
    const char *needed[] = { "init", "hello", "usertests", "faulter" };
    for (size_t i = 0; i < sizeof(needed) / sizeof(needed[0]); i++)
        if (!CHECK_EQ_INT(cpio_find(archive, size, needed[i], &f), 0) && check_reporting())
            printf("  (%s not in %s)\n", needed[i], path);
    free(archive);
}

int main(int argc, char **argv)
{
    test_find();
    test_walk();
    test_ends();
    test_truncated();
    test_broken();
    test_boot_archive(argc > 1 ? argv[1] : "build/user/initrd.cpio", argc > 1);
    return check_done("test_cpio");
}
