// Tests of kern/lib/elf.c, the ELF reader the kernel and spawn() load programs with.
// Images are built here field by field (a builder independent of the reader), then
// broken one field at a time: every broken image must give E_INVAL. Each image is
// copied into a heap block of exactly its size, so AddressSanitizer reports any read
// past the end, and every truncation of a good image is tried. Last, the real user
// programs the build made (build/user/...) are checked, with the promises user.ld makes:
// entry at the first segment (the program's own base, at or above USER_MIN), page-aligned
// segments, one protection each, none writable and executable.
// Run from the top of the tree (as `scons test` does) to include them; a program path
// given as an argument is checked instead.
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "abi/errno.h"
#include "abi/types.h"
#include "check.h"
#include "lib/elf.h"
#include "lib/string.h"

#define EHDR_SIZE 64
#define PHDR_SIZE 56
#define PT_LOAD   1
#define PT_NOTE   4
#define PF_X      1
#define PF_W      2
#define PF_R      4
#define KERNEL_VA 0xffffffc080200000ULL

static void put(uint8_t *p, uint64_t v, int bytes)
{
    for (int i = 0; i < bytes; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

struct seg_spec {
    uint32_t type, flags;
    uint64_t vaddr, filesz, memsz;
};

// A test image: the bytes, and where each header field is, to break it afterwards.
struct image {
    uint8_t bytes[4096];
    uint64_t size;
    int nseg;
};

static uint8_t *phdr(struct image *im, int i)
{
    return im->bytes + EHDR_SIZE + i * PHDR_SIZE;
}

// ELF header, program headers, then each segment's file bytes (a pattern) in order.
static void build(struct image *im, const struct seg_spec *segs, int n, uint64_t entry)
{
    memset(im, 0, sizeof(*im));
    uint8_t *e = im->bytes;
    const uint8_t ident[] = { 0x7f, 'E', 'L', 'F', 2, 1, 1 };
    memcpy(e, ident, sizeof(ident));
    put(e + 16, 2, 2);    // e_type ET_EXEC
    put(e + 18, 243, 2);  // e_machine EM_RISCV
    put(e + 20, 1, 4);    // e_version
    put(e + 24, entry, 8);
    put(e + 32, EHDR_SIZE, 8);  // e_phoff
    put(e + 52, EHDR_SIZE, 2);  // e_ehsize
    put(e + 54, PHDR_SIZE, 2);
    put(e + 56, (uint64_t)n, 2);
    uint64_t off = EHDR_SIZE + (uint64_t)n * PHDR_SIZE;
    for (int i = 0; i < n; i++) {
        uint8_t *ph = phdr(im, i);
        put(ph + 0, segs[i].type, 4);
        put(ph + 4, segs[i].flags, 4);
        put(ph + 8, off, 8);
        put(ph + 16, segs[i].vaddr, 8);
        put(ph + 24, segs[i].vaddr, 8);  // p_paddr
        put(ph + 32, segs[i].filesz, 8);
        put(ph + 40, segs[i].memsz, 8);
        put(ph + 48, 4096, 8);
        for (uint64_t k = 0; k < segs[i].filesz; k++)
            im->bytes[off + k] = (uint8_t)(i * 16 + k);
        off += segs[i].filesz;
    }
    im->size = off;
    im->nseg = n;
}

// text (entry inside), a note (not PT_LOAD: skipped), data with .bss.
static const struct seg_spec good_segs[] = {
    { PT_LOAD, PF_R | PF_X, 0x10000, 100, 100 },
    { PT_NOTE, PF_R, 0x20000, 8, 8 },
    { PT_LOAD, PF_R | PF_W, 0x11000, 40, 300 },
};
#define GOOD_ENTRY 0x10010

static void build_good(struct image *im)
{
    build(im, good_segs, 3, GOOD_ENTRY);
}

// elf_check on an exact-size heap copy of bytes[0, size).
static int check_copy(const uint8_t *bytes, uint64_t size, uint64_t *entry)
{
    uint8_t *copy = malloc(size ? size : 1);
    memcpy(copy, bytes, size);
    int r = elf_check(copy, size, entry);
    free(copy);
    return r;
}

static int segment_copy(const uint8_t *bytes, uint64_t size, int i, struct elf_segment *seg)
{
    uint8_t *copy = malloc(size ? size : 1);
    memcpy(copy, bytes, size);
    int r = elf_segment(copy, size, i, seg);
    free(copy);
    return r;
}

static void test_good(void)
{
    struct image im;
    build_good(&im);
    uint64_t entry = 0;
    CHECK_EQ_INT(check_copy(im.bytes, im.size, &entry), 0);
    CHECK_EQ_INT(entry, GOOD_ENTRY);
    CHECK_EQ_INT(elf_check(im.bytes, im.size, NULL), 0);  // entry is optional

    struct elf_segment s;
    CHECK_EQ_INT(segment_copy(im.bytes, im.size, 0, &s), 1);
    CHECK_EQ_INT(s.vaddr, 0x10000);
    CHECK_EQ_INT(s.filesz, 100);
    CHECK_EQ_INT(s.memsz, 100);
    CHECK_EQ_INT(s.offset, EHDR_SIZE + 3 * PHDR_SIZE);
    CHECK_EQ_INT(s.prot, PROT_READ | PROT_EXEC);
    CHECK_EQ_INT(im.bytes[s.offset + 5], 5);  // the builder's pattern, segment 0

    CHECK_EQ_INT(segment_copy(im.bytes, im.size, 1, &s), 1);  // the note is skipped
    CHECK_EQ_INT(s.vaddr, 0x11000);
    CHECK_EQ_INT(s.filesz, 40);
    CHECK_EQ_INT(s.memsz, 300);
    CHECK_EQ_INT(s.prot, PROT_READ | PROT_WRITE);
    CHECK_EQ_INT(im.bytes[s.offset], 2 * 16);  // segment 2's bytes

    CHECK_EQ_INT(segment_copy(im.bytes, im.size, 2, &s), 0);
    CHECK_EQ_INT(segment_copy(im.bytes, im.size, 100, &s), 0);
    CHECK_EQ_INT(segment_copy(im.bytes, im.size, -1, &s), E_INVAL);
}

// The reader takes any alignment: a cpio archive aligns files to 4 bytes only.
static void test_unaligned(void)
{
    struct image im;
    build_good(&im);
    for (int shift = 1; shift < 8; shift++) {
        uint8_t *block = malloc(im.size + shift);
        memcpy(block + shift, im.bytes, im.size);
        uint64_t entry = 0;
        CHECK_EQ_INT(elf_check(block + shift, im.size, &entry), 0);
        CHECK_EQ_INT(entry, GOOD_ENTRY);
        struct elf_segment s;
        CHECK_EQ_INT(elf_segment(block + shift, im.size, 1, &s), 1);
        CHECK_EQ_INT(s.memsz, 300);
        free(block);
    }
}

// Every proper prefix of the image lacks something: all are E_INVAL, and none is read
// past its end (ASan).
static void test_truncated(void)
{
    struct image im;
    build_good(&im);
    struct elf_segment s;
    for (uint64_t n = 0; n < im.size; n++) {
        if (!CHECK_EQ_INT(check_copy(im.bytes, n, NULL), E_INVAL) && check_reporting())
            printf("  (truncated to %lu of %lu bytes)\n", (unsigned long)n, (unsigned long)im.size);
        int r0 = segment_copy(im.bytes, n, 0, &s), r1 = segment_copy(im.bytes, n, 1, &s);
        CHECK(r0 == E_INVAL || r0 == 1);
        CHECK(r1 == E_INVAL || r1 == 1);
    }
    CHECK_EQ_INT(elf_check(NULL, 0, NULL), E_INVAL);
    CHECK_EQ_INT(elf_check(NULL, 4096, NULL), E_INVAL);
    CHECK_EQ_INT(elf_segment(NULL, 4096, 0, &s), E_INVAL);
}

// One broken field at a time; each must make elf_check fail.
struct breakage {
    const char *what;
    int at;     // byte offset in the image; < 0: in program header -at - 1 ...
    int field;  // ... at this offset within it
    int bytes;
    uint64_t value;
};

static const struct breakage breakages[] = {
    { "magic 0", 0, 0, 1, 0x7e },
    { "magic 3", 3, 0, 1, 'G' },
    { "32-bit class", 4, 0, 1, 1 },
    { "no class", 4, 0, 1, 0 },
    { "big-endian", 5, 0, 1, 2 },
    { "ident version", 6, 0, 1, 0 },
    { "ET_DYN", 16, 0, 2, 3 },
    { "ET_REL", 16, 0, 2, 1 },
    { "x86-64", 18, 0, 2, 62 },
    { "e_version 0", 20, 0, 4, 0 },
    { "entry 0", 24, 0, 8, 0 },
    { "entry in data", 24, 0, 8, 0x11000 },
    { "entry past text", 24, 0, 8, 0x10000 + 100 },
    { "entry in the note", 24, 0, 8, 0x20000 },
    { "entry in kernel", 24, 0, 8, KERNEL_VA },
    { "phoff past end", 32, 0, 8, 4000 },
    { "phoff wraps", 32, 0, 8, UINT64_MAX - 20 },
    { "phentsize 32", 54, 0, 2, 32 },
    { "phentsize 64", 54, 0, 2, 64 },
    { "phnum past end", 56, 0, 2, 7 },
    { "phnum 65535", 56, 0, 2, 65535 },
    { "phnum 0", 56, 0, 2, 0 },
    { "text offset past end", -1, 8, 8, 4000 },
    { "text offset wraps", -1, 8, 8, UINT64_MAX - 10 },
    { "text filesz past end", -1, 32, 8, 4000 },
    { "text filesz > memsz", -1, 40, 8, 99 },
    { "text filesz huge", -1, 32, 8, UINT64_MAX },
    { "text below USER_MIN", -1, 16, 8, 0x1000 },
    { "text at 0", -1, 16, 8, 0 },
    { "text at kernel", -1, 16, 8, KERNEL_VA },
    { "text wraps", -1, 16, 8, UINT64_MAX - 50 },
    { "data memsz past USER_MAX", -3, 40, 8, USER_MAX },
    { "data memsz wraps", -3, 40, 8, UINT64_MAX - 0x10000 },
    { "data ends past USER_MAX", -3, 16, 8, USER_MAX - 100 },
    { "text not executable", -1, 4, 4, PF_R },
    { "text turned into a note", -1, 0, 4, PT_NOTE },
};

static void test_broken(void)
{
    for (size_t i = 0; i < sizeof(breakages) / sizeof(breakages[0]); i++) {
        const struct breakage *b = &breakages[i];
        struct image im;
        build_good(&im);
        uint8_t *p = b->at >= 0 ? im.bytes + b->at : phdr(&im, -b->at - 1) + b->field;
        put(p, b->value, b->bytes);
        if (!CHECK_EQ_INT(check_copy(im.bytes, im.size, NULL), E_INVAL) && check_reporting())
            printf("  (image with %s)\n", b->what);
    }
}

// A segment whose own fields are bad: elf_segment reports it, not just elf_check.
static void test_bad_segment_index(void)
{
    struct image im;
    build_good(&im);
    put(phdr(&im, 2) + 40, 10, 8);  // data: memsz 10 < filesz 40
    struct elf_segment s;
    CHECK_EQ_INT(segment_copy(im.bytes, im.size, 0, &s), 1);  // text is fine
    CHECK_EQ_INT(segment_copy(im.bytes, im.size, 1, &s), E_INVAL);
    CHECK_EQ_INT(check_copy(im.bytes, im.size, NULL), E_INVAL);
}

// The edges that are allowed: a segment ending exactly at USER_MAX, one starting
// exactly at USER_MIN, an empty one, and extra bytes after the last segment.
static void test_edges(void)
{
    const struct seg_spec segs[] = {
        { PT_LOAD, PF_R | PF_X, USER_MIN, 16, 16 },
        { PT_LOAD, PF_R | PF_W, USER_MAX - 0x2000, 0, 0x2000 },
        { PT_LOAD, PF_R, 0x30000, 0, 0 },
    };
    struct image im;
    build(&im, segs, 3, USER_MIN);
    uint64_t entry;
    CHECK_EQ_INT(check_copy(im.bytes, im.size, &entry), 0);
    CHECK_EQ_INT(entry, USER_MIN);
    CHECK_EQ_INT(check_copy(im.bytes, im.size + 100, &entry), 0);
    struct elf_segment s;
    CHECK_EQ_INT(segment_copy(im.bytes, im.size, 1, &s), 1);
    CHECK_EQ_INT(s.vaddr + s.memsz, USER_MAX);
    CHECK_EQ_INT(s.filesz, 0);
    CHECK_EQ_INT(segment_copy(im.bytes, im.size, 2, &s), 1);
    CHECK_EQ_INT(s.memsz, 0);

    // One byte more at the top is out; so is an entry at the very end of text.
    put(phdr(&im, 1) + 40, 0x2001, 8);
    CHECK_EQ_INT(check_copy(im.bytes, im.size, NULL), E_INVAL);
    build(&im, segs, 3, USER_MIN + 16);
    CHECK_EQ_INT(check_copy(im.bytes, im.size, NULL), E_INVAL);

    // A file with only a note has nothing to load.
    const struct seg_spec note[] = { { PT_NOTE, PF_R | PF_X, 0x10000, 8, 8 } };
    build(&im, note, 1, 0x10000);
    CHECK_EQ_INT(check_copy(im.bytes, im.size, NULL), E_INVAL);
}

// ---- real programs -----------------------------------------------------------------

static void check_program(const char *path, const uint8_t *image, uint64_t size)
{
    uint64_t entry = 0;
    if (!CHECK_EQ_INT(elf_check(image, size, &entry), 0)) {
        printf("  (%s)\n", path);
        return;
    }
    CHECK(entry >= USER_MIN);
    struct elf_segment s;
    int i, r, exec = 0;
    uint64_t last_end = 0;
    for (i = 0; (r = elf_segment(image, size, i, &s)) == 1; i++) {
        if (i == 0)
            CHECK_EQ_INT(entry, s.vaddr);  // user.ld puts _start first, at the program's base
        CHECK_EQ_INT(s.vaddr % 4096, 0);   // a segment per page range
        CHECK(s.vaddr >= last_end);        // in order, never sharing a page
        last_end = (s.vaddr + s.memsz + 4095) & ~4095ULL;
        CHECK(s.prot == (PROT_READ | PROT_EXEC) || s.prot == PROT_READ ||
              s.prot == (PROT_READ | PROT_WRITE));
        exec += (s.prot & PROT_EXEC) != 0;
    }
    CHECK_EQ_INT(r, 0);
    CHECK_EQ_INT(i, 3);  // text, rodata, data
    CHECK_EQ_INT(exec, 1);
    // Cut anywhere inside its headers or segments, it is refused.
    for (uint64_t n = 0; n < 256 && n < size; n += 7)
        CHECK_EQ_INT(check_copy(image, n, NULL), E_INVAL);
}

static void test_real_programs(int argc, char **argv)
{
    static const char *defaults[] = { "build/user/bin/hello", "build/user/servers/init",
                                      "build/user/bin/usertests", "build/user/initrd/hello" };
    const char **paths = argc > 1 ? (const char **)argv + 1 : defaults;
    int n = argc > 1 ? argc - 1 : (int)(sizeof(defaults) / sizeof(defaults[0]));
    int found = 0;
    for (int i = 0; i < n; i++) {
        uint64_t size;
        uint8_t *image = check_read_file(paths[i], &size);
        if (!image) {
            CHECK(argc == 1);  // a path given by hand must exist
            continue;
        }
        found++;
        check_program(paths[i], image, size);
        free(image);
    }
    if (!found)
        printf("test_elf: no user programs found (run from the top of the tree after scons)\n");
}

int main(int argc, char **argv)
{
    test_good();
    test_unaligned();
    test_truncated();
    test_broken();
    test_bad_segment_index();
    test_edges();
    test_real_programs(argc, argv);
    return check_done("test_elf");
}
