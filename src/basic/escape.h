/**
 * Quoting for every output format the programs generate, one function per format, used by every
 * writer of that format: GRUB scripts (grub.cfg), the kernel command line, systemd unit files,
 * qemu option strings, fstab, POSIX shell words and HTML. JSON strings are json-util.h's.
 *
 * A value a format cannot carry (a control character in a unit setting, a quote in a kernel
 * command line) is refused with -EINVAL, never mangled: the caller names the field in its error.
 * The returned strings are newly allocated; NULL (or -ENOMEM) on OOM.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>

/* True if s holds a byte below 0x20 or 0x7f (newline, tab, escape, ...). */
bool string_has_cc(const char *s);

/* GRUB script: s as one word in single quotes, each ' written as '\'' (GRUB's lexer expands no
 * variable and splits nothing inside single quotes). -EINVAL if s holds a control character. */
int grub_quote(const char *s, char **ret);

/* A kernel command line as the builder writes it into grub.cfg and into /etc/default/grub (a shell
 * fragment that grub-mkconfig pastes unquoted into its grub.cfg): words separated by blanks, made
 * of printable ASCII without the characters that GRUB, the shell or the kernel's own parser treat
 * specially (" ' \ ` $ ; & | < > { } ( ) # and control characters). -EINVAL otherwise, with the
 * offset of the first bad byte in *ret_offset (may be NULL). */
int kernel_cmdline_check(const char *s, size_t *ret_offset);

/* grub.cfg text of a checked kernel command line: each word through grub_quote(), joined by one
 * space. -EINVAL if kernel_cmdline_check() refuses s. */
int grub_quote_cmdline(const char *s, char **ret);

/* systemd unit files: the value of a setting with % doubled (no specifier expansion) and \ doubled
 * (no C escape). -EINVAL for control characters: a newline would start another setting. */
int unit_escape_value(const char *s, char **ret);

/* systemd's unit name rules: at most 255 bytes of [A-Za-z0-9:_.\-@], a non-empty prefix, at most
 * one '@' (template or instance) and one of the unit type suffixes (.service, .socket, ...). */
bool unit_name_is_valid(const char *s);

/* qemu option values (-drive file=..., -chardev path=...): each ',' doubled, so a path such as
 * "d,file=x.raw" stays one value. -EINVAL for control characters. */
int qemu_escape_opt(const char *s, char **ret);

/* fstab fields (getmntent(3)): space, tab, newline and backslash as \040 \011 \012 \134. */
char *fstab_escape(const char *s);

/* True if s (len bytes) is a non-empty shell word that needs no quoting: [A-Za-z0-9_@%+=:,./-]. */
bool shell_word_is_safe(const char *s, size_t len);

/* POSIX shell: one word, unchanged if it only holds [A-Za-z0-9_@%+=:,./-], else in single quotes
 * with each ' written as '"'"' (what Python's shlex.quote() does). len bytes of s, which need not
 * be NUL-terminated; an empty string becomes ''. */
char *shell_quote(const char *s, size_t len);

/* HTML text and attribute values: & < > " ' as entities. */
char *html_escape(const char *s);
