/**
 * Minimal HTTP/1.0 GET and TCP connect checks with a deadline (numeric addresses and localhost).
 */
#pragma once

#include <stddef.h>

int split_host_port(const char *s, char **ret_host, unsigned *ret_port);
/* 0 if a TCP connection to HOST:PORT succeeds within timeout_ms. */
int tcp_check(const char *host_port, unsigned timeout_ms);
/* GET url; *ret_status is the HTTP status; the body (at most max bytes) is NUL-terminated.
 * Returns 0, -ETIMEDOUT, -ECONNREFUSED, -EBADMSG (not HTTP), -EFBIG, ... */
int http_get(const char *url, unsigned timeout_ms, size_t max, int *ret_status, char **ret_body, size_t *ret_len);
/* Any method, with extra header lines ("Name: value\r\n" each, or NULL). */
int http_request(const char *method, const char *url, const char *headers, unsigned timeout_ms, size_t max,
                 int *ret_status, char **ret_body, size_t *ret_len);
/* The same with a request body (sent with its Content-Length). */
int http_request_body(const char *method, const char *url, const char *headers, const char *body_out,
                      size_t body_out_len, unsigned timeout_ms, size_t max, int *ret_status, char **ret_body,
                      size_t *ret_len);
