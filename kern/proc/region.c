// Memory regions (see region.h). A mapping of an allocator page holds its own page
// reference, so a region's pages outlive the region for as long as they are mapped.
#include "proc/region.h"
#include "lib/assert.h"
#include "mm/kalloc.h"
#include "mm/memlayout.h"

// A region still private to its creator: no object yet, so that a creation that fails
// half-way frees it with region_free and leaves no object counted (object.h).
static struct region *region_alloc(uint64_t npages)
{
    // The region itself lives in a page of its own: simple, and regions are few.
    struct region *r = kalloc_zpage();
    if (r)
        r->npages = npages;
    return r;
}

static void region_free(struct region *r)
{
    if (r->pages) {
        for (uint64_t i = 0; i < r->npages; i++)
            kfree_page(P2V(r->pages[i]));
        kfree_page(r->pages);
    }
    kfree_page(r);
}

static struct region *region_publish(struct region *r)
{
    kobj_init(&r->obj, KOBJ_REGION);
    return r;
}

struct region *region_create(uint64_t len)
{
    if (len == 0 || len > REGION_MAX_PAGES * PAGE_SIZE)
        return NULL;
    uint64_t npages = PAGE_ROUND_UP(len) / PAGE_SIZE;
    struct region *r = region_alloc(npages);
    if (!r)
        return NULL;
    r->pages = kalloc_zpage();
    if (!r->pages) {
        kfree_page(r);
        return NULL;
    }
    for (uint64_t i = 0; i < npages; i++) {
        void *page = kalloc_zpage();
        if (!page) {
            r->npages = i;
            region_free(r);
            return NULL;
        }
        r->pages[i] = V2P(page);
    }
    return region_publish(r);
}

struct region *region_create_phys(uint64_t pa, uint64_t len)
{
    assert(pa % PAGE_SIZE == 0);
    struct region *r = region_alloc(PAGE_ROUND_UP(len) / PAGE_SIZE);
    if (!r)
        return NULL;
    r->phys_base = pa;
    return region_publish(r);
}

uint64_t region_page(const struct region *r, uint64_t i)
{
    assert(i < r->npages);
    return r->pages ? r->pages[i] : r->phys_base + i * PAGE_SIZE;
}

void region_destroy(struct region *r)
{
    region_free(r);
}
