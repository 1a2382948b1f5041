// Looking addresses up in the kernel's symbol table (see ksyms.h).
#include "lib/ksyms.h"
#include "mm/memlayout.h"

extern char text_boot_end[];

// Code lies in .text.boot (linked at its physical address) or in .text; anything else
// (data, a user address, garbage from a broken frame) has no function to name.
static bool is_code(uint64_t addr)
{
    if (addr >= V2P(kernel_start) && addr < V2P(text_boot_end))
        return true;
    return addr >= (uint64_t)kernel_start && addr < (uint64_t)text_end;
}

const char *ksyms_lookup(uint64_t addr, uint64_t *offset)
{
    uint32_t n = ksyms_count;
    if (n == 0 || !is_code(addr) || addr < ksyms_addrs[0])
        return NULL;
    // The last symbol at or below addr: ksyms_addrs[lo] <= addr < ksyms_addrs[hi].
    uint32_t lo = 0, hi = n;
    while (hi - lo > 1) {
        uint32_t mid = lo + (hi - lo) / 2;
        if (ksyms_addrs[mid] <= addr)
            lo = mid;
        else
            hi = mid;
    }
    *offset = addr - ksyms_addrs[lo];
    return ksyms_names + ksyms_offsets[lo];
}
