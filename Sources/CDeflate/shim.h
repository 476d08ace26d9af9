#ifndef TAILSHIP_CDEFLATE_SHIM_H
#define TAILSHIP_CDEFLATE_SHIM_H
// libdeflate: whole-buffer gzip, faster and tighter than zlib's streaming deflate for request
// bodies that are in memory whole anyway (docs/benchmarks.md, "Compression").
#include <libdeflate.h>
#endif
