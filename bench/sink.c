/*
 * A light stand-in for Mixpanel's POST /import, for scripts/bench.sh: the Python fake server
 * parses and validates every event and costs as much CPU as the agent, so on two cores it,
 * not the agent, would set the benchmark's figure. This one only counts.
 *
 * One thread, poll(2) over at most MAX_CONNS keep-alive HTTP/1.1 connections on 127.0.0.1.
 * POST /import (any query string, also /import/): the body (Content-Encoding: gzip or none,
 * framed by Content-Length) is gunzipped whole with libdeflate, which inflates this NDJSON
 * about twice as fast as zlib (scripts/bench-gzip.sh), and its events are counted: the
 * elements of a JSON array (what tailship sends) or the non-blank lines of NDJSON. The answer
 * is the API's success answer, {"code":200,"num_records_imported":N,"status":"OK"}; a body
 * over the API's cap (10 MiB decompressed) gets its 413 and counts nothing. No validation
 * and no authentication: a malformed body only gets a 400.
 * GET /_control/stats gives the running totals (as fake_ingest.py's does); POST
 * /_control/reset zeroes them.
 *
 * Memory is bounded: per connection a head buffer and the body (at most the cap plus gzip's
 * worst-case growth, else 413 unread), one shared output buffer of the cap.
 * Build: cc -O2 -Wall -o sink bench/sink.c -ldeflate
 * Run: sink [--port N] [--exit-on-stdin-eof]; prints "LISTENING <port>" once it accepts.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>
#include <libdeflate.h>

#define MAX_BODY (10 * 1024 * 1024) /* the API's cap on the uncompressed body */
/* A gzip body longer than this cannot inflate to the cap or less (deflate grows stored data
 * by 5 bytes per 64 KiB block at worst, gzip adds 18): 413 without reading it into memory. */
#define MAX_GZIP_BODY (MAX_BODY + MAX_BODY / 1024 + 1024)
#define MAX_CONNS 16
#define IN_SIZE (64 * 1024) /* also the longest request head accepted */

enum mode { MODE_UNKNOWN, MODE_ARRAY, MODE_LINES };
enum route { ROUTE_IMPORT, ROUTE_STATS, ROUTE_RESET, ROUTE_NOT_FOUND, ROUTE_BAD_ENCODING };

/* Counts events in a body fed in pieces: JSON array elements or non-blank lines. */
struct counter {
    enum mode mode;
    int depth, in_string, escaped, expect_value, closed, line_has_text, malformed;
    long long events;
};

struct conn {
    int fd;
    unsigned char in[IN_SIZE];
    size_t in_len;
    int in_body;            /* reading a body (else a request head) */
    long long body_left;    /* body bytes still to read */
    int keep_alive, gzip, too_big;
    enum route route;
    unsigned char *body;    /* the /import body read so far (NULL: the body is skipped) */
    size_t body_len, body_cap;
};

static struct {
    long long events_accepted, requests, rejected, bytes_received, bytes_plain;
} stats;

static unsigned char plain_buf[MAX_BODY]; /* a gunzipped body; pages untouched cost nothing */
static struct libdeflate_decompressor *inflater;

static void die(const char *what) {
    perror(what);
    exit(1);
}

static int is_space(unsigned char b) { return b == ' ' || b == '\t' || b == '\r' || b == '\n'; }

static void value_starts(struct counter *c) {
    if (c->depth == 1 && c->expect_value) {
        c->events++;
        c->expect_value = 0;
    }
}

static void count_array(struct counter *c, const unsigned char *p, size_t n) {
    for (size_t i = 0; i < n; i++) {
        if (c->in_string) {
            /* Most of a body is string contents: skip them in a tight loop. */
            while (i < n && !c->escaped && p[i] != '"' && p[i] != '\\') i++;
            if (i == n) return;
            if (c->escaped) c->escaped = 0;
            else if (p[i] == '\\') c->escaped = 1;
            else c->in_string = 0;
            continue;
        }
        unsigned char b = p[i];
        if (is_space(b)) continue;
        if (c->closed) { c->malformed = 1; return; } /* data after the array */
        switch (b) {
        case '"': value_starts(c); c->in_string = 1; break;
        case '[':
        case '{':
            value_starts(c);
            if (++c->depth == 1) c->expect_value = 1;
            break;
        case ']':
        case '}':
            if (c->depth == 0) { c->malformed = 1; return; }
            if (--c->depth == 0) c->closed = 1;
            break;
        case ',':
            if (c->depth == 1) c->expect_value = 1;
            break;
        default: value_starts(c); break; /* a number, true, false or null */
        }
    }
}

static void count_lines(struct counter *c, const unsigned char *p, size_t n) {
    size_t i = 0;
    while (i < n) {
        if (c->line_has_text) {
            const unsigned char *nl = memchr(p + i, '\n', n - i);
            if (!nl) return;
            c->events++;
            c->line_has_text = 0;
            i = (size_t)(nl - p) + 1;
        } else {
            if (!is_space(p[i])) c->line_has_text = 1;
            else i++;
        }
    }
}

static void count_bytes(struct counter *c, const unsigned char *p, size_t n) {
    if (c->mode == MODE_UNKNOWN) {
        while (n > 0 && is_space(*p)) { p++; n--; }
        if (n == 0) return;
        c->mode = *p == '[' ? MODE_ARRAY : MODE_LINES;
    }
    if (c->mode == MODE_ARRAY) count_array(c, p, n);
    else count_lines(c, p, n);
}

/* Events in a complete body, or -1 if it is malformed. */
static long long count_finish(struct counter *c) {
    if (c->malformed) return -1;
    if (c->mode == MODE_ARRAY) return !c->closed || c->in_string ? -1 : c->events;
    return c->events + c->line_has_text;
}

/* Keeps `n` received body bytes of an /import request; other bodies are read and dropped. */
static void take_body(struct conn *c, const unsigned char *p, size_t n) {
    if (!c->body) return;
    memcpy(c->body + c->body_len, p, n); /* room for Content-Length was made in start_request */
    c->body_len += n;
}

/* Sends a whole small answer; -1 (the connection is then closed) if it did not all fit. */
static int send_all(int fd, const char *p, size_t n) {
    while (n > 0) {
        ssize_t sent = send(fd, p, n, MSG_NOSIGNAL | MSG_DONTWAIT);
        if (sent < 0 && errno == EINTR) continue;
        if (sent <= 0) return -1; /* an error, or a client that does not read its answers */
        p += sent;
        n -= (size_t)sent;
    }
    return 0;
}

static int respond(struct conn *c, int status, const char *reason, const char *json) {
    char msg[1024];
    int n = snprintf(msg, sizeof msg,
                     "HTTP/1.1 %d %s\r\nContent-Type: application/json\r\nContent-Length: %zu\r\n%s\r\n%s",
                     status, reason, strlen(json), c->keep_alive ? "" : "Connection: close\r\n", json);
    if (n < 0 || (size_t)n >= sizeof msg) return -1;
    return send_all(c->fd, msg, (size_t)n);
}

/* The answer to a request whose body has been read. */
static int finish_request(struct conn *c) {
    char json[512];
    stats.requests++;
    switch (c->route) {
    case ROUTE_STATS:
        snprintf(json, sizeof json,
                 "{\"events_accepted\": %lld, \"requests\": %lld, \"rejected\": %lld, "
                 "\"bytes_received\": %lld, \"bytes_decompressed\": %lld}",
                 stats.events_accepted, stats.requests, stats.rejected, stats.bytes_received,
                 stats.bytes_plain);
        return respond(c, 200, "OK", json);
    case ROUTE_RESET:
        memset(&stats, 0, sizeof stats);
        return respond(c, 200, "OK", "{\"status\": \"ok\"}");
    case ROUTE_NOT_FOUND:
        stats.rejected++;
        return respond(c, 404, "Not Found", "{\"error\": \"not found\"}");
    case ROUTE_BAD_ENCODING:
        stats.rejected++;
        return respond(c, 415, "Unsupported Media Type",
                       "{\"code\":415,\"error\":\"unsupported Content-Encoding\",\"status\":\"Unsupported Media Type\"}");
    case ROUTE_IMPORT: break;
    }
    const unsigned char *plain = c->body;
    size_t plain_len = c->body_len;
    int malformed = 0;
    if (c->gzip && !c->too_big) {
        size_t used = 0;
        enum libdeflate_result rc = libdeflate_gzip_decompress_ex(inflater, c->body, c->body_len, plain_buf,
                                                                  MAX_BODY, &used, &plain_len);
        if (rc == LIBDEFLATE_INSUFFICIENT_SPACE) c->too_big = 1;
        /* Not gzip, cut short, or followed by more bytes: nothing to count. */
        else if (rc != LIBDEFLATE_SUCCESS || used != c->body_len) malformed = 1;
        plain = plain_buf;
        if (rc != LIBDEFLATE_SUCCESS) plain_len = 0;
    }
    stats.bytes_plain += (long long)plain_len;
    if (c->too_big || plain_len > MAX_BODY) {
        stats.rejected++;
        snprintf(json, sizeof json,
                 "{\"code\":413,\"error\":\"request exceeds max limit of %d bytes\",\"status\":\"Request Entity Too Large\"}",
                 MAX_BODY);
        return respond(c, 413, "Request Entity Too Large", json);
    }
    struct counter count = {0};
    if (!malformed) count_bytes(&count, plain, plain_len);
    long long events = malformed ? -1 : count_finish(&count);
    if (events < 0) {
        stats.rejected++;
        return respond(c, 400, "Bad Request",
                       "{\"code\":400,\"error\":\"malformed body\",\"status\":\"Bad Request\"}");
    }
    stats.events_accepted += events;
    snprintf(json, sizeof json, "{\"code\":200,\"num_records_imported\":%lld,\"status\":\"OK\"}", events);
    return respond(c, 200, "OK", json);
}

/* The value of header `name` in a head of CRLF-separated lines, or NULL; `len` gets its length. */
static const char *header(const char *head, const char *name, size_t *len) {
    size_t name_len = strlen(name);
    for (const char *line = strstr(head, "\r\n"); line; line = strstr(line, "\r\n")) {
        line += 2;
        if (strncasecmp(line, name, name_len) != 0 || line[name_len] != ':') continue;
        const char *v = line + name_len + 1;
        while (*v == ' ' || *v == '\t') v++;
        const char *end = strstr(v, "\r\n");
        *len = end ? (size_t)(end - v) : strlen(v);
        while (*len > 0 && (v[*len - 1] == ' ' || v[*len - 1] == '\t')) (*len)--;
        return v;
    }
    return NULL;
}

static int value_is(const char *v, size_t len, const char *want) {
    return v && len == strlen(want) && strncasecmp(v, want, len) == 0;
}

/* Parses a request head (NUL-terminated, without the blank line); -1 closes the connection. */
static int start_request(struct conn *c, const char *head) {
    char method[16], target[2048], version[16];
    if (sscanf(head, "%15s %2047s %15s", method, target, version) != 3 || strncmp(version, "HTTP/1.", 7) != 0) {
        c->keep_alive = 0;
        respond(c, 400, "Bad Request", "{\"error\": \"bad request line\"}");
        return -1;
    }
    size_t len;
    const char *v = header(head, "Connection", &len);
    c->keep_alive = strcmp(version, "HTTP/1.1") == 0 ? !value_is(v, len, "close") : value_is(v, len, "keep-alive");
    if (header(head, "Transfer-Encoding", &len)) { /* tailship sends Content-Length; chunked is not read here */
        c->keep_alive = 0;
        respond(c, 501, "Not Implemented", "{\"error\": \"Transfer-Encoding is not supported\"}");
        return -1;
    }
    c->body_left = 0;
    if ((v = header(head, "Content-Length", &len))) {
        char *end;
        errno = 0;
        c->body_left = strtoll(v, &end, 10);
        if (errno || end != v + len || len == 0 || c->body_left < 0) {
            c->keep_alive = 0;
            respond(c, 400, "Bad Request", "{\"error\": \"bad Content-Length\"}");
            return -1;
        }
    }
    char *query = strchr(target, '?');
    if (query) *query = '\0';
    if (strcmp(method, "POST") == 0 && (strcmp(target, "/import") == 0 || strcmp(target, "/import/") == 0))
        c->route = ROUTE_IMPORT;
    else if (strcmp(method, "GET") == 0 && strcmp(target, "/_control/stats") == 0)
        c->route = ROUTE_STATS;
    else if (strcmp(method, "POST") == 0 && strcmp(target, "/_control/reset") == 0)
        c->route = ROUTE_RESET;
    else
        c->route = ROUTE_NOT_FOUND;
    v = header(head, "Content-Encoding", &len);
    c->gzip = value_is(v, len, "gzip");
    if (c->route == ROUTE_IMPORT && v && !c->gzip && !value_is(v, len, "identity")) c->route = ROUTE_BAD_ENCODING;
    c->body_len = 0;
    c->too_big = c->body_left > (c->gzip ? MAX_GZIP_BODY : MAX_BODY);
    if (c->route == ROUTE_IMPORT && !c->too_big) {
        if ((size_t)c->body_left > c->body_cap) {
            unsigned char *grown = realloc(c->body, (size_t)c->body_left);
            if (!grown) die("sink: realloc");
            c->body = grown;
            c->body_cap = (size_t)c->body_left;
        }
    } else {
        free(c->body);
        c->body = NULL;
        c->body_cap = 0;
    }
    if ((v = header(head, "Expect", &len)) && value_is(v, len, "100-continue"))
        if (send_all(c->fd, "HTTP/1.1 100 Continue\r\n\r\n", 25) < 0) return -1;
    c->in_body = 1;
    return 0;
}

/* Handles what is buffered: heads, bodies and answers; -1 closes the connection. */
static int process(struct conn *c) {
    for (;;) {
        if (c->in_body) {
            size_t n = c->in_len < (unsigned long long)c->body_left ? c->in_len : (size_t)c->body_left;
            take_body(c, c->in, n);
            stats.bytes_received += (long long)n;
            c->body_left -= (long long)n;
            memmove(c->in, c->in + n, c->in_len - n);
            c->in_len -= n;
            if (c->body_left > 0) return 0;
            c->in_body = 0;
            if (finish_request(c) < 0 || !c->keep_alive) return -1;
        }
        unsigned char *end = memmem(c->in, c->in_len, "\r\n\r\n", 4);
        if (!end) {
            if (c->in_len < IN_SIZE) return 0;
            c->keep_alive = 0;
            respond(c, 431, "Request Header Fields Too Large", "{\"error\": \"request head too large\"}");
            return -1;
        }
        size_t head_len = (size_t)(end - c->in) + 4;
        end[2] = '\0'; /* the head as a string, ending in its last header's CRLF */
        if (start_request(c, (const char *)c->in) < 0) return -1;
        memmove(c->in, c->in + head_len, c->in_len - head_len);
        c->in_len -= head_len;
    }
}

static void close_conn(struct conn *c) {
    if (close(c->fd) < 0) perror("sink: close");
    free(c->body);
    free(c);
}

static int listen_on(int port) {
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) die("sink: socket");
    int one = 1;
    if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) < 0) die("sink: setsockopt");
    struct sockaddr_in addr = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (bind(fd, (struct sockaddr *)&addr, sizeof addr) < 0) die("sink: bind");
    if (listen(fd, 64) < 0) die("sink: listen");
    socklen_t len = sizeof addr;
    if (getsockname(fd, (struct sockaddr *)&addr, &len) < 0) die("sink: getsockname");
    printf("LISTENING %d\n", ntohs(addr.sin_port));
    if (fflush(stdout) == EOF) die("sink: stdout");
    return fd;
}

int main(int argc, char **argv) {
    int port = 0, watch_stdin = 0;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--port") == 0 && i + 1 < argc) port = atoi(argv[++i]);
        else if (strcmp(argv[i], "--exit-on-stdin-eof") == 0) watch_stdin = 1;
        else {
            fprintf(stderr, "usage: %s [--port N] [--exit-on-stdin-eof]\n", argv[0]);
            return 2;
        }
    }
    if (!(inflater = libdeflate_alloc_decompressor())) die("sink: libdeflate_alloc_decompressor");
    int listener = listen_on(port);
    struct conn *conns[MAX_CONNS] = {0};
    struct pollfd fds[MAX_CONNS + 2];
    for (;;) {
        /* fds[0] the listener, fds[1] stdin (or -1: ignored), then one per connection. */
        int count = 0;
        fds[0] = (struct pollfd){.fd = listener, .events = POLLIN};
        fds[1] = (struct pollfd){.fd = watch_stdin ? 0 : -1, .events = POLLIN};
        for (int i = 0; i < MAX_CONNS; i++) {
            fds[2 + i] = (struct pollfd){.fd = conns[i] ? conns[i]->fd : -1, .events = POLLIN};
            count += conns[i] != NULL;
        }
        if (count == MAX_CONNS) fds[0].fd = -1; /* full: leave new connections in the backlog */
        if (poll(fds, MAX_CONNS + 2, -1) < 0) {
            if (errno == EINTR) continue;
            die("sink: poll");
        }
        if (fds[1].revents) {
            char scratch[256];
            ssize_t n = read(0, scratch, sizeof scratch);
            if (n == 0) return 0; /* the parent is gone */
            if (n < 0 && errno != EINTR) die("sink: read stdin");
        }
        for (int i = 0; i < MAX_CONNS; i++) {
            struct conn *c = conns[i];
            if (!c || !fds[2 + i].revents) continue;
            ssize_t n = recv(c->fd, c->in + c->in_len, IN_SIZE - c->in_len, 0);
            if (n < 0 && (errno == EINTR || errno == EAGAIN)) continue;
            if (n < 0 && errno != ECONNRESET) perror("sink: recv");
            if (n <= 0 || (c->in_len += (size_t)n, process(c) < 0)) {
                close_conn(c);
                conns[i] = NULL;
            }
        }
        if (fds[0].revents) {
            int fd = accept4(listener, NULL, NULL, SOCK_CLOEXEC);
            if (fd < 0) {
                if (errno != EINTR && errno != ECONNABORTED && errno != EAGAIN) die("sink: accept");
                continue;
            }
            struct conn *c = calloc(1, sizeof *c);
            if (!c) die("sink: calloc");
            c->fd = fd;
            for (int i = 0; i < MAX_CONNS; i++)
                if (!conns[i]) { conns[i] = c; break; }
        }
    }
}
