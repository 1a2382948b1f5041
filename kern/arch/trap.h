// Traps taken while the hart runs kernel code.
#pragma once

#include <stdbool.h>
#include <stdint.h>

// The registers kernelvec.S saves, indexed by register number (x1 = ra at 8).
struct kernel_frame {
    uint64_t x[32];
};

void trap_init_hart(void);  // point stvec at trap_entry (arch/uservec.S)
void kernel_trap(struct kernel_frame *frame);
// Handles a timer, software or external interrupt, from either mode; false when
// scause is none of those.
bool trap_interrupt(uint64_t scause);
const char *trap_cause_name(uint64_t scause);
