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

// True when any page of the range is mapped. Caller holds p->vm_lock.
static bool any_mapped(struct process *p, uint64_t va, uint64_t npages)
{
    assert(holding(&p->vm_lock));
    for (uint64_t i = 0; i < npages; i++) {
        pte_t *pte = vm_walk(p->pagetable, va + i * PAGE_SIZE, false);
        if (pte && (*pte & PTE_V))
            return true;
    }
    return false;
}

// Clears and releases the mapped pages of a range. Caller holds p->vm_lock.
static void unmap_locked(struct process *p, uint64_t va, uint64_t npages)
{
    assert(holding(&p->vm_lock));
    for (uint64_t i = 0; i < npages; i++) {
        pte_t *pte = vm_walk(p->pagetable, va + i * PAGE_SIZE, false);
        if (pte && (*pte & PTE_V)) {
            pte_t old = *pte;
            *pte = 0;
            drop_page(old);
        }
    }
}

static uint64_t fresh_page(const void *ctx, uint64_t i)
{
    void *page = kalloc_zpage();
    return page ? V2P(page) : 0;
}

// Maps page by page; on failure undoes what it mapped. Caller holds p->vm_lock.
// take_ref: the page comes from page_pa() already referenced (fresh pages) or not.
static long map_locked(struct process *p, uint64_t va, uint64_t npages,
                       uint64_t (*page_pa)(const void *, uint64_t), const void *ctx, uint32_t prot,
                       bool take_ref)
{
    assert(holding(&p->vm_lock));
    if (any_mapped(p, va, npages))
        return E_EXIST;
    for (uint64_t i = 0; i < npages; i++) {
        pte_t *pte = vm_walk(p->pagetable, va + i * PAGE_SIZE, true);
        uint64_t pa = pte ? page_pa(ctx, i) : 0;
        if (!pa) {
            unmap_locked(p, va, i);
            return E_NOMEM;
        }
        if (take_ref && kalloc_manages(pa))
            kpage_get(P2V(pa));
        *pte = PA_TO_PTE(pa) | pte_perm(prot);
    }
    return 0;
}

long uvm_alloc(struct process *p, uint64_t va, uint64_t len, uint32_t prot)
{
    spin_lock(&p->vm_lock);
    long err =
        !p->pagetable ? E_DEAD : map_locked(p, va, len / PAGE_SIZE, fresh_page, NULL, prot, false);
    spin_unlock(&p->vm_lock);
    return err;
}

long uvm_map_phys(struct process *p, uint64_t va, uint64_t npages,
                  uint64_t (*page_pa)(const void *ctx, uint64_t i), const void *ctx, uint32_t prot)
{
    spin_lock(&p->vm_lock);
    long err = !p->pagetable ? E_DEAD : map_locked(p, va, npages, page_pa, ctx, prot, true);
    spin_unlock(&p->vm_lock);
    return err;
}

long uvm_unmap(struct process *p, uint64_t va, uint64_t len)
{
    spin_lock(&p->vm_lock);
    if (!p->pagetable) {
        spin_unlock(&p->vm_lock);
        return E_DEAD;
    }
    unmap_locked(p, va, len / PAGE_SIZE);
    spin_unlock(&p->vm_lock);
    process_tlb_flush(p, va, len);
    return 0;
}

long uvm_protect(struct process *p, uint64_t va, uint64_t len, uint32_t prot)
{
    uint64_t npages = len / PAGE_SIZE;
    spin_lock(&p->vm_lock);
    if (!p->pagetable) {
        spin_unlock(&p->vm_lock);
        return E_DEAD;
    }
    for (uint64_t i = 0; i < npages; i++) {
        pte_t *pte = vm_walk(p->pagetable, va + i * PAGE_SIZE, false);
        if (!pte || !(*pte & PTE_V)) {
            spin_unlock(&p->vm_lock);
            return E_NOENT;
        }
    }
    for (uint64_t i = 0; i < npages; i++) {
        pte_t *pte = vm_walk(p->pagetable, va + i * PAGE_SIZE, false);
        *pte = PA_TO_PTE(PTE_PA(*pte)) | pte_perm(prot);
    }
    spin_unlock(&p->vm_lock);
    process_tlb_flush(p, va, len);
    return 0;
}

// The kernel address of user byte va if its page is mapped with all of need (PTE
// bits), else NULL. Caller holds p->vm_lock.
static uint8_t *user_byte(struct process *p, uint64_t va, uint64_t need)
{
    assert(holding(&p->vm_lock));
    if (va < USER_MIN || va >= USER_MAX || !p->pagetable)
        return NULL;
    pte_t *pte = vm_walk(p->pagetable, va, false);
    if (!pte || (*pte & (PTE_V | PTE_U | need)) != (PTE_V | PTE_U | need))
        return NULL;
    return (uint8_t *)P2V(PTE_PA(*pte)) + va % PAGE_SIZE;
}

// Copies len bytes between kernel buffer k and user address u, a page at a time.
static long copy_user(struct process *p, uaddr_t u, void *k, uint64_t len, bool to_user,
                      uint64_t need)
{
    if (len > USER_MAX || u > USER_MAX - len)
        return E_FAULT;
    spin_lock(&p->vm_lock);
    while (len > 0) {
        uint8_t *at = user_byte(p, u, need);
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
        const uint8_t *from = user_byte(src, sva, PTE_R);
        void *pinned = from ? managed_page(from) : NULL;
        if (pinned)
            kpage_get(pinned);  // an unmap on another hart cannot free it under us
        spin_unlock(&src->vm_lock);
        if (!from) {
            *src_fault = true;
            return E_FAULT;
        }
        spin_lock(&dst->vm_lock);
        uint8_t *to = user_byte(dst, dva, PTE_W);
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
