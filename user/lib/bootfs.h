// The boot archive (the cpio the kernel got as its initrd), read straight from memory.
// init receives it as startup handle STARTUP_H_BOOTFS, a region; a process given that
// handle maps it read-only at BOOTFS_VA on first use and finds files in it by name.
//
//   bootfs_find("hello", &data, &size)   a regular file's bytes (valid for the process's life)
//   bootfs_handle()                      the region handle, to pass on to a child
#pragma once

#include <stdint.h>

#include <abi/types.h>

// Returns 0, E_NOENT (no such file, or not a regular file), E_BADHANDLE (this process
// has no boot archive), E_INVAL (the archive is corrupt), or an error of sys_region_map.
long bootfs_find(const char *path, const void **data, uint64_t *size);

// The region handle from the startup block, or 0 when this process has none.
handle_t bootfs_handle(void);
