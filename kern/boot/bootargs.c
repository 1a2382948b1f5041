// The boot-argument parser (see bootargs.h).
#include "boot/bootargs.h"
#include "lib/fmt.h"
#include "lib/string.h"

static bool is_space(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

void bootargs_parse(struct bootargs *b, const char *line)
{
    memset(b, 0, sizeof *b);
    size_t used = 0;
    while (line && *line) {
        while (is_space(*line))
            line++;
        if (!*line)
            break;
        size_t len = 0;
        while (line[len] && !is_space(line[len]))
            len++;
        if (b->count == BOOTARGS_MAX_ARGS || used + len + 1 > sizeof b->text) {
            b->dropped++;
        } else {
            char *word = b->text + used;
            memcpy(word, line, len);
            word[len] = '\0';
            used += len + 1;
            char *eq = strchr(word, '=');
            if (eq)
                *eq = '\0';
            b->args[b->count++] = (struct bootarg){ word, eq ? eq + 1 : word + len };
        }
        line += len;
    }
}

const char *bootargs_get(const struct bootargs *b, const char *key)
{
    for (int i = b->count - 1; i >= 0; i--)  // the last one wins
        if (strcmp(b->args[i].key, key) == 0)
            return b->args[i].value;
    return NULL;
}

static int digit_value(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return 99;
}

bool parse_number(const char *s, uint64_t *out)
{
    int base = 10;
    if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
        base = 16;
        s += 2;
    }
    uint64_t v = 0;
    const char *start = s;
    for (; digit_value(*s) < base; s++) {
        uint64_t d = (uint64_t)digit_value(*s);
        if (v > (UINT64_MAX - d) / base)
            return false;  // overflow
        v = v * base + d;
    }
    if (s == start)
        return false;
    int shift = 0;
    if (*s == 'k' || *s == 'K')
        shift = 10;
    else if (*s == 'm' || *s == 'M')
        shift = 20;
    else if (*s == 'g' || *s == 'G')
        shift = 30;
    if (shift) {
        if (v >> (64 - shift))
            return false;
        v <<= shift;
        s++;
    }
    if (*s)
        return false;
    *out = v;
    return true;
}

bool bootargs_number(const struct bootargs *b, const char *key, uint64_t *out)
{
    const char *v = bootargs_get(b, key);
    return v && parse_number(v, out);
}

bool bootargs_flag(const struct bootargs *b, const char *key)
{
    const char *v = bootargs_get(b, key);
    return v && (v[0] == '\0' || strcmp(v, "1") == 0 || strcmp(v, "on") == 0 ||
                 strcmp(v, "yes") == 0 || strcmp(v, "true") == 0);
}

void bootargs_word(const struct bootarg *a, char *buf, int size)
{
    // The parser put a NUL where the '=' was: a flag's value is the key's own NUL.
    bool had_equals = a->value != a->key + strlen(a->key);
    if (had_equals)
        fmt_snprintf(buf, size, "%s=%s", a->key, a->value);
    else
        fmt_snprintf(buf, size, "%s", a->key);
}
