/**
 * Small helpers shared by the disk-* modules of the image builder.
 */
#pragma once

#include <ctype.h>
#include <dirent.h>
#include <limits.h>
#include <stdlib.h>

#include "cleanup.h"

#define PATH_MAX_LEN PATH_MAX

static inline const char *strempty_or(const char *s) {
        return s ?: "";
}

static inline bool isdigit_c(char c) {
        return c >= '0' && c <= '9';
}

static inline void *mfree(void *p) {
        free(p);
        return NULL;
}

static inline void closedirp(DIR **d) {
        if (*d)
                (void) closedir(*d);
}
