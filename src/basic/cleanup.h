/**
 * Scope-bound cleanup (GCC/Clang cleanup attribute) and explicit ownership transfer.
 *
 *   _cleanup_free_ char *p = NULL;      freed when p leaves scope
 *   _cleanup_close_ int fd = -EBADF;    closed when fd leaves scope
 *   *ret = TAKE_PTR(p);                 ownership moves, p becomes NULL
 *
 * Never mix goto-based unwinding and cleanup variables in one function.
 */
#pragma once

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#define _cleanup_(f) __attribute__((__cleanup__(f)))

#define DEFINE_TRIVIAL_CLEANUP_FUNC(type, func)                 \
        static inline void func##p(type *p) {                   \
                if (*p)                                         \
                        func(*p);                               \
        }

static inline void freep(void *p) {
        free(*(void **) p);
}

static inline int safe_close(int fd) {
        if (fd >= 0) {
                int saved = errno;
                (void) close(fd);
                errno = saved;
        }
        return -EBADF;
}

static inline void closep(int *fd) {
        *fd = safe_close(*fd);
}

static inline void fclosep(FILE **f) {
        if (*f)
                (void) fclose(*f);
}

/* Frees a NULL-terminated vector of strings. */
void strv_free(char **l);
static inline void strv_freep(char ***l) {
        strv_free(*l);
}

#define _cleanup_free_ _cleanup_(freep)
#define _cleanup_close_ _cleanup_(closep)
#define _cleanup_fclose_ _cleanup_(fclosep)
#define _cleanup_strv_free_ _cleanup_(strv_freep)

#define TAKE_GENERIC(var, type, nullvalue)              \
        ({                                              \
                type *_pvar_ = &(var);                  \
                type _var_ = *_pvar_;                   \
                *_pvar_ = (nullvalue);                  \
                _var_;                                  \
        })
#define TAKE_PTR(p) TAKE_GENERIC(p, __typeof__(p), NULL)
#define TAKE_FD(fd) TAKE_GENERIC(fd, int, -EBADF)
