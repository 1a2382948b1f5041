// Per-hart event traces: the rings, and turning them on and off (lib/trace.h).
#include "lib/trace.h"
#include "arch/asm.h"
#include "lib/console.h"
#include "mm/kalloc.h"

struct trace_ring trace_rings[MAX_HARTS];  // the pages are allocated when tracing is on
struct trace_info trace_info;
uint32_t trace_flow_next = 1;  // IPI flow ids: 0 means "none" to the reader

static void free_rings(void)
{
    for (int i = 0; i < MAX_HARTS; i++)
        for (int p = 0; p < TRACE_PAGES; p++)
            if (trace_rings[i].page[p]) {
                kfree_page(trace_rings[i].page[p]);
                trace_rings[i].page[p] = NULL;
            }
}

void trace_init(bool on, uint64_t timebase)
{
    trace_info.nharts = (uint64_t)nharts;
    trace_info.timebase = timebase;
    trace_info.records = TRACE_RECORDS;
    trace_info.magic = TRACE_MAGIC;
    if (!on)
        return;
    for (int i = 0; i < nharts; i++)
        for (int p = 0; p < TRACE_PAGES; p++)
            if (!(trace_rings[i].page[p] = kalloc_zpage())) {
                printf("trace: not enough memory for the rings: tracing stays off\n");
                free_rings();
                return;
            }
    for (int i = 0; i < nharts; i++)
        harts[i].tracing = true;
    printf("trace: on, %d records a hart (scons trace gets them out at power-off)\n",
           TRACE_RECORDS);
}

void trace_name(int pid, const char *name)
{
    if (!this_hart()->tracing)
        return;
    uint64_t was = intr_off_and_get();  // one hart for all four records (trace())
    struct hart *h = this_hart();
    for (uint32_t place = 0, done = 0; place < 4 && !done; place++) {
        uint32_t bytes = 0;
        for (int i = 0; i < 4 && !done; i++) {
            char c = name[place * 4 + i];
            bytes |= (uint32_t)(uint8_t)c << (8 * i);
            done = c == '\0';
        }
        trace_on_hart(h, TRACE_NAME, ((uint32_t)pid & 0xfffff) | place << 20, bytes);
    }
    if (was)
        intr_on();
}

// Stops every hart's recording; GDB (tools/trace.py) breaks here and dumps the rings.
// GDB stops every hart at the breakpoint, some perhaps in the middle of a record: that
// record is not counted in head yet (trace_on_hart), but once a ring has wrapped it is
// written over the oldest one, which the reader therefore leaves out.
__attribute__((noinline)) void trace_stop(void)
{
    for (int i = 0; i < nharts; i++)
        WRITE_ONCE(harts[i].tracing, false);
    __atomic_thread_fence(__ATOMIC_SEQ_CST);
    asm volatile("" ::: "memory");  // a body GDB can stop in, never folded away
}
