/**
 * Quoting per output format (see escape.h).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cleanup.h"
#include "escape.h"
#include "macro.h"

bool string_has_cc(const char *s) {
        for (const unsigned char *p = (const unsigned char *) s; *p; p++)
                if (*p < 0x20 || *p == 0x7f)
                        return true;
        return false;
}

/* Closes a stream of open_memstream(f, buf, ...) and returns the string (NULL on OOM). */
static char *memstream_done(FILE *f, char **buf) {
        if (fclose(f) != 0) {
                free(*buf);
                *buf = NULL;
                return NULL;
        }
        return *buf;
}

static void grub_quote_to(FILE *f, const char *s, size_t len) {
        fputc('\'', f);
        for (size_t i = 0; i < len; i++)
                if (s[i] == '\'')
                        fputs("'\\''", f);
                else
                        fputc(s[i], f);
        fputc('\'', f);
}

int grub_quote(const char *s, char **ret) {
        char *buf = NULL;
        size_t size = 0;
        FILE *f;

        if (string_has_cc(s))
                return -EINVAL;
        f = open_memstream(&buf, &size);
        if (!f)
                return -ENOMEM;
        grub_quote_to(f, s, strlen(s));
        buf = memstream_done(f, &buf);
        if (!buf)
                return -ENOMEM;
        *ret = buf;
        return 0;
}

int kernel_cmdline_check(const char *s, size_t *ret_offset) {
        for (size_t i = 0; s[i]; i++) {
                unsigned char c = (unsigned char) s[i];

                if (c == ' ')
                        continue;
                if (c < 0x21 || c >= 0x7f || strchr("\"'\\`$;&|<>{}()#", c)) {
                        if (ret_offset)
                                *ret_offset = i;
                        return -EINVAL;
                }
        }
        return 0;
}

int grub_quote_cmdline(const char *s, char **ret) {
        char *buf = NULL;
        size_t size = 0;
        bool first = true;
        FILE *f;

        if (kernel_cmdline_check(s, NULL) < 0)
                return -EINVAL;
        f = open_memstream(&buf, &size);
        if (!f)
                return -ENOMEM;
        for (const char *p = s; *p;) {
                size_t n;

                p += strspn(p, " ");
                n = strcspn(p, " ");
                if (n == 0)
                        break;
                if (!first)
                        fputc(' ', f);
                grub_quote_to(f, p, n);
                first = false;
                p += n;
        }
        buf = memstream_done(f, &buf);
        if (!buf)
                return -ENOMEM;
        *ret = buf;
        return 0;
}

/* Doubles every byte of s that is in dup (used for the formats whose escape is doubling). */
static int double_chars(const char *s, const char *dup, char **ret) {
        size_t n = strlen(s), extra = 0;
        char *out, *w;

        if (string_has_cc(s))
                return -EINVAL;
        for (size_t i = 0; i < n; i++)
                extra += strchr(dup, s[i]) ? 1 : 0;
        out = malloc(n + extra + 1);
        if (!out)
                return -ENOMEM;
        w = out;
        for (size_t i = 0; i < n; i++) {
                if (strchr(dup, s[i]))
                        *w++ = s[i];
                *w++ = s[i];
        }
        *w = 0;
        *ret = out;
        return 0;
}

int unit_escape_value(const char *s, char **ret) {
        return double_chars(s, "%\\", ret);
}

bool unit_name_is_valid(const char *s) {
        static const char *const suffixes[] = {
                ".service", ".socket", ".target", ".device", ".mount", ".automount", ".swap",
                ".timer",   ".path",   ".slice",  ".scope",
        };
        const char *dot = strrchr(s, '.'), *at = strchr(s, '@');
        size_t n = strlen(s);
        bool known = false;

        if (n == 0 || n > 255 || !dot || dot == s || at == s || (at && strchr(at + 1, '@')) || (at && at > dot))
                return false;
        for (size_t i = 0; i < ELEMENTSOF(suffixes); i++)
                known = known || streq(dot, suffixes[i]);
        if (!known)
                return false;
        for (const char *p = s; p < dot; p++)
                if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
                      strchr(":_.\\-@", *p)))
                        return false;
        return true;
}

int qemu_escape_opt(const char *s, char **ret) {
        return double_chars(s, ",", ret);
}

char *fstab_escape(const char *s) {
        char *buf = NULL;
        size_t size = 0;
        FILE *f = open_memstream(&buf, &size);

        if (!f)
                return NULL;
        for (const char *p = s; *p; p++)
                if (strchr(" \t\n\\", *p))
                        fprintf(f, "\\%03o", (unsigned) (unsigned char) *p);
                else
                        fputc(*p, f);
        return memstream_done(f, &buf);
}

bool shell_word_is_safe(const char *s, size_t n) {
        if (n == 0)
                return false;
        for (size_t i = 0; i < n; i++) {
                char c = s[i];
                if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                      (c != 0 && strchr("_@%+=:,./-", c))))
                        return false;
        }
        return true;
}

char *shell_quote(const char *s, size_t len) {
        char *buf = NULL;
        size_t size = 0;
        FILE *f = open_memstream(&buf, &size);

        if (!f)
                return NULL;
        if (shell_word_is_safe(s, len))
                fwrite(s, 1, len, f);
        else {
                fputc('\'', f);
                for (size_t i = 0; i < len; i++)
                        if (s[i] == '\'')
                                fputs("'\"'\"'", f);
                        else
                                fputc(s[i], f);
                fputc('\'', f);
        }
        return memstream_done(f, &buf);
}

char *html_escape(const char *s) {
        char *buf = NULL;
        size_t size = 0;
        FILE *f = open_memstream(&buf, &size);

        if (!f)
                return NULL;
        for (const char *p = s; *p; p++)
                switch (*p) {
                case '&':
                        fputs("&amp;", f);
                        break;
                case '<':
                        fputs("&lt;", f);
                        break;
                case '>':
                        fputs("&gt;", f);
                        break;
                case '"':
                        fputs("&quot;", f);
                        break;
                case '\'':
                        fputs("&#39;", f);
                        break;
                default:
                        fputc(*p, f);
                }
        return memstream_done(f, &buf);
}
