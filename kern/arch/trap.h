// Traps taken while the hart runs kernel code.
#pragma once

#include <stdbool.h>
#include <stdint.h>

// The registers kernelvec.S saves, indexed by register number (x1 = ra at 8). x0 needs
// no saving: its slot holds the trapped pc instead (kernel_trap writes sepc there), so a
// backtrace can show the function the trap interrupted (lib/console.c).
struct kernel_frame {
    uint64_t x[32];
};
#define KERNEL_FRAME_SEPC 0

// Where kernel_trap returns to in kernelvec.S: a backtrace that meets it crosses a trap.
extern char kernelvec_return[];

void trap_init_hart(void);  // point stvec at trap_entry (arch/uservec.S)
void kernel_trap(struct kernel_frame *frame);
// Handles a timer, software or external interrupt, from either mode; false when
// scause is none of those.
bool trap_interrupt(uint64_t scause);
// "load page fault": what scause says, for messages.
const char *trap_cause_name(uint64_t scause);
#define TRAP_CODES 16  // the exception and interrupt codes the tables below name
extern const char *const trap_exception_names[TRAP_CODES];
extern const char *const trap_interrupt_names[TRAP_CODES];
