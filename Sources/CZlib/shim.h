#ifndef TAILSHIP_CZLIB_SHIM_H
#define TAILSHIP_CZLIB_SHIM_H
#include <zlib.h>

// deflateInit2 and inflateInit2 are macros that pass the library version and struct size;
// Swift does not import function-like macros.
static inline int tailship_deflateInit2(z_streamp s, int level, int method, int windowBits, int memLevel, int strategy) {
    return deflateInit2(s, level, method, windowBits, memLevel, strategy);
}
static inline int tailship_inflateInit2(z_streamp s, int windowBits) { return inflateInit2(s, windowBits); }

// glibc's mallopt and M_ARENA_MAX are not in Swift's Glibc module. Here because the shipper's
// (gzip) buffers are what cross threads; caps the per-thread malloc arenas that inflate RSS.
#if defined(__GLIBC__)
#include <malloc.h>
static inline int tailship_limit_malloc_arenas(int arenas) { return mallopt(M_ARENA_MAX, arenas); }
#else
static inline int tailship_limit_malloc_arenas(int arenas) { (void)arenas; return 0; }
#endif
#endif
