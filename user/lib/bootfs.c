// The boot archive, mapped once at BOOTFS_VA (see bootfs.h). Mapping happens on first
// use, from the main thread in practice; a second thread racing the first call would at
// worst see sys_region_map fail with E_EXIST, which is reported, not hidden.
#include "bootfs.h"

#include "lib/cpio.h"
#include "ulib.h"

static uint64_t bootfs_size;  // 0 until mapped

handle_t bootfs_handle(void)
{
    return startup_handle(STARTUP_H_BOOTFS);
}

static long bootfs_map(void)
{
    if (bootfs_size)
        return 0;
    handle_t h = bootfs_handle();
    if (h == 0)
        return E_BADHANDLE;
    long size = sys_region_size(h);
    if (size < 0)
        return size;
    // The window from BOOTFS_VA up to the main stack (about 190 GiB) fits any archive.
    if (size == 0 || (uint64_t)size > USER_STACK_TOP - STACK_SIZE - BOOTFS_VA)
        return E_INVAL;
    long r = sys_region_map(h, H_SELF, BOOTFS_VA, 0, page_round_up((uint64_t)size), PROT_READ);
    if (r < 0)
        return r;
    bootfs_size = (uint64_t)size;
    return 0;
}

long bootfs_find(const char *path, const void **data, uint64_t *size)
{
    long r = bootfs_map();
    if (r < 0)
        return r;
    struct cpio_file f;
    r = cpio_find((const void *)(uintptr_t)BOOTFS_VA, bootfs_size, path, &f);
    if (r < 0)
        return r;
    if ((f.mode & 0170000) != 0100000)  // S_IFMT, S_IFREG
        return E_NOENT;
    *data = f.data;
    *size = f.size;
    return 0;
}
