// The physical page allocator (see kalloc.h). A free page holds the link to the
// next one and a marker, so a page written while free is caught. Every page has a
// reference count (one 32-bit word per page, in an array carved from memory at
// boot), so a page mapped into several address spaces is freed by the last unmap.
#include "mm/kalloc.h"
#include "lib/assert.h"
#include "lib/spinlock.h"
#include "lib/string.h"
#include "mm/memlayout.h"

#define FREE_MARK 0x5ee7f4eef4eef4eeULL  // "free page" in the second word
#define JUNK 0x05

struct free_page {
    struct free_page *next;
    uint64_t mark;
};

static struct {
    struct spinlock lock;
    // kalloc.lock must be held when using these:
    struct free_page *head;
    uint64_t free;
} kmem = { .lock = SPINLOCK_INIT("kalloc") };

static uint64_t total_pages;
static uint64_t mem_lo, mem_hi;  // physical bounds of what was freed, for checks
static uint32_t *page_refs;      // indexed by (pa - mem_lo) / PAGE_SIZE; atomic

static bool page_is_memory(uint64_t pa)
{
    return pa >= mem_lo && pa < mem_hi && (pa & (PAGE_SIZE - 1)) == 0;
}

// The reference count of a page the allocator never hands out (firmware, kernel
// image, device tree, boot archive): such pages are never freed.
#define REFS_RESERVED UINT32_MAX

bool kalloc_manages(uint64_t pa)
{
    return page_refs && page_is_memory(pa) &&
           __atomic_load_n(&page_refs[(pa - mem_lo) / PAGE_SIZE], __ATOMIC_RELAXED) !=
               REFS_RESERVED;
}

static uint32_t *refs_of(void *page)
{
    uint64_t pa = V2P(page);
    if (!kalloc_manages(pa))
        panic("kalloc: %p is not an allocatable page", page);
    return &page_refs[(pa - mem_lo) / PAGE_SIZE];
}

static void set_refs(uint64_t pa, uint32_t refs)
{
    page_refs[(pa - mem_lo) / PAGE_SIZE] = refs;
}

void kpage_get(void *page)
{
    if (__atomic_fetch_add(refs_of(page), 1, __ATOMIC_RELAXED) == 0)
        panic("kalloc: taking a reference to free page %p", page);
}

static void free_list_push(struct free_page *fp)
{
    fp->mark = FREE_MARK;
    spin_lock(&kmem.lock);
    fp->next = kmem.head;
    kmem.head = fp;
    kmem.free++;
    spin_unlock(&kmem.lock);
}

void kfree_page(void *page)
{
    // Acquire-release: the last holder's writes happen before the page is reused.
    uint32_t before = __atomic_fetch_sub(refs_of(page), 1, __ATOMIC_ACQ_REL);
    if (before == 0)
        panic("kalloc: page %p freed twice", page);
    if (before > 1)
        return;  // someone else still has it
    memset(page, JUNK, PAGE_SIZE);
    free_list_push(page);
}

void *kalloc_page(void)
{
    spin_lock(&kmem.lock);
    struct free_page *fp = kmem.head;
    if (fp) {
        kmem.head = fp->next;
        kmem.free--;
    }
    spin_unlock(&kmem.lock);
    if (!fp)
        return NULL;
    if (fp->mark != FREE_MARK)
        panic("kalloc: free page %p was written while free", fp);
    __atomic_store_n(refs_of(fp), 1, __ATOMIC_RELAXED);
    fp->next = (void *)0x0505050505050505ULL;
    fp->mark = 0x0505050505050505ULL;
    return fp;
}

void *kalloc_zpage(void)
{
    void *page = kalloc_page();
    if (page)
        memset(page, 0, PAGE_SIZE);
    return page;
}

uint64_t kalloc_free_count(void)
{
    spin_lock(&kmem.lock);
    uint64_t n = kmem.free;
    spin_unlock(&kmem.lock);
    return n;
}

uint64_t kalloc_total_count(void)
{
    return total_pages;
}

// ---- boot --------------------------------------------------------------------------

static bool overlaps(uint64_t pa, uint64_t base, uint64_t size)
{
    return size && pa < base + size && base < pa + PAGE_SIZE;
}

static bool page_reserved(const struct platform *p, uint64_t pa, uint64_t dtb_pa,
                          uint64_t dtb_size)
{
    if (overlaps(pa, V2P(kernel_start), V2P(kernel_end) - V2P(kernel_start)))
        return true;
    if (overlaps(pa, dtb_pa, dtb_size))
        return true;
    if (overlaps(pa, p->initrd_start, p->initrd_end - p->initrd_start))
        return true;
    for (int i = 0; i < p->nreserved; i++)
        if (overlaps(pa, p->reserved[i].base, p->reserved[i].size))
            return true;
    return false;
}

// The first run of free pages long enough for the reference counts.
static uint64_t find_refs_home(const struct platform *p, uint64_t bytes, uint64_t dtb_pa,
                               uint64_t dtb_size)
{
    uint64_t need = PAGE_ROUND_UP(bytes) / PAGE_SIZE;
    for (int i = 0; i < p->nmemory; i++) {
        uint64_t lo = PAGE_ROUND_UP(p->memory[i].base);
        uint64_t hi = PAGE_ROUND_DOWN(p->memory[i].base + p->memory[i].size);
        uint64_t run = 0;
        for (uint64_t pa = lo; pa < hi; pa += PAGE_SIZE) {
            run = page_reserved(p, pa, dtb_pa, dtb_size) ? 0 : run + 1;
            if (run == need)
                return pa - (need - 1) * PAGE_SIZE;
        }
    }
    panic("kalloc: no room for the page reference counts (%lu bytes)", (unsigned long)bytes);
}

void kalloc_init(const struct platform *p, uint64_t dtb_pa, uint64_t dtb_size)
{
    mem_lo = UINT64_MAX;
    for (int i = 0; i < p->nmemory; i++) {
        uint64_t lo = PAGE_ROUND_UP(p->memory[i].base);
        uint64_t hi = PAGE_ROUND_DOWN(p->memory[i].base + p->memory[i].size);
        mem_lo = MIN(mem_lo, lo);
        mem_hi = MAX(mem_hi, hi);
    }
    uint64_t refs_bytes = (mem_hi - mem_lo) / PAGE_SIZE * sizeof(uint32_t);
    uint64_t refs_pa = find_refs_home(p, refs_bytes, dtb_pa, dtb_size);
    page_refs = P2V(refs_pa);
    for (uint64_t pa = mem_lo; pa < mem_hi; pa += PAGE_SIZE)
        set_refs(pa, REFS_RESERVED);  // until freed below
    for (int i = 0; i < p->nmemory; i++) {
        uint64_t lo = PAGE_ROUND_UP(p->memory[i].base);
        uint64_t hi = PAGE_ROUND_DOWN(p->memory[i].base + p->memory[i].size);
        for (uint64_t pa = lo; pa < hi; pa += PAGE_SIZE) {
            if (page_reserved(p, pa, dtb_pa, dtb_size) ||
                (pa >= refs_pa && pa < refs_pa + refs_bytes))
                continue;
            // Not kfree_page(): filling every page with junk at boot costs
            // more than the whole rest of the boot under emulation.
            set_refs(pa, 0);
            free_list_push(P2V(pa));
            total_pages++;
        }
    }
}
