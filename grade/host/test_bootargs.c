// Tests of kern/boot/bootargs.c: splitting the -append line into words, looking
// keys up (the last word wins), the limits on words and length, parse_number with
// its suffixes and overflow, and giving a word back as it was written.
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "boot/bootargs.h"
#include "check.h"
#include "lib/string.h"

static void test_empty(void)
{
    struct bootargs b;
    bootargs_parse(&b, "");
    CHECK_EQ_INT(b.count, 0);
    CHECK_EQ_INT(b.dropped, 0);
    CHECK(bootargs_get(&b, "x") == NULL);
    CHECK(!bootargs_flag(&b, "x"));

    bootargs_parse(&b, NULL);
    CHECK_EQ_INT(b.count, 0);

    bootargs_parse(&b, " \t \n\r ");
    CHECK_EQ_INT(b.count, 0);
    CHECK_EQ_INT(b.dropped, 0);
}

static void test_words(void)
{
    struct bootargs b;
    bootargs_parse(&b, "\t  sched=global   quiet\tktest=all \n mem=256M  ");
    CHECK_EQ_INT(b.count, 4);
    CHECK_EQ_INT(b.dropped, 0);
    CHECK_STR(b.args[0].key, "sched");
    CHECK_STR(b.args[0].value, "global");
    CHECK_STR(b.args[1].key, "quiet");
    CHECK_STR(b.args[1].value, "");
    CHECK_STR(bootargs_get(&b, "sched"), "global");
    CHECK_STR(bootargs_get(&b, "quiet"), "");
    CHECK_STR(bootargs_get(&b, "ktest"), "all");
    CHECK_STR(bootargs_get(&b, "mem"), "256M");
    CHECK(bootargs_get(&b, "sche") == NULL);  // whole keys only
    CHECK(bootargs_get(&b, "schedx") == NULL);
    CHECK(bootargs_get(&b, "global") == NULL);  // a value is not a key
    CHECK(bootargs_get(&b, "") == NULL);
}

static void test_equals_signs(void)
{
    struct bootargs b;
    bootargs_parse(&b, "key= =value a=b=c ==");
    CHECK_EQ_INT(b.count, 4);
    CHECK_STR(bootargs_get(&b, "key"), "");  // present, with an empty value
    CHECK_STR(bootargs_get(&b, ""), "=");    // the last word "==" wins over "=value"
    CHECK_STR(b.args[1].key, "");
    CHECK_STR(b.args[1].value, "value");
    CHECK_STR(bootargs_get(&b, "a"), "b=c");  // only the first '=' splits
}

static void test_last_wins(void)
{
    struct bootargs b;
    bootargs_parse(&b, "sched=local x sched=global y=1 sched=eevdf");
    CHECK_STR(bootargs_get(&b, "sched"), "eevdf");
    bootargs_parse(&b, "panic=boot panic");
    CHECK_STR(bootargs_get(&b, "panic"), "");
    CHECK(bootargs_flag(&b, "panic"));
    bootargs_parse(&b, "debug debug=off");
    CHECK(!bootargs_flag(&b, "debug"));
}

static void test_flags(void)
{
    struct bootargs b;
    bootargs_parse(&b, "bare one=1 on=on yes=yes true=true zero=0 off=off no=no "
                       "false=false two=2 upper=ON");
    CHECK(bootargs_flag(&b, "bare"));
    CHECK(bootargs_flag(&b, "one"));
    CHECK(bootargs_flag(&b, "on"));
    CHECK(bootargs_flag(&b, "yes"));
    CHECK(bootargs_flag(&b, "true"));
    CHECK(!bootargs_flag(&b, "zero"));
    CHECK(!bootargs_flag(&b, "off"));
    CHECK(!bootargs_flag(&b, "no"));
    CHECK(!bootargs_flag(&b, "false"));
    CHECK(!bootargs_flag(&b, "two"));
    CHECK(!bootargs_flag(&b, "upper"));  // values are case-sensitive
    CHECK(!bootargs_flag(&b, "absent"));
}

// More words than BOOTARGS_MAX_ARGS: the first ones are kept, the rest counted.
static void test_too_many_words(void)
{
    char line[1024] = "";
    int words = BOOTARGS_MAX_ARGS + 5;
    for (int i = 0; i < words; i++) {
        char word[32];
        snprintf(word, sizeof word, "w%d=%d ", i, i);
        strcat(line, word);
    }
    struct bootargs b;
    bootargs_parse(&b, line);
    CHECK_EQ_INT(b.count, BOOTARGS_MAX_ARGS);
    CHECK_EQ_INT(b.dropped, 5);
    CHECK_STR(bootargs_get(&b, "w0"), "0");
    char key[16];
    snprintf(key, sizeof key, "w%d", BOOTARGS_MAX_ARGS - 1);
    CHECK(bootargs_get(&b, key) != NULL);
    snprintf(key, sizeof key, "w%d", BOOTARGS_MAX_ARGS);
    CHECK(bootargs_get(&b, key) == NULL);
}

// A line longer than the text buffer: words that do not fit are dropped, none is cut.
static void test_too_long(void)
{
    // One word longer than the whole buffer, between two short ones.
    size_t n = BOOTARGS_MAX_LEN + 100;
    char *line = malloc(n + 16);
    strcpy(line, "a=1 ");
    size_t at = strlen(line);
    memset(line + at, 'x', n);
    strcpy(line + at + n, " b=2");
    struct bootargs b;
    bootargs_parse(&b, line);
    CHECK_EQ_INT(b.count, 2);
    CHECK_EQ_INT(b.dropped, 1);
    CHECK_STR(bootargs_get(&b, "a"), "1");
    CHECK_STR(bootargs_get(&b, "b"), "2");
    free(line);

    // Twenty words of 39 characters: 12 fill 480 of the 512 bytes (each with its NUL).
    char many[1024] = "";
    for (int i = 0; i < 20; i++) {
        char word[64];
        snprintf(word, sizeof word, "k%02d=%035d ", i, i);
        strcat(many, word);
    }
    bootargs_parse(&b, many);
    CHECK_EQ_INT(b.count, 12);
    CHECK_EQ_INT(b.dropped, 8);
    CHECK(bootargs_get(&b, "k11") != NULL);
    CHECK(bootargs_get(&b, "k12") == NULL);

    // Exactly full: 16 words of 31 characters and their NULs are 512 bytes.
    char full[1024] = "";
    for (int i = 0; i < 16; i++) {
        char word[64];
        snprintf(word, sizeof word, "f%02d=%027d ", i, i);
        strcat(full, word);
    }
    bootargs_parse(&b, full);
    CHECK_EQ_INT(b.count, 16);
    CHECK_EQ_INT(b.dropped, 0);
    CHECK_EQ_INT(strlen(bootargs_get(&b, "f15")), 27);

    // One character more in the last word: it would fit only without its NUL.
    full[strlen(full) - 1] = 'y';  // the trailing space
    bootargs_parse(&b, full);
    CHECK_EQ_INT(b.count, 15);
    CHECK_EQ_INT(b.dropped, 1);
    CHECK(bootargs_get(&b, "f15") == NULL);
}

// parse_number on s: true and *out == want, or false when want_ok is false.
static void check_number(const char *s, bool want_ok, uint64_t want)
{
    uint64_t v = 0xdeadbeef;
    bool ok = parse_number(s, &v);
    bool passed = CHECK_EQ_INT(ok, want_ok);
    if (ok && want_ok)
        passed = CHECK_EQ_INT(v, want) && passed;
    if (!ok)
        passed = CHECK_EQ_INT(v, 0xdeadbeef) && passed;  // *out untouched on failure
    if (!passed && check_reporting())
        printf("  parse_number(\"%s\")\n", s);
}

static void test_parse_number(void)
{
    check_number("0", true, 0);
    check_number("7", true, 7);
    check_number("007", true, 7);
    check_number("1234567890", true, 1234567890);
    check_number("18446744073709551615", true, UINT64_MAX);
    check_number("0x0", true, 0);
    check_number("0x1f", true, 0x1f);
    check_number("0XABCdef", true, 0xabcdef);
    check_number("0xffffffffffffffff", true, UINT64_MAX);
    check_number("0x80000000", true, 0x80000000);
    check_number("4k", true, 4096);
    check_number("4K", true, 4096);
    check_number("256m", true, 256ull << 20);
    check_number("256M", true, 256ull << 20);
    check_number("2g", true, 2ull << 30);
    check_number("2G", true, 2ull << 30);
    check_number("0x10k", true, 16 << 10);
    check_number("0k", true, 0);
    check_number("17179869183g", true, 17179869183ull << 30);  // the largest that fits

    // Overflow.
    check_number("18446744073709551616", false, 0);  // 2^64
    check_number("99999999999999999999", false, 0);
    check_number("0x10000000000000000", false, 0);
    check_number("0x1_0000_0000_0000_0000", false, 0);
    check_number("17179869184g", false, 0);        // 2^34 << 30 = 2^64
    check_number("18014398509481984k", false, 0);  // 2^54 << 10
    check_number("0xffffffffffffffffk", false, 0);

    // Not numbers.
    check_number("", false, 0);
    check_number("0x", false, 0);
    check_number("0xk", false, 0);
    check_number("12x", false, 0);
    check_number("x12", false, 0);
    check_number("k", false, 0);
    check_number("-1", false, 0);
    check_number("+1", false, 0);
    check_number(" 1", false, 0);
    check_number("1 ", false, 0);
    check_number("4kk", false, 0);
    check_number("4kb", false, 0);
    check_number("4t", false, 0);
    check_number("12a", false, 0);  // hex digits need 0x
    check_number("0x1g0", false, 0);
    check_number("1.5", false, 0);
}

static void test_bootargs_number(void)
{
    struct bootargs b;
    bootargs_parse(&b, "mem=256M cpus=4 base=0x80000000 bad=12x flag empty=");
    uint64_t v = 0;
    CHECK(bootargs_number(&b, "mem", &v));
    CHECK_EQ_INT(v, 256 << 20);
    CHECK(bootargs_number(&b, "cpus", &v));
    CHECK_EQ_INT(v, 4);
    CHECK(bootargs_number(&b, "base", &v));
    CHECK_EQ_INT(v, 0x80000000);
    CHECK(!bootargs_number(&b, "bad", &v));
    CHECK(!bootargs_number(&b, "flag", &v));
    CHECK(!bootargs_number(&b, "empty", &v));
    CHECK(!bootargs_number(&b, "absent", &v));
}

// The parsed words point into b->text, not into the caller's line.
static void test_copies_line(void)
{
    char line[] = "k=v flag";
    struct bootargs b;
    bootargs_parse(&b, line);
    memset(line, 'z', sizeof line - 1);
    CHECK_STR(bootargs_get(&b, "k"), "v");
    CHECK_STR(b.args[1].key, "flag");
    for (int i = 0; i < b.count; i++)
        CHECK(b.args[i].key >= b.text && b.args[i].key < b.text + sizeof b.text);
}

// bootargs_word gives each word back as it was written.
static void test_word(void)
{
    struct bootargs b;
    bootargs_parse(&b, "sched=global quiet key= =value a=b=c");
    static const char *const words[] = { "sched=global", "quiet", "key=", "=value", "a=b=c" };
    CHECK_EQ_INT(b.count, 5);
    char buf[32];
    for (int i = 0; i < b.count && i < 5; i++) {
        memset(buf, '#', sizeof buf);
        bootargs_word(&b.args[i], buf, sizeof buf);
        CHECK_STR(buf, words[i]);
    }
    bootargs_word(&b.args[0], buf, 6);  // cut short, and terminated
    CHECK_STR(buf, "sched");
    bootargs_word(&b.args[1], buf, 1);
    CHECK_STR(buf, "");
}

int main(void)
{
    test_empty();
    test_words();
    test_equals_signs();
    test_last_wins();
    test_flags();
    test_too_many_words();
    test_too_long();
    test_parse_number();
    test_bootargs_number();
    test_copies_line();
    test_word();
    return check_done("test_bootargs");
}
