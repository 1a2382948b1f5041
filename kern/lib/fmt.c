// printf-style formatting (see fmt.h). Pure code: the host unit tests build it too.
#include "lib/fmt.h"

#include <limits.h>
#include <stdbool.h>
#include <stdint.h>

// Widths and precisions are cut to this: a wild '*' argument must not make one
// conversion print for minutes.
#define MAX_COUNT (1 << 20)

struct spec {
    bool left;      // '-': pad on the right
    bool zero;      // '0': pad numbers with zeros
    bool alt;       // '#': 0x before hex, 0 before octal
    char sign;      // '+' or ' ' before non-negative signed numbers, else 0
    int width;      // minimum field width
    int precision;  // -1 when absent
    int length;     // 'H' hh, 'h', 0, 'l', 'L' ll, 'z'
};

struct out {
    void (*emit)(char c, void *ctx);
    void *ctx;
    int count;
};

static void put(struct out *o, char c)
{
    o->emit(c, o->ctx);
    o->count++;
}

static void pad(struct out *o, char c, int n)
{
    while (n-- > 0)
        put(o, c);
}

static void put_string(struct out *o, const struct spec *s, const char *str)
{
    if (!str)
        str = "(null)";
    int len = 0;
    while (str[len] && (s->precision < 0 || len < s->precision))
        len++;
    if (!s->left)
        pad(o, ' ', s->width - len);
    for (int i = 0; i < len; i++)
        put(o, str[i]);
    if (s->left)
        pad(o, ' ', s->width - len);
}

// Prints magnitude in base with an optional prefix ('-', '+', ' ' or "0x").
static void put_number(struct out *o, const struct spec *s, uint64_t magnitude, int base,
                       bool upper, const char *prefix)
{
    const char *digits = upper ? "0123456789ABCDEF" : "0123456789abcdef";
    char buf[24];
    int n = 0;
    // C prints nothing for a zero with precision 0.
    if (!(magnitude == 0 && s->precision == 0)) {
        do {
            buf[n++] = digits[magnitude % base];
            magnitude /= base;
        } while (magnitude);
    }
    int prefix_len = 0;
    while (prefix[prefix_len])
        prefix_len++;
    int zeros = s->precision > n ? s->precision - n : 0;
    int body = prefix_len + zeros + n;
    // The '0' flag is ignored with '-' and, for integers, when a precision is given.
    if (s->zero && !s->left && s->precision < 0 && s->width > body) {
        zeros += s->width - body;
        body = s->width;
    }
    if (!s->left)
        pad(o, ' ', s->width - body);
    for (int i = 0; i < prefix_len; i++)
        put(o, prefix[i]);
    pad(o, '0', zeros);
    while (n > 0)
        put(o, buf[--n]);
    if (s->left)
        pad(o, ' ', s->width - body);
}

// C's '#' makes the first octal digit a 0, adding one only when the digits (with
// any precision zeros) do not already start with one.
static void put_octal(struct out *o, struct spec *s, uint64_t v)
{
    int digits = 0;
    for (uint64_t t = v; t; t >>= 3)
        digits++;
    bool leading_zero = (v == 0 && s->precision != 0) || s->precision > digits;
    put_number(o, s, v, 8, false, s->alt && !leading_zero ? "0" : "");
}

static int64_t signed_arg(const struct spec *s, va_list *ap)
{
    switch (s->length) {
    case 'H': return (signed char)va_arg(*ap, int);
    case 'h': return (short)va_arg(*ap, int);
    case 'l': return va_arg(*ap, long);
    case 'L': return va_arg(*ap, long long);
    case 'z': return (int64_t)va_arg(*ap, size_t);
    default: return va_arg(*ap, int);
    }
}

static uint64_t unsigned_arg(const struct spec *s, va_list *ap)
{
    switch (s->length) {
    case 'H': return (unsigned char)va_arg(*ap, unsigned int);
    case 'h': return (unsigned short)va_arg(*ap, unsigned int);
    case 'l': return va_arg(*ap, unsigned long);
    case 'L': return va_arg(*ap, unsigned long long);
    case 'z': return va_arg(*ap, size_t);
    default: return va_arg(*ap, unsigned int);
    }
}

// Reads a decimal number or '*' (taken from the arguments).
static int parse_count(const char **fmt, va_list *ap)
{
    if (**fmt == '*') {
        (*fmt)++;
        return va_arg(*ap, int);
    }
    int n = 0;
    while (**fmt >= '0' && **fmt <= '9') {
        if (n <= MAX_COUNT)
            n = n * 10 + (**fmt - '0');
        (*fmt)++;
    }
    return n;
}

// Parses flags, width, precision and length after a '%'.
static void parse_spec(const char **fmt, va_list *ap, struct spec *s)
{
    *s = (struct spec){ .precision = -1 };
    for (;; (*fmt)++) {
        if (**fmt == '-')
            s->left = true;
        else if (**fmt == '0')
            s->zero = true;
        else if (**fmt == '#')
            s->alt = true;
        else if (**fmt == '+')
            s->sign = '+';
        else if (**fmt == ' ') {
            if (s->sign != '+')  // '+' wins over ' ' whatever their order
                s->sign = ' ';
        } else
            break;
    }
    int width = parse_count(fmt, ap);
    if (width < 0) {  // a negative '*' width means '-'
        s->left = true;
        width = width == INT_MIN ? MAX_COUNT : -width;
    }
    s->width = width > MAX_COUNT ? MAX_COUNT : width;
    if (**fmt == '.') {
        (*fmt)++;
        s->precision = parse_count(fmt, ap);
        if (s->precision < 0)
            s->precision = -1;  // a negative '*' precision means none
        else if (s->precision > MAX_COUNT)
            s->precision = MAX_COUNT;
    }
    if (**fmt == 'h') {
        (*fmt)++;
        s->length = 'h';
        if (**fmt == 'h') {
            (*fmt)++;
            s->length = 'H';
        }
    } else if (**fmt == 'l') {
        (*fmt)++;
        s->length = 'l';
        if (**fmt == 'l') {
            (*fmt)++;
            s->length = 'L';
        }
    } else if (**fmt == 'z') {
        (*fmt)++;
        s->length = 'z';
    }
}

static void put_conversion(struct out *o, struct spec *s, char conv, va_list *ap)
{
    switch (conv) {
    case 'd':
    case 'i': {
        int64_t v = signed_arg(s, ap);
        char prefix[2] = { v < 0 ? '-' : s->sign, 0 };
        put_number(o, s, v < 0 ? -(uint64_t)v : (uint64_t)v, 10, false, prefix);
        break;
    }
    case 'u': put_number(o, s, unsigned_arg(s, ap), 10, false, ""); break;
    case 'o': put_octal(o, s, unsigned_arg(s, ap)); break;
    case 'x':
    case 'X': {
        uint64_t v = unsigned_arg(s, ap);
        const char *prefix = s->alt && v ? (conv == 'x' ? "0x" : "0X") : "";
        put_number(o, s, v, 16, conv == 'X', prefix);
        break;
    }
    case 'p': put_number(o, s, (uintptr_t)va_arg(*ap, void *), 16, false, "0x"); break;
    case 'c': {  // not through put_string: a NUL character is printed too
        char c = (char)va_arg(*ap, int);
        if (!s->left)
            pad(o, ' ', s->width - 1);
        put(o, c);
        if (s->left)
            pad(o, ' ', s->width - 1);
        break;
    }
    case 's': put_string(o, s, va_arg(*ap, const char *)); break;
    case '%': put(o, '%'); break;
    default:  // unknown: show it as written
        put(o, '%');
        if (conv)
            put(o, conv);
    }
}

int fmt_vformat(void (*emit)(char c, void *ctx), void *ctx, const char *fmt, va_list ap)
{
    struct out o = { emit, ctx, 0 };
    va_list args;
    va_copy(args, ap);
    while (*fmt) {
        if (*fmt != '%') {
            put(&o, *fmt++);
            continue;
        }
        fmt++;
        struct spec s;
        parse_spec(&fmt, &args, &s);
        char conv = *fmt;
        if (conv)
            fmt++;
        put_conversion(&o, &s, conv, &args);
    }
    va_end(args);
    return o.count;
}

struct buffer {
    char *buf;
    size_t size;
    size_t used;
};

static void buffer_emit(char c, void *ctx)
{
    struct buffer *b = ctx;
    if (b->used + 1 < b->size)
        b->buf[b->used] = c;
    b->used++;
}

int fmt_vsnprintf(char *buf, size_t size, const char *fmt, va_list ap)
{
    struct buffer b = { buf, size, 0 };
    int n = fmt_vformat(buffer_emit, &b, fmt, ap);
    if (size > 0)
        buf[b.used < size ? b.used : size - 1] = '\0';
    return n;
}

int fmt_snprintf(char *buf, size_t size, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = fmt_vsnprintf(buf, size, fmt, ap);
    va_end(ap);
    return n;
}
