// The registers swtch() saves and restores: ra, sp and s0-s11 (see swtch.S).
#pragma once

#include <stdint.h>

struct context {
    uint64_t ra, sp, s[12];
};

void swtch(struct context *old, struct context *new);
