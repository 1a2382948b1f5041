// The kernel's own driver for the 16550 UART the device tree names: polled output
// for printf and panic. (The user-level console server drives it with interrupts.)
#pragma once

#include <stdint.h>

void uart_init(uint64_t base_pa, uint32_t reg_shift);
// True once uart_init() ran; before that the console uses SBI's legacy putchar.
int uart_ready(void);
void uart_putc(char c);
