// The profiler's window markers, profile_begin() and profile_end() (see ulib.h). They do
// nothing: tools/profile.py looks for their addresses in QEMU's instruction trace. They
// have a file of their own so that only the programs that mark a window link them, and
// the window's edges are two plain calls: noinline and noipa keep GCC from dropping or
// inlining a call to a function it can see does nothing, and the empty asm keeps the body.
#include "ulib.h"

__attribute__((noinline, noipa)) void profile_begin(void)
{
    asm volatile("" ::: "memory");
}

__attribute__((noinline, noipa)) void profile_end(void)
{
    asm volatile("" ::: "memory");
}
