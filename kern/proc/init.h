// Loading init, the first user process, from the boot archive.
#pragma once

#include "boot/bootargs.h"
#include "boot/platform.h"

// Creates init and makes its thread runnable; prints why when it cannot.
void init_start(const struct platform *plat, const struct bootargs *args);
