#ifndef TAILSHIP_CPCRE2_SHIM_H
#define TAILSHIP_CPCRE2_SHIM_H
// pcre2.h requires the code unit width before inclusion; tailship matches bytes (8-bit).
#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

// The unsuffixed pcre2_* names are macros over the *_8 functions, and PCRE2_ZERO_TERMINATED /
// PCRE2_UNSET are casts Swift cannot import; these shims give them plain names.
static const PCRE2_SIZE tailship_pcre2_unset = PCRE2_UNSET;
static inline pcre2_code *tailship_pcre2_compile(const unsigned char *p, size_t len, uint32_t opts, int *err, size_t *off) {
    return pcre2_compile(p, len, opts, err, off, NULL);
}
static inline void tailship_pcre2_code_free(pcre2_code *c) { pcre2_code_free(c); }
static inline int tailship_pcre2_jit_compile(pcre2_code *c) { return pcre2_jit_compile(c, PCRE2_JIT_COMPLETE); }
static inline pcre2_match_data *tailship_pcre2_match_data_create(pcre2_code *c) { return pcre2_match_data_create_from_pattern(c, NULL); }
static inline void tailship_pcre2_match_data_free(pcre2_match_data *m) { pcre2_match_data_free(m); }
static inline pcre2_match_context *tailship_pcre2_match_context_create(void) { return pcre2_match_context_create(NULL); }
static inline void tailship_pcre2_match_context_free(pcre2_match_context *c) { pcre2_match_context_free(c); }
static inline int tailship_pcre2_set_match_limit(pcre2_match_context *c, uint32_t v) { return pcre2_set_match_limit(c, v); }
static inline int tailship_pcre2_set_depth_limit(pcre2_match_context *c, uint32_t v) { return pcre2_set_depth_limit(c, v); }
// Caps the interpreter's backtracking memory (KiB) so one pathological line cannot grow the heap.
static inline int tailship_pcre2_set_heap_limit(pcre2_match_context *c, uint32_t v) { return pcre2_set_heap_limit(c, v); }
static inline int tailship_pcre2_match(const pcre2_code *c, const unsigned char *s, size_t len, size_t start, uint32_t opts, pcre2_match_data *m, pcre2_match_context *ctx) {
    return pcre2_match(c, s, len, start, opts, m, ctx);
}
static inline int tailship_pcre2_jit_match(const pcre2_code *c, const unsigned char *s, size_t len, size_t start, uint32_t opts, pcre2_match_data *m, pcre2_match_context *ctx) {
    return pcre2_jit_match(c, s, len, start, opts, m, ctx);
}
static inline size_t *tailship_pcre2_get_ovector_pointer(pcre2_match_data *m) { return pcre2_get_ovector_pointer(m); }
static inline int tailship_pcre2_pattern_info(const pcre2_code *c, uint32_t what, void *where) { return pcre2_pattern_info(c, what, where); }
static inline int tailship_pcre2_get_error_message(int code, unsigned char *buf, size_t len) { return pcre2_get_error_message(code, buf, len); }
#endif
