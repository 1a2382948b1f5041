// The device tree read into a struct platform (see platform.h).
#include "boot/platform.h"
#include "lib/fmt.h"
#include "lib/string.h"

struct parse {
    struct platform *p;
    const char *error;          // the first problem found, or NULL
    char detail[96];            // storage for a formatted error
    const void *plic_contexts;  // the PLIC's interrupts-extended, resolved at the end
    int plic_contexts_len;
    const void *sswi_harts;  // the SSWI's interrupts-extended, resolved at the end
    int sswi_harts_len;
    bool have_cpus;
};

static void fail(struct parse *ps, const char *node, const char *what)
{
    if (ps->error)
        return;
    fmt_snprintf(ps->detail, sizeof ps->detail, "%s: %s", node[0] ? node : "/", what);
    ps->error = ps->detail;
}

// Reads entry i of the node's reg property; false when it has no entry i.
static bool read_reg(const struct fdt_node *n, int i, uint64_t *base, uint64_t *size)
{
    int len;
    const uint8_t *reg = fdt_prop(n, "reg", &len);
    int entry = 4 * (n->addr_cells + n->size_cells);
    if (!reg || entry == 0 || len % entry != 0 || i >= len / entry)
        return false;
    *base = fdt_read_cells(reg + i * entry, n->addr_cells);
    *size = fdt_read_cells(reg + i * entry + 4 * n->addr_cells, n->size_cells);
    return true;
}

static void add_range(struct parse *ps, struct mem_range *ranges, int *n, int max, uint64_t base,
                      uint64_t size, const struct fdt_node *node)
{
    if (size == 0)
        return;
    if (base + size < base)
        return fail(ps, node->name, "reg wraps around the address space");
    if (*n == max)
        return fail(ps, node->name, "too many memory ranges");
    ranges[(*n)++] = (struct mem_range){ base, size };
}

static void read_memory(struct parse *ps, const struct fdt_node *n)
{
    uint64_t base, size;
    int i = 0;
    for (; read_reg(n, i, &base, &size); i++)
        add_range(ps, ps->p->memory, &ps->p->nmemory, MAX_MEM_RANGES, base, size, n);
    if (i == 0)
        fail(ps, n->name, "memory node without a valid reg");
}

static void read_reserved(struct parse *ps, const struct fdt_node *n)
{
    uint64_t base, size;
    for (int i = 0; read_reg(n, i, &base, &size); i++)
        add_range(ps, ps->p->reserved, &ps->p->nreserved, MAX_RESERVED, base, size, n);
}

// "rv64imafdch_zicsr_..._sstc": extensions after the first '_' are named whole.
static bool isa_has(const char *isa, int len, const char *ext)
{
    int elen = (int)strlen(ext);
    for (int i = 0; i < len && isa[i]; i++) {
        if (isa[i] != '_')
            continue;
        if (i + 1 + elen <= len && strncmp(isa + i + 1, ext, elen) == 0 &&
            (i + 1 + elen == len || isa[i + 1 + elen] == '_' || isa[i + 1 + elen] == '\0'))
            return true;
    }
    return false;
}

static void read_cpu(struct parse *ps, const struct fdt_node *n)
{
    struct platform *p = ps->p;
    int len;
    const char *status = fdt_prop(n, "status", &len);
    if (status && len >= 4 && strncmp(status, "okay", 4) != 0 && strncmp(status, "ok", 3) != 0)
        return;  // "disabled" or "fail": not ours to start
    uint64_t hartid, unused;
    if (n->addr_cells < 1 || n->addr_cells > 2 || !read_reg(n, 0, &hartid, &unused))
        return fail(ps, n->name, "cpu without a valid reg (hart id)");
    if (p->nharts == MAX_HARTS) {
        p->harts_ignored++;
        return;
    }
    struct hart_info *h = &p->harts[p->nharts++];
    *h = (struct hart_info){ .hartid = hartid, .plic_context = -1, .sswi_index = -1 };
    const char *isa = fdt_prop(n, "riscv,isa", &len);
    if (isa)
        h->sstc = isa_has(isa, len, "sstc");
}

// The interrupt controller inside a cpu node gives the phandle the PLIC refers to.
static void read_cpu_intc(struct parse *ps, const struct fdt_node *n)
{
    struct platform *p = ps->p;
    if (p->nharts == 0 || !fdt_prop(n, "interrupt-controller", NULL))
        return;
    uint64_t hartid, unused;
    const struct fdt_node *cpu = n->parent;
    if (!read_reg(cpu, 0, &hartid, &unused))
        return;
    for (int i = 0; i < p->nharts; i++)
        if (p->harts[i].hartid == hartid)
            fdt_prop_u32(n, "phandle", &p->harts[i].intc_phandle);
}

static void read_cpus(struct parse *ps, const struct fdt_node *n)
{
    uint32_t hz;
    ps->have_cpus = true;
    if (fdt_prop_u32(n, "timebase-frequency", &hz))
        ps->p->timebase_hz = hz;
    else {
        int len;
        const void *v = fdt_prop(n, "timebase-frequency", &len);
        if (v && len == 8)
            ps->p->timebase_hz = fdt_read_cells(v, 2);
    }
}

static void read_uart(struct parse *ps, const struct fdt_node *n)
{
    struct platform *p = ps->p;
    if (p->uart_base)
        return;  // the first one is the console
    if (!read_reg(n, 0, &p->uart_base, &p->uart_size) || p->uart_size < 8)
        return fail(ps, n->name, "UART without a valid reg");
    fdt_prop_u32(n, "interrupts", &p->uart_irq);
    fdt_prop_u32(n, "reg-shift", &p->uart_reg_shift);
    if (p->uart_reg_shift > 2)
        fail(ps, n->name, "UART reg-shift larger than 2");
}

static void read_plic(struct parse *ps, const struct fdt_node *n)
{
    struct platform *p = ps->p;
    if (!read_reg(n, 0, &p->plic_base, &p->plic_size))
        return fail(ps, n->name, "PLIC without a valid reg");
    if (!fdt_prop_u32(n, "riscv,ndev", &p->plic_ndev) || p->plic_ndev > 1023)
        return fail(ps, n->name, "PLIC without a valid riscv,ndev");
    ps->plic_contexts = fdt_prop(n, "interrupts-extended", &ps->plic_contexts_len);
}

// ACLINT SSWI: one 4-byte register per hart; interrupts-extended says whose is which.
static void read_sswi(struct parse *ps, const struct fdt_node *n)
{
    struct platform *p = ps->p;
    if (!read_reg(n, 0, &p->sswi_base, &p->sswi_size))
        return fail(ps, n->name, "ACLINT SSWI without a valid reg");
    ps->sswi_harts = fdt_prop(n, "interrupts-extended", &ps->sswi_harts_len);
}

static void read_chosen(struct parse *ps, const struct fdt_node *n)
{
    struct platform *p = ps->p;
    int len;
    const char *args = fdt_prop(n, "bootargs", &len);
    if (args && len > 0) {
        int n_copy = (int)strnlen(args, len);
        if (n_copy >= BOOTARGS_MAX) {
            n_copy = BOOTARGS_MAX - 1;
            p->bootargs_truncated = true;
        }
        memcpy(p->bootargs, args, n_copy);
        p->bootargs[n_copy] = '\0';
    }
    const void *start = fdt_prop(n, "linux,initrd-start", &len);
    int elen;
    const void *end = fdt_prop(n, "linux,initrd-end", &elen);
    if (!start && !end)
        return;
    if (!start || !end || (len != 4 && len != 8) || (elen != 4 && elen != 8))
        return fail(ps, n->name, "bad linux,initrd-start/end");
    p->initrd_start = fdt_read_cells(start, len / 4);
    p->initrd_end = fdt_read_cells(end, elen / 4);
    if (p->initrd_end < p->initrd_start)
        fail(ps, n->name, "initrd ends before it starts");
}

static int visit(const struct fdt_node *n, void *ctx)
{
    struct parse *ps = ctx;
    int len;
    const char *type = fdt_prop(n, "device_type", &len);
    bool is_type_memory = type && len == 7 && memcmp(type, "memory", 7) == 0;
    bool is_type_cpu = type && len == 4 && memcmp(type, "cpu", 4) == 0;

    if (n->depth == 1 && (is_type_memory || fdt_node_named(n, "memory")))
        read_memory(ps, n);
    else if (n->depth == 1 && fdt_node_named(n, "chosen"))
        read_chosen(ps, n);
    else if (n->depth == 1 && fdt_node_named(n, "cpus"))
        read_cpus(ps, n);
    else if (n->depth == 2 && n->parent && fdt_node_named(n->parent, "cpus") && is_type_cpu)
        read_cpu(ps, n);
    else if (n->depth == 3 && fdt_node_named(n, "interrupt-controller") &&
             fdt_node_named(n->parent->parent, "cpus"))
        read_cpu_intc(ps, n);
    else if (n->depth == 2 && fdt_node_named(n->parent, "reserved-memory"))
        read_reserved(ps, n);
    else if (fdt_prop_has_string(n, "compatible", "ns16550a") ||
             fdt_prop_has_string(n, "compatible", "ns16550"))
        read_uart(ps, n);
    else if (fdt_prop_has_string(n, "compatible", "riscv,plic0") ||
             fdt_prop_has_string(n, "compatible", "sifive,plic-1.0.0"))
        read_plic(ps, n);
    else if (fdt_prop_has_string(n, "compatible", "riscv,aclint-sswi"))
        read_sswi(ps, n);
    else if (fdt_prop_has_string(n, "compatible", "sifive,test0")) {
        uint64_t size;
        if (!read_reg(n, 0, &ps->p->test_base, &size))
            fail(ps, n->name, "test device without a valid reg");
    }
    return ps->error ? 1 : 0;
}

// interrupts-extended is a list of <intc phandle, cause>: entry i is PLIC context i.
// A hart's S-mode context is the one naming its controller with cause 9 (S external).
// interrupts-extended is a list of <intc phandle, cause>. For the PLIC, entry i is
// context i, and a hart's S-mode context is the one naming its controller with cause 9
// (S external). For the SSWI, entry i is register i, the one with cause 1 (S software).
// Returns the entry naming the hart's controller with that cause, or -1.
static int find_entry(const uint8_t *cells, int len, uint32_t intc_phandle, uint32_t cause)
{
    for (int i = 0; cells && intc_phandle && (i + 1) * 8 <= len; i++)
        if ((uint32_t)fdt_read_cells(cells + 8 * i, 1) == intc_phandle &&
            (uint32_t)fdt_read_cells(cells + 8 * i + 4, 1) == cause)
            return i;
    return -1;
}

static void resolve_interrupts(struct parse *ps)
{
    struct platform *p = ps->p;
    for (int i = 0; i < p->nharts; i++) {
        struct hart_info *h = &p->harts[i];
        h->plic_context = find_entry(ps->plic_contexts, ps->plic_contexts_len, h->intc_phandle, 9);
        h->sswi_index = find_entry(ps->sswi_harts, ps->sswi_harts_len, h->intc_phandle, 1);
        if (h->sswi_index >= 0 && (uint64_t)(h->sswi_index + 1) * 4 > p->sswi_size)
            h->sswi_index = -1;  // a register outside the device: not usable
    }
}

static void read_memreserve(struct parse *ps, const struct fdt *f)
{
    uint64_t addr, size;
    struct fdt_node header = { .name = "/memreserve/" };
    for (int i = 0; i < MAX_RESERVED && fdt_reserved_entry(f, i, &addr, &size); i++)
        add_range(ps, ps->p->reserved, &ps->p->nreserved, MAX_RESERVED, addr, size, &header);
}

int platform_parse(struct platform *p, const struct fdt *f, char *err, int errlen)
{
    struct parse ps = { .p = p };
    memset(p, 0, sizeof *p);
    read_memreserve(&ps, f);
    int rc = fdt_walk(f, visit, &ps);
    if (rc != FDT_OK && rc != FDT_ERR_STOPPED)
        ps.error = fdt_strerror(rc);
    if (!ps.error && p->nmemory == 0)
        ps.error = "no memory node";
    if (!ps.error && !ps.have_cpus)
        ps.error = "no /cpus node";
    if (!ps.error && p->nharts == 0)
        ps.error = "no usable cpu under /cpus";
    if (!ps.error && p->timebase_hz == 0)
        ps.error = "/cpus has no timebase-frequency";
    if (ps.error) {
        fmt_snprintf(err, errlen, "%s", ps.error);
        return -1;
    }
    resolve_interrupts(&ps);
    return 0;
}

const struct hart_info *platform_hart(const struct platform *p, uint64_t hartid)
{
    for (int i = 0; i < p->nharts; i++)
        if (p->harts[i].hartid == hartid)
            return &p->harts[i];
    return NULL;
}

uint64_t platform_memory_size(const struct platform *p)
{
    uint64_t total = 0;
    for (int i = 0; i < p->nmemory; i++)
        total += p->memory[i].size;
    return total;
}
