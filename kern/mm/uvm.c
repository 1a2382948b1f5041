// User address spaces (see uvm.h).
#include "mm/uvm.h"
#include "abi/errno.h"
#include "lib/assert.h"
#include "lib/string.h"
#include "mm/kalloc.h"
#include "mm/memlayout.h"
#include "proc/process.h"

#define USER_ROOT_ENTRIES 256  // root entries 0..255 are the lower half

pagetable_t uvm_create(void)
{
    pagetable_t pt = kalloc_zpage();
    if (!pt)
        return NULL;
    // The kernel's upper half never changes after boot, so sharing its root
    // entries shares every kernel mapping.
    for (int i = USER_ROOT_ENTRIES; i < 512; i++)
        pt[i] = kernel_pagetable[i];
    return pt;
}

static void drop_page(pte_t pte)
{
    uint64_t pa = PTE_PA(pte);
    if (kalloc_manages(pa))
        kfree_page(P2V(pa));
}

static void free_table(pagetable_t table, int level)
{
    for (int i = 0; i < 512; i++) {
        pte_t pte = table[i];
        if (!(pte & PTE_V))
            continue;
        if (PTE_LEAF(pte))
            drop_page(pte);
        else
            free_table(P2V(PTE_PA(pte)), level - 1);
    }
    kfree_page(table);
}

static void free_root_entry(pte_t pte)
{
    if (PTE_LEAF(pte))
        drop_page(pte);
    else
        free_table(P2V(PTE_PA(pte)), 1);
}

// Root entries are taken out a few at a time, every hart that may hold p's TLB entries
// is fenced, and only then are their pages freed: a hart running on through a stale TLB
// entry would otherwise write a page already someone else's.
#define DETACH_BATCH 8

void uvm_free_user(struct process *p, pagetable_t pt)
{
    pte_t detached[DETACH_BATCH];
    int n = 0;
    for (int i = 0; i <= USER_ROOT_ENTRIES; i++) {
        if (i < USER_ROOT_ENTRIES && (pt[i] & PTE_V)) {
            detached[n++] = pt[i];
            pt[i] = 0;
        }
        if (n == DETACH_BATCH || (i == USER_ROOT_ENTRIES && n > 0)) {
            process_tlb_flush(p, 0, USER_MAX);
            while (n > 0)
                free_root_entry(detached[--n]);
        }
    }
}

// The pages the first `entries` entries of a level-`level` table map.
static uint64_t count_pages(pagetable_t table, int level, int entries)
{
    uint64_t n = 0;
    for (int i = 0; i < entries; i++) {
        pte_t pte = table[i];
        if (!(pte & PTE_V))
            continue;
        if (PTE_LEAF(pte))
            n += 1UL << (9 * level);
        else if (level > 0)
            n += count_pages(P2V(PTE_PA(pte)), level - 1, 512);
    }
    return n;
}

uint64_t uvm_count_pages(struct process *p)
{
    spin_lock(&p->vm_lock);
    uint64_t n = p->pagetable ? count_pages(p->pagetable, 2, USER_ROOT_ENTRIES) : 0;
    spin_unlock(&p->vm_lock);
    return n;
}

long uvm_check_range(uint64_t va, uint64_t len)
{
    if (len == 0 || va % PAGE_SIZE || len % PAGE_SIZE)
        return E_RANGE;
    if (va < USER_MIN || va >= USER_MAX || len > USER_MAX - va)
        return E_RANGE;
    return 0;
}

long uvm_check_prot(uint32_t prot)
{
    if (prot & ~(PROT_READ | PROT_WRITE | PROT_EXEC))
        return E_INVAL;
    if (!(prot & PROT_READ))
        return E_INVAL;  // RISC-V has no write-only or execute-only user pages here
    return 0;
}

static uint64_t pte_perm(uint32_t prot)
{
    uint64_t perm = PTE_U | PTE_V | PTE_A | PTE_D;
    if (prot & PROT_READ)
        perm |= PTE_R;
    if (prot & PROT_WRITE)
        perm |= PTE_W;
    if (prot & PROT_EXEC)
        perm |= PTE_X;
    return perm;
}

// ---- walking a range --------------------------------------------------------------------
// A walk over a user range costs what its page tables cost, not its length: a missing
// table is skipped whole (a range may be all of user space, 2^26 pages).

// The valid leaf PTE for va, or NULL; *next is the first address past va that may have
// one. (User mappings are 4 KiB leaves only.)
static pte_t *leaf_or_skip(pagetable_t root, uint64_t va, uint64_t *next)
{
    pagetable_t table = root;
    for (int level = 2; level > 0; level--) {
        pte_t e = table[VPN(va, level)];
        if (!(e & PTE_V) || PTE_LEAF(e)) {
            uint64_t span = 1UL << (PAGE_SHIFT + 9 * level);
            *next = (va & ~(span - 1)) + span;
            return NULL;
        }
        table = P2V(PTE_PA(e));
    }
    *next = va + PAGE_SIZE;
    pte_t *pte = &table[VPN(va, 0)];
    return (*pte & PTE_V) ? pte : NULL;
}

// True when any page of [va, end) is mapped. Caller holds p->vm_lock.
static bool any_mapped(struct process *p, uint64_t va, uint64_t end)
{
    assert(holding(&p->vm_lock));
    for (uint64_t next; va < end; va = next)
        if (leaf_or_skip(p->pagetable, va, &next))
            return true;
    return false;
}

// The first address of [va, end) with no page mapped, or end. Caller holds p->vm_lock.
static uint64_t first_hole(struct process *p, uint64_t va, uint64_t end)
{
    assert(holding(&p->vm_lock));
    for (uint64_t next; va < end; va = next)
        if (!leaf_or_skip(p->pagetable, va, &next))
            return va;
    return end;
}

// ---- taking pages out -------------------------------------------------------------------
// Pages leave a page table in batches: their PTEs are cleared under p->vm_lock, the lock
// is dropped, every hart that may hold their TLB entries is fenced, and only then are
// they freed. Freeing first would let a hart running on through a stale TLB entry write a
// page that is already someone else's; and a bounded batch keeps interrupts off (the
// lock) for a bounded time however long the range.

#define UNMAP_BATCH 64

struct unmapped {
    pte_t pte[UNMAP_BATCH];
    int n;
};

// Clears the PTEs of [va, end) until the batch is full; returns where it stopped.
// Caller holds p->vm_lock.
static uint64_t unmap_some(struct process *p, uint64_t va, uint64_t end, struct unmapped *b)
{
    assert(holding(&p->vm_lock));
    for (uint64_t next; va < end && b->n < UNMAP_BATCH; va = next) {
        pte_t *pte = leaf_or_skip(p->pagetable, va, &next);
        if (pte) {
            b->pte[b->n++] = *pte;
            *pte = 0;
        }
    }
    return va;
}

// Fences the harts that ran p over [va, end), then frees the batch's pages.
static void unmapped_free(struct process *p, uint64_t va, uint64_t end, struct unmapped *b)
{
    if (b->n == 0)
        return;
    process_tlb_flush(p, va, end - va);
    while (b->n > 0)
        drop_page(b->pte[--b->n]);
}

// Unmaps [va, end), a batch at a time. E_DEAD once p is torn down.
static long unmap_range(struct process *p, uint64_t va, uint64_t end)
{
    while (va < end) {
        struct unmapped batch = { .n = 0 };
        spin_lock(&p->vm_lock);
        if (!p->pagetable) {
            spin_unlock(&p->vm_lock);
            return E_DEAD;
        }
        uint64_t stop = unmap_some(p, va, end, &batch);
        spin_unlock(&p->vm_lock);
        unmapped_free(p, va, stop, &batch);
        va = stop;
    }
    return 0;
}

long uvm_unmap(struct process *p, uint64_t va, uint64_t len)
{
    return unmap_range(p, va, va + len);
}

// ---- putting pages in -------------------------------------------------------------------

static uint64_t fresh_page(const void *ctx, uint64_t i)
{
    void *page = kalloc_zpage();
    return page ? V2P(page) : 0;
}

#define MAP_BATCH 64  // pages mapped per hold of p->vm_lock

// Gives back pages a batch got but did not map (fresh ones: their only reference).
static void unmapped_pages(const uint64_t *pa, uint64_t n, bool take_ref)
{
    for (uint64_t i = 0; i < n && !take_ref; i++)
        kfree_page(P2V(pa[i]));
}

// Maps a batch of n pages at va under p->vm_lock; the pages were got before, with
// interrupts on (zeroing a fresh page is the slow part). Returns how many it mapped.
static uint64_t map_batch(struct process *p, uint64_t va, const uint64_t *pa, uint64_t n,
                          uint32_t prot, uint64_t extra, bool take_ref, long *err)
{
    uint64_t i = 0;
    spin_lock(&p->vm_lock);
    if (!p->pagetable)
        *err = E_DEAD;
    else if (any_mapped(p, va, va + n * PAGE_SIZE))
        *err = E_EXIST;
    for (; i < n && !*err; i++) {
        pte_t *pte = vm_walk(p->pagetable, va + i * PAGE_SIZE, true);
        if (!pte) {
            *err = E_NOMEM;
            break;
        }
        if (take_ref && kalloc_manages(pa[i]))
            kpage_get(P2V(pa[i]));
        *pte = PA_TO_PTE(pa[i]) | pte_perm(prot) | extra;
    }
    spin_unlock(&p->vm_lock);
    return i;
}

// Maps npages pages at va, MAP_BATCH at a time. take_ref: the page comes from page_pa()
// already referenced (fresh pages) or not. On failure (E_EXIST when a page of the range
// is mapped, E_NOMEM) it unmaps what it mapped. extra: more PTE bits for every page.
static long map_range(struct process *p, uint64_t va, uint64_t npages,
                      uint64_t (*page_pa)(const void *, uint64_t), const void *ctx, uint32_t prot,
                      uint64_t extra, bool take_ref)
{
    uint64_t done = 0;
    long err = 0;
    while (done < npages && !err) {
        uint64_t n = MIN(npages - done, MAP_BATCH), got = 0, pa[MAP_BATCH];
        while (got < n && (pa[got] = page_pa(ctx, done + got)) != 0)
            got++;
        uint64_t mapped = 0;
        if (got < n)
            err = E_NOMEM;
        else
            mapped = map_batch(p, va + done * PAGE_SIZE, pa, n, prot, extra, take_ref, &err);
        unmapped_pages(pa + mapped, got - mapped, take_ref);
        done += mapped;
    }
    if (err && done > 0)
        unmap_range(p, va, va + done * PAGE_SIZE);
    return err;
}

long uvm_alloc(struct process *p, uint64_t va, uint64_t len, uint32_t prot)
{
    if (len / PAGE_SIZE > kalloc_free_count())
        return E_NOMEM;  // not worth trying: it would fail only after taking them all
    return map_range(p, va, len / PAGE_SIZE, fresh_page, NULL, prot, 0, false);
}

long uvm_map_phys(struct process *p, uint64_t va, uint64_t npages,
                  uint64_t (*page_pa)(const void *ctx, uint64_t i), const void *ctx, uint32_t prot,
                  bool read_only_forever)
{
    return map_range(p, va, npages, page_pa, ctx, prot, read_only_forever ? PTE_NO_WRITE : 0, true);
}

// ---- changing protection -------------------------------------------------------------------

long uvm_protect(struct process *p, uint64_t va, uint64_t len, uint32_t prot)
{
    uint64_t end = va + len;
    spin_lock(&p->vm_lock);
    long err = !p->pagetable ? E_DEAD : first_hole(p, va, end) != end ? E_NOENT : 0;
    spin_unlock(&p->vm_lock);
    // A batch at a time, like unmapping; a page unmapped meanwhile is left alone.
    for (uint64_t at = va; at < end && !err;) {
        spin_lock(&p->vm_lock);
        uint64_t stop = MIN(end, at + MAP_BATCH * PAGE_SIZE), next;
        for (; at < stop && p->pagetable && !err; at = next) {
            pte_t *pte = leaf_or_skip(p->pagetable, at, &next);
            if (pte && (*pte & PTE_NO_WRITE) && (prot & PROT_WRITE))
                err = E_RIGHTS;  // a region mapped without RIGHT_WRITE stays read-only
            else if (pte)
                *pte = PA_TO_PTE(PTE_PA(*pte)) | pte_perm(prot) | (*pte & PTE_NO_WRITE);
        }
        spin_unlock(&p->vm_lock);
    }
    process_tlb_flush(p, va, len);
    return err;
}

// The kernel address of user byte va if its page is mapped with all of need (PTE
// bits) and none of forbid, else NULL. Caller holds p->vm_lock.
static uint8_t *user_byte(struct process *p, uint64_t va, uint64_t need, uint64_t forbid)
{
    assert(holding(&p->vm_lock));
    if (va < USER_MIN || va >= USER_MAX || !p->pagetable)
        return NULL;
    pte_t *pte = vm_walk(p->pagetable, va, false);
    if (!pte || (*pte & (PTE_V | PTE_U | need)) != (PTE_V | PTE_U | need) || (*pte & forbid))
        return NULL;
    return (uint8_t *)P2V(PTE_PA(*pte)) + va % PAGE_SIZE;
}

long uvm_check_access(struct process *p, uint64_t va, uint64_t len, uint64_t need)
{
    if (len == 0 || len > USER_MAX || va > USER_MAX - len)
        return E_FAULT;
    long err = 0;
    spin_lock(&p->vm_lock);
    for (uint64_t at = PAGE_ROUND_DOWN(va); at < va + len && !err; at += PAGE_SIZE)
        if (!user_byte(p, at, need, (need & PTE_W) ? PTE_NO_WRITE : 0))
            err = E_FAULT;
    spin_unlock(&p->vm_lock);
    return err;
}

// Copies len bytes between kernel buffer k and user address u, a page at a time.
static long copy_user(struct process *p, uaddr_t u, void *k, uint64_t len, bool to_user,
                      uint64_t need)
{
    if (len > USER_MAX || u > USER_MAX - len)
        return E_FAULT;
    spin_lock(&p->vm_lock);
    while (len > 0) {
        // Nothing writes a page mapped from a region without RIGHT_WRITE, not even
        // copy_out_any (mem_write): that would write the region for every holder.
        uint8_t *at = user_byte(p, u, need, to_user ? PTE_NO_WRITE : 0);
        if (!at) {
            spin_unlock(&p->vm_lock);
            return E_FAULT;
        }
        uint64_t n = MIN(len, PAGE_SIZE - u % PAGE_SIZE);
        if (to_user)
            memcpy(at, k, n);
        else
            memcpy(k, at, n);
        u += n;
        k = (uint8_t *)k + n;
        len -= n;
    }
    spin_unlock(&p->vm_lock);
    return 0;
}

long copy_in(struct process *p, void *dst, uaddr_t src, uint64_t len)
{
    return copy_user(p, src, dst, len, false, PTE_R);
}

long copy_out(struct process *p, uaddr_t dst, const void *src, uint64_t len)
{
    return copy_user(p, dst, (void *)src, len, true, PTE_W);
}

long copy_out_any(struct process *p, uaddr_t dst, const void *src, uint64_t len)
{
    return copy_user(p, dst, (void *)src, len, true, 0);
}

// The page a kernel address of the direct map is in, when the allocator manages it.
static void *managed_page(const uint8_t *at)
{
    uint64_t pa = PAGE_ROUND_DOWN(V2P(at));
    return kalloc_manages(pa) ? P2V(pa) : NULL;
}

long uvm_copy_between(struct process *dst, uaddr_t dva, struct process *src, uaddr_t sva,
                      uint64_t len, bool *src_fault)
{
    *src_fault = len > USER_MAX || sva > USER_MAX - len;
    if (*src_fault || dva > USER_MAX - len)
        return E_FAULT;
    while (len > 0) {
        uint64_t n = MIN(len, MIN(PAGE_SIZE - sva % PAGE_SIZE, PAGE_SIZE - dva % PAGE_SIZE));
        spin_lock(&src->vm_lock);
        const uint8_t *from = user_byte(src, sva, PTE_R, 0);
        void *pinned = from ? managed_page(from) : NULL;
        if (pinned)
            kpage_get(pinned);  // an unmap on another hart cannot free it under us
        spin_unlock(&src->vm_lock);
        if (!from) {
            *src_fault = true;
            return E_FAULT;
        }
        spin_lock(&dst->vm_lock);
        uint8_t *to = user_byte(dst, dva, PTE_W, 0);
        if (to)
            memcpy(to, from, n);
        spin_unlock(&dst->vm_lock);
        if (pinned)
            kfree_page(pinned);
        if (!to)
            return E_FAULT;
        sva += n;
        dva += n;
        len -= n;
    }
    return 0;
}
