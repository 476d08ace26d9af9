#ifndef TAILSHIP_CZLIB_SHIM_H
#define TAILSHIP_CZLIB_SHIM_H
#include <zlib.h>

// inflateInit2 is a macro that passes the library version and struct size; Swift does not import
// function-like macros. (Request bodies are compressed by libdeflate: CDeflate.)
static inline int tailship_inflateInit2(z_streamp s, int windowBits) { return inflateInit2(s, windowBits); }

// glibc's mallopt and its M_* constants are not in Swift's Glibc module. Here because the
// shipper's (gzip) buffers are what cross threads. Caps the per-thread arenas, and fixes the
// mmap threshold: glibc otherwise raises it after the first large free, and request bodies
// then come from (and fragment) the heap, which keeps RSS high.
#if defined(__GLIBC__)
#include <malloc.h>
static inline int tailship_tune_malloc(int arenas, int mmapThreshold) {
    return mallopt(M_ARENA_MAX, arenas) && mallopt(M_MMAP_THRESHOLD, mmapThreshold);
}
#else
static inline int tailship_tune_malloc(int arenas, int mmapThreshold) { (void)arenas; (void)mmapThreshold; return 0; }
#endif
#endif
