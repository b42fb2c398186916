/**
 * A minimal HTTP/1.0 client for the agent: the EC2-compatible user-data fetch and the http:// and
 * tcp: health checks. Numeric IPv4/IPv6 addresses and "localhost" only: the static binary does
 * not use the resolver (NSS), and every address the appliance asks is a literal. Never logs.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "agent.h"
#include "cleanup.h"
#include "http.h"
#include "parse-util.h"

static uint64_t mono_ms(void) {
        struct timespec ts;
        (void) clock_gettime(CLOCK_MONOTONIC, &ts);
        return (uint64_t) ts.tv_sec * 1000 + (uint64_t) ts.tv_nsec / 1000000;
}

static int remaining(uint64_t deadline) {
        uint64_t n = mono_ms();
        return n >= deadline ? 0 : (int) (deadline - n);
}

static int parse_addr(const char *host, unsigned port, struct sockaddr_storage *ss, socklen_t *len) {
        struct sockaddr_in *in = (struct sockaddr_in *) ss;
        struct sockaddr_in6 *in6 = (struct sockaddr_in6 *) ss;

        memset(ss, 0, sizeof *ss);
        if (streq(host, "localhost"))
                host = "127.0.0.1";
        if (inet_pton(AF_INET, host, &in->sin_addr) == 1) {
                in->sin_family = AF_INET;
                in->sin_port = htons((uint16_t) port);
                *len = sizeof *in;
                return 0;
        }
        if (inet_pton(AF_INET6, host, &in6->sin6_addr) == 1) {
                in6->sin6_family = AF_INET6;
                in6->sin6_port = htons((uint16_t) port);
                *len = sizeof *in6;
                return 0;
        }
        return -EADDRNOTAVAIL;
}

/* Splits "HOST:PORT" or "[V6]:PORT". */
int split_host_port(const char *s, char **ret_host, unsigned *ret_port) {
        const char *colon;
        char *host;
        unsigned port;

        if (s[0] == '[') {
                const char *end = strchr(s, ']');
                if (!end || end[1] != ':')
                        return -EINVAL;
                host = strndup(s + 1, (size_t) (end - s - 1));
                colon = end + 1;
        } else {
                colon = strrchr(s, ':');
                if (!colon)
                        return -EINVAL;
                host = strndup(s, (size_t) (colon - s));
        }
        if (!host)
                return -ENOMEM;
        if (safe_atou(colon + 1, &port) < 0 || port == 0 || port > 65535) {
                free(host);
                return -EINVAL;
        }
        *ret_host = host;
        *ret_port = port;
        return 0;
}

static int connect_timeout(const char *host, unsigned port, uint64_t deadline) {
        struct sockaddr_storage ss;
        _cleanup_close_ int fd = -EBADF;
        socklen_t len;
        int r, err = 0;
        socklen_t errlen = sizeof err;

        r = parse_addr(host, port, &ss, &len);
        if (r < 0)
                return r;
        fd = socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
        if (fd < 0)
                return -errno;
        if (connect(fd, (struct sockaddr *) &ss, len) < 0) {
                struct pollfd p = { .fd = fd, .events = POLLOUT };

                if (errno != EINPROGRESS)
                        return -errno;
                r = poll(&p, 1, remaining(deadline));
                if (r < 0)
                        return -errno;
                if (r == 0)
                        return -ETIMEDOUT;
                if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &errlen) < 0)
                        return -errno;
                if (err != 0)
                        return -err;
        }
        return TAKE_FD(fd);
}

int tcp_check(const char *host_port, unsigned timeout_ms) {
        _cleanup_free_ char *host = NULL;
        unsigned port;
        int r, fd;

        r = split_host_port(host_port, &host, &port);
        if (r < 0)
                return r;
        fd = connect_timeout(host, port, mono_ms() + timeout_ms);
        if (fd < 0)
                return fd;
        close(fd);
        return 0;
}

int http_get(const char *url, unsigned timeout_ms, size_t max, int *ret_status, char **ret_body, size_t *ret_len) {
        return http_request("GET", url, NULL, timeout_ms, max, ret_status, ret_body, ret_len);
}

int http_request(const char *method, const char *url, const char *headers, unsigned timeout_ms, size_t max,
                 int *ret_status, char **ret_body, size_t *ret_len) {
        return http_request_body(method, url, headers, NULL, 0, timeout_ms, max, ret_status, ret_body, ret_len);
}

int http_request_body(const char *method, const char *url, const char *headers, const char *body_out,
                      size_t body_out_len, unsigned timeout_ms, size_t max, int *ret_status, char **ret_body,
                      size_t *ret_len) {
        _cleanup_free_ char *clen = NULL, *hostport = NULL, *host = NULL, *req = NULL, *buf = NULL;
        uint64_t deadline = mono_ms() + timeout_ms;
        _cleanup_close_ int fd = -EBADF;
        const char *rest, *path;
        size_t len = 0, cap = 0;
        unsigned port = 80;
        int r, status;

        if (!startswith(url, "http://"))
                return -EPROTONOSUPPORT;
        rest = url + 7;
        path = strchr(rest, '/');
        hostport = path ? strndup(rest, (size_t) (path - rest)) : strdup(rest);
        if (!hostport)
                return -ENOMEM;
        if (!path)
                path = "/";
        if (strrchr(hostport, ':') && (hostport[0] != '[' || strstr(hostport, "]:"))) {
                r = split_host_port(hostport, &host, &port);
                if (r < 0)
                        return r;
        } else {
                host = hostport[0] == '[' ? strndup(hostport + 1, strlen(hostport) - 2) : strdup(hostport);
                if (!host)
                        return -ENOMEM;
        }

        fd = connect_timeout(host, port, deadline);
        if (fd < 0)
                return fd;
        if (body_out && memchr(body_out, 0, body_out_len))
                return -EINVAL;
        if (body_out && asprintf(&clen, "Content-Length: %zu\r\n", body_out_len) < 0)
                return -ENOMEM;
        if (asprintf(&req, "%s %s HTTP/1.0\r\nHost: %s\r\nUser-Agent: appliance-agent\r\nConnection: close\r\n%s%s\r\n%.*s",
                     method, path, hostport, headers ?: "", clen ?: "", body_out ? (int) body_out_len : 0,
                     body_out ?: "") < 0)
                return -ENOMEM;
        for (size_t done = 0, n = strlen(req); done < n;) {
                struct pollfd p = { .fd = fd, .events = POLLOUT };
                ssize_t k;

                r = poll(&p, 1, remaining(deadline));
                if (r <= 0)
                        return r < 0 ? -errno : -ETIMEDOUT;
                k = send(fd, req + done, n - done, MSG_NOSIGNAL);
                if (k < 0) {
                        if (errno == EAGAIN || errno == EINTR)
                                continue;
                        return -errno;
                }
                done += (size_t) k;
        }
        for (;;) {
                struct pollfd p = { .fd = fd, .events = POLLIN };
                ssize_t k;

                if (len + 4096 + 1 > cap) {
                        char *nb;
                        if (cap > max + 65536)
                                return -EFBIG;
                        cap = cap ? cap * 2 : 16384;
                        nb = realloc(buf, cap);
                        if (!nb)
                                return -ENOMEM;
                        buf = nb;
                }
                r = poll(&p, 1, remaining(deadline));
                if (r < 0)
                        return -errno;
                if (r == 0)
                        return -ETIMEDOUT;
                k = recv(fd, buf + len, cap - len - 1, 0);
                if (k < 0) {
                        if (errno == EAGAIN || errno == EINTR)
                                continue;
                        return -errno;
                }
                if (k == 0)
                        break;
                len += (size_t) k;
        }
        if (!buf)
                return -EBADMSG;
        buf[len] = 0;
        if (sscanf(buf, "HTTP/%*u.%*u %d", &status) != 1)
                return -EBADMSG;
        char *body = strstr(buf, "\r\n\r\n");
        size_t skip = 4;
        if (!body) {
                body = strstr(buf, "\n\n");
                skip = 2;
        }
        if (!body)
                return -EBADMSG;
        body += skip;
        size_t blen = len - (size_t) (body - buf);
        if (blen > max)
                return -EFBIG;
        if (ret_body) {
                char *copy = malloc(blen + 1);
                if (!copy)
                        return -ENOMEM;
                memcpy(copy, body, blen);
                copy[blen] = 0;
                *ret_body = copy;
        }
        if (ret_len)
                *ret_len = blen;
        *ret_status = status;
        return 0;
}
