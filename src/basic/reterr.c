/**
 * reterr out-parameters.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include "reterr.h"

int reterr_printf(char **reterr, int r, const char *fmt, ...) {
        va_list ap;

        if (!reterr)
                return r;
        free(*reterr);
        va_start(ap, fmt);
        if (vasprintf(reterr, fmt, ap) < 0)
                *reterr = NULL;
        va_end(ap);
        return r;
}
