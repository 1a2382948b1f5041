// The flattened device tree reader (see fdt.h). Pure code: the host unit tests
// build it too and feed it truncated and corrupt trees.
//
// The blob is big-endian and we read it a byte at a time, so no access is ever
// misaligned whatever offsets a corrupt header holds.
#include "boot/fdt.h"
#include "lib/string.h"

#define FDT_BEGIN_NODE 1
#define FDT_END_NODE   2
#define FDT_PROP       3
#define FDT_NOP        4
#define FDT_END        9

#define HEADER_SIZE 40
#define MAX_SIZE    (64u << 20)  // no real tree comes near this

static uint32_t be32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static uint32_t header_field(const uint8_t *blob, int index)
{
    return be32(blob + 4 * index);
}

// Is [off, off+len) inside [0, limit)? Written to avoid overflow.
static bool in_bounds(uint32_t off, uint32_t len, uint32_t limit)
{
    return off <= limit && len <= limit - off;
}

// ---- reading the structure block; every offset is relative to its start --------

// The 32-bit word at off, or false when it would cross the block's end.
static bool word_at(const struct fdt *f, int off, uint32_t *w)
{
    if (off < 0 || !in_bounds((uint32_t)off, 4, f->struct_size))
        return false;
    *w = be32(f->blob + f->struct_off + off);
    return true;
}

static int align4(int off)
{
    return (off + 3) & ~3;
}

// The NUL-terminated string at off inside the structure block; its length in *len.
static const char *struct_string(const struct fdt *f, int off, int *len)
{
    if (off < 0 || (uint32_t)off >= f->struct_size)
        return NULL;
    const char *s = (const char *)f->blob + f->struct_off + off;
    size_t n = strnlen(s, f->struct_size - off);
    if (n == f->struct_size - (uint32_t)off)
        return NULL;  // no terminator before the end
    *len = (int)n;
    return s;
}

// A property's name: a string in the strings block.
static const char *prop_name(const struct fdt *f, uint32_t nameoff)
{
    if (nameoff >= f->strings_size)
        return NULL;
    const char *s = (const char *)f->blob + f->strings_off + nameoff;
    if (strnlen(s, f->strings_size - nameoff) == f->strings_size - nameoff)
        return NULL;
    return s;
}

// A property token at off (after its FDT_PROP word): length, name and value.
// Returns the offset after it, or -1 when it is malformed.
static int read_prop(const struct fdt *f, int off, const char **name, const void **value, int *len)
{
    uint32_t vlen, nameoff;
    if (!word_at(f, off, &vlen) || !word_at(f, off + 4, &nameoff))
        return -1;
    int data = off + 8;
    if (!in_bounds((uint32_t)data, vlen, f->struct_size))
        return -1;
    *name = prop_name(f, nameoff);
    if (!*name)
        return -1;
    *value = f->blob + f->struct_off + data;
    *len = (int)vlen;
    return align4(data + (int)vlen);
}

// Skips NOP tokens; returns the offset of the next real token and its value.
static int next_token(const struct fdt *f, int off, uint32_t *token)
{
    for (;;) {
        if (!word_at(f, off, token))
            return -1;
        if (*token != FDT_NOP)
            return off;
        off += 4;
    }
}

// Skips the properties starting at off; returns the offset of the token after them.
static int skip_props(const struct fdt *f, int off)
{
    uint32_t token;
    while ((off = next_token(f, off, &token)) >= 0 && token == FDT_PROP) {
        const char *name;
        const void *value;
        int len;
        off = read_prop(f, off + 4, &name, &value, &len);
        if (off < 0)
            return -1;
    }
    return off;
}

const void *fdt_prop(const struct fdt_node *node, const char *name, int *len)
{
    const struct fdt *f = node->fdt;
    int off = node->props;
    uint32_t token;
    while ((off = next_token(f, off, &token)) >= 0 && token == FDT_PROP) {
        const char *pname;
        const void *value;
        int vlen;
        off = read_prop(f, off + 4, &pname, &value, &vlen);
        if (off < 0)
            return NULL;
        if (strcmp(pname, name) == 0) {
            if (len)
                *len = vlen;
            return value;
        }
    }
    return NULL;
}

bool fdt_prop_u32(const struct fdt_node *node, const char *name, uint32_t *value)
{
    int len;
    const void *p = fdt_prop(node, name, &len);
    if (!p || len != 4)
        return false;
    *value = be32(p);
    return true;
}

uint64_t fdt_read_cells(const void *p, uint32_t ncells)
{
    const uint8_t *b = p;
    uint64_t v = 0;
    for (uint32_t i = 0; i < ncells; i++)
        v = (v << 32) | be32(b + 4 * i);
    return v;
}

bool fdt_prop_has_string(const struct fdt_node *node, const char *name, const char *s)
{
    int len;
    const char *p = fdt_prop(node, name, &len);
    if (!p)
        return false;
    size_t slen = strlen(s);
    for (int i = 0; i < len;) {
        size_t n = strnlen(p + i, len - i);
        if (n == slen && memcmp(p + i, s, n) == 0)
            return true;
        i += (int)n + 1;
    }
    return false;
}

bool fdt_node_named(const struct fdt_node *node, const char *base)
{
    size_t n = strlen(base);
    return strncmp(node->name, base, n) == 0 && (node->name[n] == '\0' || node->name[n] == '@');
}

// ---- walking the tree ---------------------------------------------------------------

// A node's #address-cells / #size-cells, which apply to its children's reg.
static void child_cells(const struct fdt_node *node, uint32_t *addr, uint32_t *size)
{
    // Devicetree spec 2.3.5: absent, they default to 2 and 1.
    *addr = 2;
    *size = 1;
    fdt_prop_u32(node, "#address-cells", addr);
    fdt_prop_u32(node, "#size-cells", size);
}

// Walks the node whose FDT_BEGIN_NODE token is at *off; on return *off is past
// its FDT_END_NODE. Returns FDT_OK or an error.
static int walk_node(const struct fdt *f, int *off, const struct fdt_node *parent,
                     fdt_visit_fn visit, void *ctx)
{
    struct fdt_node node = { .fdt = f, .parent = parent, .depth = parent ? parent->depth + 1 : 0 };
    if (node.depth >= FDT_MAX_DEPTH)
        return FDT_ERR_DEPTH;
    int namelen;
    node.name = struct_string(f, *off + 4, &namelen);
    if (!node.name)
        return FDT_ERR_STRUCTURE;
    node.props = align4(*off + 4 + namelen + 1);
    if (parent)
        child_cells(parent, &node.addr_cells, &node.size_cells);
    else
        node.addr_cells = 2, node.size_cells = 1;
    if (node.addr_cells > 4 || node.size_cells > 4)
        return FDT_ERR_STRUCTURE;

    int next = skip_props(f, node.props);
    if (next < 0)
        return FDT_ERR_STRUCTURE;
    if (visit && visit(&node, ctx) != 0)
        return FDT_ERR_STOPPED;

    for (;;) {
        uint32_t token;
        next = next_token(f, next, &token);
        if (next < 0)
            return FDT_ERR_STRUCTURE;
        if (token == FDT_END_NODE) {
            *off = next + 4;
            return FDT_OK;
        }
        if (token != FDT_BEGIN_NODE)
            return FDT_ERR_STRUCTURE;
        int err = walk_node(f, &next, &node, visit, ctx);
        if (err)
            return err;
    }
}

int fdt_walk(const struct fdt *f, fdt_visit_fn visit, void *ctx)
{
    uint32_t token;
    int off = next_token(f, 0, &token);
    if (off < 0 || token != FDT_BEGIN_NODE)
        return FDT_ERR_STRUCTURE;
    int err = walk_node(f, &off, NULL, visit, ctx);
    if (err)
        return err;
    off = next_token(f, off, &token);
    if (off < 0 || token != FDT_END)
        return FDT_ERR_STRUCTURE;
    return FDT_OK;
}

// ---- the header ---------------------------------------------------------------------

bool fdt_reserved_entry(const struct fdt *f, int i, uint64_t *addr, uint64_t *size)
{
    uint64_t off = f->rsvmap_off + 16 * (uint64_t)i;
    if (i < 0 || off > f->size || !in_bounds((uint32_t)off, 16, f->size))
        return false;
    const uint8_t *p = f->blob + off;
    *addr = fdt_read_cells(p, 2);
    *size = fdt_read_cells(p + 8, 2);
    return *addr != 0 || *size != 0;  // an all-zero entry ends the map
}

int fdt_open(struct fdt *f, const void *blob, size_t avail)
{
    const uint8_t *b = blob;
    if (avail < HEADER_SIZE)
        return FDT_ERR_TRUNCATED;
    if (header_field(b, 0) != FDT_MAGIC)
        return FDT_ERR_MAGIC;
    uint32_t totalsize = header_field(b, 1);
    if (totalsize < HEADER_SIZE || totalsize > MAX_SIZE)
        return FDT_ERR_LAYOUT;
    if (totalsize > avail)
        return FDT_ERR_TRUNCATED;
    uint32_t version = header_field(b, 5), last_compatible = header_field(b, 6);
    if (version < 16 || last_compatible > 17)
        return FDT_ERR_VERSION;
    *f = (struct fdt){
        .blob = b,
        .size = totalsize,
        .struct_off = header_field(b, 2),
        .strings_off = header_field(b, 3),
        .rsvmap_off = header_field(b, 4),
        .strings_size = header_field(b, 8),
        .struct_size = header_field(b, 9),
    };
    if (!in_bounds(f->struct_off, f->struct_size, totalsize) ||
        !in_bounds(f->strings_off, f->strings_size, totalsize) || f->rsvmap_off < HEADER_SIZE ||
        f->rsvmap_off >= totalsize || (f->struct_off & 3) || (f->rsvmap_off & 7) ||
        (f->struct_size & 3))
        return FDT_ERR_LAYOUT;
    // One walk with no visitor checks every token, so later walks cannot fail halfway.
    return fdt_walk(f, NULL, NULL);
}

const char *fdt_strerror(int err)
{
    switch (err) {
    case FDT_OK: return "no error";
    case FDT_ERR_TRUNCATED: return "truncated";
    case FDT_ERR_MAGIC: return "bad magic number (not a device tree)";
    case FDT_ERR_VERSION: return "unsupported version";
    case FDT_ERR_LAYOUT: return "header offsets out of bounds";
    case FDT_ERR_STRUCTURE: return "corrupt structure block";
    case FDT_ERR_DEPTH: return "nodes nested too deep";
    case FDT_ERR_STOPPED: return "walk stopped";
    default: return "unknown error";
    }
}
