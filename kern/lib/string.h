// The C string and memory functions the kernel uses. The host unit tests and user
// programs (SHUTTLE_USER, built with picolibc) take the C library's instead, so pure
// kernel code (the ELF and cpio readers) builds in all three places.
#pragma once

#include <stdbool.h>
#include <stddef.h>

#if defined(HOST_TEST) || defined(SHUTTLE_USER)
#include <string.h>
#else
void *memset(void *dst, int c, size_t n);
void *memcpy(void *dst, const void *src, size_t n);
void *memmove(void *dst, const void *src, size_t n);
int memcmp(const void *a, const void *b, size_t n);
size_t strlen(const char *s);
size_t strnlen(const char *s, size_t max);
int strcmp(const char *a, const char *b);
int strncmp(const char *a, const char *b, size_t n);
char *strchr(const char *s, int c);
#endif

// The kernel's memory functions under their own names (memset, memcpy and memmove are
// these), so the host unit tests can check them against the C library's.
void *mem_fill(void *dst, int c, size_t n);
void *mem_copy(void *dst, const void *src, size_t n);  // no overlap, or dst below src
void *mem_move(void *dst, const void *src, size_t n);  // any overlap

// Copies at most size-1 characters and always terminates (when size > 0);
// returns strlen(src), so a result >= size means the copy was cut short.
size_t str_copy(char *dst, const char *src, size_t size);
