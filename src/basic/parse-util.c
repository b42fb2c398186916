/**
 * Number, size and boolean parsing.
 */
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <strings.h>

#include "macro.h"
#include "parse-util.h"

int safe_atou64(const char *s, uint64_t *ret) {
        unsigned long long v;
        char *end;

        if (isempty(s) || !isdigit((unsigned char) s[0]))
                return -EINVAL;
        errno = 0;
        v = strtoull(s, &end, 10);
        if (errno == ERANGE)
                return -ERANGE;
        if (*end != 0)
                return -EINVAL;
        *ret = (uint64_t) v;
        return 0;
}

int safe_atou(const char *s, unsigned *ret) {
        uint64_t v;
        int r = safe_atou64(s, &v);
        if (r < 0)
                return r;
        if (v > UINT_MAX)
                return -ERANGE;
        *ret = (unsigned) v;
        return 0;
}

int safe_atoi(const char *s, int *ret) {
        long v;
        char *end;

        if (isempty(s) || isspace((unsigned char) s[0]))
                return -EINVAL;
        errno = 0;
        v = strtol(s, &end, 10);
        if (errno == ERANGE || v < INT_MIN || v > INT_MAX)
                return -ERANGE;
        if (*end != 0)
                return -EINVAL;
        *ret = (int) v;
        return 0;
}

int safe_atod(const char *s, double *ret) {
        double v;
        char *end;

        if (isempty(s) || isspace((unsigned char) s[0]))
                return -EINVAL;
        errno = 0;
        v = strtod(s, &end);
        if (errno == ERANGE)
                return -ERANGE;
        if (*end != 0 || !isfinite(v))
                return -EINVAL;
        *ret = v;
        return 0;
}

int parse_size(const char *s, uint64_t *ret) {
        static const struct {
                char c;
                unsigned shift;
        } units[] = {
                { 'K', 10 }, { 'M', 20 }, { 'G', 30 }, { 'T', 40 }, { 'P', 50 },
        };
        unsigned shift = 0;
        double v;
        char *end;

        if (isempty(s) || !(isdigit((unsigned char) s[0]) || s[0] == '.'))
                return -EINVAL;

        errno = 0;
        v = strtod(s, &end);
        if (errno == ERANGE || end == s || !isfinite(v) || v < 0)
                return -EINVAL;

        while (*end == ' ')
                end++;

        if (*end) {
                char c = (char) toupper((unsigned char) *end);
                size_t i;

                for (i = 0; i < ELEMENTSOF(units); i++)
                        if (units[i].c == c)
                                break;
                if (i < ELEMENTSOF(units)) {
                        shift = units[i].shift;
                        end++;
                        if (strcasecmp(end, "iB") == 0 || strcasecmp(end, "B") == 0)
                                end += strlen(end);
                } else if (strcasecmp(end, "B") == 0)
                        end++;
                if (*end)
                        return -EINVAL;
        }

        v = ldexp(v, (int) shift);
        if (v >= 18446744073709551615.0)
                return -ERANGE;
        /* Fractions of a byte make no sense: "1.5" means one byte and a half only if it is K or more. */
        if (shift == 0 && v != floor(v))
                return -EINVAL;
        *ret = (uint64_t) llround(v);
        return 0;
}

char *format_bytes(char *buf, size_t len, uint64_t bytes) {
        static const char suffix[] = "KMGTPE";
        double v = (double) bytes;
        int i = -1;

        while (v >= 1024.0 && i < (int) sizeof suffix - 2) {
                v /= 1024.0;
                i++;
        }
        if (i < 0)
                snprintf(buf, len, "%" PRIu64 "B", bytes);
        else if (v < 10.0 && v != floor(v))
                snprintf(buf, len, "%.1f%c", v, suffix[i]);
        else
                snprintf(buf, len, "%.0f%c", v, suffix[i]);
        return buf;
}

int parse_boolean(const char *s) {
        static const char *const yes[] = { "1", "yes", "y", "true", "t", "on" };
        static const char *const no[] = { "0", "no", "n", "false", "f", "off" };

        if (!s)
                return -EINVAL;
        for (size_t i = 0; i < ELEMENTSOF(yes); i++)
                if (strcasecmp(s, yes[i]) == 0)
                        return 1;
        for (size_t i = 0; i < ELEMENTSOF(no); i++)
                if (strcasecmp(s, no[i]) == 0)
                        return 0;
        return -EINVAL;
}
