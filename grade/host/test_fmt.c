// Tests of kern/lib/fmt.c, the kernel's printf. Where fmt promises C's behaviour,
// fmt_vsnprintf is compared with the host C library's vsnprintf over a generated
// matrix: every conversion with every combination of flags, a set of widths,
// precisions and length modifiers, and edge values (0, -1, INT_MIN, LLONG_MIN,
// ULLONG_MAX, ...). Then what C leaves to the caller: truncation and the return
// value, '*' arguments, and what fmt does on purpose differently (an unknown
// conversion is printed as written; %p with NULL is not compared, glibc prints "(nil)").
#include <limits.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include "check.h"
#include "lib/fmt.h"
#include "lib/string.h"

#define OUT_SIZE 512  // every formatted string in the matrix fits

// fmt_vsnprintf through a function without the format attribute, so that formats
// made at run time, and the ones C does not allow, compile without warnings.
static int format(char *buf, size_t size, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = fmt_vsnprintf(buf, size, fmt, ap);
    va_end(ap);
    return n;
}

// Formats the arguments with fmt and with the C library; true when both give the
// same text and the same return value. On a difference the format is printed.
static bool compare(const char *fmt, ...)
{
    char want[OUT_SIZE], got[OUT_SIZE];
    va_list ap, ap_copy;
    va_start(ap, fmt);
    va_copy(ap_copy, ap);
    int nwant = vsnprintf(want, sizeof want, fmt, ap);
    int ngot = fmt_vsnprintf(got, sizeof got, fmt, ap_copy);
    va_end(ap_copy);
    va_end(ap);
    bool ok = CHECK_STR(got, want);
    ok = CHECK_EQ_INT(ngot, nwant) && ok;
    if (!ok && check_reporting())
        printf("  format \"%s\"\n", fmt);
    return ok;
}

// ---- the integer matrix ---------------------------------------------------------------

static const uint64_t edge_values[] = {
    0,
    1,
    7,
    8,
    9,
    10,
    15,
    16,
    42,
    100,
    127,
    128,
    255,
    256,
    32767,
    32768,
    65535,
    65536,
    1234567890123ull,
    (uint64_t)-1,
    (uint64_t)-42,
    (uint64_t)-128,
    (uint64_t)-129,
    INT_MAX,
    (uint64_t)INT_MIN,
    UINT_MAX,
    0x80000000ull,
    LLONG_MAX,
    (uint64_t)LLONG_MIN,
    ULLONG_MAX,
};

static const char *const widths[] = { "", "1", "6", "24" };
static const char *const precisions[] = { "", ".", ".0", ".1", ".4", ".22" };
static const char *const lengths[] = { "hh", "h", "", "l", "ll", "z" };

// The flags '-' '0' '+' ' ' '#' present in mask, in that order.
static void flags_of(unsigned mask, char *out)
{
    static const char all[] = "-0+ #";
    for (int i = 0; all[i]; i++)
        if (mask & (1u << i))
            *out++ = all[i];
    *out = '\0';
}

// Passes v to compare() as the type the length modifier says.
static bool compare_integer(const char *fmt, const char *length, char conv, uint64_t v)
{
    bool is_signed = conv == 'd' || conv == 'i';
    if (strcmp(length, "l") == 0)
        return is_signed ? compare(fmt, (long)v) : compare(fmt, (unsigned long)v);
    if (strcmp(length, "ll") == 0)
        return is_signed ? compare(fmt, (long long)v) : compare(fmt, (unsigned long long)v);
    if (strcmp(length, "z") == 0)
        return is_signed ? compare(fmt, (ssize_t)v) : compare(fmt, (size_t)v);
    // hh, h and none take an int; C converts it to the narrower type itself.
    return is_signed ? compare(fmt, (int)v) : compare(fmt, (unsigned int)v);
}

static void test_integer_matrix(void)
{
    static const char conversions[] = "diuxXo";
    char fmt[64], flags[8];
    for (const char *conv = conversions; *conv; conv++) {
        for (unsigned mask = 0; mask < 32; mask++) {
            flags_of(mask, flags);
            // '#' with d, i or u is undefined in C.
            if (strchr(flags, '#') && strchr("diu", *conv))
                continue;
            for (size_t w = 0; w < sizeof widths / sizeof widths[0]; w++)
                for (size_t p = 0; p < sizeof precisions / sizeof precisions[0]; p++)
                    for (size_t l = 0; l < sizeof lengths / sizeof lengths[0]; l++) {
                        snprintf(fmt, sizeof fmt, "%%%s%s%s%s%c", flags, widths[w], precisions[p],
                                 lengths[l], *conv);
                        for (size_t v = 0; v < sizeof edge_values / sizeof edge_values[0]; v++)
                            if (!compare_integer(fmt, lengths[l], *conv, edge_values[v]) &&
                                check_reporting())
                                printf("  value 0x%llx\n", (unsigned long long)edge_values[v]);
                    }
        }
    }
}

// ---- strings, characters, pointers ----------------------------------------------------

static void test_strings(void)
{
    static const char *const strings[] = { "", "a", "abc", "hello, world", "tab\there" };
    static const char *const swidths[] = { "", "1", "5", "14" };
    static const char *const sprecisions[] = { "", ".", ".0", ".1", ".3", ".20" };
    char fmt[32];
    for (int left = 0; left < 2; left++)
        for (size_t w = 0; w < sizeof swidths / sizeof swidths[0]; w++) {
            for (size_t p = 0; p < sizeof sprecisions / sizeof sprecisions[0]; p++)
                for (size_t s = 0; s < sizeof strings / sizeof strings[0]; s++) {
                    snprintf(fmt, sizeof fmt, "%%%s%s%ss", left ? "-" : "", swidths[w],
                             sprecisions[p]);
                    compare(fmt, strings[s]);
                }
            // %c, including a byte above 127.
            static const int chars[] = { 'a', 'Z', ' ', '~', '%', 0xff };
            for (size_t c = 0; c < sizeof chars / sizeof chars[0]; c++) {
                snprintf(fmt, sizeof fmt, "%%%s%sc", left ? "-" : "", swidths[w]);
                compare(fmt, chars[c]);
            }
        }

    // Not compared: glibc prints "" for "%.3s" of NULL.
    char buf[32];
    const char *volatile null_string = NULL;
    CHECK_EQ_INT(format(buf, sizeof buf, "%s", null_string), 6);
    CHECK_STR(buf, "(null)");
    CHECK_EQ_INT(format(buf, sizeof buf, "[%8s]", null_string), 10);
    CHECK_STR(buf, "[  (null)]");
}

// %c of 0 writes a NUL byte in C, and counts it: "%c" returns 1.
static void test_char_nul(void)
{
    char buf[8];
    memset(buf, '#', sizeof buf);
    CHECK_EQ_INT(format(buf, sizeof buf, "%c", 0), 1);
    CHECK_EQ_INT(buf[0], '\0');
    memset(buf, '#', sizeof buf);
    CHECK_EQ_INT(format(buf, sizeof buf, "%3c|", 0), 4);
    CHECK(memcmp(buf, "  \0|", 5) == 0);
}

static void test_pointers(void)
{
    int local;
    void *const pointers[] = { (void *)1, (void *)0x80000000ul, &local, (void *)UINTPTR_MAX,
                               (void *)test_pointers };
    static const char *const pformats[] = { "%p", "%20p", "%-20p", "%4p", "[%p|%p]" };
    for (size_t f = 0; f < sizeof pformats / sizeof pformats[0]; f++)
        for (size_t p = 0; p < sizeof pointers / sizeof pointers[0]; p++)
            compare(pformats[f], pointers[p], pointers[p]);
}

static void test_mixed(void)
{
    compare("");
    compare("no conversions at all");
    compare("%%");
    compare("100%% sure, %d%%", 99);
    compare("%d %s %c %x %o %u %i %X %%", -1, "str", 'c', 0xbeefu, 8u, 3000000000u, 7, 0xabcu);
    compare("hart %d: %s at %#lx (%zu bytes)", 3, "uart", 0x10000000ul, (size_t)256);
    compare("%5d|%-5d|%05d|%+5d|% 5d", 42, 42, 42, 42, 42);
    compare("%lld %llu %llx", LLONG_MIN, ULLONG_MAX, ULLONG_MAX);
    compare("%hhd %hhu %hd %hu", 300, 300, 70000, 70000);
    compare("%.30o|%#.30x|%-30.25d|", 8u, 255u, -5);
    // Flags in any order; each of these also runs in the matrix.
    compare("% +d|%+ d", 5, 5);
    compare("%#08o|%0#8o|%#08x", 8u, 8u, 8u);
}

// ---- truncation and the return value ---------------------------------------------------

static void test_truncation(void)
{
    const char *want = "answer=42 (0x2a)";
    int len = (int)strlen(want);
    for (int size = 0; size <= len + 2; size++) {
        char buf[64], lbuf[64];
        memset(buf, '#', sizeof buf);
        memset(lbuf, '#', sizeof lbuf);
        int n = format(buf, (size_t)size, "%s=%d (%#x)", "answer", 42, 42u);
        snprintf(lbuf, (size_t)size, "%s=%d (%#x)", "answer", 42, 42u);
        CHECK_EQ_INT(n, len);                       // the full length, whatever fits
        CHECK(memcmp(buf, lbuf, sizeof buf) == 0);  // the same bytes as C, '#' beyond
        if (size == 0) {
            CHECK_EQ_INT(buf[0], '#');  // nothing written
            continue;
        }
        int kept = size - 1 < len ? size - 1 : len;
        CHECK_EQ_INT(buf[kept], '\0');  // always terminated
        CHECK(memcmp(buf, want, (size_t)kept) == 0);
        CHECK_EQ_INT(buf[size], '#');  // nothing past size
    }
    CHECK_EQ_INT(format(NULL, 0, "%d", 12345), 5);  // size 0: buf is not touched

    // An output much longer than the buffer.
    char small[16];
    CHECK_EQ_INT(format(small, sizeof small, "%1000d", 7), 1000);
    CHECK_EQ_INT(strlen(small), 15);
    CHECK_EQ_INT(format(small, sizeof small, "%-1000d|", 7), 1001);
    CHECK_STR(small, "7              ");
    CHECK_EQ_INT(format(small, 1, "%s", "abc"), 3);
    CHECK_STR(small, "");
}

// fmt_vformat hands each character to the emitter and counts them.
struct collected {
    char text[64];
    int n;
};

static void collect(char c, void *ctx)
{
    struct collected *col = ctx;
    if (col->n < (int)sizeof col->text - 1)
        col->text[col->n] = c;
    col->n++;
}

static int vformat_collect(struct collected *col, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    *col = (struct collected){ 0 };
    int n = fmt_vformat(collect, col, fmt, ap);
    va_end(ap);
    return n;
}

static void test_vformat(void)
{
    struct collected col;
    CHECK_EQ_INT(vformat_collect(&col, "x=%d %s", -17, "ok"), 8);
    CHECK_EQ_INT(col.n, 8);
    CHECK_STR(col.text, "x=-17 ok");
    CHECK_EQ_INT(vformat_collect(&col, ""), 0);
    CHECK_EQ_INT(col.n, 0);
}

// ---- '*' width and precision ---------------------------------------------------------

static void test_star(void)
{
    compare("%*d", 5, 42);
    compare("%*d", -5, 42);  // a negative width means '-'
    compare("%-*d|", -5, 42);
    compare("%*d", 0, 42);
    compare("%0*d", 6, -42);
    compare("%0*d|", -6, 42);
    compare("%.*d", 3, 7);
    compare("%.*d", -1, 7);  // a negative precision is as if there were none
    compare("%.*d", 0, 0);
    compare("%0.*d", -3, 5);
    compare("%*.*s|", 8, 3, "abcdef");
    compare("%*.*s|", -8, -3, "abcdef");
    compare("%.*s", 2, "abc");
    compare("%*x|%*s|%d", 10, 255u, -4, "ab", 9);  // '*' takes the arguments in order
    compare("%#*.*o", 9, 4, 8u);
    compare("%*c|", 3, 'x');
    compare("%*lld", 25, LLONG_MIN);
}

// Runs fn in a child process, so a sanitizer abort fails one check, not the program.
static bool survives(void (*fn)(void))
{
    fflush(stdout);
    pid_t pid = fork();
    if (pid == 0) {
        fn();
        _exit(0);
    }
    int status;
    return pid > 0 && waitpid(pid, &status, 0) == pid && WIFEXITED(status) &&
           WEXITSTATUS(status) == 0;
}

static void star_int_min(void)
{
    char buf[16];
    format(buf, sizeof buf, "%*d", INT_MIN, 1);
}

// ---- what fmt does differently from C on purpose ---------------------------------------

static void test_unknown_conversion(void)
{
    char buf[32];
    CHECK_EQ_INT(format(buf, sizeof buf, "%y"), 2);
    CHECK_STR(buf, "%y");
    CHECK_EQ_INT(format(buf, sizeof buf, "a%yb"), 4);
    CHECK_STR(buf, "a%yb");
    // An unknown conversion takes no argument: the %d still gets 5.
    CHECK_EQ_INT(format(buf, sizeof buf, "%y%d", 5), 3);
    CHECK_STR(buf, "%y5");
    CHECK_EQ_INT(format(buf, sizeof buf, "%q %k|%s", "s"), 7);
    CHECK_STR(buf, "%q %k|s");
    // A '%' at the very end is printed too.
    CHECK_EQ_INT(format(buf, sizeof buf, "50%"), 3);
    CHECK_STR(buf, "50%");
}

// str_copy (kern/lib/string.c) is the other formatting helper: strlcpy's contract.
static void test_str_copy(void)
{
    char buf[8];
    memset(buf, '#', sizeof buf);
    CHECK_EQ_INT(str_copy(buf, "hello", sizeof buf), 5);
    CHECK_STR(buf, "hello");
    CHECK_EQ_INT(str_copy(buf, "much too long", sizeof buf), 13);
    CHECK_STR(buf, "much to");
    memset(buf, '#', sizeof buf);
    CHECK_EQ_INT(str_copy(buf, "abc", 0), 3);
    CHECK_EQ_INT(buf[0], '#');
    CHECK_EQ_INT(str_copy(buf, "abc", 1), 3);
    CHECK_STR(buf, "");
}

int main(void)
{
    // The named cases first, so their failures are the ones printed.
    test_mixed();
    test_char_nul();
    test_truncation();
    test_vformat();
    test_star();
    CHECK(survives(star_int_min));  // "%*d" with INT_MIN: -INT_MIN overflows
    test_unknown_conversion();
    test_str_copy();
    test_strings();
    test_pointers();
    test_integer_matrix();
    return check_done("test_fmt");
}
