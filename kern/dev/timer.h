// The per-hart timer. Each hart programs its own timer interrupt, with Sstc (stimecmp)
// where the hart has it, else through SBI's TIME extension, for the earlier of its next
// periodic tick (TICK_HZ a second) and the wake time the scheduler asks for.
#pragma once

#include <stdbool.h>
#include <stdint.h>

#define TICK_HZ 100  // timer interrupts per second on each hart

void timer_init(uint64_t timebase_hz);  // once, on the boot hart
void timer_init_hart(void);             // on every hart: arm the first tick
// From the trap handler: true when this interrupt is a periodic tick (else it came
// only for a wake time).
bool timer_interrupt(void);
// This hart's timer also interrupts at when (UINT64_MAX: no wake time).
void timer_wake_at(uint64_t when);
uint64_t timer_now(void);  // the time CSR, in timebase ticks
// Waits in wfi, interrupts off, until ticks pass or an interrupt is pending: for a hart
// that must wait for another. Under icount QEMU runs the harts one at a time, each until
// its slice ends; a hart that spins there keeps the one it waits for from running for
// the rest of its slice (up to a tick), while a hart in wfi gives its turn up at once.
void timer_nap(uint64_t ticks);
// From now on, note how late each timer interrupt comes (interrupt latency: how long
// something held interrupts off). Called when init starts.
void timer_measure_lateness(void);
// The latest any hart's timer interrupt came since then, in ns.
uint64_t timer_lateness_max_ns(void);
uint64_t timer_ms_to_ticks(uint64_t ms);
uint64_t timer_ns_to_ticks(uint64_t ns);
uint64_t timer_ticks_to_ns(uint64_t ticks);
