// Per-hart event traces (Lab 6): what each hart did and when, for `scons trace`.
//
// Off unless the boot argument `trace` is given (trace_init). When on, each hart writes
// fixed-size records into its own ring, trace_rings[hart index]: no lock, as only that
// hart writes it, with interrupts off for the few stores of one record. A ring keeps
// the last TRACE_RECORDS records in TRACE_PAGES pages, allocated when tracing is turned
// on (128 KiB a hart: in .bss they would cost every boot a megabyte); head counts every
// record written since boot, so the reader knows where the oldest one is and how many
// were overwritten.
//
// Getting them out: power_off() calls trace_stop() when tracing was on. tools/trace.py
// runs QEMU under GDB with a breakpoint there, reads each ring's head and pages and
// trace_info through GDB, and turns the records into Chrome trace-event JSON. GDB rather
// than the console: the rings are 128 KiB a hart, which would take the UART minutes
// under icount, and the console stays what the program printed.
//
// Cost when off: trace() is one load of this hart's `tracing` flag (tp is at hand) and
// a branch that is never taken. The record is written inline (no call): the RPC fast
// halves are leaf functions and stay so. The IPC fast path has no hooks at all (its
// round trip has an instruction budget, 600): while tracing, main() turns it off, and
// IPC takes the general path, whose calls, replies and switches are all recorded.
#pragma once

#include "arch/hart.h"
#include "arch/riscv.h"
#include "lib/types.h"

// What happened; a and b as each says. tools/trace.py has the same list.
enum trace_event {
    TRACE_SWITCH = 1,  // a thread starts running here: a = its thread id, b = its pid
                       // (0: a kernel thread); a = 0 and b = 0: the idle loop
    TRACE_IDLE_ENTER,  // the idle loop sleeps in wfi
    TRACE_IDLE_EXIT,   // ... and wakes up
    TRACE_IPC_CALL,    // a message call handed to a receiver: a = the receiver's thread id
                       // (0: queued, none waiting), b = the caller's pid
    TRACE_IPC_REPLY,   // a reply delivered: a = the caller's thread id, b = the server's pid
    TRACE_RPC_ENTER,   // a thread enters a server by RPC: a = the depth after, b = the
                       // server's pid
    TRACE_RPC_RETURN,  // ... and returns from one: a = the depth after, b = the pid of
                       // the domain it returns to
    TRACE_IPI_SEND,    // an IPI raised: a = the target hart | reasons << 8, b = its flow
                       // id (the matching TRACE_IPI_TAKE has the same)
    TRACE_IPI_TAKE,    // an IPI taken: a = its reasons, b = the flow id its sender left
    TRACE_STEAL,       // a thread taken from another hart's queue: a = that hart, b = the
                       // thread id
    TRACE_WAKEUP,      // a blocked thread made runnable: a = the hart the policy queued it
                       // for (perhart) or chose to tell (global), 0xff: none in particular;
                       // b = its thread id
    TRACE_NAME,        // a process's name, four bytes a record: a = its pid | the record's
                       // place (0-3) << 20, b = the bytes (the first in the low byte)
    TRACE_EVENTS       // one past the last
};

struct trace_record {
    uint64_t time;   // the time CSR (timebase ticks; trace_info.timebase a second)
    uint32_t event;  // enum trace_event in bits 0-7, a in bits 8-31
    uint32_t b;
};

#define TRACE_PAGE_RECORDS 256  // records in a page (powers of two: the index is masked)
#define TRACE_PAGES        32
#define TRACE_RECORDS      (TRACE_PAGE_RECORDS * TRACE_PAGES)  // 8,192 a hart: 128 KiB
_Static_assert(TRACE_PAGE_RECORDS * sizeof(struct trace_record) == 4096, "a page of records");

struct trace_ring {
    uint64_t head;  // records written since boot; record i is record i % TRACE_PAGE_RECORDS
                    // of page (i / TRACE_PAGE_RECORDS) % TRACE_PAGES
    struct trace_record *page[TRACE_PAGES];
};

// What the reader needs besides the rings, in one place for GDB to print.
struct trace_info {
    uint64_t magic;     // TRACE_MAGIC: the dump is of a kernel that traced
    uint64_t nharts;    // rings 0 .. nharts-1 are in use
    uint64_t timebase;  // time CSR ticks per second
    uint64_t records;   // TRACE_RECORDS
};
#define TRACE_MAGIC 0x5348545452414345ULL  // "SHTTRACE"

extern struct trace_ring trace_rings[];
extern struct trace_info trace_info;
extern uint32_t trace_flow_next;

void trace_init(bool on, uint64_t timebase);  // at boot, before the other harts start,
                                              // after the page allocator
void trace_stop(void);                        // power-off: GDB's breakpoint (noinline)

// Records an event on h, which is this hart, with interrupts off (the caller's, or a
// lock's): then no interrupt's record lands in the middle of this one, and the thread
// cannot move to another hart and write there while that hart writes too. head goes up
// after the record's stores, so GDB, which may stop the hart anywhere, never counts a
// record not yet written.
ALWAYS_INLINE void trace_on_hart(struct hart *h, enum trace_event e, uint32_t a, uint32_t b)
{
    if (__builtin_expect(!h->tracing, 1))
        return;
    // (No assert here: a call to panic would cost the RPC fast halves their leafness.)
    struct trace_ring *r = &trace_rings[h->index];
    uint64_t i = r->head;
    struct trace_record *rec =
        &r->page[(i / TRACE_PAGE_RECORDS) % TRACE_PAGES][i % TRACE_PAGE_RECORDS];
    rec->time = r_time();
    rec->event = (uint32_t)e | a << 8;
    rec->b = b;
    asm volatile("" ::: "memory");  // the record, then head
    r->head = i + 1;
}

// Records an event from anywhere in the kernel: interrupts go off for the record, and
// only then is the hart read (a thread preempted between the two would write the ring
// of a hart it left).
ALWAYS_INLINE void trace(enum trace_event e, uint32_t a, uint32_t b)
{
    if (__builtin_expect(!this_hart()->tracing, 1))  // the same on every hart
        return;
    uint64_t was = intr_off_and_get();
    trace_on_hart(this_hart(), e, a, b);
    if (was)
        intr_on();
}

// Records a new process's name (up to 16 bytes), so the reader can name its threads.
void trace_name(int pid, const char *name);
