/*
 * sockbench: the benchmark's load generator and its calibration server.
 *
 * A compiled client, so that on a 2-core machine the client is not what caps
 * the Python servers; the calibration server exists to show the client's own
 * ceiling in the same run.  Loopback only: the harness passes 127.0.0.1 or a
 * Unix path.  Every load loop ends at --duration (plus a bounded connect phase).
 *
 *   sockbench client MODE TARGET [--conns N] [--duration S] [--idle S]
 *                    [--size B] [--connect-timeout S] [--op-timeout S]
 *       MODE   echo   persistent connections, one line out and back per op
 *              close  connect, one line out and back, server closes, per op
 *              udp    one datagram out and back per op
 *       TARGET tcp:HOST:PORT | unix:PATH | udp:HOST:PORT
 *       Prints one JSON object on stdout.
 *
 *   sockbench server PROTO BIND
 *       PROTO  echo (echo until EOF) | once (echo one line, then close)
 *              | http (fixed keep-alive response) | udp (echo datagrams)
 *       BIND   tcp:HOST:PORT | unix:PATH | udp:HOST:PORT  (port 0 = any)
 *       Prints the bound TARGET on stdout, then serves until killed.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#define MAX_SIZE 4096
#define MAX_EVENTS 512

typedef struct {
    int family; /* AF_INET or AF_UNIX */
    int type;   /* SOCK_STREAM or SOCK_DGRAM */
    struct sockaddr_storage addr;
    socklen_t len;
} target_t;

enum { IDLE, CONNECTING, WAITING, DRAINING, PARKED, DEAD };

/* Connections being opened at once: a burst of thousands of SYNs would overflow any
 * accept queue and measure SYN retransmission rather than the server. */
#define MAX_OPENING 128

typedef struct {
    int fd;
    int state;
    size_t got;
    uint64_t started; /* when the current op (or connect) began, ns */
} conn_t;

typedef struct {
    uint64_t *lat;
    size_t n, cap;
    uint64_t ops, errors, connect_errors, stalled, mismatched;
    uint64_t opened; /* echo: connections open (one line echoed) when the measured phase began */
} stats_t;

static const char *mode_name;
static size_t size = 64;
static char request[MAX_SIZE];

static void die(const char *what) {
    perror(what);
    exit(2);
}

static uint64_t now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static double cpu_seconds(void) {
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return (double)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
           (double)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

/* Tells the harness, as it happens, when the measured phase starts and ends, so
 * that it reads the server's CPU over that phase alone; counts this client's CPU
 * over the same phase. */
static double phase_cpu;
static void phase(const char *name) {
    printf("%s\n", name);
    fflush(stdout);
    if (!strcmp(name, "active")) phase_cpu = cpu_seconds();
    else phase_cpu = cpu_seconds() - phase_cpu;
}

static void raise_fd_limit(void) {
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
        rl.rlim_cur = rl.rlim_max;
        setrlimit(RLIMIT_NOFILE, &rl);
    }
}

static void parse_target(const char *spec, target_t *t) {
    memset(t, 0, sizeof *t);
    if (strncmp(spec, "unix:", 5) == 0) {
        struct sockaddr_un *un = (struct sockaddr_un *)&t->addr;
        if (strlen(spec + 5) >= sizeof un->sun_path) {
            fprintf(stderr, "unix path too long: %s\n", spec + 5);
            exit(2);
        }
        un->sun_family = AF_UNIX;
        strcpy(un->sun_path, spec + 5);
        t->family = AF_UNIX;
        t->type = SOCK_STREAM;
        t->len = sizeof *un;
        return;
    }
    int dgram = strncmp(spec, "udp:", 4) == 0;
    if (!dgram && strncmp(spec, "tcp:", 4) != 0) {
        fprintf(stderr, "bad target %s: want tcp:HOST:PORT, udp:HOST:PORT or unix:PATH\n", spec);
        exit(2);
    }
    char host[64];
    const char *colon = strrchr(spec + 4, ':');
    size_t hlen = colon ? (size_t)(colon - (spec + 4)) : 0;
    if (!colon || hlen >= sizeof host) {
        fprintf(stderr, "bad target %s\n", spec);
        exit(2);
    }
    memcpy(host, spec + 4, hlen);
    host[hlen] = 0;
    struct sockaddr_in *in = (struct sockaddr_in *)&t->addr;
    in->sin_family = AF_INET;
    in->sin_port = htons((uint16_t)atoi(colon + 1));
    if (inet_pton(AF_INET, host, &in->sin_addr) != 1) {
        fprintf(stderr, "bad IPv4 host in %s\n", spec);
        exit(2);
    }
    t->family = AF_INET;
    t->type = dgram ? SOCK_DGRAM : SOCK_STREAM;
    t->len = sizeof *in;
}

/* ---- client ------------------------------------------------------------ */

static void record(stats_t *s, uint64_t ns) {
    if (s->n == s->cap) {
        s->cap = s->cap ? s->cap * 2 : 65536;
        s->lat = realloc(s->lat, s->cap * sizeof *s->lat);
        if (!s->lat) die("realloc");
    }
    s->lat[s->n++] = ns;
    s->ops++;
}

static int cmp_u64(const void *a, const void *b) {
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return (x > y) - (x < y);
}

static double percentile_us(stats_t *s, double q) {
    if (s->n == 0) return 0.0;
    size_t rank = (size_t)(q * (double)s->n);
    if (rank >= s->n) rank = s->n - 1;
    return (double)s->lat[rank] / 1000.0;
}

static void close_conn(int ep, conn_t *c, int abort) {
    if (c->fd >= 0) {
        epoll_ctl(ep, EPOLL_CTL_DEL, c->fd, NULL);
        /* An abortive close leaves no TIME_WAIT, so repeated runs cannot exhaust ports. */
        struct linger lg = {1, 0};
        if (abort) setsockopt(c->fd, SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
        close(c->fd);
    }
    c->fd = -1;
    c->state = DEAD;
}

static void kill_conn(int ep, conn_t *c) { close_conn(ep, c, 1); }

static void watch(int ep, conn_t *c, uint32_t events, int op) {
    struct epoll_event ev = {.events = events, .data.ptr = c};
    if (epoll_ctl(ep, op, c->fd, &ev) < 0) die("epoll_ctl");
}

/* Binds a client socket to the next of 250 loopback source addresses (127.0.0.2 and up).
 * Each closed connection leaves a TIME_WAIT entry for a minute; with one source
 * address, a few scale runs of 10,000 connections would use up the ephemeral ports. */
static void spread_source(int fd) {
    static unsigned next;
    struct sockaddr_in src = {.sin_family = AF_INET};
    src.sin_addr.s_addr = htonl(0x7f000002u + next++ % 250u);
#ifdef IP_BIND_ADDRESS_NO_PORT
    int one = 1;
    setsockopt(fd, IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, &one, sizeof one);
#endif
    bind(fd, (struct sockaddr *)&src, sizeof src); /* on failure, the kernel picks as usual */
}

/* The outcome of a nonblocking connect once its socket is writable: 0 or an errno. */
static int connect_error(const conn_t *c) {
    int err = 0;
    socklen_t len = sizeof err;
    getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &len);
    return err;
}

/* Starts a nonblocking connect; the caller learns the outcome on EPOLLOUT. */
static int start_connect(int ep, conn_t *c, const target_t *t) {
    c->fd = socket(t->family, t->type | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (c->fd < 0) return -1;
    if (t->family == AF_INET && t->type == SOCK_STREAM) {
        int one = 1;
        setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        spread_source(c->fd);
    }
    c->started = now_ns();
    c->got = 0;
    if (connect(c->fd, (const struct sockaddr *)&t->addr, t->len) < 0 && errno != EINPROGRESS) {
        int err = errno;
        close(c->fd);
        c->fd = -1;
        errno = err;
        return -1; /* EAGAIN: a full Unix backlog; the caller retries */
    }
    c->state = CONNECTING;
    watch(ep, c, EPOLLOUT, EPOLL_CTL_ADD);
    return 0;
}

static int send_request(int ep, conn_t *c, stats_t *s, int keep_start) {
    if (!keep_start) c->started = now_ns();
    c->got = 0;
    if (send(c->fd, request, size, MSG_NOSIGNAL) != (ssize_t)size) {
        s->errors++;
        kill_conn(ep, c);
        return -1;
    }
    c->state = WAITING;
    watch(ep, c, EPOLLIN, EPOLL_CTL_MOD);
    return 0;
}

/* Reads what the reply has; returns 1 when the whole reply is in, 0 if not yet, -1 on error. */
static int read_reply(int ep, conn_t *c, stats_t *s) {
    char buf[MAX_SIZE];
    ssize_t n = recv(c->fd, buf, sizeof buf, 0);
    if (n < 0 && (errno == EAGAIN || errno == EINTR)) return 0;
    if (n <= 0 || c->got + (size_t)n > size) {
        s->errors++;
        kill_conn(ep, c);
        return -1;
    }
    if (memcmp(buf, request + c->got, (size_t)n) != 0) {
        s->mismatched++;
        s->errors++;
        kill_conn(ep, c);
        return -1;
    }
    c->got += (size_t)n;
    return c->got == size;
}

typedef struct {
    const char *mode;
    target_t target;
    int conns;
    double duration, idle, connect_timeout, op_timeout;
} client_opts_t;

/* Lets replies in flight arrive, so that servers see a clean EOF rather than a reset
 * mid-request; a reply still missing at grace_end is a stalled op. */
static void drain_echo(int ep, conn_t *cs, const client_opts_t *o, stats_t *s, uint64_t grace_end) {
    struct epoll_event evs[MAX_EVENTS];
    int in_flight = 0;
    for (int i = 0; i < o->conns; i++) in_flight += cs[i].state == WAITING;
    while (in_flight > 0 && now_ns() < grace_end) {
        int n = epoll_wait(ep, evs, MAX_EVENTS, 10);
        for (int k = 0; k < n; k++) {
            conn_t *c = evs[k].data.ptr;
            int r = read_reply(ep, c, s);
            if (r == 0) continue;
            in_flight--;
            if (r == 1) close_conn(ep, c, 0);
        }
    }
    for (int i = 0; i < o->conns; i++) {
        if (cs[i].state == WAITING) s->stalled++;
        if (cs[i].fd >= 0) close_conn(ep, &cs[i], cs[i].state == WAITING);
    }
}

/* Opens every connection, at most MAX_OPENING at a time; a connection counts as
 * open once one line has made the round trip (the server has accepted it and
 * serves it). Returns how many are open: parked, with nothing outstanding. */
static int open_all(int ep, const client_opts_t *o, conn_t *cs, stats_t *s) {
    struct epoll_event evs[MAX_EVENTS];
    uint64_t deadline = now_ns() + (uint64_t)(o->connect_timeout * 1e9);
    int next = 0, opening = 0, open_conns = 0;
    for (int i = 0; i < o->conns; i++) cs[i] = (conn_t){.fd = -1, .state = IDLE};
    while ((next < o->conns || opening > 0) && now_ns() < deadline) {
        while (next < o->conns && opening < MAX_OPENING) {
            if (start_connect(ep, &cs[next], &o->target) < 0) {
                if (errno == EAGAIN) break; /* a full Unix backlog: retry after a wait */
                s->connect_errors++;
                cs[next].state = DEAD;
            } else {
                opening++;
            }
            next++;
        }
        int n = epoll_wait(ep, evs, MAX_EVENTS, 10);
        for (int k = 0; k < n; k++) {
            conn_t *c = evs[k].data.ptr;
            if (c->state == CONNECTING) {
                if (connect_error(c)) { s->connect_errors++; kill_conn(ep, c); opening--; continue; }
                if (send_request(ep, c, s, 0) < 0) opening--;
                continue;
            }
            int r = read_reply(ep, c, s);
            if (r == 0) continue;
            opening--;
            if (r < 0) continue;
            c->state = PARKED;
            watch(ep, c, 0, EPOLL_CTL_MOD);
            open_conns++;
        }
    }
    for (int i = 0; i < o->conns; i++) {
        if (cs[i].state == IDLE || cs[i].state == CONNECTING || cs[i].state == WAITING) {
            s->connect_errors++;
            kill_conn(ep, &cs[i]);
        }
    }
    return open_conns;
}

/* echo: open all, stay idle, then a closed loop per connection. */
static double run_echo(const client_opts_t *o, conn_t *cs, stats_t *s, double *setup) {
    int ep = epoll_create1(EPOLL_CLOEXEC);
    struct epoll_event evs[MAX_EVENTS];
    uint64_t t0 = now_ns();
    int open_conns = open_all(ep, o, cs, s);
    s->opened = (uint64_t)open_conns;
    *setup = (double)(now_ns() - t0) / 1e9;
    if (o->idle > 0) {
        struct timespec ts = {(time_t)o->idle, (long)((o->idle - (double)(time_t)o->idle) * 1e9)};
        nanosleep(&ts, NULL);
    }
    phase("active");
    uint64_t start = now_ns(), deadline = start + (uint64_t)(o->duration * 1e9);
    for (int i = 0; i < o->conns; i++)
        if (cs[i].state == PARKED) send_request(ep, &cs[i], s, 0);
    while (open_conns && now_ns() < deadline) {
        int n = epoll_wait(ep, evs, MAX_EVENTS, 10);
        for (int k = 0; k < n; k++) {
            conn_t *c = evs[k].data.ptr;
            int r = read_reply(ep, c, s);
            if (r < 0) { open_conns--; continue; }
            if (r == 0) continue;
            uint64_t t = now_ns();
            record(s, t - c->started);
            if (t < deadline) {
                send_request(ep, c, s, 0);
            } else {
                c->state = PARKED; /* done: parked until closed */
                watch(ep, c, 0, EPOLL_CTL_MOD);
            }
        }
    }
    uint64_t end = now_ns();
    phase("done");
    drain_echo(ep, cs, o, s, end + (uint64_t)(o->op_timeout * 1e9));
    close(ep);
    return (double)(end - start) / 1e9;
}

/* close: each slot loops connect, one line out and back, wait for the server's EOF, close. */
static double run_close(const client_opts_t *o, conn_t *cs, stats_t *s) {
    int ep = epoll_create1(EPOLL_CLOEXEC);
    struct epoll_event evs[MAX_EVENTS];
    phase("active");
    uint64_t start = now_ns(), deadline = start + (uint64_t)(o->duration * 1e9);
    for (int i = 0; i < o->conns; i++) cs[i] = (conn_t){.fd = -1, .state = IDLE};
    int done = 0;
    uint64_t grace_end = deadline + (uint64_t)(o->op_timeout * 1e9);
    for (;;) {
        uint64_t t = now_ns();
        int busy = 0;
        if (t >= deadline && !done) {
            phase("done");
            done = 1;
        }
        for (int i = 0; i < o->conns; i++) busy += cs[i].fd >= 0;
        if (t >= grace_end || (t >= deadline && !busy)) break;
        for (int i = 0; i < o->conns && t < deadline; i++) {
            if (cs[i].state != IDLE && cs[i].state != DEAD) continue;
            if (start_connect(ep, &cs[i], &o->target) < 0) {
                cs[i].state = IDLE;
                if (errno != EAGAIN) s->connect_errors++;
            }
        }
        int n = epoll_wait(ep, evs, MAX_EVENTS, 10);
        for (int k = 0; k < n; k++) {
            conn_t *c = evs[k].data.ptr;
            if (c->state == CONNECTING) {
                if (connect_error(c)) {
                    s->connect_errors++;
                    kill_conn(ep, c);
                    c->state = IDLE;
                    continue;
                }
                send_request(ep, c, s, 1);
            } else if (c->state == WAITING) {
                if (read_reply(ep, c, s) == 1) c->state = DRAINING;
            } else if (c->state == DRAINING) {
                char b;
                ssize_t r = recv(c->fd, &b, 1, 0);
                if (r < 0 && errno == EAGAIN) continue;
                uint64_t t = now_ns();
                if (r == 0 && t < deadline) record(s, t - c->started);
                else if (r != 0) s->errors++;
                kill_conn(ep, c);
            }
        }
    }
    if (!done) phase("done");
    for (int i = 0; i < o->conns; i++) {
        if (cs[i].fd >= 0) {
            s->stalled++;
            kill_conn(ep, &cs[i]);
        }
    }
    close(ep);
    return (double)(deadline - start) / 1e9;
}

/* udp: a connected socket per client; a lost datagram is an error and is resent. */
static double run_udp(const client_opts_t *o, conn_t *cs, stats_t *s) {
    int ep = epoll_create1(EPOLL_CLOEXEC);
    struct epoll_event evs[MAX_EVENTS];
    for (int i = 0; i < o->conns; i++) {
        cs[i] = (conn_t){.fd = -1, .state = IDLE};
        if (start_connect(ep, &cs[i], &o->target) < 0) die("udp socket");
        send_request(ep, &cs[i], s, 0);
    }
    phase("active");
    uint64_t start = now_ns(), deadline = start + (uint64_t)(o->duration * 1e9);
    uint64_t lost_after = (uint64_t)(o->op_timeout * 1e9);
    while (now_ns() < deadline) {
        int n = epoll_wait(ep, evs, MAX_EVENTS, 10);
        for (int k = 0; k < n; k++) {
            conn_t *c = evs[k].data.ptr;
            char buf[MAX_SIZE];
            ssize_t r = recv(c->fd, buf, sizeof buf, 0);
            if (r < 0 && errno == EAGAIN) continue;
            if (r != (ssize_t)size || memcmp(buf, request, size) != 0) {
                s->errors++;
                s->mismatched += r >= 0;
            } else {
                record(s, now_ns() - c->started);
            }
            if (now_ns() < deadline) send_request(ep, c, s, 0);
        }
        uint64_t t = now_ns();
        for (int i = 0; i < o->conns; i++) {
            if (cs[i].state == WAITING && t - cs[i].started > lost_after && t < deadline) {
                s->errors++;
                send_request(ep, &cs[i], s, 0);
            }
        }
    }
    uint64_t end = now_ns();
    phase("done");
    for (int i = 0; i < o->conns; i++) kill_conn(ep, &cs[i]);
    close(ep);
    return (double)(end - start) / 1e9;
}

static double arg_double(const char *name, const char *value, double min) {
    char *end;
    double v = strtod(value, &end);
    if (*end || v < min) {
        fprintf(stderr, "%s must be a number >= %g, got %s\n", name, min, value);
        exit(2);
    }
    return v;
}

static int client_main(int argc, char **argv) {
    if (argc < 2) {
        fprintf(stderr, "usage: sockbench client echo|close|udp TARGET [options]\n");
        return 2;
    }
    client_opts_t o = {.mode = argv[0], .conns = 1, .duration = 1.0, .idle = 0.0,
                       .connect_timeout = 10.0, .op_timeout = 1.0};
    parse_target(argv[1], &o.target);
    for (int i = 2; i + 1 < argc; i += 2) {
        const char *k = argv[i], *v = argv[i + 1];
        if (!strcmp(k, "--conns")) o.conns = (int)arg_double(k, v, 1);
        else if (!strcmp(k, "--duration")) o.duration = arg_double(k, v, 0.01);
        else if (!strcmp(k, "--idle")) o.idle = arg_double(k, v, 0);
        else if (!strcmp(k, "--size")) size = (size_t)arg_double(k, v, 2);
        else if (!strcmp(k, "--connect-timeout")) o.connect_timeout = arg_double(k, v, 0.01);
        else if (!strcmp(k, "--op-timeout")) o.op_timeout = arg_double(k, v, 0.001);
        else { fprintf(stderr, "unknown option %s\n", k); return 2; }
    }
    if (size > MAX_SIZE) { fprintf(stderr, "--size must be <= %d\n", MAX_SIZE); return 2; }
    for (size_t i = 0; i + 1 < size; i++) request[i] = (char)('a' + i % 26);
    request[size - 1] = '\n';
    raise_fd_limit();
    mode_name = o.mode;
    conn_t *cs = calloc((size_t)o.conns, sizeof *cs);
    stats_t s = {0};
    double setup = 0, elapsed;
    if (!cs) die("calloc");
    if (!strcmp(o.mode, "echo")) elapsed = run_echo(&o, cs, &s, &setup);
    else if (!strcmp(o.mode, "close")) elapsed = run_close(&o, cs, &s);
    else if (!strcmp(o.mode, "udp")) elapsed = run_udp(&o, cs, &s);
    else { fprintf(stderr, "unknown mode %s\n", o.mode); return 2; }
    qsort(s.lat, s.n, sizeof *s.lat, cmp_u64);
    printf("{\"mode\": \"%s\", \"conns\": %d, \"ops\": %llu, \"elapsed_s\": %.6f, "
           "\"setup_s\": %.6f, \"cpu_s\": %.6f, \"p50_us\": %.2f, \"p99_us\": %.2f, \"errors\": %llu, "
           "\"connect_errors\": %llu, \"stalled\": %llu, \"mismatched\": %llu, \"opened\": %llu}\n",
           mode_name, o.conns, (unsigned long long)s.ops, elapsed, setup, phase_cpu,
           percentile_us(&s, 0.50), percentile_us(&s, 0.99), (unsigned long long)s.errors,
           (unsigned long long)s.connect_errors, (unsigned long long)s.stalled,
           (unsigned long long)s.mismatched, (unsigned long long)s.opened);
    return 0;
}

/* ---- calibration server --------------------------------------------------- */

static const char http_response[] =
    "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 13\r\n\r\nHello, world\n";

typedef struct {
    int fd;
    int matched; /* how much of "\r\n\r\n" the stream has ended on so far */
} peer_t;

/* Counts complete request heads in a chunk, carrying a partial terminator across reads. */
static int count_heads(peer_t *p, const char *buf, ssize_t n) {
    static const char end[] = "\r\n\r\n";
    int heads = 0;
    for (ssize_t i = 0; i < n; i++) {
        if (buf[i] == end[p->matched]) p->matched++;
        else p->matched = buf[i] == '\r';
        if (p->matched == 4) { heads++; p->matched = 0; }
    }
    return heads;
}

static void serve_peer(int ep, peer_t *p, const char *proto) {
    char buf[65536];
    ssize_t n = recv(p->fd, buf, sizeof buf, 0);
    if (n < 0 && errno == EAGAIN) return;
    if (n > 0 && !strcmp(proto, "http")) {
        for (int h = count_heads(p, buf, n); h > 0; h--)
            send(p->fd, http_response, sizeof http_response - 1, MSG_NOSIGNAL);
        return;
    }
    if (n > 0) send(p->fd, buf, (size_t)n, MSG_NOSIGNAL);
    if (n > 0 && !(strcmp(proto, "once") == 0 && memchr(buf, '\n', (size_t)n))) return;
    epoll_ctl(ep, EPOLL_CTL_DEL, p->fd, NULL);
    close(p->fd);
    free(p);
}

static void print_bound(int fd, const target_t *t, const char *bind_spec) {
    if (t->family == AF_UNIX) {
        printf("%s\n", bind_spec);
    } else {
        struct sockaddr_in in;
        socklen_t len = sizeof in;
        char host[INET_ADDRSTRLEN];
        getsockname(fd, (struct sockaddr *)&in, &len);
        inet_ntop(AF_INET, &in.sin_addr, host, sizeof host);
        printf("%s:%s:%u\n", t->type == SOCK_DGRAM ? "udp" : "tcp", host, ntohs(in.sin_port));
    }
    fflush(stdout);
}

static int server_main(int argc, char **argv) {
    if (argc != 2) {
        fprintf(stderr, "usage: sockbench server echo|once|http|udp BIND\n");
        return 2;
    }
    const char *proto = argv[0];
    if (strcmp(proto, "echo") && strcmp(proto, "once") && strcmp(proto, "http") &&
        strcmp(proto, "udp")) {
        fprintf(stderr, "unknown protocol %s\n", proto);
        return 2;
    }
    target_t t;
    parse_target(argv[1], &t);
    raise_fd_limit();
    int fd = socket(t.family, t.type | SOCK_CLOEXEC, 0), one = 1;
    if (fd < 0) die("socket");
    if (t.family == AF_INET) setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (bind(fd, (struct sockaddr *)&t.addr, t.len) < 0) die("bind");
    if (t.type == SOCK_DGRAM) {
        print_bound(fd, &t, argv[1]);
        for (;;) {
            char buf[65536];
            struct sockaddr_storage from;
            socklen_t fl = sizeof from;
            ssize_t n = recvfrom(fd, buf, sizeof buf, 0, (struct sockaddr *)&from, &fl);
            if (n >= 0) sendto(fd, buf, (size_t)n, 0, (struct sockaddr *)&from, fl);
        }
    }
    if (listen(fd, 4096) < 0) die("listen");
    int flags = SOCK_NONBLOCK; /* accept4 below drains the queue until EAGAIN */
    if (ioctl(fd, FIONBIO, &flags) < 0) die("ioctl");
    print_bound(fd, &t, argv[1]);
    int ep = epoll_create1(EPOLL_CLOEXEC);
    struct epoll_event ev = {.events = EPOLLIN, .data.ptr = NULL}, evs[MAX_EVENTS];
    epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev);
    for (;;) {
        int n = epoll_wait(ep, evs, MAX_EVENTS, -1);
        for (int k = 0; k < n; k++) {
            if (evs[k].data.ptr) { serve_peer(ep, evs[k].data.ptr, proto); continue; }
            int c;
            while ((c = accept4(fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC)) >= 0) {
                peer_t *p = calloc(1, sizeof *p);
                if (!p) die("calloc");
                p->fd = c;
                if (t.family == AF_INET) setsockopt(c, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
                struct epoll_event pe = {.events = EPOLLIN, .data.ptr = p};
                epoll_ctl(ep, EPOLL_CTL_ADD, c, &pe);
            }
        }
    }
}

int main(int argc, char **argv) {
    if (argc >= 2 && !strcmp(argv[1], "client")) return client_main(argc - 2, argv + 2);
    if (argc >= 2 && !strcmp(argv[1], "server")) return server_main(argc - 2, argv + 2);
    fprintf(stderr, "usage: sockbench client|server ...  (see the comment at the top of sockbench.c)\n");
    return 2;
}
