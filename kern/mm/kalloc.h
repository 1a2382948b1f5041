// The physical page allocator: 4 KiB pages from one free list, safe to call from
// every hart at once. Pages are handed out by their kernel (direct-map) address.
#pragma once

#include "boot/platform.h"

#include <stdint.h>

// Frees every page of memory that nothing reserves: not the firmware's, the kernel
// image, the device tree or the initrd.
void kalloc_init(const struct platform *p, uint64_t dtb_pa, uint64_t dtb_size);
// A page whose contents are undefined (poison in debug builds, so a read of memory
// never written shows), or NULL.
// It comes with one reference.
void *kalloc_page(void);
// A page filled with zeros, or NULL.
void *kalloc_zpage(void);
// Drops a reference; the last one frees the page.
void kfree_page(void *page);
// Takes another reference to an allocated page (a second mapping of it).
void kpage_get(void *page);
// True when pa is a page this allocator hands out (not firmware, kernel image, MMIO).
bool kalloc_manages(uint64_t pa);
uint64_t kalloc_free_count(void);   // pages free now
uint64_t kalloc_total_count(void);  // pages the allocator was given at boot
