// What the device tree tells the kernel about the machine: memory, harts, timebase,
// UART, PLIC, ACLINT SSWI, power-off device, boot arguments and the initrd. platform_parse() fills
// a struct platform from a checked tree (see fdt.h); nothing here is hard-coded.
//
// Pure code: the host unit tests run it on QEMU's own trees and on broken ones.
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "arch/asm.h"  // MAX_HARTS: Shuttle runs 1 to 8 harts; more in the tree stay stopped
#include "boot/fdt.h"

#define MAX_MEM_RANGES 8
#define MAX_RESERVED   16
#define BOOTARGS_MAX   512

struct mem_range {
    uint64_t base, size;
};

struct hart_info {
    uint64_t hartid;        // the tree's reg: what SBI calls the hart
    bool sstc;              // the ISA string names Sstc (stimecmp)
    uint32_t intc_phandle;  // its interrupt controller, for the PLIC's contexts
    int plic_context;       // the PLIC context of its S-mode external interrupt, or -1
    int sswi_index;         // its register in the ACLINT SSWI (at sswi_base + 4 x index), or -1
};

struct platform {
    struct mem_range memory[MAX_MEM_RANGES];
    int nmemory;
    struct mem_range reserved[MAX_RESERVED];  // /memreserve/ and /reserved-memory
    int nreserved;

    uint64_t timebase_hz;
    struct hart_info harts[MAX_HARTS];
    int nharts;
    int harts_ignored;  // harts beyond MAX_HARTS

    uint64_t uart_base, uart_size;  // 0 when there is none
    uint32_t uart_irq, uart_reg_shift;

    uint64_t plic_base, plic_size;  // 0 when there is none
    uint32_t plic_ndev;

    uint64_t test_base;  // the sifive,test power-off device, or 0

    uint64_t sswi_base, sswi_size;  // the ACLINT SSWI (supervisor IPIs without SBI), or 0

    char bootargs[BOOTARGS_MAX];
    bool bootargs_truncated;
    uint64_t initrd_start, initrd_end;  // physical, both 0 when there is none
};

// Fills p from the checked tree f. Returns 0, or -1 with a reason in err
// ("no memory node", "/cpus has no timebase-frequency", ...).
int platform_parse(struct platform *p, const struct fdt *f, char *err, int errlen);

// The hart_info for hartid, or NULL when the tree did not name it.
const struct hart_info *platform_hart(const struct platform *p, uint64_t hartid);

// Total bytes of memory the tree lists.
uint64_t platform_memory_size(const struct platform *p);
