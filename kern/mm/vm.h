// Sv39 page tables, and the kernel's address space.
//
// The kernel page table maps memory and devices in the upper half (see memlayout.h):
// kernel text read-execute, read-only data read-only, everything else read-write and
// never executable. Nothing is mapped in the lower half, so a kernel null pointer
// faults instead of reading memory.
#pragma once

#include "arch/asm.h"
#include "boot/platform.h"

#include <stdbool.h>
#include <stdint.h>

typedef uint64_t pte_t;
typedef uint64_t *pagetable_t;  // 512 PTEs in one page

// A software bit (RSW): the page was mapped from a region by a handle without
// RIGHT_WRITE, and nothing may make it writable or write it (mm/uvm.c).
#define PTE_NO_WRITE (1UL << 8)

#define PTE_PPN(pte)   ((pte) >> 10)
#define PTE_PA(pte)    (PTE_PPN(pte) << 12)
#define PA_TO_PTE(pa)  (((uint64_t)(pa) >> 12) << 10)
#define PTE_LEAF(pte)  (((pte) & (PTE_R | PTE_W | PTE_X)) != 0)
#define VPN(va, level) (((uint64_t)(va) >> (12 + 9 * (level))) & 0x1ff)

extern pagetable_t kernel_pagetable;

void vm_init(const struct platform *p);  // build the kernel page table (boot hart)
void vm_init_hart(void);                 // switch this hart to it
// Switch this hart to pt unless it already uses it.
void vm_switch(pagetable_t pt);

// Maps [va, va+size) to [pa, pa+size) with perm (PTE_R/W/X/U/G), using 2 MiB pages
// where both addresses are aligned and 4 KiB pages elsewhere. Returns 0, or -1 when
// a page-table page could not be allocated or a page is already mapped.
int vm_map(pagetable_t root, uint64_t va, uint64_t pa, uint64_t size, uint64_t perm);
// The 4 KiB-level PTE slot for va (valid or not), allocating page-table pages on the
// way when alloc is set; NULL when one is missing or a larger page is in the way.
pte_t *vm_walk(pagetable_t root, uint64_t va, bool alloc);
