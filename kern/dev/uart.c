// Polled output on a 16550 UART (see uart.h). OpenSBI already set the line up
// (baud rate, 8N1), so the kernel only writes characters.
#include "dev/uart.h"
#include "arch/riscv.h"
#include "mm/memlayout.h"

#define UART_THR      0     // transmit holding register (write)
#define UART_LSR      5     // line status register
#define LSR_THR_EMPTY 0x20  // the transmitter can take a character

static volatile uint8_t *uart_regs;
static uint32_t uart_shift;

void uart_init(uint64_t base_pa, uint32_t reg_shift)
{
    uart_shift = reg_shift;
    uart_regs = P2V(base_pa);
}

int uart_ready(void)
{
    return uart_regs != 0;
}

static volatile uint8_t *reg(int r)
{
    return uart_regs + (r << uart_shift);
}

void uart_putc(char c)
{
    while ((*reg(UART_LSR) & LSR_THR_EMPTY) == 0)
        cpu_relax();
    *reg(UART_THR) = (uint8_t)c;
}
