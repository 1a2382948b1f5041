// Boot arguments: the words QEMU passes with -append, as `key=value` or a bare `flag`,
// separated by spaces. They select mechanisms (`sched=global`), tests (`ktest=all`) and
// test hooks (`panic=boot`). A later word wins over an earlier one with the same key.
//
// Pure code: the host unit tests build it too.
#pragma once

#include <stdbool.h>
#include <stdint.h>

#define BOOTARGS_MAX_ARGS 32
#define BOOTARGS_MAX_LEN  512

struct bootarg {
    const char *key;
    const char *value;  // "" for a bare flag
};

struct bootargs {
    char text[BOOTARGS_MAX_LEN];  // the words, NUL-separated
    struct bootarg args[BOOTARGS_MAX_ARGS];
    int count;
    int dropped;  // words past BOOTARGS_MAX_ARGS, or cut off by the length limit
};

// Splits line into b. Never fails: too many or too long words are counted in b->dropped.
void bootargs_parse(struct bootargs *b, const char *line);
// The value of key, or NULL when it is absent ("" for a bare flag).
const char *bootargs_get(const struct bootargs *b, const char *key);
// key as a number (decimal, or hex with 0x, with an optional k/m/g suffix): *out is
// set and true returned when it is present and well-formed.
bool bootargs_number(const struct bootargs *b, const char *key, uint64_t *out);
// True when key is present as a flag or with value "1", "on", "yes" or "true".
bool bootargs_flag(const struct bootargs *b, const char *key);
// The word as it was written: "key=value", or "key" for a bare flag.
void bootargs_word(const struct bootarg *a, char *buf, int size);
// Parses a number the way bootargs_number does; false when s is not one.
bool parse_number(const char *s, uint64_t *out);
