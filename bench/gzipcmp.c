/*
 * zlib against libdeflate on the NDJSON tailship produces: each compresses the same input in
 * batch-sized pieces (BATCH lines, like one /import request of 2,000 events), whole-buffer,
 * as tailship's GzipCompressor does (one zlib stream, deflateReset between bodies, windowBits
 * 31, memLevel 8). Prints the ratio and MB/s of uncompressed input per CPU second, for
 * compression and for decompression (what a receiver, such as bench/sink.c, pays).
 * Build and run: scripts/bench-gzip.sh. Usage: gzipcmp FILE [MAX_BYTES]
 */
#define _GNU_SOURCE
#include <libdeflate.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <zlib.h>

#define BATCH 2000
#define MIN_SECONDS 1.0 /* repeat each measurement at least this long */

struct piece { const unsigned char *data; size_t len; };

static void die(const char *what) {
    perror(what);
    exit(1);
}

static double cpu_now(void) {
    struct timespec ts;
    if (clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts) != 0) die("clock_gettime");
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Compresses piece i into out (capacity cap); returns the compressed size. */
typedef size_t (*compress_fn)(void *state, const struct piece *p, unsigned char *out, size_t cap);
typedef void (*decompress_fn)(void *state, const unsigned char *in, size_t len, unsigned char *out, size_t expect);

static size_t zlib_compress(void *state, const struct piece *p, unsigned char *out, size_t cap) {
    z_stream *z = state;
    if (deflateReset(z) != Z_OK) die("deflateReset");
    z->next_in = (unsigned char *)p->data;
    z->avail_in = (uInt)p->len;
    z->next_out = out;
    z->avail_out = (uInt)cap;
    if (deflate(z, Z_FINISH) != Z_STREAM_END) { fprintf(stderr, "deflate did not finish\n"); exit(1); }
    return cap - z->avail_out;
}

static void zlib_decompress(void *state, const unsigned char *in, size_t len, unsigned char *out, size_t expect) {
    z_stream *z = state;
    if (inflateReset(z) != Z_OK) die("inflateReset");
    z->next_in = (unsigned char *)in;
    z->avail_in = (uInt)len;
    z->next_out = out;
    z->avail_out = (uInt)expect;
    if (inflate(z, Z_FINISH) != Z_STREAM_END || z->avail_out != 0) { fprintf(stderr, "inflate failed\n"); exit(1); }
}

static size_t libdeflate_compress(void *state, const struct piece *p, unsigned char *out, size_t cap) {
    size_t n = libdeflate_gzip_compress(state, p->data, p->len, out, cap);
    if (n == 0) { fprintf(stderr, "libdeflate_gzip_compress: no room\n"); exit(1); }
    return n;
}

static void libdeflate_decompress(void *state, const unsigned char *in, size_t len, unsigned char *out, size_t expect) {
    size_t got;
    if (libdeflate_gzip_decompress(state, in, len, out, expect, &got) != LIBDEFLATE_SUCCESS || got != expect) {
        fprintf(stderr, "libdeflate_gzip_decompress failed\n");
        exit(1);
    }
}

static void measure(const char *name, int level, compress_fn compress, void *cstate, decompress_fn decompress,
                    void *dstate, const struct piece *pieces, size_t count, size_t total) {
    size_t cap = 0;
    for (size_t i = 0; i < count; i++)
        if (pieces[i].len > cap) cap = pieces[i].len;
    cap = cap + cap / 8 + 1024; /* above both libraries' bounds for text */
    unsigned char **packed = calloc(count, sizeof *packed);
    size_t *packed_len = calloc(count, sizeof *packed_len);
    unsigned char *scratch = malloc(cap);
    if (!packed || !packed_len || !scratch) die("malloc");
    for (size_t i = 0; i < count; i++)
        if (!(packed[i] = malloc(cap))) die("malloc");

    size_t compressed = 0, rounds = 0;
    double start = cpu_now(), spent;
    do {
        compressed = 0;
        for (size_t i = 0; i < count; i++) compressed += packed_len[i] = compress(cstate, &pieces[i], packed[i], cap);
        rounds++;
    } while ((spent = cpu_now() - start) < MIN_SECONDS);
    double c_mbs = (double)total * (double)rounds / spent / 1e6;

    rounds = 0;
    start = cpu_now();
    do {
        for (size_t i = 0; i < count; i++) {
            decompress(dstate, packed[i], packed_len[i], scratch, pieces[i].len);
            if (memcmp(scratch, pieces[i].data, pieces[i].len) != 0) { fprintf(stderr, "round trip differs\n"); exit(1); }
        }
        rounds++;
    } while ((spent = cpu_now() - start) < MIN_SECONDS);
    double d_mbs = (double)total * (double)rounds / spent / 1e6;
    printf("| %-10s | %d | %5.2f | %6.1f | %7.1f |\n", name, level, (double)total / (double)compressed, c_mbs, d_mbs);
    for (size_t i = 0; i < count; i++) free(packed[i]);
    free(packed);
    free(packed_len);
    free(scratch);
}

int main(int argc, char **argv) {
    if (argc < 2) { fprintf(stderr, "usage: %s FILE [MAX_BYTES]\n", argv[0]); return 2; }
    size_t max = argc > 2 ? strtoull(argv[2], NULL, 10) : 20u * 1000 * 1000;
    FILE *f = fopen(argv[1], "rb");
    if (!f) die(argv[1]);
    unsigned char *data = malloc(max);
    if (!data) die("malloc");
    size_t total = fread(data, 1, max, f);
    if (ferror(f)) die("fread");
    if (fclose(f) != 0) die("fclose");
    while (total > 0 && data[total - 1] != '\n') total--; /* whole lines only */
    if (total == 0) { fprintf(stderr, "%s: no complete line\n", argv[1]); return 1; }

    size_t count = 0, lines = 0, cap = 1024;
    struct piece *pieces = malloc(cap * sizeof *pieces);
    if (!pieces) die("malloc");
    for (size_t at = 0; at < total;) {
        size_t end = at, n = 0;
        while (end < total && n < BATCH) {
            unsigned char *nl = memchr(data + end, '\n', total - end);
            end = (size_t)(nl - data) + 1;
            n++;
        }
        if (count == cap && !(pieces = realloc(pieces, (cap *= 2) * sizeof *pieces))) die("realloc");
        pieces[count++] = (struct piece){data + at, end - at};
        lines += n;
        at = end;
    }
    printf("%zu bytes, %zu events in %zu pieces of %d; MB/s of uncompressed bytes per CPU second\n\n", total,
           lines, count, BATCH);
    printf("| library    | level | ratio | compress MB/s | decompress MB/s |\n| --- | --- | --- | --- | --- |\n");

    z_stream inflater = {0};
    if (inflateInit2(&inflater, 16 + MAX_WBITS) != Z_OK) die("inflateInit2");
    struct libdeflate_decompressor *dd = libdeflate_alloc_decompressor();
    if (!dd) die("libdeflate_alloc_decompressor");
    int levels[] = {1, 3, 6};
    for (int i = 0; i < 3; i++) {
        z_stream deflater = {0};
        if (deflateInit2(&deflater, levels[i], Z_DEFLATED, 31, 8, Z_DEFAULT_STRATEGY) != Z_OK) die("deflateInit2");
        measure("zlib", levels[i], zlib_compress, &deflater, zlib_decompress, &inflater, pieces, count, total);
        deflateEnd(&deflater);
    }
    for (int i = 0; i < 3; i++) {
        struct libdeflate_compressor *dc = libdeflate_alloc_compressor(levels[i]);
        if (!dc) die("libdeflate_alloc_compressor");
        measure("libdeflate", levels[i], libdeflate_compress, dc, libdeflate_decompress, dd, pieces, count, total);
        libdeflate_free_compressor(dc);
    }
    printf("\nzlib %s, libdeflate %s\n", zlibVersion(), LIBDEFLATE_VERSION_STRING);
    inflateEnd(&inflater);
    libdeflate_free_decompressor(dd);
    free(pieces);
    free(data);
    return 0;
}
