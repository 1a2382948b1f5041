// A reader for the flattened device tree (FDT) that the firmware hands the kernel.
// It trusts nothing in the blob: fdt_open() checks the header and every token of the
// structure block once, and the accessors check bounds again, so a truncated or corrupt
// tree gives an error, never a read outside the blob.
//
// Interface:
//   fdt_open(f, blob, avail)   check the tree; avail = bytes that may be read at blob
//   fdt_walk(f, visit, ctx)    call visit(node, ctx) for every node, parents first
//   fdt_prop(node, name, &len) a property's value and length, or NULL
//   fdt_read_cells(p, n)       a big-endian number of n 32-bit cells
//   fdt_strerror(err)          what went wrong, for a panic message
//
// Reference: Devicetree Specification v0.4, chapter 5 "Flattened Devicetree (DTB) Format".
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define FDT_MAGIC     0xd00dfeed
#define FDT_MAX_DEPTH 16

enum fdt_error {
    FDT_OK = 0,
    FDT_ERR_TRUNCATED = -1,  // the blob ends before what it describes
    FDT_ERR_MAGIC = -2,      // not a device tree
    FDT_ERR_VERSION = -3,    // a version this reader does not know
    FDT_ERR_LAYOUT = -4,     // blocks overlap, are misaligned or out of bounds
    FDT_ERR_STRUCTURE = -5,  // a bad token, name or property in the structure block
    FDT_ERR_DEPTH = -6,      // nodes nested deeper than FDT_MAX_DEPTH
    FDT_ERR_STOPPED = -7,    // a visitor asked to stop
};

struct fdt {
    const uint8_t *blob;
    uint32_t size;  // totalsize from the header
    uint32_t struct_off, struct_size;
    uint32_t strings_off, strings_size;
    uint32_t rsvmap_off;
};

struct fdt_node {
    const struct fdt *fdt;
    const struct fdt_node *parent;    // NULL for the root
    const char *name;                 // "cpu@0"; "" for the root
    int props;                        // offset of the first token after the name
    int depth;                        // the root is 0
    uint32_t addr_cells, size_cells;  // the parent's: how to read this node's reg
};

// A visitor returns 0 to go on, anything else to stop the walk.
typedef int (*fdt_visit_fn)(const struct fdt_node *node, void *ctx);

int fdt_open(struct fdt *f, const void *blob, size_t avail);
int fdt_walk(const struct fdt *f, fdt_visit_fn visit, void *ctx);
const void *fdt_prop(const struct fdt_node *node, const char *name, int *len);
bool fdt_prop_u32(const struct fdt_node *node, const char *name, uint32_t *value);
uint64_t fdt_read_cells(const void *p, uint32_t ncells);
// True when the string-list property name holds s ("compatible" = "a\0b\0").
bool fdt_prop_has_string(const struct fdt_node *node, const char *name, const char *s);
// The node's name up to any '@': "memory@80000000" matches "memory".
bool fdt_node_named(const struct fdt_node *node, const char *base);
// Entry i of the memory reservation block; false past the last entry.
bool fdt_reserved_entry(const struct fdt *f, int i, uint64_t *addr, uint64_t *size);
const char *fdt_strerror(int err);
