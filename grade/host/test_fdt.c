// Tests of kern/boot/fdt.c and kern/boot/platform.c: the device tree reader and what
// the kernel learns from it.
//
// The trees come from a small writer below (begin_node / prop / end_node / finish),
// which lays a blob out as dtc does: header, memory reservation block, structure
// block, strings block. On a QEMU-virt-like tree every field of struct platform is
// checked; then broken trees, each of which must give an error and never a read
// outside the blob (every blob sits in a heap buffer of exactly its size, so
// AddressSanitizer sees a read past its end); then random mutations.
//
// Usage: test_fdt                       the built-in trees
//        test_fdt --dtb PATH [--harts N] [--mem-mib M] [--aclint 0|1] ...
//                                       QEMU's own trees (qemu -machine virt,dumpdtb=PATH),
//                                       checked against -smp N, -m M and aclint=on|off
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "boot/fdt.h"
#include "boot/platform.h"
#include "check.h"
#include "lib/string.h"

// The structure block's tokens (Devicetree Specification 5.4.1).
#define T_BEGIN_NODE 1
#define T_END_NODE   2
#define T_PROP       3
#define T_NOP        4
#define T_END        9

// The header's fields, in 32-bit words (Devicetree Specification 5.2).
enum header_field {
    H_MAGIC,
    H_TOTALSIZE,
    H_OFF_STRUCT,
    H_OFF_STRINGS,
    H_OFF_RSVMAP,
    H_VERSION,
    H_LAST_COMP_VERSION,
    H_BOOT_CPUID,
    H_SIZE_STRINGS,
    H_SIZE_STRUCT,
};
#define HEADER_SIZE 40

static uint32_t get_be32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static void put_be32(uint8_t *p, uint32_t v)
{
    p[0] = v >> 24;
    p[1] = v >> 16;
    p[2] = v >> 8;
    p[3] = v;
}

static void put_be64(uint8_t *p, uint64_t v)
{
    put_be32(p, v >> 32);
    put_be32(p + 4, (uint32_t)v);
}

// ---- the writer -------------------------------------------------------------------------

#define WRITER_STRUCT_MAX  16384
#define WRITER_STRINGS_MAX 2048
#define WRITER_RSV_MAX     8

struct writer {
    uint8_t structure[WRITER_STRUCT_MAX];
    uint32_t struct_len;
    char strings[WRITER_STRINGS_MAX];
    uint32_t strings_len;
    uint64_t rsv[WRITER_RSV_MAX][2];  // memory reservations: address, size
    int nrsv;
    uint32_t last_prop;  // offset of the latest FDT_PROP token, for tests that corrupt it
};

// dtc's order (struct block, then strings), or the struct block at the very end of the
// blob, so a read past it is a read past the buffer.
enum layout { STRUCT_FIRST, STRUCT_LAST };

struct blob {
    uint8_t *data;  // malloc'd, exactly size bytes
    uint32_t size;
    uint32_t struct_off, struct_size;
    uint32_t strings_off, strings_size;
};

static void writer_init(struct writer *w)
{
    memset(w, 0, sizeof *w);
}

static void need(bool ok, const char *what)
{
    if (!ok) {
        fprintf(stderr, "test_fdt: writer: %s\n", what);
        exit(2);
    }
}

// Raw bytes into the structure block, padded with zeros to a multiple of 4.
static void w_raw(struct writer *w, const void *data, uint32_t len)
{
    uint32_t padded = (len + 3) & ~3u;
    need(w->struct_len + padded <= WRITER_STRUCT_MAX, "structure block full");
    memcpy(w->structure + w->struct_len, data, len);
    memset(w->structure + w->struct_len + len, 0, padded - len);
    w->struct_len += padded;
}

static void w_u32(struct writer *w, uint32_t v)
{
    uint8_t b[4];
    put_be32(b, v);
    w_raw(w, b, 4);
}

// The offset of name in the strings block, adding it the first time.
static uint32_t w_string(struct writer *w, const char *name)
{
    for (uint32_t off = 0; off < w->strings_len; off += strlen(w->strings + off) + 1)
        if (strcmp(w->strings + off, name) == 0)
            return off;
    uint32_t len = strlen(name) + 1;
    need(w->strings_len + len <= WRITER_STRINGS_MAX, "strings block full");
    memcpy(w->strings + w->strings_len, name, len);
    w->strings_len += len;
    return w->strings_len - len;
}

static void begin_node(struct writer *w, const char *name)
{
    w_u32(w, T_BEGIN_NODE);
    w_raw(w, name, strlen(name) + 1);
}

static void end_node(struct writer *w)
{
    w_u32(w, T_END_NODE);
}

static void prop(struct writer *w, const char *name, const void *value, uint32_t len)
{
    w->last_prop = w->struct_len;
    w_u32(w, T_PROP);
    w_u32(w, len);
    w_u32(w, w_string(w, name));
    if (len)
        w_raw(w, value, len);
}

static void prop_empty(struct writer *w, const char *name)
{
    prop(w, name, NULL, 0);
}

static void prop_str(struct writer *w, const char *name, const char *s)
{
    prop(w, name, s, strlen(s) + 1);
}

// A string list: "a\0b" is written as the two strings "a" and "b".
#define prop_strs(w, name, literal) prop((w), (name), (literal), sizeof(literal))

static void prop_cell_array(struct writer *w, const char *name, const uint32_t *cells, int n)
{
    uint8_t value[64 * 4];
    need(n <= 64, "too many cells");
    for (int i = 0; i < n; i++)
        put_be32(value + 4 * i, cells[i]);
    prop(w, name, value, 4 * n);
}

// prop_cells(w, "reg", 0, 0x80000000, 0, 0x8000000): a property of 32-bit cells.
#define prop_cells(w, name, ...)                                                                   \
    prop_cell_array((w), (name), (const uint32_t[]){ __VA_ARGS__ },                                \
                    sizeof((const uint32_t[]){ __VA_ARGS__ }) / 4)

static void prop_u32(struct writer *w, const char *name, uint32_t v)
{
    prop_cells(w, name, v);
}

static void prop_u64(struct writer *w, const char *name, uint64_t v)
{
    prop_cells(w, name, (uint32_t)(v >> 32), (uint32_t)v);
}

static void memreserve(struct writer *w, uint64_t addr, uint64_t size)
{
    need(w->nrsv < WRITER_RSV_MAX, "too many reservations");
    w->rsv[w->nrsv][0] = addr;
    w->rsv[w->nrsv][1] = size;
    w->nrsv++;
}

// The blob as it stands, without adding FDT_END: for trees that must lack it.
static struct blob finish_raw(const struct writer *w, enum layout layout)
{
    struct blob b = { .struct_size = w->struct_len, .strings_size = w->strings_len };
    uint32_t rsv_size = 16 * (w->nrsv + 1);  // and the all-zero entry that ends it
    uint32_t after_rsv = HEADER_SIZE + rsv_size;
    if (layout == STRUCT_FIRST) {
        b.struct_off = after_rsv;
        b.strings_off = b.struct_off + b.struct_size;
        b.size = b.strings_off + b.strings_size;
    } else {
        b.strings_off = after_rsv;
        b.struct_off = (b.strings_off + b.strings_size + 3) & ~3u;
        b.size = b.struct_off + b.struct_size;
    }
    b.data = calloc(1, b.size);
    need(b.data != NULL, "out of memory");
    uint32_t header[10] = {
        [H_MAGIC] = FDT_MAGIC,           [H_TOTALSIZE] = b.size,
        [H_OFF_STRUCT] = b.struct_off,   [H_OFF_STRINGS] = b.strings_off,
        [H_OFF_RSVMAP] = HEADER_SIZE,    [H_VERSION] = 17,
        [H_LAST_COMP_VERSION] = 16,      [H_SIZE_STRINGS] = b.strings_size,
        [H_SIZE_STRUCT] = b.struct_size,
    };
    for (int i = 0; i < 10; i++)
        put_be32(b.data + 4 * i, header[i]);
    for (int i = 0; i < w->nrsv; i++) {
        put_be64(b.data + HEADER_SIZE + 16 * i, w->rsv[i][0]);
        put_be64(b.data + HEADER_SIZE + 16 * i + 8, w->rsv[i][1]);
    }
    memcpy(b.data + b.struct_off, w->structure, b.struct_size);
    memcpy(b.data + b.strings_off, w->strings, b.strings_size);
    return b;
}

static struct blob finish(struct writer *w, enum layout layout)
{
    w_u32(w, T_END);
    return finish_raw(w, layout);
}

static void blob_free(struct blob *b)
{
    free(b->data);
    b->data = NULL;
}

// A copy of the blob's first len bytes, in a buffer of exactly len bytes (at least 1,
// so malloc(0) is never asked for; only len bytes are given to the reader).
static uint8_t *copy_prefix(const struct blob *b, uint32_t len)
{
    uint8_t *copy = malloc(len ? len : 1);
    need(copy != NULL, "out of memory");
    memcpy(copy, b->data, len);
    return copy;
}

// ---- running the reader ---------------------------------------------------------------------

// A visitor that calls every accessor on every node: on a corrupt tree that fdt_open
// accepted, this is where a wild read would show.
static int touch_node(const struct fdt_node *n, void *ctx)
{
    static const char *const names[] = { "reg",       "compatible",          "status",  "phandle",
                                         "riscv,isa", "interrupts-extended", "bootargs" };
    unsigned long *sum = ctx;
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        int len = -1;
        const uint8_t *v = fdt_prop(n, names[i], &len);
        if (v) {
            *sum += len;
            for (int j = 0; j + 4 <= len; j += 4)
                *sum += fdt_read_cells(v + j, 1);
        }
    }
    uint32_t u;
    if (fdt_prop_u32(n, "#address-cells", &u))
        *sum += u;
    *sum += fdt_prop_has_string(n, "compatible", "ns16550a");
    *sum += fdt_node_named(n, "cpu") + strlen(n->name);
    return 0;
}

// fdt_open on buf; when it succeeds, walks the tree and parses it as the kernel would.
// Returns fdt_open's result; *parsed is platform_parse's when it ran.
static int open_and_parse(const uint8_t *buf, size_t len, struct platform *p, int *parsed)
{
    struct fdt f;
    int rc = fdt_open(&f, buf, len);
    *parsed = -2;
    if (rc != FDT_OK)
        return rc;
    unsigned long sum = 0;
    CHECK_EQ_INT(fdt_walk(&f, touch_node, &sum), FDT_OK);
    char err[80];
    memset(err, 'x', sizeof err);
    *parsed = platform_parse(p, &f, err, sizeof err);
    if (*parsed != 0)
        CHECK(strnlen(err, sizeof err) < sizeof err);  // a terminated message
    else
        CHECK(strnlen(p->bootargs, BOOTARGS_MAX) < BOOTARGS_MAX);
    CHECK(p->nharts >= 0 && p->nharts <= MAX_HARTS);
    CHECK(p->nmemory >= 0 && p->nmemory <= MAX_MEM_RANGES);
    CHECK(p->nreserved >= 0 && p->nreserved <= MAX_RESERVED);
    (void)platform_memory_size(p);
    (void)platform_hart(p, 0);
    return rc;
}

// fdt_open on a copy of b whose 32-bit word at off is value (an error or FDT_OK).
static int open_with_word(const struct blob *b, uint32_t off, uint32_t value)
{
    uint8_t *copy = copy_prefix(b, b->size);
    put_be32(copy + off, value);
    struct platform p;
    int parsed;
    int rc = open_and_parse(copy, b->size, &p, &parsed);
    free(copy);
    return rc;
}

static int open_with_header(const struct blob *b, enum header_field field, uint32_t value)
{
    return open_with_word(b, 4 * field, value);
}

// fdt_open and platform_parse on b; 0, or -1 with the reason in err.
static int parse_blob(const struct blob *b, struct platform *p, char *err, int errlen)
{
    struct fdt f;
    int rc = fdt_open(&f, b->data, b->size);
    if (rc != FDT_OK) {
        snprintf(err, errlen, "fdt_open: %s", fdt_strerror(rc));
        return -1;
    }
    return platform_parse(p, &f, err, errlen);
}

// ---- a QEMU-virt-like tree ----------------------------------------------------------------

struct virt {
    int nharts;  // cpu@0 .. cpu@nharts-1; hart ids first_hartid upwards
    uint64_t first_hartid;
    uint32_t no_sstc;    // bit i: hart i's riscv,isa lacks _sstc
    uint32_t disabled;   // bit i: hart i has status = "disabled"
    bool plic_reversed;  // the PLIC lists the contexts last hart first
    bool s_mode_first;   // each hart's <intc 9> comes before its <intc 11>
    uint64_t mem_size;
    const char *bootargs;  // NULL: no bootargs property
    int initrd_cells;      // linux,initrd-start/end in 1 or 2 cells; 0: none
    uint64_t initrd_start, initrd_end;
    bool timebase_64;  // timebase-frequency in two cells
    bool nops;         // FDT_NOP tokens scattered through the structure block
    bool no_memory, no_cpus, no_timebase;
};

#define VIRT_UART     0x10000000
#define VIRT_PLIC     0x0c000000
#define VIRT_TEST     0x00100000
#define VIRT_SSWI     0x02f00000  // -machine virt,aclint=on only
#define VIRT_RAM      0x80000000
#define VIRT_TIMEBASE 10000000
#define PLIC_PHANDLE  3
#define RSV_BASE      0x87e00000
#define RSV_SIZE      0x1000
#define OPENSBI_SIZE  0x40000

static uint32_t intc_phandle(int hart)
{
    return 0x20 + 7 * hart;  // anything but consecutive, and never 0 or PLIC_PHANDLE
}

static void maybe_nop(struct writer *w, const struct virt *v)
{
    if (v->nops)
        w_u32(w, T_NOP);
}

static void write_cpu(struct writer *w, const struct virt *v, int i)
{
    char name[32];
    snprintf(name, sizeof name, "cpu@%llx", (unsigned long long)(v->first_hartid + i));
    begin_node(w, name);
    prop_u32(w, "phandle", 0x80 + i);
    prop_str(w, "device_type", "cpu");
    prop_u32(w, "reg", (uint32_t)(v->first_hartid + i));
    prop_str(w, "status", v->disabled & (1u << i) ? "disabled" : "okay");
    prop_str(w, "compatible", "riscv");
    maybe_nop(w, v);
    prop_str(w, "riscv,isa",
             v->no_sstc & (1u << i) ? "rv64imafdch_zicsr_zifencei_zihintpause_zba_zbb"
                                    : "rv64imafdch_zicsr_zifencei_zihintpause_zba_zbb_sstc");
    prop_str(w, "mmu-type", "riscv,sv48");
    begin_node(w, "interrupt-controller");
    prop_u32(w, "#interrupt-cells", 1);
    prop_empty(w, "interrupt-controller");
    prop_str(w, "compatible", "riscv,cpu-intc");
    prop_u32(w, "phandle", intc_phandle(i));
    end_node(w);
    end_node(w);
}

static void write_cpus(struct writer *w, const struct virt *v)
{
    begin_node(w, "cpus");
    prop_u32(w, "#address-cells", 1);
    prop_u32(w, "#size-cells", 0);
    if (!v->no_timebase) {
        if (v->timebase_64)
            prop_u64(w, "timebase-frequency", VIRT_TIMEBASE);
        else
            prop_u32(w, "timebase-frequency", VIRT_TIMEBASE);
    }
    for (int i = 0; i < v->nharts; i++)
        write_cpu(w, v, i);
    begin_node(w, "cpu-map");  // QEMU's; nothing for the kernel
    begin_node(w, "cluster0");
    for (int i = 0; i < v->nharts; i++) {
        char name[16];
        snprintf(name, sizeof name, "core%d", i);
        begin_node(w, name);
        prop_u32(w, "cpu", 0x80 + i);
        end_node(w);
    }
    end_node(w);
    end_node(w);
    end_node(w);
}

// The PLIC's contexts: <intc 11> (M mode) and <intc 9> (S mode) for each hart, as QEMU
// lists them, so hart i's S-mode context is 2 * (its position in the list) + 1.
static int plic_position(const struct virt *v, int hart)
{
    return v->plic_reversed ? v->nharts - 1 - hart : hart;
}

static int plic_s_context(const struct virt *v, int hart)
{
    return 2 * plic_position(v, hart) + (v->s_mode_first ? 0 : 1);
}

static void write_plic(struct writer *w, const struct virt *v)
{
    uint32_t cells[64];
    need(v->nharts <= 16, "too many harts for the PLIC");
    for (int i = 0; i < v->nharts; i++) {
        int at = 4 * plic_position(v, i);
        cells[at] = intc_phandle(i);
        cells[at + 1] = v->s_mode_first ? 9 : 11;
        cells[at + 2] = intc_phandle(i);
        cells[at + 3] = v->s_mode_first ? 11 : 9;
    }
    begin_node(w, "plic@c000000");
    prop_u32(w, "phandle", PLIC_PHANDLE);
    prop_u32(w, "riscv,ndev", 96);
    prop_cells(w, "reg", 0, VIRT_PLIC, 0, 0x600000);
    prop_cell_array(w, "interrupts-extended", cells, 4 * v->nharts);
    prop_empty(w, "interrupt-controller");
    prop_strs(w, "compatible", "sifive,plic-1.0.0\0riscv,plic0");
    prop_u32(w, "#address-cells", 0);
    prop_u32(w, "#interrupt-cells", 1);
    end_node(w);
}

static void write_soc(struct writer *w, const struct virt *v)
{
    begin_node(w, "soc");
    prop_u32(w, "#address-cells", 2);
    prop_u32(w, "#size-cells", 2);
    prop_str(w, "compatible", "simple-bus");
    prop_empty(w, "ranges");

    begin_node(w, "rtc@101000");
    prop_cells(w, "reg", 0, 0x101000, 0, 0x1000);
    prop_str(w, "compatible", "google,goldfish-rtc");
    end_node(w);

    begin_node(w, "serial@10000000");
    prop_u32(w, "interrupts", 10);
    prop_u32(w, "interrupt-parent", PLIC_PHANDLE);
    prop(w, "clock-frequency", "\0008@", 4);
    prop_cells(w, "reg", 0, VIRT_UART, 0, 0x100);
    prop_str(w, "compatible", "ns16550a");
    end_node(w);
    maybe_nop(w, v);

    begin_node(w, "test@100000");
    prop_u32(w, "phandle", 0x0a);
    prop_cells(w, "reg", 0, VIRT_TEST, 0, 0x1000);
    prop_strs(w, "compatible", "sifive,test1\0sifive,test0\0syscon");
    end_node(w);

    write_plic(w, v);
    end_node(w);
}

static void write_chosen(struct writer *w, const struct virt *v)
{
    begin_node(w, "chosen");
    prop_str(w, "stdout-path", "/soc/serial@10000000");
    if (v->bootargs)
        prop_str(w, "bootargs", v->bootargs);
    if (v->initrd_cells == 1) {
        prop_u32(w, "linux,initrd-start", (uint32_t)v->initrd_start);
        prop_u32(w, "linux,initrd-end", (uint32_t)v->initrd_end);
    } else if (v->initrd_cells == 2) {
        prop_u64(w, "linux,initrd-start", v->initrd_start);
        prop_u64(w, "linux,initrd-end", v->initrd_end);
    }
    end_node(w);
}

static struct blob build_virt(const struct virt *v, enum layout layout)
{
    struct writer *w = malloc(sizeof *w);
    need(w != NULL, "out of memory");
    writer_init(w);
    memreserve(w, RSV_BASE, RSV_SIZE);
    maybe_nop(w, v);
    begin_node(w, "");
    prop_u32(w, "#address-cells", 2);
    prop_u32(w, "#size-cells", 2);
    maybe_nop(w, v);
    prop_str(w, "compatible", "riscv-virtio");
    prop_str(w, "model", "riscv-virtio,qemu");
    write_chosen(w, v);
    if (!v->no_memory) {
        begin_node(w, "memory@80000000");
        prop_str(w, "device_type", "memory");
        prop_cells(w, "reg", 0, VIRT_RAM, (uint32_t)(v->mem_size >> 32), (uint32_t)v->mem_size);
        end_node(w);
    }
    if (!v->no_cpus)
        write_cpus(w, v);
    write_soc(w, v);
    begin_node(w, "reserved-memory");
    prop_u32(w, "#address-cells", 2);
    prop_u32(w, "#size-cells", 2);
    prop_empty(w, "ranges");
    begin_node(w, "mmode_resv0@80000000");
    prop_cells(w, "reg", 0, VIRT_RAM, 0, OPENSBI_SIZE);
    prop_empty(w, "no-map");
    end_node(w);
    end_node(w);
    maybe_nop(w, v);
    end_node(w);
    maybe_nop(w, v);
    struct blob b = finish(w, layout);
    free(w);
    return b;
}

static const struct virt virt_default = {
    .nharts = 4,
    .mem_size = 256 << 20,
    .bootargs = "ktest=all sched=global",
    .initrd_cells = 2,
    .initrd_start = 0x88000000,
    .initrd_end = 0x88123456,
};

// Every field of p against what build_virt(v) wrote.
static void check_virt(const struct platform *p, const struct virt *v)
{
    CHECK_EQ_INT(p->nmemory, 1);
    CHECK_EQ_INT(p->memory[0].base, VIRT_RAM);
    CHECK_EQ_INT(p->memory[0].size, v->mem_size);
    CHECK_EQ_INT(platform_memory_size(p), v->mem_size);
    CHECK_EQ_INT(p->nreserved, 2);  // the /memreserve/ entry, then /reserved-memory
    CHECK_EQ_INT(p->reserved[0].base, RSV_BASE);
    CHECK_EQ_INT(p->reserved[0].size, RSV_SIZE);
    CHECK_EQ_INT(p->reserved[1].base, VIRT_RAM);
    CHECK_EQ_INT(p->reserved[1].size, OPENSBI_SIZE);
    CHECK_EQ_INT(p->timebase_hz, VIRT_TIMEBASE);

    int enabled = 0;
    for (int i = 0; i < v->nharts; i++) {
        if (v->disabled & (1u << i))
            continue;
        if (enabled++ >= MAX_HARTS)
            continue;
        const struct hart_info *h = &p->harts[enabled - 1];
        CHECK_EQ_INT(h->hartid, v->first_hartid + i);
        CHECK_EQ_INT(h->sstc, !(v->no_sstc & (1u << i)));
        CHECK_EQ_INT(h->intc_phandle, intc_phandle(i));
        if (!CHECK_EQ_INT(h->plic_context, plic_s_context(v, i)) && check_reporting())
            printf("  hart %d of %d%s\n", i, v->nharts, v->plic_reversed ? ", reversed" : "");
        CHECK(platform_hart(p, v->first_hartid + i) == h);
    }
    CHECK_EQ_INT(p->nharts, enabled < MAX_HARTS ? enabled : MAX_HARTS);
    CHECK_EQ_INT(p->harts_ignored, enabled > MAX_HARTS ? enabled - MAX_HARTS : 0);
    CHECK(platform_hart(p, v->first_hartid + v->nharts) == NULL);

    CHECK_EQ_INT(p->uart_base, VIRT_UART);
    CHECK_EQ_INT(p->uart_size, 0x100);
    CHECK_EQ_INT(p->uart_irq, 10);
    CHECK_EQ_INT(p->uart_reg_shift, 0);
    CHECK_EQ_INT(p->plic_base, VIRT_PLIC);
    CHECK_EQ_INT(p->plic_size, 0x600000);
    CHECK_EQ_INT(p->plic_ndev, 96);
    CHECK_EQ_INT(p->test_base, VIRT_TEST);

    CHECK_STR(p->bootargs, v->bootargs ? v->bootargs : "");
    CHECK(!p->bootargs_truncated);
    CHECK_EQ_INT(p->initrd_start, v->initrd_cells ? v->initrd_start : 0);
    CHECK_EQ_INT(p->initrd_end, v->initrd_cells ? v->initrd_end : 0);
}

// Builds v in both layouts, parses it and checks every field.
static void check_virt_tree(const struct virt *v)
{
    for (int layout = STRUCT_FIRST; layout <= STRUCT_LAST; layout++) {
        struct blob b = build_virt(v, layout);
        struct platform p;
        char err[96] = "";
        if (!CHECK_EQ_INT(parse_blob(&b, &p, err, sizeof err), 0)) {
            if (check_reporting())
                printf("  platform_parse: %s\n", err);
        } else {
            check_virt(&p, v);
        }
        blob_free(&b);
    }
}

static void test_virt_trees(void)
{
    struct virt v = virt_default;
    check_virt_tree(&v);

    for (int n = 1; n <= 10; n++) {  // 9 and 10: harts beyond MAX_HARTS are counted
        v = virt_default;
        v.nharts = n;
        check_virt_tree(&v);
        v.plic_reversed = true;
        check_virt_tree(&v);
        v.s_mode_first = true;
        check_virt_tree(&v);
    }

    v = virt_default;
    v.no_sstc = 0x5;     // harts 0 and 2 lack Sstc
    v.disabled = 0x2;    // hart 1 is not to be started
    v.first_hartid = 1;  // hart ids need not start at 0
    check_virt_tree(&v);

    v = virt_default;
    v.nharts = 12;
    v.disabled = 0x11;  // 10 enabled: 8 kept, 2 ignored
    check_virt_tree(&v);

    v = virt_default;
    v.mem_size = 1ull << 32;  // 4 GiB: the size's high cell
    v.initrd_cells = 1;
    v.initrd_start = 0x84000000;
    v.initrd_end = 0x84000000;  // an empty initrd is not an error
    v.timebase_64 = true;
    check_virt_tree(&v);

    v = virt_default;
    v.initrd_cells = 0;
    v.bootargs = NULL;
    v.nops = true;
    check_virt_tree(&v);

    v = virt_default;
    v.bootargs = "";
    check_virt_tree(&v);
}

static void test_long_bootargs(void)
{
    char args[BOOTARGS_MAX + 50];
    memset(args, 'a', sizeof args - 1);
    args[sizeof args - 1] = '\0';
    struct virt v = virt_default;
    v.bootargs = args;
    struct blob b = build_virt(&v, STRUCT_LAST);
    struct platform p;
    char err[96];
    CHECK_EQ_INT(parse_blob(&b, &p, err, sizeof err), 0);
    CHECK(p.bootargs_truncated);
    CHECK_EQ_INT(strlen(p.bootargs), BOOTARGS_MAX - 1);
    blob_free(&b);

    args[BOOTARGS_MAX - 1] = '\0';  // exactly the most that fits
    b = build_virt(&v, STRUCT_LAST);
    CHECK_EQ_INT(parse_blob(&b, &p, err, sizeof err), 0);
    CHECK(!p.bootargs_truncated);
    CHECK_EQ_INT(strlen(p.bootargs), BOOTARGS_MAX - 1);
    blob_free(&b);
}

// ---- the accessors ----------------------------------------------------------------------

struct visit_log {
    char names[64][40];
    int depth[64];
    uint32_t addr_cells[64], size_cells[64];
    int n;
    int stop_after;  // stop the walk after this many nodes; 0: never
};

static int log_node(const struct fdt_node *n, void *ctx)
{
    struct visit_log *log = ctx;
    if (log->n < 64) {
        snprintf(log->names[log->n], sizeof log->names[0], "%s/%s",
                 n->parent ? n->parent->name : "-", n->name);
        log->depth[log->n] = n->depth;
        log->addr_cells[log->n] = n->addr_cells;
        log->size_cells[log->n] = n->size_cells;
    }
    log->n++;
    return log->stop_after && log->n == log->stop_after;
}

static int find_logged(const struct visit_log *log, const char *name)
{
    for (int i = 0; i < log->n && i < 64; i++)
        if (strcmp(log->names[i], name) == 0)
            return i;
    return -1;
}

static void test_walk(void)
{
    struct virt v = virt_default;
    v.nharts = 2;
    struct blob b = build_virt(&v, STRUCT_FIRST);
    struct fdt f;
    CHECK_EQ_INT(fdt_open(&f, b.data, b.size), FDT_OK);
    CHECK_EQ_INT(f.size, b.size);

    struct visit_log log = { 0 };
    CHECK_EQ_INT(fdt_walk(&f, log_node, &log), FDT_OK);
    // / chosen memory cpus cpu@0 intc cpu@1 intc cpu-map cluster0 core0 core1
    // soc rtc serial test plic reserved-memory mmode_resv0
    CHECK_EQ_INT(log.n, 19);
    CHECK_STR(log.names[0], "-/");
    CHECK_EQ_INT(log.depth[0], 0);
    CHECK_STR(log.names[1], "/chosen");  // in the blob's order, parents first
    CHECK_STR(log.names[2], "/memory@80000000");
    CHECK_EQ_INT(log.addr_cells[2], 2);
    CHECK_EQ_INT(log.size_cells[2], 2);
    int cpu1 = find_logged(&log, "cpus/cpu@1");
    CHECK(cpu1 > find_logged(&log, "/cpus"));
    CHECK_EQ_INT(log.depth[cpu1], 2);
    CHECK_EQ_INT(log.addr_cells[cpu1], 1);  // from /cpus
    CHECK_EQ_INT(log.size_cells[cpu1], 0);
    int intc = find_logged(&log, "cpu@1/interrupt-controller");
    CHECK_EQ_INT(intc, cpu1 + 1);
    CHECK_EQ_INT(log.depth[intc], 3);
    CHECK_EQ_INT(log.addr_cells[intc], 2);  // cpu@1 has none: the defaults 2 and 1
    CHECK_EQ_INT(log.size_cells[intc], 1);
    CHECK(find_logged(&log, "reserved-memory/mmode_resv0@80000000") == 18);

    struct visit_log stopped = { .stop_after = 3 };
    CHECK_EQ_INT(fdt_walk(&f, log_node, &stopped), FDT_ERR_STOPPED);
    CHECK_EQ_INT(stopped.n, 3);
    CHECK_EQ_INT(fdt_walk(&f, NULL, NULL), FDT_OK);

    uint64_t addr = 1, size = 1;
    CHECK(fdt_reserved_entry(&f, 0, &addr, &size));
    CHECK_EQ_INT(addr, RSV_BASE);
    CHECK_EQ_INT(size, RSV_SIZE);
    CHECK(!fdt_reserved_entry(&f, 1, &addr, &size));  // the terminating entry
    CHECK(!fdt_reserved_entry(&f, -1, &addr, &size));
    CHECK(!fdt_reserved_entry(&f, 1 << 28, &addr, &size));
    blob_free(&b);
}

// The first node called name, for the property tests.
struct find {
    const char *name;
    struct fdt_node node;
};

static int find_node(const struct fdt_node *n, void *ctx)
{
    struct find *fd = ctx;
    if (strcmp(n->name, fd->name) != 0)
        return 0;
    fd->node = *n;
    fd->node.parent = NULL;  // it points into the walk's stack
    return 1;
}

static void test_props(void)
{
    struct blob b = build_virt(&virt_default, STRUCT_LAST);
    struct fdt f;
    CHECK_EQ_INT(fdt_open(&f, b.data, b.size), FDT_OK);
    struct find fd = { .name = "test@100000" };
    CHECK_EQ_INT(fdt_walk(&f, find_node, &fd), FDT_ERR_STOPPED);
    const struct fdt_node n = fd.node;
    CHECK_STR(n.name, "test@100000");

    int len = -1;
    const uint8_t *reg = fdt_prop(&n, "reg", &len);
    CHECK(reg != NULL);
    CHECK_EQ_INT(len, 16);
    if (reg) {
        CHECK_EQ_INT(fdt_read_cells(reg, 2), VIRT_TEST);
        CHECK_EQ_INT(fdt_read_cells(reg + 8, 2), 0x1000);
        CHECK_EQ_INT(fdt_read_cells(reg + 4, 1), VIRT_TEST);
        CHECK_EQ_INT(fdt_read_cells(reg, 0), 0);
    }
    CHECK(fdt_prop(&n, "absent", &len) == NULL);
    CHECK(fdt_prop(&n, "re", NULL) == NULL);  // whole names only
    CHECK(fdt_prop(&n, "reg", NULL) == reg);  // len may be NULL

    uint32_t u = 0;
    CHECK(fdt_prop_u32(&n, "phandle", &u));
    CHECK_EQ_INT(u, 0x0a);
    u = 77;
    CHECK(!fdt_prop_u32(&n, "reg", &u));  // 16 bytes: not a u32
    CHECK_EQ_INT(u, 77);
    CHECK(!fdt_prop_u32(&n, "absent", &u));

    CHECK(fdt_prop_has_string(&n, "compatible", "sifive,test1"));
    CHECK(fdt_prop_has_string(&n, "compatible", "sifive,test0"));
    CHECK(fdt_prop_has_string(&n, "compatible", "syscon"));  // the last one too
    CHECK(!fdt_prop_has_string(&n, "compatible", "sifive,test"));
    CHECK(!fdt_prop_has_string(&n, "compatible", "syscon2"));
    CHECK(!fdt_prop_has_string(&n, "compatible", ""));
    CHECK(!fdt_prop_has_string(&n, "absent", "syscon"));

    CHECK(fdt_node_named(&n, "test"));
    CHECK(!fdt_node_named(&n, "tes"));
    CHECK(!fdt_node_named(&n, "test@1"));
    CHECK(!fdt_node_named(&n, "testing"));
    CHECK(fdt_node_named(&n, "test@100000"));
    blob_free(&b);

    // A string list whose last string has no NUL: the search stops at the value's end.
    struct writer *w = malloc(sizeof *w);
    writer_init(w);
    begin_node(w, "");
    prop(w, "compatible", "abc\0de", 6);
    end_node(w);
    b = finish(w, STRUCT_LAST);
    free(w);
    CHECK_EQ_INT(fdt_open(&f, b.data, b.size), FDT_OK);
    fd = (struct find){ .name = "" };
    CHECK_EQ_INT(fdt_walk(&f, find_node, &fd), FDT_ERR_STOPPED);
    CHECK(fdt_prop_has_string(&fd.node, "compatible", "abc"));
    CHECK(fdt_prop_has_string(&fd.node, "compatible", "de"));
    CHECK(!fdt_prop_has_string(&fd.node, "compatible", "def"));
    blob_free(&b);

    for (int err = FDT_ERR_STOPPED; err <= FDT_OK; err++) {
        CHECK(fdt_strerror(err) != NULL && fdt_strerror(err)[0]);
        if (err < FDT_OK)
            CHECK(strcmp(fdt_strerror(err), fdt_strerror(err + 1)) != 0);
    }
    CHECK(fdt_strerror(-100) != NULL);
    CHECK(fdt_strerror(5) != NULL);
}

// ---- broken headers and blocks ----------------------------------------------------------

// Every prefix of a valid blob, with its header unchanged: truncated. With totalsize
// patched to the prefix's length: an error while a block lies beyond it, never a crash.
static void test_truncations(const struct blob *b)
{
    uint32_t struct_end = b->struct_off + b->struct_size;
    uint32_t strings_end = b->strings_off + b->strings_size;
    for (uint32_t len = 0; len < b->size; len++) {
        uint8_t *copy = copy_prefix(b, len);
        struct fdt f;
        if (!CHECK_EQ_INT(fdt_open(&f, copy, len), FDT_ERR_TRUNCATED) && check_reporting())
            printf("  truncated to %u of %u bytes\n", len, b->size);
        if (len >= HEADER_SIZE) {
            put_be32(copy + 4 * H_TOTALSIZE, len);
            struct platform p;
            int parsed;
            int rc = open_and_parse(copy, len, &p, &parsed);
            if (len < struct_end || len < strings_end)
                if (!CHECK(rc != FDT_OK) && check_reporting())
                    printf("  totalsize %u of %u accepted\n", len, b->size);
        }
        free(copy);
    }
}

// Every shorter structure block, cut at the end of the buffer (b is STRUCT_LAST):
// misaligned sizes are a layout error, the others a structure error.
static void test_short_struct_blocks(const struct blob *b)
{
    for (uint32_t k = 0; k < b->struct_size; k++) {
        uint32_t len = b->struct_off + k;
        uint8_t *copy = copy_prefix(b, len);
        put_be32(copy + 4 * H_TOTALSIZE, len);
        put_be32(copy + 4 * H_SIZE_STRUCT, k);
        struct platform p;
        int parsed;
        int rc = open_and_parse(copy, len, &p, &parsed);
        if (!CHECK_EQ_INT(rc, k % 4 ? FDT_ERR_LAYOUT : FDT_ERR_STRUCTURE) && check_reporting())
            printf("  structure block cut to %u of %u bytes\n", k, b->struct_size);
        free(copy);
    }
}

static void test_bad_headers(void)
{
    struct blob b = build_virt(&virt_default, STRUCT_FIRST);
    struct fdt f;
    CHECK_EQ_INT(fdt_open(&f, b.data, b.size), FDT_OK);
    uint32_t size = b.size;

    CHECK_EQ_INT(open_with_header(&b, H_MAGIC, 0xedfe0dd0), FDT_ERR_MAGIC);  // little-endian
    CHECK_EQ_INT(open_with_header(&b, H_MAGIC, 0), FDT_ERR_MAGIC);
    CHECK_EQ_INT(open_with_header(&b, H_VERSION, 15), FDT_ERR_VERSION);
    CHECK_EQ_INT(open_with_header(&b, H_VERSION, 0), FDT_ERR_VERSION);
    CHECK_EQ_INT(open_with_header(&b, H_LAST_COMP_VERSION, 18), FDT_ERR_VERSION);
    CHECK_EQ_INT(open_with_header(&b, H_VERSION, 16), FDT_OK);
    CHECK_EQ_INT(open_with_header(&b, H_VERSION, 20), FDT_OK);  // compatible back to 16

    // totalsize beyond what may be read.
    CHECK_EQ_INT(fdt_open(&f, b.data, size - 1), FDT_ERR_TRUNCATED);
    CHECK_EQ_INT(fdt_open(&f, b.data, HEADER_SIZE), FDT_ERR_TRUNCATED);
    CHECK_EQ_INT(open_with_header(&b, H_TOTALSIZE, size + 4), FDT_ERR_TRUNCATED);
    CHECK(open_with_header(&b, H_TOTALSIZE, 0xffffffff) != FDT_OK);
    CHECK(open_with_header(&b, H_TOTALSIZE, 0x80000000) != FDT_OK);
    CHECK_EQ_INT(open_with_header(&b, H_TOTALSIZE, HEADER_SIZE - 1), FDT_ERR_LAYOUT);
    CHECK_EQ_INT(open_with_header(&b, H_TOTALSIZE, 0), FDT_ERR_LAYOUT);

    // Blocks outside totalsize, sizes and offsets that overflow.
    static const struct {
        enum header_field field;
        uint32_t value;
    } layout_errors[] = {
        { H_OFF_STRUCT, 0xffffffff },
        { H_OFF_STRUCT, 0xfffffff0 },
        { H_OFF_STRINGS, 0xffffffff },
        { H_OFF_STRINGS, 0xfffffff0 },
        { H_SIZE_STRUCT, 0xffffffff },
        { H_SIZE_STRUCT, 0xfffffffc },
        { H_SIZE_STRINGS, 0xffffffff },
        { H_SIZE_STRINGS, 0x80000000 },
        { H_OFF_RSVMAP, 0xffffffff },
        { H_OFF_RSVMAP, 0xfffffff8 },
        { H_OFF_RSVMAP, 0 },
        { H_OFF_RSVMAP, 32 },               // inside the header
        { H_OFF_RSVMAP, HEADER_SIZE + 4 },  // misaligned
    };
    for (size_t i = 0; i < sizeof layout_errors / sizeof layout_errors[0]; i++)
        if (!CHECK_EQ_INT(open_with_header(&b, layout_errors[i].field, layout_errors[i].value),
                          FDT_ERR_LAYOUT) &&
            check_reporting())
            printf("  header word %d = 0x%x\n", layout_errors[i].field, layout_errors[i].value);

    CHECK_EQ_INT(open_with_header(&b, H_OFF_STRUCT, size), FDT_ERR_LAYOUT);
    CHECK_EQ_INT(open_with_header(&b, H_OFF_STRUCT, size + 4), FDT_ERR_LAYOUT);
    CHECK_EQ_INT(open_with_header(&b, H_OFF_STRINGS, size), FDT_ERR_LAYOUT);
    CHECK_EQ_INT(open_with_header(&b, H_OFF_STRINGS, size + 1), FDT_ERR_LAYOUT);
    CHECK_EQ_INT(open_with_header(&b, H_OFF_RSVMAP, size), FDT_ERR_LAYOUT);
    // Each block one word or byte past the end.
    CHECK_EQ_INT(open_with_header(&b, H_OFF_STRUCT, size - b.struct_size + 4), FDT_ERR_LAYOUT);
    CHECK_EQ_INT(open_with_header(&b, H_SIZE_STRUCT, size - b.struct_off + 4), FDT_ERR_LAYOUT);
    CHECK_EQ_INT(open_with_header(&b, H_OFF_STRINGS, size - b.strings_size + 1), FDT_ERR_LAYOUT);
    CHECK_EQ_INT(open_with_header(&b, H_SIZE_STRINGS, size - b.strings_off + 1), FDT_ERR_LAYOUT);
    CHECK_EQ_INT(open_with_header(&b, H_OFF_STRUCT, b.struct_off + 2), FDT_ERR_LAYOUT);
    CHECK_EQ_INT(open_with_header(&b, H_OFF_STRUCT, b.struct_off + 1), FDT_ERR_LAYOUT);
    CHECK_EQ_INT(open_with_header(&b, H_SIZE_STRUCT, b.struct_size - 1), FDT_ERR_LAYOUT);
    CHECK_EQ_INT(open_with_header(&b, H_SIZE_STRUCT, b.struct_size - 4), FDT_ERR_STRUCTURE);
    blob_free(&b);

    // A structure block that starts 4 bytes early or late: the tokens are garbage.
    b = build_virt(&virt_default, STRUCT_LAST);
    CHECK(open_with_header(&b, H_OFF_STRUCT, b.struct_off - 4) != FDT_OK);
    blob_free(&b);
}

// The last property of the tree, made bad in each way.
static void test_bad_property(void)
{
    struct writer *w = malloc(sizeof *w);
    writer_init(w);
    begin_node(w, "");
    prop_u32(w, "#address-cells", 2);
    begin_node(w, "child");
    prop_str(w, "compatible", "abc");
    prop_cells(w, "reg", 1, 2, 3, 4);  // its name is the last string
    end_node(w);
    end_node(w);
    uint32_t last = w->last_prop;
    struct blob b = finish(w, STRUCT_LAST);
    free(w);
    CHECK_EQ_INT(open_with_word(&b, 0, FDT_MAGIC), FDT_OK);  // unchanged: it opens

    uint32_t len_at = b.struct_off + last + 4, nameoff_at = len_at + 4;
    uint32_t room = b.struct_size - (last + 12);  // bytes after the value's start
    static const uint32_t bad_lengths[] = { 0x7fffffff, 0xffffffff, 0xfffffff8, 0x80000000 };
    CHECK_EQ_INT(open_with_word(&b, len_at, room + 1), FDT_ERR_STRUCTURE);
    CHECK_EQ_INT(open_with_word(&b, len_at, room), FDT_ERR_STRUCTURE);  // no room for END
    for (size_t i = 0; i < sizeof bad_lengths / sizeof bad_lengths[0]; i++)
        CHECK_EQ_INT(open_with_word(&b, len_at, bad_lengths[i]), FDT_ERR_STRUCTURE);

    static const uint32_t bad_nameoffs[] = { 0xffffffff, 0x80000000, 0x7fffffff, 4096 };
    CHECK_EQ_INT(open_with_word(&b, nameoff_at, b.strings_size), FDT_ERR_STRUCTURE);
    for (size_t i = 0; i < sizeof bad_nameoffs / sizeof bad_nameoffs[0]; i++)
        CHECK_EQ_INT(open_with_word(&b, nameoff_at, bad_nameoffs[i]), FDT_ERR_STRUCTURE);
    CHECK_EQ_INT(open_with_word(&b, nameoff_at, 1), FDT_OK);  // "address-cells": fine

    // The strings block without its final NUL: "reg" runs off the end.
    CHECK_EQ_INT(open_with_header(&b, H_SIZE_STRINGS, b.strings_size - 1), FDT_ERR_STRUCTURE);
    blob_free(&b);

    // The same with the strings block last, so a read past it is a read past the buffer.
    w = malloc(sizeof *w);
    writer_init(w);
    begin_node(w, "");
    prop_str(w, "compatible", "abc");
    end_node(w);
    b = finish(w, STRUCT_FIRST);
    free(w);
    uint8_t *copy = copy_prefix(&b, b.size - 1);
    put_be32(copy + 4 * H_TOTALSIZE, b.size - 1);
    put_be32(copy + 4 * H_SIZE_STRINGS, b.strings_size - 1);
    struct fdt f;
    CHECK_EQ_INT(fdt_open(&f, copy, b.size - 1), FDT_ERR_STRUCTURE);
    free(copy);
    blob_free(&b);
}

// A structure block made by hand, token by token, laid out with the struct block last.
static int open_tokens(struct writer *w)
{
    struct blob b = finish_raw(w, STRUCT_LAST);
    struct platform p;
    int parsed;
    int rc = open_and_parse(b.data, b.size, &p, &parsed);
    blob_free(&b);
    writer_init(w);
    return rc;
}

static void test_bad_structure(void)
{
    struct writer *w = malloc(sizeof *w);
    writer_init(w);

    // The smallest tree: fine.
    begin_node(w, "");
    end_node(w);
    w_u32(w, T_END);
    CHECK_EQ_INT(open_tokens(w), FDT_OK);

    // NOPs anywhere between tokens: fine.
    w_u32(w, T_NOP);
    begin_node(w, "");
    w_u32(w, T_NOP);
    prop_u32(w, "x", 1);
    w_u32(w, T_NOP);
    end_node(w);
    w_u32(w, T_NOP);
    w_u32(w, T_END);
    CHECK_EQ_INT(open_tokens(w), FDT_OK);

    // An empty structure block.
    CHECK_EQ_INT(open_tokens(w), FDT_ERR_STRUCTURE);

    // Only NOPs.
    w_u32(w, T_NOP);
    w_u32(w, T_NOP);
    CHECK_EQ_INT(open_tokens(w), FDT_ERR_STRUCTURE);

    // Missing FDT_END.
    begin_node(w, "");
    end_node(w);
    CHECK_EQ_INT(open_tokens(w), FDT_ERR_STRUCTURE);

    // Missing the root's FDT_END_NODE.
    begin_node(w, "");
    begin_node(w, "child");
    end_node(w);
    w_u32(w, T_END);
    CHECK_EQ_INT(open_tokens(w), FDT_ERR_STRUCTURE);

    // One FDT_END_NODE too many.
    begin_node(w, "");
    end_node(w);
    end_node(w);
    w_u32(w, T_END);
    CHECK_EQ_INT(open_tokens(w), FDT_ERR_STRUCTURE);

    // Two roots.
    begin_node(w, "");
    end_node(w);
    begin_node(w, "");
    end_node(w);
    w_u32(w, T_END);
    CHECK_EQ_INT(open_tokens(w), FDT_ERR_STRUCTURE);

    // The tree starts with something other than a node.
    prop_u32(w, "x", 1);
    begin_node(w, "");
    end_node(w);
    w_u32(w, T_END);
    CHECK_EQ_INT(open_tokens(w), FDT_ERR_STRUCTURE);

    // A property after a child node.
    begin_node(w, "");
    begin_node(w, "child");
    end_node(w);
    prop_u32(w, "x", 1);
    end_node(w);
    w_u32(w, T_END);
    CHECK_EQ_INT(open_tokens(w), FDT_ERR_STRUCTURE);

    // Unknown tokens, in a node and before FDT_END.
    static const uint32_t unknown[] = { 0, 5, 6, 7, 8, 10, 0x100, 0x01000000, 0xffffffff };
    for (size_t i = 0; i < sizeof unknown / sizeof unknown[0]; i++) {
        begin_node(w, "");
        prop_u32(w, "x", 1);
        w_u32(w, unknown[i]);
        end_node(w);
        w_u32(w, T_END);
        CHECK_EQ_INT(open_tokens(w), FDT_ERR_STRUCTURE);
        begin_node(w, "");
        end_node(w);
        w_u32(w, unknown[i]);
        w_u32(w, T_END);
        CHECK_EQ_INT(open_tokens(w), FDT_ERR_STRUCTURE);
    }

    // An unknown token where a child's FDT_BEGIN_NODE belongs, the child otherwise whole.
    begin_node(w, "");
    w_u32(w, 5);
    w_raw(w, "n", 2);
    end_node(w);
    end_node(w);
    w_u32(w, T_END);
    CHECK_EQ_INT(open_tokens(w), FDT_ERR_STRUCTURE);

    // FDT_END inside a node.
    begin_node(w, "");
    w_u32(w, T_END);
    CHECK_EQ_INT(open_tokens(w), FDT_ERR_STRUCTURE);

    // Node names without their NUL, at the end of the block.
    w_u32(w, T_BEGIN_NODE);
    w_raw(w, "abcd", 4);
    CHECK_EQ_INT(open_tokens(w), FDT_ERR_STRUCTURE);
    begin_node(w, "");
    w_u32(w, T_BEGIN_NODE);
    w_raw(w, "childname", 9);
    memset(w->structure + w->struct_len - 3, 'x', 3);  // the padding is no NUL either
    CHECK_EQ_INT(open_tokens(w), FDT_ERR_STRUCTURE);

    // A name that ends exactly at the end of the block, with nothing after it.
    begin_node(w, "");
    begin_node(w, "abc");
    CHECK_EQ_INT(open_tokens(w), FDT_ERR_STRUCTURE);

    // A property header cut short.
    begin_node(w, "");
    w_u32(w, T_PROP);
    w_u32(w, 4);
    CHECK_EQ_INT(open_tokens(w), FDT_ERR_STRUCTURE);

    free(w);
}

// n nodes, each inside the one before, and FDT_END when with_end.
static int open_nested(int n, bool with_end)
{
    struct writer *w = malloc(sizeof *w);
    writer_init(w);
    for (int i = 0; i < n; i++)
        begin_node(w, i ? "n" : "");
    for (int i = 0; i < n; i++)
        end_node(w);
    if (with_end)
        w_u32(w, T_END);
    int rc = open_tokens(w);
    free(w);
    return rc;
}

static void test_depth(void)
{
    CHECK_EQ_INT(open_nested(FDT_MAX_DEPTH, true), FDT_OK);  // depths 0 .. 15
    CHECK_EQ_INT(open_nested(FDT_MAX_DEPTH + 1, true), FDT_ERR_DEPTH);
    CHECK_EQ_INT(open_nested(1000, true), FDT_ERR_DEPTH);  // no deep recursion
    CHECK_EQ_INT(open_nested(FDT_MAX_DEPTH, false), FDT_ERR_STRUCTURE);
}

// A node with #address-cells / #size-cells = value, and a child that the cells apply to.
static int open_with_cells(const char *name, uint32_t value)
{
    struct writer *w = malloc(sizeof *w);
    writer_init(w);
    begin_node(w, "");
    begin_node(w, "bus");
    prop_u32(w, name, value);
    begin_node(w, "device@0");
    prop_cells(w, "reg", 0, 0, 0, 0, 0, 0, 0, 0, 0, 0);
    end_node(w);
    end_node(w);
    end_node(w);
    w_u32(w, T_END);
    int rc = open_tokens(w);
    free(w);
    return rc;
}

static void test_cells(void)
{
    CHECK_EQ_INT(open_with_cells("#address-cells", 4), FDT_OK);
    CHECK_EQ_INT(open_with_cells("#size-cells", 4), FDT_OK);
    CHECK_EQ_INT(open_with_cells("#address-cells", 5), FDT_ERR_STRUCTURE);
    CHECK_EQ_INT(open_with_cells("#size-cells", 5), FDT_ERR_STRUCTURE);
    CHECK_EQ_INT(open_with_cells("#address-cells", 0xffffffff), FDT_ERR_STRUCTURE);
    CHECK_EQ_INT(open_with_cells("#size-cells", 0x80000000), FDT_ERR_STRUCTURE);
}

// ---- trees the platform code must refuse ---------------------------------------------

// Parses b and checks it fails with word in the reason.
static void check_refused(struct blob *b, const char *word, const char *what)
{
    struct platform p;
    char err[96] = "";
    int rc = parse_blob(b, &p, err, sizeof err);
    bool ok = CHECK_EQ_INT(rc, -1);
    ok = CHECK(strstr(err, word) != NULL) && ok;
    if (!ok && check_reporting())
        printf("  %s: error \"%s\", wanted one naming \"%s\"\n", what, err, word);
    blob_free(b);
}

static void check_virt_refused(const struct virt *v, const char *word, const char *what)
{
    struct blob b = build_virt(v, STRUCT_LAST);
    check_refused(&b, word, what);
}

// A root with the given memory reg (2 + 2 cells), a hart, and what extra() adds.
static struct blob minimal_tree(const uint32_t *reg, int reg_cells, void (*extra)(struct writer *w))
{
    struct writer *w = malloc(sizeof *w);
    writer_init(w);
    begin_node(w, "");
    prop_u32(w, "#address-cells", 2);
    prop_u32(w, "#size-cells", 2);
    begin_node(w, "memory@80000000");
    prop_str(w, "device_type", "memory");
    prop_cell_array(w, "reg", reg, reg_cells);
    end_node(w);
    begin_node(w, "cpus");
    prop_u32(w, "#address-cells", 1);
    prop_u32(w, "#size-cells", 0);
    prop_u32(w, "timebase-frequency", 1000000);
    begin_node(w, "cpu@0");
    prop_str(w, "device_type", "cpu");
    prop_u32(w, "reg", 0);
    end_node(w);
    end_node(w);
    if (extra)
        extra(w);
    end_node(w);
    struct blob b = finish(w, STRUCT_LAST);
    free(w);
    return b;
}

static void uart_at(struct writer *w, uint32_t base)
{
    char name[32];
    snprintf(name, sizeof name, "serial@%x", base);
    begin_node(w, name);
    prop_str(w, "compatible", "ns16550");
    prop_cells(w, "reg", 0, base, 0, 0x100);
    prop_u32(w, "reg-shift", 2);
    end_node(w);
}

static void two_uarts(struct writer *w)
{
    uart_at(w, 0x10000000);
    uart_at(w, 0x10001000);
}

static void uart_reg_shift_3(struct writer *w)
{
    begin_node(w, "serial@10000000");
    prop_str(w, "compatible", "ns16550a");
    prop_cells(w, "reg", 0, 0x10000000, 0, 0x100);
    prop_u32(w, "reg-shift", 3);
    end_node(w);
}

static void uart_short_reg(struct writer *w)
{
    begin_node(w, "serial@10000000");
    prop_str(w, "compatible", "ns16550a");
    prop_cells(w, "reg", 0, 0x10000000, 0);
    end_node(w);
}

static void plic_without_ndev(struct writer *w)
{
    begin_node(w, "plic@c000000");
    prop_str(w, "compatible", "riscv,plic0");
    prop_cells(w, "reg", 0, 0xc000000, 0, 0x600000);
    end_node(w);
}

static void test_device_without_reg(struct writer *w)
{
    begin_node(w, "test@100000");
    prop_str(w, "compatible", "sifive,test0");
    end_node(w);
}

static void initrd_start_3_bytes(struct writer *w)
{
    begin_node(w, "chosen");
    prop(w, "linux,initrd-start", "abc", 3);
    prop_u32(w, "linux,initrd-end", 0x1000);
    end_node(w);
}

static void initrd_start_only(struct writer *w)
{
    begin_node(w, "chosen");
    prop_u32(w, "linux,initrd-start", 0x1000);
    end_node(w);
}

static void test_refused_trees(void)
{
    struct virt v = virt_default;
    v.no_memory = true;
    check_virt_refused(&v, "memory", "no memory node");

    v = virt_default;
    v.no_cpus = true;
    check_virt_refused(&v, "cpus", "no /cpus");

    v = virt_default;
    v.no_timebase = true;
    check_virt_refused(&v, "timebase", "no timebase-frequency");

    v = virt_default;
    v.disabled = 0xf;
    check_virt_refused(&v, "cpu", "every hart disabled");

    v = virt_default;
    v.initrd_start = 0x88100000;
    v.initrd_end = 0x88000000;
    check_virt_refused(&v, "initrd", "initrd end before its start (64-bit)");
    v.initrd_cells = 1;
    check_virt_refused(&v, "initrd", "initrd end before its start (32-bit)");

    // reg lengths that are not a whole number of entries (2 + 2 cells = 16 bytes).
    static const uint32_t reg[] = { 0, 0x80000000, 0, 0x8000000, 0 };
    struct blob b = minimal_tree(reg, 3, NULL);
    check_refused(&b, "reg", "memory reg of 12 bytes");
    b = minimal_tree(reg, 5, NULL);
    check_refused(&b, "reg", "memory reg of 20 bytes");
    b = minimal_tree(reg, 0, NULL);
    check_refused(&b, "reg", "memory reg of 0 bytes");
    b = minimal_tree(reg, 4, uart_short_reg);
    check_refused(&b, "reg", "UART reg of 12 bytes");

    // A range that wraps around the address space.
    static const uint32_t wraps[] = { 0xffffffff, 0xfffff000, 0, 0x2000 };
    b = minimal_tree(wraps, 4, NULL);
    check_refused(&b, "wrap", "memory wrapping around");

    b = minimal_tree(reg, 4, uart_reg_shift_3);
    check_refused(&b, "reg-shift", "UART reg-shift 3");
    b = minimal_tree(reg, 4, plic_without_ndev);
    check_refused(&b, "ndev", "PLIC without riscv,ndev");
    b = minimal_tree(reg, 4, test_device_without_reg);
    check_refused(&b, "reg", "test device without reg");
    b = minimal_tree(reg, 4, initrd_start_3_bytes);
    check_refused(&b, "initrd", "initrd-start of 3 bytes");
    b = minimal_tree(reg, 4, initrd_start_only);
    check_refused(&b, "initrd", "initrd-start without initrd-end");

    // The minimal tree itself is fine: no UART, PLIC or test device is not an error.
    b = minimal_tree(reg, 4, NULL);
    struct platform p;
    char err[96] = "";
    CHECK_EQ_INT(parse_blob(&b, &p, err, sizeof err), 0);
    CHECK_EQ_INT(p.nharts, 1);
    CHECK_EQ_INT(p.harts[0].hartid, 0);
    CHECK(!p.harts[0].sstc);  // no riscv,isa
    CHECK_EQ_INT(p.harts[0].plic_context, -1);
    CHECK_EQ_INT(p.nmemory, 1);
    CHECK_EQ_INT(p.memory[0].size, 0x8000000);
    CHECK_EQ_INT(p.nreserved, 0);
    CHECK_EQ_INT(p.uart_base, 0);
    CHECK_EQ_INT(p.plic_base, 0);
    CHECK_EQ_INT(p.test_base, 0);
    CHECK_EQ_INT(p.timebase_hz, 1000000);
    CHECK_STR(p.bootargs, "");
    blob_free(&b);

    // Two memory ranges in one reg; with two UARTs the first is the console.
    static const uint32_t two_ranges[] = { 0, 0x80000000, 0, 0x8000000, 1, 0, 0, 0x1000 };
    b = minimal_tree(two_ranges, 8, two_uarts);
    CHECK_EQ_INT(parse_blob(&b, &p, err, sizeof err), 0);
    CHECK_EQ_INT(p.nmemory, 2);
    CHECK_EQ_INT(p.memory[1].base, 0x100000000);
    CHECK_EQ_INT(p.memory[1].size, 0x1000);
    CHECK_EQ_INT(platform_memory_size(&p), 0x8001000);
    CHECK_EQ_INT(p.uart_base, 0x10000000);
    CHECK_EQ_INT(p.uart_reg_shift, 2);
    blob_free(&b);

    // A short error buffer gets a terminated prefix of the reason.
    v = virt_default;
    v.no_memory = true;
    b = build_virt(&v, STRUCT_LAST);
    char small[5];
    memset(small, 'x', sizeof small);
    CHECK_EQ_INT(parse_blob(&b, &p, small, sizeof small), -1);
    CHECK_STR(small, "no m");
    blob_free(&b);
}

// ---- random mutations ---------------------------------------------------------------------

static uint64_t rng_state = 0x5eed5eed12345678ull;

static uint32_t rng(void)  // xorshift64*: the same sequence on every run
{
    rng_state ^= rng_state >> 12;
    rng_state ^= rng_state << 25;
    rng_state ^= rng_state >> 27;
    return (uint32_t)((rng_state * 0x2545f4914f6cdd1dull) >> 32);
}

// One random change: a bit, a byte, or a word set to a value a parser finds interesting.
static void mutate(uint8_t *buf, uint32_t size)
{
    static const uint32_t words[] = { 0,          1,          2,          3,        4,
                                      5,          8,          9,          0x10,     0x7fffffff,
                                      0x80000000, 0xfffffffc, 0xffffffff, FDT_MAGIC };
    uint32_t off = rng() % size;
    switch (rng() % 4) {
    case 0: buf[off] ^= 1u << (rng() % 8); break;
    case 1: buf[off] = (uint8_t)rng(); break;
    case 2:
        if (rng() % 4 == 0)
            off = 4 * (rng() % 10);  // a header field
        off &= ~3u;
        if (off + 4 <= size) {
            uint32_t v = words[rng() % (sizeof words / sizeof words[0])];
            if (rng() % 3 == 0)
                v = size - rng() % 64;
            put_be32(buf + off, v);
        }
        break;
    default:
        off &= ~3u;
        if (off + 4 <= size)
            put_be32(buf + off, rng());
    }
}

// Mutates copies of b; fdt_open, the walk and platform_parse must never go wrong.
static void test_mutations(const struct blob *b, int iterations)
{
    int opened = 0, parsed_ok = 0;
    uint8_t *copy = malloc(b->size);
    need(copy != NULL, "out of memory");
    for (int i = 0; i < iterations; i++) {
        memcpy(copy, b->data, b->size);
        int changes = 1 + rng() % 4;
        for (int c = 0; c < changes; c++)
            mutate(copy, b->size);
        struct platform p;
        int parsed;
        if (open_and_parse(copy, b->size, &p, &parsed) == FDT_OK) {
            opened++;
            parsed_ok += parsed == 0;
        }
    }
    free(copy);
    // Many mutations land in property values and leave a readable tree.
    CHECK(opened > iterations / 10);
    CHECK(opened < iterations);
    printf("mutations: %d of %d opened, %d parsed\n", opened, iterations, parsed_ok);
}

// ---- QEMU's trees -----------------------------------------------------------------------------

struct expect {
    const char *path;
    int harts;     // -1: not checked
    long mem_mib;  // -1: not checked
    int aclint;    // 1: the tree has an ACLINT SSWI (-machine virt,aclint=on); 0: none; -1
};

static struct blob load_dtb(const char *path)
{
    struct blob b = { 0 };
    FILE *fp = fopen(path, "rb");
    if (!fp) {
        fprintf(stderr, "test_fdt: %s: %s\n", path, strerror(errno));
        exit(2);
    }
    fseek(fp, 0, SEEK_END);
    long size = ftell(fp);
    rewind(fp);
    need(size > 0 && size < (16 << 20), "dtb file size");
    b.size = (uint32_t)size;
    b.data = malloc(b.size);
    need(b.data && fread(b.data, 1, b.size, fp) == b.size, "reading the dtb");
    fclose(fp);
    // QEMU dumps its whole 1 MiB buffer: the tree is the header's totalsize bytes of it,
    // moved to a buffer of exactly that size.
    if (b.size >= HEADER_SIZE && get_be32(b.data + 4 * H_TOTALSIZE) < b.size) {
        b.size = get_be32(b.data + 4 * H_TOTALSIZE);
        uint8_t *exact = copy_prefix(&b, b.size);
        free(b.data);
        b.data = exact;
    }
    if (b.size >= HEADER_SIZE) {
        b.struct_off = get_be32(b.data + 4 * H_OFF_STRUCT);
        b.struct_size = get_be32(b.data + 4 * H_SIZE_STRUCT);
        b.strings_off = get_be32(b.data + 4 * H_OFF_STRINGS);
        b.strings_size = get_be32(b.data + 4 * H_SIZE_STRINGS);
    }
    return b;
}

static void check_qemu_tree(const struct expect *e)
{
    struct blob b = load_dtb(e->path);
    struct platform p;
    char err[96] = "";
    printf("%s:\n", e->path);
    if (!CHECK_EQ_INT(parse_blob(&b, &p, err, sizeof err), 0)) {
        printf("  platform_parse: %s\n", err);
        blob_free(&b);
        return;
    }
    if (e->harts >= 0)
        CHECK_EQ_INT(p.nharts, e->harts < MAX_HARTS ? e->harts : MAX_HARTS);
    CHECK(p.nharts >= 1);
    if (e->mem_mib >= 0)
        CHECK_EQ_INT(platform_memory_size(&p), (uint64_t)e->mem_mib << 20);
    CHECK_EQ_INT(p.nmemory, 1);
    CHECK_EQ_INT(p.memory[0].base, VIRT_RAM);
    CHECK_EQ_INT(p.timebase_hz, VIRT_TIMEBASE);
    CHECK_EQ_INT(p.uart_base, VIRT_UART);
    CHECK(p.uart_size >= 8);
    CHECK_EQ_INT(p.uart_irq, 10);
    CHECK_EQ_INT(p.plic_base, VIRT_PLIC);
    CHECK(p.plic_size > 0);
    CHECK(p.plic_ndev > 0);
    CHECK_EQ_INT(p.test_base, VIRT_TEST);
    for (int i = 0; i < p.nharts; i++) {
        const struct hart_info *h = &p.harts[i];
        CHECK_EQ_INT(h->hartid, i);
        CHECK(h->sstc);
        CHECK(h->intc_phandle != 0);
        // QEMU lists each hart's M-mode context, then its S-mode one.
        CHECK_EQ_INT(h->plic_context, 2 * i + 1);
        if (e->aclint >= 0)
            CHECK_EQ_INT(h->sswi_index, e->aclint ? i : -1);
    }
    if (e->aclint >= 0) {
        CHECK_EQ_INT(p.sswi_base, e->aclint ? VIRT_SSWI : 0);
        CHECK(e->aclint ? p.sswi_size >= 4 * (uint64_t)p.nharts : p.sswi_size == 0);
    }
    printf("  %d harts, %llu MiB at 0x%llx, timebase %llu Hz, UART 0x%llx, PLIC 0x%llx "
           "(%u sources), test 0x%llx\n",
           p.nharts, (unsigned long long)(platform_memory_size(&p) >> 20),
           (unsigned long long)p.memory[0].base, (unsigned long long)p.timebase_hz,
           (unsigned long long)p.uart_base, (unsigned long long)p.plic_base, p.plic_ndev,
           (unsigned long long)p.test_base);

    // QEMU's tree broken in every way the built-in ones are.
    test_truncations(&b);
    for (uint32_t k = 0; k < b.struct_size; k += 4) {
        struct fdt f;
        uint8_t *copy = copy_prefix(&b, b.size);
        put_be32(copy + 4 * H_SIZE_STRUCT, k);
        CHECK_EQ_INT(fdt_open(&f, copy, b.size), FDT_ERR_STRUCTURE);
        free(copy);
    }
    test_mutations(&b, 3000);
    blob_free(&b);
}

// --dtb PATH starts a tree; --harts N and --mem-mib M after it say what it must hold.
static int run_qemu_trees(int argc, char **argv)
{
    struct expect e[16];
    int n = 0;
    for (int i = 1; i < argc; i++) {
        const char *arg = argv[i];
        bool has_value = i + 1 < argc;
        bool option = strcmp(arg, "--harts") == 0 || strcmp(arg, "--mem-mib") == 0 ||
                      strcmp(arg, "--aclint") == 0;
        if (option && has_value && n) {
            long value = strtol(argv[++i], NULL, 0);
            if (arg[2] == 'h')
                e[n - 1].harts = (int)value;
            else if (arg[2] == 'a')
                e[n - 1].aclint = (int)value;
            else
                e[n - 1].mem_mib = value;
        } else if (n < 16 && (arg[0] != '-' || (strcmp(arg, "--dtb") == 0 && has_value))) {
            e[n++] = (struct expect){ arg[0] == '-' ? argv[++i] : arg, -1, -1, -1 };
        } else {
            fprintf(stderr,
                    "usage: test_fdt [--dtb PATH [--harts N] [--mem-mib M] [--aclint 0|1]] ...\n");
            return 2;
        }
    }
    for (int i = 0; i < n; i++)
        check_qemu_tree(&e[i]);
    return check_done("test_fdt");
}

int main(int argc, char **argv)
{
    if (argc > 1)
        return run_qemu_trees(argc, argv);

    test_virt_trees();
    test_long_bootargs();
    test_walk();
    test_props();
    test_bad_headers();
    test_bad_property();
    test_bad_structure();
    test_depth();
    test_cells();
    test_refused_trees();

    struct blob b = build_virt(&virt_default, STRUCT_FIRST);
    test_truncations(&b);
    blob_free(&b);
    b = build_virt(&virt_default, STRUCT_LAST);
    test_short_struct_blocks(&b);
    test_mutations(&b, 20000);
    blob_free(&b);
    return check_done("test_fdt");
}
