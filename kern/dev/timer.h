// The per-hart periodic timer interrupt. Each hart programs its own next tick:
// with Sstc (stimecmp) where the hart has it, else through SBI's TIME extension.
#pragma once

#include <stdint.h>

#define TICK_HZ 100  // timer interrupts per second on each hart

void timer_init(uint64_t timebase_hz);  // once, on the boot hart
void timer_init_hart(void);             // on every hart: arm the first tick
void timer_interrupt(void);             // from the trap handler
uint64_t timer_now(void);               // the time CSR, in timebase ticks
uint64_t timer_ms_to_ticks(uint64_t ms);
uint64_t timer_ns_to_ticks(uint64_t ns);
uint64_t timer_ticks_to_ns(uint64_t ticks);
