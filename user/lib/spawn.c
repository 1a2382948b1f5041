// The user-level loader (see spawn.h). The child is built from outside with system calls
// on its process handle: memory with sys_mem_alloc, contents with sys_mem_write (which
// works whatever the page will end up allowing the child), then sys_mem_protect to the
// segment's final protection, and only then a thread. Whatever fails, the half-built
// child is killed and its handle closed, which frees everything given to it.
#include "spawn.h"

#include <stdlib.h>
#include <string.h>

#include "bootfs.h"
#include "fs.h"
#include "lib/elf.h"
#include "ulib.h"

#define WRITE_CHUNK (64 * 1024)  // bytes per sys_mem_write, to keep each call short

static long write_all(handle_t proc, uint64_t va, const uint8_t *src, uint64_t len)
{
    while (len) {
        uint64_t n = len < WRITE_CHUNK ? len : WRITE_CHUNK;
        long r = sys_mem_write(proc, va, src, n);
        if (r < 0)
            return r;
        va += n;
        src += n;
        len -= n;
    }
    return 0;
}

// One PT_LOAD: its pages, its file bytes (the rest stays zero: .bss), its protection.
// elf_check has made sure [vaddr, vaddr + memsz) lies in user space.
static long load_segment(handle_t proc, const uint8_t *elf, const struct elf_segment *seg)
{
    if (seg->memsz == 0)
        return 0;
    if (seg->prot == 0)
        return E_INVAL;
    uint64_t start = page_round_down(seg->vaddr);
    uint64_t len = page_round_up(seg->vaddr + seg->memsz) - start;
    long r = sys_mem_alloc(proc, start, len, PROT_READ | PROT_WRITE);
    if (r < 0)
        return r;
    r = write_all(proc, seg->vaddr, elf + seg->offset, seg->filesz);
    if (r < 0)
        return r;
    if (seg->prot != (PROT_READ | PROT_WRITE))
        r = sys_mem_protect(proc, start, len, seg->prot);
    return r;
}

static long load_segments(handle_t proc, const void *elf, uint64_t size)
{
    struct elf_segment seg;
    int i, r;
    for (i = 0; (r = elf_segment(elf, size, i, &seg)) == 1; i++) {
        long e = load_segment(proc, elf, &seg);
        if (e < 0)
            return e;
    }
    return r < 0 ? E_INVAL : 0;
}

// Gives the child each handle of give; out[i] becomes the child's number for give[i].
static long give_handles(handle_t proc, const handle_t *give, int ngive, handle_t *out)
{
    for (int i = 0; i < ngive; i++) {
        if (give[i] == 0)
            continue;
        long h = sys_handle_give(proc, give[i], RIGHT_ALL);
        if (h < 0)
            return h;
        out[i] = (handle_t)h;
    }
    return 0;
}

// The child's main stack, with the startup block, argv and strings at its top, laid out
// in a local buffer that mirrors [base, USER_STACK_TOP) and written in one call:
//
//   base: struct startup | argv[0..argc] (argc + 1 pointers) | cwd | strings | padding to 16
//
// cwd is absolute and normalised, or NULL: then startup.cwd is 0, which means "/".
static long build_stack(handle_t proc, char *const argv[], const handle_t *handles, const char *cwd,
                        uint64_t *base_out)
{
    uint64_t argc = 0, strings = 0;
    for (; argv && argv[argc]; argc++) {
        strings += strlen(argv[argc]) + 1;
        if (strings > SPAWN_ARGS_MAX)
            return E_TOOBIG;
    }
    uint64_t cwd_len = cwd ? strlen(cwd) + 1 : 0;  // at most FS_PATH_MAX + 1
    uint64_t vec_off = sizeof(struct startup);     // 64: 8-byte aligned
    uint64_t cwd_off = vec_off + (argc + 1) * sizeof(uint64_t);
    uint64_t str_off = cwd_off + cwd_len;
    uint64_t total = (str_off + strings + 15) & ~15ULL;
    if (total > SPAWN_ARGS_MAX)
        return E_TOOBIG;
    uint8_t *buf = calloc(1, total);
    if (!buf)
        return E_NOMEM;
    uint64_t base = USER_STACK_TOP - total;

    struct startup *s = (struct startup *)buf;
    s->magic = STARTUP_MAGIC;
    s->argc = argc;
    s->argv = base + vec_off;
    memcpy(s->handles, handles, sizeof(s->handles));
    if (cwd) {
        memcpy(buf + cwd_off, cwd, cwd_len);
        s->cwd = base + cwd_off;
    }
    uint64_t *vec = (uint64_t *)(buf + vec_off);
    uint64_t at = str_off;
    for (uint64_t i = 0; i < argc; i++) {
        uint64_t n = strlen(argv[i]) + 1;
        memcpy(buf + at, argv[i], n);
        vec[i] = base + at;
        at += n;
    }
    vec[argc] = 0;

    long r = sys_mem_alloc(proc, USER_STACK_TOP - STACK_SIZE, STACK_SIZE, PROT_READ | PROT_WRITE);
    if (r == 0)
        r = sys_mem_write(proc, base, buf, total);
    free(buf);
    *base_out = base;
    return r;
}

// Everything after sys_process_create; on failure the caller disposes of the child.
static long spawn_into(handle_t proc, const void *elf, uint64_t size, uint64_t entry,
                       char *const argv[], const char *cwd, const handle_t *give, int ngive)
{
    handle_t handles[STARTUP_MAX_HANDLES] = { 0 };
    uint64_t base = 0;
    long r = load_segments(proc, elf, size);
    if (r == 0)
        r = give_handles(proc, give, ngive, handles);
    if (r == 0)
        r = build_stack(proc, argv, handles, cwd, &base);
    if (r < 0)
        return r;
    // sp = base: 16-byte aligned, and the stack grows down away from the block.
    long t = sys_thread_create(proc, entry, base, base);
    if (t < 0)
        return t;
    sys_handle_close((handle_t)t);  // the child runs on; we wait for the process, not the thread
    return 0;
}

long spawn_in(const char *cwd, const void *elf, uint64_t size, const char *name, char *const argv[],
              const handle_t *give, int ngive, handle_t *proc)
{
    uint64_t entry;
    char dir[FS_PATH_MAX + 1];
    if (elf_check(elf, size, &entry) < 0 || ngive < 0 || ngive > STARTUP_MAX_HANDLES ||
        (ngive > 0 && !give) || !name || !proc)
        return E_INVAL;
    // fs_path_join takes a relative path too, against "/": ask for an absolute one.
    if (cwd && (cwd[0] != '/' || strnlen(cwd, FS_PATH_MAX + 1) > FS_PATH_MAX ||
                fs_path_join("/", cwd, dir, sizeof(dir)) < 0))
        return E_INVAL;
    long p = sys_process_create(name, strlen(name));
    if (p < 0)
        return p;
    long r = spawn_into((handle_t)p, elf, size, entry, argv, cwd ? dir : NULL, give, ngive);
    if (r < 0) {
        sys_process_kill((handle_t)p);
        sys_handle_close((handle_t)p);
        return r;
    }
    *proc = (handle_t)p;
    return 0;
}

long spawn(const void *elf, uint64_t size, const char *name, char *const argv[],
           const handle_t *give, int ngive, handle_t *proc)
{
    return spawn_in(fs_cwd(), elf, size, name, argv, give, ngive, proc);
}

long spawn_from_bootfs_in(const char *cwd, const char *path, char *const argv[],
                          const handle_t *give, int ngive, handle_t *proc)
{
    const void *elf;
    uint64_t size;
    long r = bootfs_find(path, &elf, &size);
    if (r < 0)
        return r;
    const char *name = strrchr(path, '/');
    name = name ? name + 1 : path;
    return spawn_in(cwd, elf, size, name, argv, give, ngive, proc);
}

long spawn_from_bootfs(const char *path, char *const argv[], const handle_t *give, int ngive,
                       handle_t *proc)
{
    return spawn_from_bootfs_in(fs_cwd(), path, argv, give, ngive, proc);
}
