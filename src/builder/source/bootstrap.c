/**
 * Base-system bootstrap with mmdebstrap.
 *
 * The sources come from the host's apt configuration (never from the repository): every deb
 * entry that lists the profile's suite, or its -updates / -security companion. The result is a
 * root tarball in the cache directory named after profile_digest(), so a second build with the
 * same distribution, suite, architecture, packages and mirror reuses it. mmdebstrap writes into
 * a hidden temporary name next to the final one, which is renamed into place only on success;
 * a lock file serializes builders that want the same digest.
 */
#include <assert.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <stdarg.h>
#include <strings.h>
#include <unistd.h>

#include "chase.h"
#include "source/bootstrap.h"
#include "cleanup.h"
#include "crypto.h"
#include "fileio.h"
#include "log.h"
#include "macro.h"
#include "random-util.h"
#include "reterr.h"
#include "spawn.h"
#include "strv.h"
#include "target.h"

DEFINE_TRIVIAL_CLEANUP_FUNC(DIR *, closedir);

typedef struct AptEntry {
        char **uris, **suites, **components;
        char *signed_by; /* a keyring path, or NULL */
        bool deb;        /* Types contains "deb" */
        bool enabled;
} AptEntry;

static void apt_entry_clear(AptEntry *e) {
        strv_free(e->uris);
        strv_free(e->suites);
        strv_free(e->components);
        free(e->signed_by);
        *e = (AptEntry) { .enabled = true };
}

static const char *apt_root(void) {
        const char *r = getenv("APPLIANCE_APT_ROOT");
        return isempty(r) ? "" : r;
}

/* Adds the lines of entry e that carry one of the wanted suites to *lines. */
static int emit_entry(const AptEntry *e, char *const *want, char ***lines, bool *found_main, const char *suite,
                      const char *as) {
        if (!e->deb || !e->enabled || !e->uris || !e->suites)
                return 0;

        STRV_FOREACH(i, e->suites) {
                _cleanup_free_ char *renamed = NULL;
                const char *const *s = (const char *const *) i;

                if (!strv_contains(want, *i))
                        continue;
                /* The sibling's entry stands for the wanted suite: "bookworm-security" becomes
                 * "trixie-security" (every wanted name starts with the entry's suite). */
                if (as) {
                        if (asprintf(&renamed, "%s%s", as, *i + strlen(suite)) < 0)
                                return -ENOMEM;
                        s = (const char *const *) &renamed;
                }
                STRV_FOREACH(u, e->uris) {
                        _cleanup_free_ char *comps = e->components ? strv_join(e->components, " ") : strdup("main");
                        char *line;
                        if (!comps)
                                return -ENOMEM;
                        if (e->signed_by && e->signed_by[0] == '/') {
                                if (asprintf(&line, "deb [signed-by=%s] %s %s %s", e->signed_by, *u, *s, comps) < 0)
                                        return -ENOMEM;
                        } else if (asprintf(&line, "deb %s %s %s", *u, *s, comps) < 0)
                                return -ENOMEM;
                        if (strv_contains(*lines, line)) {
                                free(line);
                                continue;
                        }
                        if (strv_consume(lines, line) < 0)
                                return -ENOMEM;
                        if (streq(*i, suite))
                                *found_main = true;
                }
        }
        return 0;
}

static int parse_deb822(const char *text, char *const *want, char ***lines, bool *found, const char *suite,
                        const char *as) {
        _cleanup_(apt_entry_clear) AptEntry e = { .enabled = true };
        _cleanup_free_ char *copy = strdup(text);
        char *field = NULL;
        int r;

        if (!copy)
                return -ENOMEM;

        /* strtok_r would merge empty lines, so walk by hand. */
        for (char *line = copy, *next; line; line = next) {
                next = strchr(line, '\n');
                if (next)
                        *next++ = 0;
                if (line[0] == '#')
                        continue;
                if (strspn(line, " \t") == strlen(line)) {
                        /* paragraph end */
                        r = emit_entry(&e, want, lines, found, suite, as);
                        if (r < 0)
                                return r;
                        apt_entry_clear(&e);
                        field = NULL;
                        continue;
                }
                if (line[0] == ' ' || line[0] == '\t')
                        continue; /* continuation (e.g. an inline key block) */

                char *colon = strchr(line, ':');
                if (!colon)
                        continue;
                *colon = 0;
                field = line;
                char *value = colon + 1;
                value += strspn(value, " \t");

                char ***dst = strcasecmp(field, "URIs") == 0         ? &e.uris
                              : strcasecmp(field, "Suites") == 0     ? &e.suites
                              : strcasecmp(field, "Components") == 0 ? &e.components
                                                                     : NULL;
                if (dst) {
                        strv_free(*dst);
                        *dst = NULL;
                        r = strv_split(value, " \t", dst);
                        if (r < 0)
                                return r;
                } else if (strcasecmp(field, "Types") == 0) {
                        _cleanup_strv_free_ char **t = NULL;
                        r = strv_split(value, " \t", &t);
                        if (r < 0)
                                return r;
                        e.deb = strv_contains(t, "deb");
                } else if (strcasecmp(field, "Enabled") == 0)
                        e.enabled = strcasecmp(value, "no") != 0;
                else if (strcasecmp(field, "Signed-By") == 0 && value[0] == '/') {
                        free(e.signed_by);
                        e.signed_by = strndup(value, strcspn(value, " \t"));
                        if (!e.signed_by)
                                return -ENOMEM;
                }
        }
        return emit_entry(&e, want, lines, found, suite, as);
}

static int parse_one_line(const char *text, char *const *want, char ***lines, bool *found, const char *suite,
                          const char *as) {
        _cleanup_free_ char *copy = strdup(text);
        int r;

        if (!copy)
                return -ENOMEM;

        for (char *line = copy, *next; line; line = next) {
                _cleanup_(apt_entry_clear) AptEntry e = { .enabled = true };
                _cleanup_strv_free_ char **w = NULL;
                char *hash, **rest;

                next = strchr(line, '\n');
                if (next)
                        *next++ = 0;
                hash = strchr(line, '#');
                if (hash)
                        *hash = 0;

                r = strv_split(line, " \t", &w);
                if (r < 0)
                        return r;
                if (strv_length(w) < 3 || !streq(w[0], "deb"))
                        continue;
                rest = w + 1;
                if (rest[0][0] == '[') {
                        /* options: [ arch=amd64 signed-by=/x ] possibly split over words */
                        for (; *rest; rest++) {
                                const char *o = *rest + (**rest == '[');
                                if (startswith(o, "signed-by=")) {
                                        free(e.signed_by);
                                        e.signed_by = strndup(o + 10, strcspn(o + 10, "]"));
                                        if (!e.signed_by)
                                                return -ENOMEM;
                                }
                                if (strchr(*rest, ']')) {
                                        rest++;
                                        break;
                                }
                        }
                }
                if (strv_length(rest) < 2)
                        continue;
                e.deb = true;
                if (strv_extend(&e.uris, rest[0]) < 0 || strv_extend(&e.suites, rest[1]) < 0)
                        return -ENOMEM;
                for (char **c = rest + 2; *c; c++)
                        if (strv_extend(&e.components, *c) < 0)
                                return -ENOMEM;
                r = emit_entry(&e, want, lines, found, suite, as);
                if (r < 0)
                        return r;
        }
        return 0;
}

/* The deb lines of every entry that lists suite (or its -updates, -security), written for suite `as`
 * (NULL: suite itself). */
static int apt_sources_for(const char *suite, const char *as, char ***ret_lines) {
        _cleanup_strv_free_ char **lines = NULL, **want = NULL, **files = NULL;
        _cleanup_free_ char *dir = NULL, *main_list = NULL;
        bool found = false;
        int r;

        if (isempty(suite))
                return -EINVAL;
        if (strv_extend(&want, suite) < 0)
                return -ENOMEM;
        {
                _cleanup_free_ char *u = NULL, *s = NULL;
                if (asprintf(&u, "%s-updates", suite) < 0 || strv_consume(&want, TAKE_PTR(u)) < 0 ||
                    asprintf(&s, "%s-security", suite) < 0 || strv_consume(&want, TAKE_PTR(s)) < 0)
                        return -ENOMEM;
        }

        if (asprintf(&main_list, "%s/etc/apt/sources.list", apt_root()) < 0 ||
            asprintf(&dir, "%s/etc/apt/sources.list.d", apt_root()) < 0)
                return -ENOMEM;

        if (strv_extend(&files, main_list) < 0)
                return -ENOMEM;
        {
                _cleanup_(closedirp) DIR *d = opendir(dir);
                _cleanup_strv_free_ char **names = NULL;
                if (d)
                        for (struct dirent *de; (de = readdir(d));) {
                                if (de->d_name[0] == '.' ||
                                    !(endswith(de->d_name, ".sources") || endswith(de->d_name, ".list")))
                                        continue;
                                char *f;
                                if (asprintf(&f, "%s/%s", dir, de->d_name) < 0 || strv_consume(&names, f) < 0)
                                        return -ENOMEM;
                        }
                strv_sort(names);
                STRV_FOREACH(n, names)
                        if (strv_extend(&files, *n) < 0)
                                return -ENOMEM;
        }

        STRV_FOREACH(f, files) {
                _cleanup_free_ char *text = NULL;
                r = read_input(AT_FDCWD, *f, INPUT_FOLLOW, 0, &text, NULL);
                if (r == -ENOENT)
                        continue;
                if (r < 0)
                        return log_debug_errno(r, "Failed to read %s: %m", *f);
                r = endswith(*f, ".sources") ? parse_deb822(text, want, &lines, &found, suite, as)
                                             : parse_one_line(text, want, &lines, &found, suite, as);
                if (r < 0)
                        return r;
        }

        if (!found)
                return -ENOENT;
        *ret_lines = TAKE_PTR(lines);
        return 0;
}

int bootstrap_apt_sources(const char *suite, char ***ret_lines) {
        const TargetRelease *t, *all;
        size_t n;
        int r;

        r = apt_sources_for(suite, NULL, ret_lines);
        if (r != -ENOENT)
                return r;

        /* A Debian mirror carries every supported release (oldstable, stable, testing): when the
         * apt configuration lists only another Debian release (a Debian 12 host building Debian 11
         * or 13), its entries serve for this one. Not so for Ubuntu, whose releases leave the
         * archive for old-releases at their end of life. */
        all = target_releases(&n);
        t = NULL;
        for (size_t i = 0; i < n; i++)
                if (streq(all[i].suite, suite))
                        t = &all[i];
        if (!t || !streq(t->distribution, "debian"))
                return -ENOENT;
        for (size_t i = 0; i < n; i++) {
                if (&all[i] == t || !streq(all[i].distribution, t->distribution))
                        continue;
                r = apt_sources_for(all[i].suite, suite, ret_lines);
                if (r != -ENOENT) {
                        if (r >= 0)
                                log_debug("No apt source lists suite '%s'; using the mirror of '%s'.", suite,
                                          all[i].suite);
                        return r;
                }
        }
        return -ENOENT;
}

int bootstrap_find_mirror(const char *suite, char **ret_uri) {
        _cleanup_strv_free_ char **lines = NULL;
        int r;

        r = bootstrap_apt_sources(suite, &lines);
        if (r < 0)
                return r;
        STRV_FOREACH(l, lines) {
                _cleanup_strv_free_ char **w = NULL;
                char **p;
                if (strv_split(*l, " ", &w) < 0)
                        return -ENOMEM;
                p = w + 1;
                if (*p && (*p)[0] == '[')
                        p++;
                if (p[0] && p[1] && streq(p[1], suite)) {
                        char *u = strdup(p[0]);
                        if (!u)
                                return -ENOMEM;
                        *ret_uri = u;
                        return 0;
                }
        }
        return -ENOENT;
}

char *bootstrap_default_cache_dir(void) {
        const char *x = getenv("XDG_CACHE_HOME"), *home = getenv("HOME");
        char *p;

        if (!isempty(x) && x[0] == '/')
                return asprintf(&p, "%s/appliance-builder", x) < 0 ? NULL : p;
        if (geteuid() == 0 || isempty(home))
                return strdup("/var/cache/appliance-builder");
        return asprintf(&p, "%s/.cache/appliance-builder", home) < 0 ? NULL : p;
}

int bootstrap_rootfs(const Profile *p, const char *cache_dir, char **ret_tarball, char **reterr) {
        _cleanup_strv_free_ char **sources = NULL, **argv = NULL;
        _cleanup_free_ char *dir = NULL, *digest = NULL, *mirror = NULL, *zst = NULL, *tar = NULL,
                            *lock_path = NULL, *tmp = NULL, *include = NULL, *zstd = NULL, *mm = NULL,
                            *info_path = NULL, *info = NULL;
        _cleanup_close_ int lock_fd = -EBADF;
        const char *final;
        struct timespec t0, t1;
        int r;

        assert(p);
        assert(ret_tarball);

        r = bootstrap_apt_sources(p->suite, &sources);
        if (r == -ENOENT) {
                if (streq(p->distribution, "ubuntu"))
                        reterr_printf(reterr, 0, "%s: cannot bootstrap Ubuntu '%s': the Ubuntu archive is not reachable from the "
                                "apt config (no deb source in %s/etc/apt/sources.list or sources.list.d/ lists "
                                "suite '%s'); build profile '%s' from an Ubuntu cloud image with --base "
                                "(see README.md, \"Profiles\")",
                                p->path, p->suite, apt_root(), p->suite, p->name);
                else
                        reterr_printf(reterr, 0, "%s: cannot bootstrap %s '%s': no deb source in %s/etc/apt/sources.list or "
                                "sources.list.d/ lists suite '%s'; add one or pass --base",
                                p->path, p->distribution, p->suite, apt_root(), p->suite);
                return -ENOENT;
        }
        if (r < 0) {
                reterr_printf(reterr, 0, "cannot read the apt configuration: %s", strerror(-r));
                return r;
        }

        r = find_executable("mmdebstrap", &mm);
        if (r < 0) {
                reterr_printf(reterr, 0, "mmdebstrap is not installed (apt-get install mmdebstrap), or pass --base");
                return r;
        }

        mirror = strv_join(sources, "\n");
        if (!mirror)
                return -ENOMEM;
        digest = profile_digest_with_mirror(p, mirror);
        dir = cache_dir ? strdup(cache_dir) : bootstrap_default_cache_dir();
        if (!digest || !dir)
                return -ENOMEM;

        r = mkdir_p(dir, 0755);
        if (r < 0) {
                reterr_printf(reterr, 0, "cannot create cache directory %s: %s", dir, strerror(-r));
                return r;
        }

        if (asprintf(&zst, "%s/%s.tar.zst", dir, digest) < 0 || asprintf(&tar, "%s/%s.tar", dir, digest) < 0 ||
            asprintf(&lock_path, "%s/%s.lock", dir, digest) < 0 || asprintf(&info_path, "%s/%s.txt", dir, digest) < 0)
                return -ENOMEM;

        lock_fd = open(lock_path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
        if (lock_fd < 0) {
                r = -errno;
                reterr_printf(reterr, 0, "cannot open %s: %s", lock_path, strerror(-r));
                return r;
        }
        if (flock(lock_fd, LOCK_EX | LOCK_NB) < 0) {
                log_info("Waiting for another bootstrap of the same inputs (%s)...", lock_path);
                if (flock(lock_fd, LOCK_EX) < 0) {
                        r = -errno;
                        reterr_printf(reterr, 0, "cannot lock %s: %s", lock_path, strerror(-r));
                        return r;
                }
        }

        for (const char *c = zst; c; c = c == zst ? tar : NULL)
                if (access(c, R_OK) == 0) {
                        log_info("Using cached base system %s (profile %s, %s %s).", c, p->name,
                                 p->distribution, p->suite);
                        char *s = strdup(c);
                        if (!s)
                                return -ENOMEM;
                        *ret_tarball = s;
                        return 0;
                }

        final = find_executable("zstd", &zstd) >= 0 ? zst : tar;
        if (asprintf(&tmp, "%s/.%s.%d.tmp%s", dir, digest, (int) getpid(), final == zst ? ".tar.zst" : ".tar") < 0)
                return -ENOMEM;
        include = strv_join(p->packages, ",");
        if (!include)
                return -ENOMEM;

        _cleanup_free_ char *arch = NULL, *inc = NULL;
        if (asprintf(&arch, "--architectures=%s", p->architecture) < 0 || asprintf(&inc, "--include=%s", include) < 0)
                return -ENOMEM;

        const char *fixed[] = {
                mm, "--variant=minbase", geteuid() == 0 ? "--mode=root" : "--mode=unshare", arch, inc,
                "--dpkgopt=path-exclude=/usr/share/man/*",
                "--dpkgopt=path-exclude=/usr/share/doc/*",
                "--dpkgopt=path-include=/usr/share/doc/*/copyright",
                "--dpkgopt=path-exclude=/usr/share/locale/*",
                "--dpkgopt=path-include=/usr/share/locale/locale.alias",
                "--aptopt=Acquire::Languages \"none\"",
                p->suite, tmp,
        };
        for (size_t i = 0; i < ELEMENTSOF(fixed); i++)
                if (strv_extend(&argv, fixed[i]) < 0)
                        return -ENOMEM;
        STRV_FOREACH(s, sources)
                if (strv_extend(&argv, *s) < 0)
                        return -ENOMEM;

        log_info("Bootstrapping %s %s (%s, %zu packages) with mmdebstrap into %s; this takes a few minutes...",
                 p->distribution, p->suite, p->architecture, strv_length(p->packages), final);
        STRV_FOREACH(s, sources)
                log_info("  source: %s", *s);

        clock_gettime(CLOCK_MONOTONIC, &t0);
        r = spawn_run(argv);
        if (r != 0) {
                (void) unlink(tmp);
                if (r < 0)
                        reterr_printf(reterr, 0, "cannot run mmdebstrap: %s", strerror(-r));
                else
                        reterr_printf(reterr, 0, "mmdebstrap failed with exit status %d for profile %s (%s %s); see its output above",
                                r, p->name, p->distribution, p->suite);
                return r < 0 ? r : -EIO;
        }

        /* A small note on what the digest stands for, for humans looking into the cache. */
        if (asprintf(&info, "profile: %s\ndistribution: %s\nsuite: %s\narchitecture: %s\npackages: %s\nsources:\n%s\n",
                     p->name, p->distribution, p->suite, p->architecture, include, mirror) >= 0)
                (void) write_file_atomic(info_path, info, strlen(info), 0644);

        if (rename(tmp, final) < 0) {
                r = -errno;
                (void) unlink(tmp);
                reterr_printf(reterr, 0, "cannot rename %s to %s: %s", tmp, final, strerror(-r));
                return r;
        }
        clock_gettime(CLOCK_MONOTONIC, &t1);
        {
                struct stat st;
                if (stat(final, &st) >= 0)
                        log_info("Base system ready: %s (%.1f MiB, %.0f s).", final, st.st_size / 1048576.0,
                                 (t1.tv_sec - t0.tv_sec) + (t1.tv_nsec - t0.tv_nsec) / 1e9);
        }

        char *s = strdup(final);
        if (!s)
                return -ENOMEM;
        *ret_tarball = s;
        return 0;
}

char *profile_digest_with_mirror(const Profile *p, const char *mirror) {
        _cleanup_strv_free_ char **sorted = NULL;
        _cleanup_(sha256_freep) Sha256 *s = NULL;
        char hex[SHA256_HEX_SIZE];
        int r;

        STRV_FOREACH(i, p->packages)
                if (strv_extend(&sorted, *i) < 0)
                        return NULL;
        strv_sort(sorted);

        if (sha256_new(&s) < 0)
                return NULL;
        /* Each field is followed by a NUL so that no two different inputs hash alike. */
#define FEED(t) sha256_update(s, (t), strlen(t) + 1)
        r = FEED("appliance-builder bootstrap v1");
        if (r >= 0)
                r = FEED(strna(p->distribution));
        if (r >= 0)
                r = FEED(strna(p->suite));
        if (r >= 0)
                r = FEED(strna(p->architecture));
        if (r >= 0)
                r = FEED(mirror ?: "");
        STRV_FOREACH(i, sorted)
                if (r >= 0)
                        r = FEED(*i);
#undef FEED
        if (r >= 0)
                r = sha256_final_hex(s, hex);
        if (r < 0)
                return NULL;
        return strdup(hex);
}

char *profile_digest(const Profile *p) {
        _cleanup_strv_free_ char **lines = NULL;
        _cleanup_free_ char *mirror = NULL;

        if (bootstrap_apt_sources(p->suite, &lines) >= 0) {
                mirror = strv_join(lines, "\n");
                if (!mirror)
                        return NULL;
        }
        return profile_digest_with_mirror(p, mirror);
}
