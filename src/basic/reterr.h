/**
 * Error messages through "reterr" out-parameters: library-level functions return -errno and, for
 * the caller to show, a message in *reterr.
 */
#pragma once

#include "macro.h"

/* Stores the formatted message in *reterr (replacing and freeing an earlier one) if reterr is not
 * NULL, and returns r, so that one statement reports and fails:
 *     return reterr_printf(reterr, -EINVAL, "'%s': not a disk image", path); */
int reterr_printf(char **reterr, int r, const char *fmt, ...) _printf_(3, 4);
