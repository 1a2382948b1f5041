// Inter-processor interrupts, and running a function on every hart at once.
//
//   ipi_send(h)              a supervisor software interrupt to hart h (through SBI)
//   ipi_interrupt()          from the trap handler: this hart took one
//   ipi_run_on_all(fn, arg)  fn(arg) on every online hart at once, the caller's
//                            included; returns when all are done (boot-time tests)
//   ipi_run_pending_call()   from the idle loop: run a call this hart has not run yet
//   ipi_init_hart()          per hart, before it says it is online
#pragma once

#include "arch/hart.h"

void ipi_send(struct hart *h);
void ipi_interrupt(void);
void ipi_run_on_all(void (*fn)(void *arg), void *arg);
void ipi_run_pending_call(void);
void ipi_init_hart(void);
