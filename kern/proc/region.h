// Memory regions: pages a process can map by handle. A region is either pages from
// the allocator (region_create: zeroed, shared by every mapping) or a fixed physical
// range the kernel hands out (the boot archive; device registers in later issues),
// which is never freed.
#pragma once

#include "proc/object.h"

#define REGION_MAX_PAGES 512  // 2 MiB: the page list fits in one page

struct region {
    struct kobject obj;
    uint64_t npages;
    uint64_t phys_base;  // a fixed physical range when pages is NULL
    uint64_t *pages;     // physical address of each page (allocator pages)
    uint64_t pte_flags;  // extra PTE bits for every mapping (none yet)
};

// A region of len bytes of zeroed pages, or NULL (E_NOMEM / too large).
struct region *region_create(uint64_t len);
// A region over [pa, pa + len), page-aligned, not from the allocator.
struct region *region_create_phys(uint64_t pa, uint64_t len);
// The physical address of page i.
uint64_t region_page(const struct region *r, uint64_t i);
void region_destroy(struct region *r);
