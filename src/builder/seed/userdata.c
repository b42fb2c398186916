/**
 * User-data classification following cloud-init's rules: a MIME-Version header in the first 4 KiB
 * means a MIME message; otherwise the first line's prefix picks the handler (longest prefix
 * first: "#cloud-config-archive" before "#cloud-config", "#include-once" before "#include").
 * Anything else is ignored by cloud-init with a warning, which for a seed means a mistake.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "cleanup.h"
#include "lib/gzip.h"
#include "macro.h"
#include "reterr.h"
#include "seed/userdata.h"
#include "yaml-util.h"

#define GZIP_INFLATED_MAX (16U * 1024U * 1024U)

static const char *const type_table[_USER_DATA_TYPE_MAX] = {
        [USER_DATA_EMPTY] = "empty",
        [USER_DATA_CLOUD_CONFIG] = "cloud-config",
        [USER_DATA_CLOUD_CONFIG_ARCHIVE] = "cloud-config-archive",
        [USER_DATA_CLOUD_CONFIG_JSONP] = "cloud-config-jsonp",
        [USER_DATA_SCRIPT] = "script",
        [USER_DATA_BOOTHOOK] = "cloud-boothook",
        [USER_DATA_INCLUDE] = "include",
        [USER_DATA_INCLUDE_ONCE] = "include-once",
        [USER_DATA_PART_HANDLER] = "part-handler",
        [USER_DATA_JINJA] = "jinja-template",
        [USER_DATA_MIME_MULTIPART] = "mime-multipart",
        [USER_DATA_GZIP] = "gzip",
        [USER_DATA_UNKNOWN] = "unknown",
};

const char *user_data_type_to_string(UserDataType t) {
        if (t < 0 || t >= _USER_DATA_TYPE_MAX)
                return NULL;
        return type_table[t];
}

/* Longest prefixes first where one is a prefix of another. */
static const struct {
        const char *prefix;
        UserDataType type;
} prefixes[] = {
        { "#cloud-config-archive", USER_DATA_CLOUD_CONFIG_ARCHIVE },
        { "#cloud-config-jsonp", USER_DATA_CLOUD_CONFIG_JSONP },
        { "#cloud-config", USER_DATA_CLOUD_CONFIG },
        { "#cloud-boothook", USER_DATA_BOOTHOOK },
        { "#include-once", USER_DATA_INCLUDE_ONCE },
        { "#include", USER_DATA_INCLUDE },
        { "#part-handler", USER_DATA_PART_HANDLER },
        { "## template: jinja", USER_DATA_JINJA },
        { "#!", USER_DATA_SCRIPT },
};

static bool has_prefix(const char *p, size_t n, const char *prefix) {
        size_t l = strlen(prefix);
        return n >= l && memcmp(p, prefix, l) == 0;
}

static bool mem_contains_ci(const char *p, size_t n, const char *needle) {
        size_t l = strlen(needle);

        for (size_t i = 0; i + l <= n; i++)
                if (strncasecmp(p + i, needle, l) == 0)
                        return true;
        return false;
}

static bool blank(const char *p, size_t n) {
        for (size_t i = 0; i < n; i++)
                if (!strchr(" \t\r\n", p[i]))
                        return false;
        return true;
}

UserDataType user_data_detect(const void *data, size_t size) {
        const char *p = data;

        if (!p || size == 0 || blank(p, size))
                return USER_DATA_EMPTY;
        if (size >= 2 && (unsigned char) p[0] == 0x1f && (unsigned char) p[1] == 0x8b)
                return USER_DATA_GZIP;
        /* cloud-init parses the blob as an email message when the header shows up early on; a
         * NUL byte would end its string search, so stop there too. */
        size_t head = MIN(size, (size_t) 4096);
        const char *nul = memchr(p, 0, head);
        if (nul)
                head = (size_t) (nul - p);
        if (mem_contains_ci(p, head, "mime-version:"))
                return USER_DATA_MIME_MULTIPART;

        for (size_t i = 0; i < ELEMENTSOF(prefixes); i++)
                if (has_prefix(p, size, prefixes[i].prefix))
                        return prefixes[i].type;
        return USER_DATA_UNKNOWN;
}

static int validate_plain(const char *name, const char *p, size_t size, UserDataType t, char **reterr) {
        switch (t) {
        case USER_DATA_CLOUD_CONFIG:
                return yaml_check(name, p, size, YAML_CHECK_ROOT_MAPPING, reterr);
        case USER_DATA_CLOUD_CONFIG_ARCHIVE:
                return yaml_check(name, p, size, YAML_CHECK_ROOT_SEQUENCE, reterr);
        case USER_DATA_UNKNOWN: {
                size_t l = 0;

                while (l < size && l < 40 && p[l] != '\n' && p[l] != '\r')
                        l++;
                /* Show the first line, with anything unprintable replaced. */
                char line[41];
                for (size_t i = 0; i < l; i++)
                        line[i] = (p[i] >= 0x20 && p[i] < 0x7f) ? p[i] : '?';
                line[l] = 0;
                return reterr_printf(reterr, -EBADMSG, "%s:1:1: unknown user-data header '%s%s': cloud-init would ignore this file; "
                                 "start it with '#cloud-config', '#!', '#include', '#cloud-boothook', "
                                 "'## template: jinja' or a MIME message with a 'MIME-Version:' header",
                                 name, line, l == 40 ? "..." : "");
        }
        default:
                return 0;
        }
}

int user_data_validate(const char *name, const void *data, size_t size, UserDataType *ret_type,
                       UserDataType *ret_inner, char **reterr) {
        UserDataType t = user_data_detect(data, size), inner = t;
        int r;

        if (!name)
                name = "user-data";

        if (t == USER_DATA_GZIP) {
                _cleanup_free_ void *plain = NULL;
                size_t n;

                r = gzip_decompress(data, size, GZIP_INFLATED_MAX, &plain, &n);
                if (r == -ENOMEM)
                        return r;
                if (r == -EFBIG)
                        return reterr_printf(reterr, -EBADMSG, "%s: gzip content expands beyond %u bytes", name,
                                         GZIP_INFLATED_MAX);
                if (r < 0)
                        return reterr_printf(reterr, -EBADMSG, "%s: broken gzip data", name);
                inner = user_data_detect(plain, n);
                if (inner == USER_DATA_GZIP)
                        return reterr_printf(reterr, -EBADMSG, "%s: gzip inside gzip is not decompressed by cloud-init", name);
                r = validate_plain(name, plain, n, inner, reterr);
        } else
                r = validate_plain(name, data, size, t, reterr);
        if (r < 0)
                return r;

        if (ret_type)
                *ret_type = t;
        if (ret_inner)
                *ret_inner = inner;
        return 0;
}
