// The platform-level interrupt controller (PLIC): routes device interrupt lines to
// the harts' S-mode contexts. Reference: RISC-V Platform-Level Interrupt Controller
// Specification v1.0, chapter 3 "Memory Map".
#pragma once

#include <stdint.h>

#include "boot/platform.h"

void plic_init(const struct platform *p);  // boot hart: every line off
void plic_init_hart(void);                 // each hart: accept any priority
// Lets line reach every online hart's S-mode context.
void plic_enable(uint32_t line);
// The line this hart should handle now (0: none), claimed in this hart's context.
uint32_t plic_claim(int *context);
// Done with line, as claimed in context: it may interrupt again.
void plic_complete(int context, uint32_t line);
uint32_t plic_lines(void);  // how many lines the PLIC has (riscv,ndev)
