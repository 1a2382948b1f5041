// The key-value server's protocol and client. kvs (user/servers/kvs.c) keeps a table of
// keys and values in its memory; init starts it, keeps its endpoint and registers it in
// ns as "kvs". A restarted kvs starts with an empty table.
//
//   op           request                              reply
//   KVS_PUT      w[1] = the key's length; the         -; the key now maps to the value
//                buffer holds the key, then the       (a key already there gets the new one)
//                value (the rest of the buffer)       E_LIMIT: KVS_MAX_KEYS keys already
//   KVS_GET      the key in the buffer                the value in the buffer, w[1] = its
//                                                     length; E_NOENT
//   KVS_DELETE   the key in the buffer                -; E_NOENT
//   KVS_LIST     w[1] = the index of the first key    the keys from that index on, in
//                wanted (0, then what came before)    order (by strcmp), each followed by
//                                                     '\n', as many as fit in IPC_BUF_MAX;
//                                                     w[1] = how many, w[2] = keys in all
//   KVS_RPC      -                                    w[1] = 1 when kvs serves RPC on the
//                                                     same endpoint (kvs=rpc: lab 5),
//                                                     w[2] = its pid
//
// Keys are 1..KVS_KEY_MAX bytes, with no '\0' (the client's keys are C strings) and no
// '\n' (KVS_LIST separates keys with it); they are sent without a '\0'. Values are
// 0..KVS_VALUE_MAX bytes of anything. The reply's w[0] is 0 or:
//
//   E_TOOBIG   the key or the value is too long
//   E_LIMIT    the table is full: a new key needs a delete first
//   E_INVAL    an empty key, a key with '\0' or '\n', a malformed request (no buffer,
//              a key length beyond the buffer) or an unknown operation
//   E_NOENT    no such key (KVS_GET, KVS_DELETE)
//   E_NOMEM    kvs is out of memory
//
// Operation numbers start at STREAM_OP_USER, as every server's own do (see stream.h).
//
// Client functions, each 0 (or a length) or a negative E_*:
//
//   kvs_put(key, value, len)          stores len bytes at value under key
//   kvs_get(key, buf, size)           the value's length; at most size bytes of it are
//                                     copied to buf (a length above size: it was cut)
//   kvs_delete(key)
//   kvs_list(start, buf, size, &n, &total)   the keys from index start, each followed
//                                     by '\n', as many whole keys as fit, '\0'-terminated;
//                                     n keys in buf, total in the table (IPC_BUF_MAX + 1
//                                     bytes hold a whole reply; start + n comes next)
//   kvs_strerror(err)                 what an error means for kvs, in words
//   kvs_interface()                   "rpc" when calls go to kvs's RPC entry (a kvs booted
//                                     with kvs=rpc: lab 5), "msg" when they are messages,
//                                     NULL before the first call
//
// The client looks "kvs" up in ns on first use (E_BADHANDLE when there is no kvs) and
// keeps the handle; it asks the kvs behind it whether it takes RPC, and then calls that
// way (the same requests, the bytes through the call's window: see servers/kvs.c). A call that
// fails with E_DEAD (kvs died answering it: the request may or may not have been done, and the
// table is gone either way) is not made again; the next call looks "kvs" up again and reaches the
// restarted kvs (by RPC: asks again, on the same handle, until the restarted kvs answers).
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "stream.h"

#define KVS_PUT    (STREAM_OP_USER + 0)
#define KVS_GET    (STREAM_OP_USER + 1)
#define KVS_DELETE (STREAM_OP_USER + 2)
#define KVS_LIST   (STREAM_OP_USER + 3)
#define KVS_RPC    (STREAM_OP_USER + 4)

#define KVS_KEY_MAX   64    // bytes in a key
#define KVS_VALUE_MAX 1024  // bytes in a value
#define KVS_MAX_KEYS  256   // keys in the table

long kvs_put(const char *key, const void *value, size_t len);
long kvs_get(const char *key, void *buf, size_t size);
long kvs_delete(const char *key);
long kvs_list(uint64_t start, char *buf, size_t size, int *n, int *total);
const char *kvs_strerror(long err);
const char *kvs_interface(void);
