// Tests of the kernel's memory functions (kern/lib/string.c: mem_fill, mem_copy and
// mem_move, which are the kernel's memset, memcpy and memmove). They work a word at a
// time where alignment allows, so every alignment of source and destination, every
// length around the word and unrolling boundaries, and every overlap direction is
// compared with the C library's result, and the bytes just outside the range must stay.
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "check.h"
#include "lib/string.h"

#define AREA  320
#define GUARD 0xa5

static uint8_t area[AREA], want[AREA];

static void fill_pattern(uint8_t *buf)
{
    for (int i = 0; i < AREA; i++)
        buf[i] = (uint8_t)(i * 7 + 3);
}

// Reports the first byte where area and want differ, with what was being done.
static void compare(const char *what, size_t dst, size_t src, size_t n)
{
    for (int i = 0; i < AREA; i++) {
        if (!CHECK_EQ_INT(area[i], want[i])) {
            if (check_reporting())
                printf("  %s dst +%zu src +%zu len %zu: byte %d differs\n", what, dst, src, n, i);
            return;
        }
    }
}

static void test_fill(void)
{
    for (size_t off = 0; off < 16; off++) {
        for (size_t n = 0; n < 80; n++) {
            memset(area, GUARD, AREA);
            memset(want, GUARD, AREA);
            void *r = mem_fill(area + 32 + off, 0x3c, n);
            memset(want + 32 + off, 0x3c, n);
            CHECK(r == area + 32 + off);
            compare("mem_fill", off, 0, n);
        }
    }
}

// Copies between two places in one buffer; mem_move must match memmove for every
// overlap, mem_copy only where its contract allows (no overlap, or dst below src).
static void test_copy(void)
{
    for (size_t d = 0; d < 20; d++) {
        for (size_t s = 0; s < 20; s++) {
            for (size_t n = 0; n < 90; n++) {
                size_t dst = 64 + d, src = 64 + s + (n % 3 == 0 ? 0 : 100);
                fill_pattern(area);
                fill_pattern(want);
                void *r = mem_move(area + dst, area + src, n);
                memmove(want + dst, want + src, n);
                CHECK(r == area + dst);
                compare("mem_move", dst, src, n);
                if (dst <= src || dst >= src + n) {
                    fill_pattern(area);
                    fill_pattern(want);
                    mem_copy(area + dst, area + src, n);
                    memmove(want + dst, want + src, n);
                    compare("mem_copy", dst, src, n);
                }
            }
        }
    }
}

int main(void)
{
    test_fill();
    test_copy();
    return check_done("test_string");
}
