/**
 * Unit tests of the agent's HTTP client and TCP check against real servers on 127.0.0.1: a child
 * process that answers one connection with canned bytes (a page, a redirect-free error, garbage, a
 * body over the limit, silence), and a port nobody listens on.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cleanup.h"
#include "http.h"
#include "macro.h"

static void test_parsing(void **state) {
        _cleanup_free_ char *host = NULL, *v6 = NULL;
        unsigned port = 0;
        (void) state;

        assert_int_equal(split_host_port("127.0.0.1:5432", &host, &port), 0);
        assert_string_equal(host, "127.0.0.1");
        assert_int_equal(port, 5432);
        assert_int_equal(split_host_port("[::1]:80", &v6, &port), 0);
        assert_string_equal(v6, "::1");
        assert_int_equal(port, 80);
        assert_int_equal(split_host_port("127.0.0.1", &host, &port), -EINVAL);
        assert_int_equal(split_host_port("127.0.0.1:0", &host, &port), -EINVAL);
        assert_int_equal(split_host_port("127.0.0.1:70000", &host, &port), -EINVAL);
        /* Names are not resolved (no NSS in the static agent). */
        assert_int_equal(tcp_check("example.org:80", 100), -EADDRNOTAVAIL);
        assert_int_equal(http_get("https://127.0.0.1/", 100, 10, &(int) { 0 }, NULL, NULL), -EPROTONOSUPPORT);
}

typedef struct Server {
        pid_t pid;
        unsigned port;
        int fd;
} Server;

/* Listens on 127.0.0.1:0; a child accepts one connection, reads the request and writes reply
 * (NULL: keeps the connection open and says nothing). */
static Server server_start(const char *reply) {
        struct sockaddr_in sa = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
        socklen_t l = sizeof sa;
        Server s = { .fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0) };

        assert_true(s.fd >= 0);
        assert_int_equal(bind(s.fd, (struct sockaddr *) &sa, sizeof sa), 0);
        assert_int_equal(listen(s.fd, 4), 0);
        assert_int_equal(getsockname(s.fd, (struct sockaddr *) &sa, &l), 0);
        s.port = ntohs(sa.sin_port);
        s.pid = fork();
        assert_true(s.pid >= 0);
        if (s.pid == 0) {
                char buf[4096];
                int c = accept(s.fd, NULL, NULL);
                if (c < 0)
                        _exit(1);
                (void) !read(c, buf, sizeof buf);
                if (!reply) {
                        pause();
                        _exit(0);
                }
                (void) !write(c, reply, strlen(reply));
                close(c);
                _exit(0);
        }
        return s;
}

static void server_stop(Server *s) {
        (void) kill(s->pid, SIGTERM);
        (void) waitpid(s->pid, NULL, 0);
        close(s->fd);
}

static char *url(const Server *s, const char *path) {
        char *u;
        assert_true(asprintf(&u, "http://127.0.0.1:%u%s", s->port, path) > 0);
        return u;
}

static void test_get(void **state) {
        static const struct {
                const char *reply;
                size_t max;
                int r, status;
                const char *body;
        } rows[] = {
                { "HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\n\r\nhello", 100, 0, 200, "hello" },
                { "HTTP/1.1 503 Service Unavailable\r\n\r\ndown\n", 100, 0, 503, "down\n" },
                { "HTTP/1.0 200 OK\r\n\r\n0123456789abcdef", 8, -EFBIG, 0, NULL },
                { "SSH-2.0-OpenSSH_9.2\r\n", 100, -EBADMSG, 0, NULL },
                { NULL, 100, -ETIMEDOUT, 0, NULL },
        };
        (void) state;

        for (size_t i = 0; i < ELEMENTSOF(rows); i++) {
                Server s = server_start(rows[i].reply);
                _cleanup_free_ char *u = url(&s, "/status"), *body = NULL;
                int status = 0;
                size_t len = 0;
                int r = http_get(u, 500, rows[i].max, &status, &body, &len);

                server_stop(&s);
                if (r != rows[i].r)
                        fail_msg("row %zu: http_get() = %d, expected %d", i, r, rows[i].r);
                if (r < 0)
                        continue;
                assert_int_equal(status, rows[i].status);
                assert_string_equal(body, rows[i].body);
                assert_int_equal(len, strlen(rows[i].body));
        }
}

static void test_tcp_check(void **state) {
        struct sockaddr_in sa = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
        socklen_t l = sizeof sa;
        char hp[64];
        int fd;
        (void) state;

        /* listening: connects (the kernel completes the handshake before accept()) */
        fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        assert_int_equal(bind(fd, (struct sockaddr *) &sa, sizeof sa), 0);
        assert_int_equal(listen(fd, 1), 0);
        assert_int_equal(getsockname(fd, (struct sockaddr *) &sa, &l), 0);
        snprintf(hp, sizeof hp, "127.0.0.1:%u", ntohs(sa.sin_port));
        assert_int_equal(tcp_check(hp, 500), 0);
        /* closed: that very port refuses now */
        close(fd);
        assert_int_equal(tcp_check(hp, 500), -ECONNREFUSED);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_parsing),
                cmocka_unit_test(test_get),
                cmocka_unit_test(test_tcp_check),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
