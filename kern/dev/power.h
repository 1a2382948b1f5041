// Powering the machine off, with a status QEMU passes on as its exit code.
#pragma once

#include <stdint.h>

#define POWER_OK           0  // QEMU exits 0
#define POWER_PANIC        1  // QEMU exits 1
#define POWER_TESTS_FAILED 3  // a kernel self-test failed: QEMU exits 3

// Remembers where the sifive,test device is (0 when the tree has none).
void power_init(uint64_t test_device_pa);
__attribute__((noreturn)) void power_off(int status);
