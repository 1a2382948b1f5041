// The C string and memory functions (see string.h). GCC may call memset and memcpy
// on its own for structure copies, so the kernel's keep their standard names.
//
// The memory functions move a word at a time where alignment allows: the kernel fills
// and copies pages and messages, and under emulation every instruction counts (a byte
// loop costs three instructions a byte, a page 12,000).
#include "lib/string.h"

#include <stdint.h>

// A word the compiler may not assume is unaliased with the bytes around it.
typedef uint64_t __attribute__((may_alias)) word_t;
#define WORD sizeof(word_t)

static inline bool aligned(const void *p)
{
    return ((uintptr_t)p & (WORD - 1)) == 0;
}

void *mem_fill(void *dst, int c, size_t n)
{
    unsigned char *d = dst;
    for (; n && !aligned(d); n--)
        *d++ = (unsigned char)c;
    word_t pattern = (unsigned char)c * 0x0101010101010101ULL;
    word_t *w = (word_t *)d;
    for (; n >= 4 * WORD; n -= 4 * WORD, w += 4) {
        w[0] = pattern;
        w[1] = pattern;
        w[2] = pattern;
        w[3] = pattern;
    }
    for (; n >= WORD; n -= WORD)
        *w++ = pattern;
    for (d = (unsigned char *)w; n; n--)
        *d++ = (unsigned char)c;
    return dst;
}

// Copies upwards: right for any overlap where dst is below src.
static void copy_up(unsigned char *d, const unsigned char *s, size_t n)
{
    // Words only when both can be aligned at once, which they can when they agree
    // modulo the word size.
    if ((((uintptr_t)d ^ (uintptr_t)s) & (WORD - 1)) == 0) {
        for (; n && !aligned(d); n--)
            *d++ = *s++;
        word_t *wd = (word_t *)d;
        const word_t *ws = (const word_t *)s;
        for (; n >= 4 * WORD; n -= 4 * WORD, wd += 4, ws += 4) {
            word_t a = ws[0], b = ws[1], c = ws[2], e = ws[3];
            wd[0] = a;
            wd[1] = b;
            wd[2] = c;
            wd[3] = e;
        }
        for (; n >= WORD; n -= WORD)
            *wd++ = *ws++;
        d = (unsigned char *)wd;
        s = (const unsigned char *)ws;
    }
    while (n--)
        *d++ = *s++;
}

// Copies downwards, from the end: right for any overlap where dst is above src.
static void copy_down(unsigned char *d, const unsigned char *s, size_t n)
{
    d += n;
    s += n;
    if ((((uintptr_t)d ^ (uintptr_t)s) & (WORD - 1)) == 0) {
        for (; n && !aligned(d); n--)
            *--d = *--s;
        word_t *wd = (word_t *)d;
        const word_t *ws = (const word_t *)s;
        for (; n >= WORD; n -= WORD)
            *--wd = *--ws;
        d = (unsigned char *)wd;
        s = (const unsigned char *)ws;
    }
    while (n--)
        *--d = *--s;
}

void *mem_copy(void *dst, const void *src, size_t n)
{
    copy_up(dst, src, n);
    return dst;
}

void *mem_move(void *dst, const void *src, size_t n)
{
    unsigned char *d = dst;
    const unsigned char *s = src;
    if (d < s || d >= s + n)
        copy_up(d, s, n);
    else if (d > s)
        copy_down(d, s, n);
    return dst;
}

#ifndef HOST_TEST
void *memset(void *dst, int c, size_t n) __attribute__((alias("mem_fill")));
void *memcpy(void *dst, const void *src, size_t n) __attribute__((alias("mem_copy")));
void *memmove(void *dst, const void *src, size_t n) __attribute__((alias("mem_move")));

int memcmp(const void *a, const void *b, size_t n)
{
    const unsigned char *x = a, *y = b;
    for (; n; n--, x++, y++)
        if (*x != *y)
            return *x - *y;
    return 0;
}

size_t strlen(const char *s)
{
    size_t n = 0;
    while (s[n])
        n++;
    return n;
}

size_t strnlen(const char *s, size_t max)
{
    size_t n = 0;
    while (n < max && s[n])
        n++;
    return n;
}

int strcmp(const char *a, const char *b)
{
    while (*a && *a == *b)
        a++, b++;
    return (unsigned char)*a - (unsigned char)*b;
}

int strncmp(const char *a, const char *b, size_t n)
{
    for (; n; n--, a++, b++) {
        if (*a != *b)
            return (unsigned char)*a - (unsigned char)*b;
        if (!*a)
            return 0;
    }
    return 0;
}

char *strchr(const char *s, int c)
{
    for (;; s++) {
        if (*s == (char)c)
            return (char *)s;
        if (!*s)
            return NULL;
    }
}
#endif

size_t str_copy(char *dst, const char *src, size_t size)
{
    size_t len = strlen(src);
    if (size > 0) {
        size_t n = len < size - 1 ? len : size - 1;
        memcpy(dst, src, n);
        dst[n] = '\0';
    }
    return len;
}
