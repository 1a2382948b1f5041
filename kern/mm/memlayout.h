// Where things are in the kernel's view of memory.
//
// Every address space maps all physical memory in its upper half at
// KERNBASE + physical address (the "direct map"), with global pages, so the kernel
// reaches any page without a satp switch. The kernel image itself is linked inside
// the direct map, at KERNBASE + 0x80200000, except its first few instructions
// (.text.boot), which run at their physical address before paging is on.
//
//   0xffffffffffffffff  +--------------------------+
//                       | direct map of physical   |  KERNBASE + pa
//                       | memory and devices       |  (kernel text, data, heap,
//   0xffffffc000000000  +--------------------------+   UART, PLIC, ...)
//                       |   (not canonical in Sv39)|
//   0x0000004000000000  +--------------------------+
//                       | user space               |
//   0x0000000000000000  +--------------------------+
#pragma once

#include <stdint.h>

#define PAGE_SIZE     4096UL
#define PAGE_SHIFT    12
#define MEGAPAGE_SIZE (2UL << 20)
#define GIGAPAGE_SIZE (1UL << 30)

#define KERNBASE 0xffffffc000000000UL
#define USER_TOP 0x0000004000000000UL  // first address above user space (Sv39)

#define P2V(pa) ((void *)((uint64_t)(pa) + KERNBASE))
#define V2P(va) ((uint64_t)(va)-KERNBASE)

#define PAGE_ROUND_UP(a)   (((uint64_t)(a) + PAGE_SIZE - 1) & ~(PAGE_SIZE - 1))
#define PAGE_ROUND_DOWN(a) ((uint64_t)(a) & ~(PAGE_SIZE - 1))

// Symbols from kern/kernel.ld.
extern char kernel_start[], text_end[], rodata_end[], kernel_end[];
extern char bss_start[], bss_end[];
