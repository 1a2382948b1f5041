// Sv39 page tables (see vm.h). Reference: RISC-V privileged spec, section 4.4
// "Sv39: Page-Based 39-bit Virtual-Memory System".
#include "mm/vm.h"
#include "arch/hart.h"
#include "lib/assert.h"
#include "mm/kalloc.h"
#include "mm/memlayout.h"

pagetable_t kernel_pagetable;

// The PTE for va at level (0 = 4 KiB leaf level), allocating the tables above it
// when alloc is set. NULL when a table is missing (or could not be allocated) or a
// larger leaf is in the way.
static pte_t *walk(pagetable_t root, uint64_t va, int level, bool alloc)
{
    pagetable_t table = root;
    for (int l = 2; l > level; l--) {
        pte_t *pte = &table[VPN(va, l)];
        if (*pte & PTE_V) {
            if (PTE_LEAF(*pte))
                return NULL;
            table = P2V(PTE_PA(*pte));
            continue;
        }
        if (!alloc)
            return NULL;
        pagetable_t next = kalloc_zpage();
        if (!next)
            return NULL;
        *pte = PA_TO_PTE(V2P(next)) | PTE_V;
        table = next;
    }
    return &table[VPN(va, level)];
}

pte_t *vm_walk(pagetable_t root, uint64_t va, bool alloc)
{
    return walk(root, va, 0, alloc);
}

int vm_map(pagetable_t root, uint64_t va, uint64_t pa, uint64_t size, uint64_t perm)
{
    assert((va & (PAGE_SIZE - 1)) == 0 && (pa & (PAGE_SIZE - 1)) == 0);
    assert((size & (PAGE_SIZE - 1)) == 0);
    uint64_t end = va + size;
    while (va < end) {
        bool mega =
            (va % MEGAPAGE_SIZE) == 0 && (pa % MEGAPAGE_SIZE) == 0 && end - va >= MEGAPAGE_SIZE;
        pte_t *pte = walk(root, va, mega ? 1 : 0, true);
        if (!pte || (*pte & PTE_V))
            return -1;
        // A and D set up front: the kernel never relies on the hardware setting them.
        *pte = PA_TO_PTE(pa) | perm | PTE_V | PTE_A | PTE_D;
        uint64_t step = mega ? MEGAPAGE_SIZE : PAGE_SIZE;
        va += step;
        pa += step;
    }
    return 0;
}

static void kmap(uint64_t pa, uint64_t size, uint64_t perm, const char *what)
{
    uint64_t lo = PAGE_ROUND_DOWN(pa), hi = PAGE_ROUND_UP(pa + size);
    if (vm_map(kernel_pagetable, (uint64_t)P2V(lo), lo, hi - lo, perm | PTE_G) != 0)
        panic("vm: cannot map %s at %#lx", what, (unsigned long)pa);
}

// Memory is mapped read-write, except the kernel image's text and read-only data.
static void map_memory(const struct mem_range *m)
{
    uint64_t lo = m->base, hi = m->base + m->size;
    uint64_t k_lo = V2P(kernel_start), k_text = V2P(text_end), k_ro = V2P(rodata_end);
    if (k_lo >= lo && k_ro <= hi) {
        if (k_lo > lo)
            kmap(lo, k_lo - lo, PTE_R | PTE_W, "memory");
        kmap(k_lo, k_text - k_lo, PTE_R | PTE_X, "kernel text");
        kmap(k_text, k_ro - k_text, PTE_R, "kernel rodata");
        lo = k_ro;
    }
    if (hi > lo)
        kmap(lo, hi - lo, PTE_R | PTE_W, "memory");
}

void vm_init(const struct platform *p)
{
    kernel_pagetable = kalloc_zpage();
    if (!kernel_pagetable)
        panic("vm: no memory for the kernel page table");
    for (int i = 0; i < p->nmemory; i++)
        map_memory(&p->memory[i]);
    if (p->uart_base)
        kmap(p->uart_base, p->uart_size, PTE_R | PTE_W, "the UART");
    if (p->plic_base)
        kmap(p->plic_base, p->plic_size, PTE_R | PTE_W, "the PLIC");
    if (p->test_base)
        kmap(p->test_base, PAGE_SIZE, PTE_R | PTE_W, "the test device");
    if (p->sswi_base)
        kmap(p->sswi_base, p->sswi_size, PTE_R | PTE_W, "the ACLINT SSWI");
}

void vm_switch(pagetable_t pt)
{
    uint64_t satp = MAKE_SATP(V2P(pt));
    struct hart *h = this_hart();
    if (h->satp == satp)
        return;
    h->satp = satp;
    // Without ASIDs every switch flushes the TLB, global kernel entries too. One fence
    // after the write does it (and orders earlier page-table writes before the walks).
    w_satp(satp);
    sfence_vma();
}

void vm_init_hart(void)
{
    vm_switch(kernel_pagetable);
}
