// spin: computes for ever (or for the seconds given), for trying ^C, kill, ps and
// harts: a process that never waits for anything.
#include <stdio.h>
#include <stdlib.h>

#include "ulib.h"

int main(int argc, char *argv[])
{
    uint64_t end =
        argc > 1 ? time_now() + time_from_ms(1000 * strtoull(argv[1], NULL, 10)) : UINT64_MAX;
    volatile uint64_t n = 0;
    while (time_now() < end)
        n++;
    return 0;
}
