/**
 * Target releases: what each distribution release a profile names (distribution + suite) runs, as
 * data. The builder formats every filesystem of an image with the ext4 features, inode size and
 * journal of the image's own release (so the release's e2fsck and kernel know all of them, whatever
 * the build host's mke2fs.conf turns on), and checks the systemd units it installs against the
 * release's systemd.
 *
 *   const TargetRelease *t = target_release_find("ubuntu", "xenial");
 *   t->systemd          229
 *   t->ext4_features    "has_journal,ext_attr,...", passed as mke2fs -O none,<features>
 *
 * The sources of every row are cited next to it in target.c.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>

typedef struct TargetRelease {
        const char *distribution;   /* "debian" | "ubuntu" */
        const char *suite;          /* "bookworm" */
        const char *version;        /* "12" */
        const char *kernel;         /* the release's default kernel, "6.1" */
        const char *e2fsprogs;      /* "1.47.0" */
        unsigned systemd;           /* 252 */
        /* The ext4 features the builder writes (mke2fs -O none,<these>): the release's own
         * mke2fs.conf default for ext4 ([defaults] base_features + [fs_types] ext4 features). */
        const char *ext4_features;
        /* Every ext4 feature both the release's e2fsck and its kernel support; what is written
         * must be a subset. */
        const char *ext4_supported;
        /* Journal features the release's e2fsck replays ("" = none: no journal checksums). */
        const char *journal_supported;
        unsigned inode_size;        /* bytes */
} TargetRelease;

/* The row of distribution/suite, or NULL when the table has none. */
const TargetRelease *target_release_find(const char *distribution, const char *suite);

/* All rows, in release order; *ret_n is their number. */
const TargetRelease *target_releases(size_t *ret_n);

/* The lowest systemd version of all rows (the oldest target's). */
unsigned target_oldest_systemd(void);

/* True when every word of the comma- or space-separated list a is in list b. *ret_missing (may be
 * NULL) gets the first word of a that b lacks (a pointer into a static buffer, or NULL). */
bool target_feature_subset(const char *a, const char *b, const char **ret_missing);

/* The systemd version that introduced Section.Key (or a value of it, such as Type=exec), 0 when the
 * table does not know the directive, which means it is older than every target. */
unsigned unit_directive_since(const char *section, const char *key, const char *value);

/* Checks a unit file's text: every directive must be known to systemd `version`. Returns 0, or
 * -EPROTO with *reterr naming "<name>:<line>: Section.Key= needs systemd N (target has V)" for the
 * first newer one. Lines that are not directives (comments, sections, blank) are skipped. */
int unit_text_check(const char *name, const char *text, unsigned version, char **reterr);

/* True for paths a unit file or drop-in is installed at (…/systemd/system/NAME.service etc., and
 * …/NAME.service.d/X.conf). */
bool unit_path_is_unit(const char *path);
