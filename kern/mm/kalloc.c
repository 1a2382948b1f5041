// The physical page allocator (see kalloc.h). A free page holds the link to the
// next one and a marker. Every page has a reference count (one 32-bit word per page,
// in an array carved from memory at boot), so a page mapped into several address
// spaces is freed by the last unmap.
//
// Debug builds (KERNEL_DEBUG) fill a freed page with poison and check, when the page
// is handed out again, that every word still holds it: a write to a free page (a use
// after free, a stale TLB entry) is caught at the next allocation, with the word that
// changed. Release builds check only the marker.
#include "mm/kalloc.h"
#include "lib/assert.h"
#include "mm/failalloc.h"
#include "lib/spinlock.h"
#include "lib/string.h"
#include "mm/memlayout.h"

#define FREE_MARK   0x5ee7f4eef4eef4eeULL  // "free page", in the second word
#define FRESH_MARK  0xf7e5f7e5f7e5f7e5ULL  // free since boot: never poisoned
#define POISON      0x05                   // every byte of a freed page (debug builds)
#define POISON_WORD 0x0505050505050505ULL

struct free_page {
    struct free_page *next;
    uint64_t mark;
};

static struct {
    struct spinlock lock;
    // kalloc.lock must be held when using these:
    struct free_page *head;
    uint64_t free;
} kmem = { .lock = SPINLOCK_INIT("kalloc", RANK_KALLOC) };

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

static void free_list_push(struct free_page *fp, uint64_t mark)
{
    fp->mark = mark;
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
#ifdef KERNEL_DEBUG
    memset(page, POISON, PAGE_SIZE);
#endif
    free_list_push(page, FREE_MARK);
}

// Panics unless fp still looks as free_list_push left it.
static void check_still_free(struct free_page *fp)
{
    if (fp->mark == FRESH_MARK)
        return;
    if (fp->mark != FREE_MARK)
        panic("kalloc: free page %p was written while free (its marker is %#lx)", fp,
              (unsigned long)fp->mark);
#ifdef KERNEL_DEBUG
    const uint64_t *w = (const uint64_t *)fp;
    for (uint64_t i = 2; i < PAGE_SIZE / 8; i++)
        if (w[i] != POISON_WORD)
            panic("kalloc: free page %p was written while free (word %lu is %#lx)", fp,
                  (unsigned long)i, (unsigned long)w[i]);
#endif
}

void *kalloc_page(void)
{
    if (failalloc_now(FAIL_PAGE))
        return NULL;
    spin_lock(&kmem.lock);
    struct free_page *fp = kmem.head;
    if (fp) {
        kmem.head = fp->next;
        kmem.free--;
    }
    spin_unlock(&kmem.lock);
    if (!fp)
        return NULL;
    check_still_free(fp);
    __atomic_store_n(refs_of(fp), 1, __ATOMIC_RELAXED);
    fp->next = (void *)POISON_WORD;
    fp->mark = POISON_WORD;
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

static bool page_reserved(const struct platform *p, uint64_t pa, uint64_t dtb_pa, uint64_t dtb_size)
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
            // Not kfree_page(): poisoning every page at boot costs more than the
            // whole rest of the boot under emulation.
            set_refs(pa, 0);
            free_list_push(P2V(pa), FRESH_MARK);
            total_pages++;
        }
    }
}
