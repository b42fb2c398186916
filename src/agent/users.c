/**
 * passwd/group parsing under the agent root, and creating users there (no useradd: the image may
 * lack it, and --root must work): lines appended to passwd, shadow, group and gshadow, each file
 * rewritten atomically with its own mode and owner.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "agent-path.h"
#include "chase.h"
#include "cleanup.h"
#include "fileio.h"
#include "log.h"
#include "parse-util.h"
#include "reterr.h"
#include "strv.h"
#include "users.h"

/* Finds the line whose first field is name; returns the fields (up to max) split at ':'. */
static int db_find(const Agent *a, const char *db, const char *name, char ***ret_fields) {
        _cleanup_free_ char *text = NULL;
        int r;

        r = agent_read_image_file(a, db, 16 * 1024 * 1024, &text, NULL);
        if (r == -ENOENT)
                return -ESRCH;
        if (r < 0)
                return r;
        for (char *l = text, *next; l && *l; l = next) {
                size_t n = strcspn(l, "\n");
                next = l[n] ? l + n + 1 : NULL;
                l[n] = 0;
                size_t k = strcspn(l, ":");
                if (l[k] != ':' || k != strlen(name) || !strneq(l, name, k))
                        continue;
                char **fields = calloc(8, sizeof(char *));
                if (!fields)
                        return -ENOMEM;
                size_t i = 0;
                for (char *f = l; f && i < 7; i++) {
                        char *c = strchr(f, ':');
                        fields[i] = c ? strndup(f, (size_t) (c - f)) : strdup(f);
                        if (!fields[i]) {
                                strv_free(fields);
                                return -ENOMEM;
                        }
                        f = c ? c + 1 : NULL;
                }
                *ret_fields = fields;
                return 0;
        }
        return -ESRCH;
}

int user_lookup(const Agent *a, const char *name, uid_t *ret_uid, gid_t *ret_gid, char **ret_home) {
        _cleanup_strv_free_ char **f = NULL;
        unsigned uid, gid;
        int r;

        if (safe_atou(name, &uid) >= 0) {
                *ret_uid = uid;
                *ret_gid = uid;
                if (ret_home)
                        *ret_home = NULL;
                return 0;
        }
        r = db_find(a, "/etc/passwd", name, &f);
        if (r < 0)
                return r;
        if (!f[2] || !f[3] || safe_atou(f[2], &uid) < 0 || safe_atou(f[3], &gid) < 0)
                return -EBADMSG;
        if (ret_home) {
                *ret_home = f[5] ? strdup(f[5]) : NULL;
                if (f[5] && !*ret_home)
                        return -ENOMEM;
        }
        *ret_uid = uid;
        *ret_gid = gid;
        return 0;
}

int group_lookup(const Agent *a, const char *name, gid_t *ret_gid) {
        _cleanup_strv_free_ char **f = NULL;
        unsigned gid;
        int r;

        if (safe_atou(name, &gid) >= 0) {
                *ret_gid = gid;
                return 0;
        }
        r = db_find(a, "/etc/group", name, &f);
        if (r < 0)
                return r;
        if (!f[2] || safe_atou(f[2], &gid) < 0)
                return -EBADMSG;
        *ret_gid = gid;
        return 0;
}

int owner_parse(const Agent *a, const char *spec, uid_t *ret_uid, gid_t *ret_gid) {
        _cleanup_free_ char *user = NULL;
        const char *colon = strchr(spec, ':');
        uid_t uid;
        gid_t gid;
        int r;

        user = colon ? strndup(spec, (size_t) (colon - spec)) : strdup(spec);
        if (!user)
                return -ENOMEM;
        r = user_lookup(a, user, &uid, &gid, NULL);
        if (r < 0)
                return r;
        if (colon && colon[1]) {
                r = group_lookup(a, colon + 1, &gid);
                if (r < 0)
                        return r;
        }
        *ret_uid = uid;
        *ret_gid = gid;
        return 0;
}

#define USER_NAME_MAX 32
#define USER_ID_FIRST 1000U
#define USER_ID_LAST 59999U

static bool user_name_valid(const char *s) {
        /* The portable subset useradd accepts by default: [a-z_][a-z0-9_-]*, at most 32. */
        if (isempty(s) || strlen(s) > USER_NAME_MAX)
                return false;
        if (!(s[0] == '_' || (s[0] >= 'a' && s[0] <= 'z')))
                return false;
        return strspn(s, "abcdefghijklmnopqrstuvwxyz0123456789_-") == strlen(s);
}

/* An absolute path without empty, "." or ".." components, without ':' or control characters. */
static bool clean_absolute_path(const char *p) {
        if (isempty(p) || p[0] != '/' || strlen(p) > 255)
                return false;
        for (const char *c = p; *c; c++)
                if ((unsigned char) *c < 0x20 || *c == 0x7f || *c == ':' || *c == '\\')
                        return false;
        for (const char *c = p; *c;) {
                size_t n;

                c++;  /* the '/' */
                n = strcspn(c, "/");
                if ((n == 0 && c[n]) || (n == 1 && c[0] == '.') || (n == 2 && c[0] == '.' && c[1] == '.'))
                        return false;
                c += n;
        }
        return true;
}

int user_spec_check(const UserSpec *u, char **reterr) {
        if (isempty(u->name))
                return reterr_printf(reterr, -EINVAL, "a user needs a name");
        if (strlen(u->name) > USER_NAME_MAX)
                return reterr_printf(reterr, -EINVAL, "user name '%.32s...' is longer than %d characters", u->name,
                                     USER_NAME_MAX);
        if (!user_name_valid(u->name))
                return reterr_printf(reterr, -EINVAL,
                                     "'%s' is not a valid user name (lower-case letters, digits, '_' and '-', "
                                     "starting with a letter or '_')", u->name);
        if (u->home && !clean_absolute_path(u->home))
                return reterr_printf(reterr, -EINVAL, "user '%s': home '%s' is not a clean absolute path", u->name,
                                     u->home);
        if (u->shell && !clean_absolute_path(u->shell))
                return reterr_printf(reterr, -EINVAL, "user '%s': shell '%s' is not a clean absolute path", u->name,
                                     u->shell);
        if (u->gecos && (strlen(u->gecos) > 128 || strpbrk(u->gecos, ":\n\r\\")))
                return reterr_printf(reterr, -EINVAL, "user '%s': the gecos field must be one line of at most 128 "
                                     "characters without ':'", u->name);
        if ((u->uid != USER_ID_UNSET && u->uid > 65533) || (u->gid != USER_ID_UNSET && u->gid > 65533))
                return reterr_printf(reterr, -EINVAL, "user '%s': ids must be at most 65533", u->name);
        STRV_FOREACH(g, u->groups)
                if (!user_name_valid(*g))
                        return reterr_printf(reterr, -EINVAL, "user '%s': '%s' is not a valid group name", u->name,
                                             *g);
        if (u->sudo) {
                if (isempty(u->sudo) || strlen(u->sudo) > 200)
                        return reterr_printf(reterr, -EINVAL, "user '%s': empty or overlong sudo rule", u->name);
                /* One rule line: no comments, escapes, includes or aliases sudoers would read as more. */
                if (strspn(u->sudo, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789 =(),:/_-.*") !=
                    strlen(u->sudo))
                        return reterr_printf(reterr, -EINVAL, "user '%s': sudo rule '%s' has characters outside "
                                             "[A-Za-z0-9 =(),:/_.*-]", u->name, u->sudo);
        }
        return 0;
}

/* Reads ROOT/path (missing: NULL text) and keeps its mode and owner for the rewrite. */
typedef struct DbFile {
        char *path;
        char *text;
        mode_t mode;
        uid_t uid;
        gid_t gid;
        bool exists;
} DbFile;

static void db_file_done(DbFile *f) {
        free(f->path);
        free(f->text);
}

static int db_file_read(const Agent *a, const char *rel, mode_t default_mode, DbFile *ret) {
        _cleanup_close_ int fd = -EBADF;
        struct stat st;
        int r;

        *ret = (DbFile) { .path = strdup(rel), .mode = default_mode };
        if (!ret->path)
                return -ENOMEM;
        r = agent_open(a, rel, O_RDONLY | O_NONBLOCK | O_NOCTTY, &fd);
        if (r == -ENOENT)
                return 0;
        if (r < 0)
                return r;
        if (fstat(fd, &st) < 0)
                return -errno;
        if (!S_ISREG(st.st_mode))
                return -EBADFD;
        r = read_full_fd(fd, 16 * 1024 * 1024, &ret->text, NULL);
        if (r < 0)
                return r;
        ret->exists = true;
        ret->mode = st.st_mode & 07777;
        ret->uid = st.st_uid;
        ret->gid = st.st_gid;
        return 0;
}

/* Whether field 3 (the numeric id) of any line equals id. */
static bool db_id_used(const char *text, unsigned id) {
        for (const char *l = text; l && *l; l = strchr(l, '\n') ? strchr(l, '\n') + 1 : NULL) {
                const char *c = strchr(l, ':');
                unsigned v;

                if (!c || !(c = strchr(c + 1, ':')))
                        continue;
                c++;
                _cleanup_free_ char *num = strndup(c, strcspn(c, ":\n"));
                if (num && safe_atou(num, &v) >= 0 && v == id)
                        return true;
        }
        return false;
}

static int db_append(DbFile *f, const char *line, bool create) {
        _cleanup_free_ char *out = NULL;
        size_t n = f->text ? strlen(f->text) : 0;

        if (!f->exists && !create)
                return 0;
        if (asprintf(&out, "%s%s%s\n", f->text ?: "", n > 0 && f->text[n - 1] != '\n' ? "\n" : "", line) < 0)
                return -ENOMEM;
        free(f->text);
        f->text = TAKE_PTR(out);
        return 1;
}

static int db_write(const Agent *a, DbFile *f) {
        return agent_write_file(a, f->path, f->text ?: "", f->text ? strlen(f->text) : 0, f->mode, f->uid, f->gid);
}

/* Adds user to the member list (field 4) of group line name in text; 1 if added, 0 if already
 * there, -ESRCH if there is no such group. */
static int group_add_member(char **text, const char *group, const char *user, bool must_exist) {
        _cleanup_free_ char *out = NULL;
        size_t olen = 0;
        bool found = false, added = false;
        FILE *f;

        if (!*text)
                return must_exist ? -ESRCH : 0;
        f = open_memstream(&out, &olen);
        if (!f)
                return -ENOMEM;
        for (char *l = *text, *next; l && *l; l = next) {
                size_t n = strcspn(l, "\n"), k = strcspn(l, ":");
                next = l[n] ? l + n + 1 : l + n;
                fwrite(l, 1, n, f);
                if (!found && k < n && k == strlen(group) && strneq(l, group, k)) {
                        /* name:pw:gid:members (group) or name:pw:admins:members (gshadow) */
                        const char *last = memrchr(l, ':', n);
                        _cleanup_strv_free_ char **members = NULL;
                        _cleanup_free_ char *m = strndup(last + 1, (size_t) (l + n - last - 1));

                        found = true;
                        if (!m || strv_split(m, ",", &members) < 0) {
                                fclose(f);
                                return -ENOMEM;
                        }
                        if (!strv_contains(members, user)) {
                                fprintf(f, "%s%s", strv_length(members) > 0 ? "," : "", user);
                                added = true;
                        }
                }
                fputc('\n', f);
        }
        if (fclose(f) != 0)
                return -ENOMEM;
        if (!found)
                return must_exist ? -ESRCH : 0;
        free(*text);
        *text = TAKE_PTR(out);
        return added;
}

static unsigned next_free_id(const char *a_text, const char *b_text, unsigned prefer) {
        if (prefer != USER_ID_UNSET && !db_id_used(a_text, prefer) && !db_id_used(b_text, prefer))
                return prefer;
        for (unsigned id = USER_ID_FIRST; id <= USER_ID_LAST; id++)
                if (!db_id_used(a_text, id) && !db_id_used(b_text, id))
                        return id;
        return USER_ID_UNSET;
}

static int write_sudoers(const Agent *a, const UserSpec *u) {
        _cleanup_free_ char *rel = NULL, *text = NULL;

        if (asprintf(&rel, "/etc/sudoers.d/90-appliance-%s", u->name) < 0 ||
            asprintf(&text, "# written by appliance-agent from the seed or the image profile\n%s %s\n", u->name,
                     u->sudo) < 0)
                return -ENOMEM;
        return agent_write_file(a, rel, text, strlen(text), 0440, 0, 0);
}

int user_ensure(const Agent *a, const UserSpec *u, char **reterr) {
        _cleanup_(db_file_done) DbFile passwd = {}, shadow = {}, group = {}, gshadow = {};
        _cleanup_free_ char *line = NULL, *default_home = NULL;
        const char *home = u->home;
        uid_t cur_uid;
        gid_t cur_gid;
        int r, changed = 0;

        r = user_spec_check(u, reterr);
        if (r < 0)
                return r;
        r = db_file_read(a, "/etc/passwd", 0644, &passwd);
        if (r >= 0)
                r = db_file_read(a, "/etc/shadow", 0640, &shadow);
        if (r >= 0)
                r = db_file_read(a, "/etc/group", 0644, &group);
        if (r >= 0)
                r = db_file_read(a, "/etc/gshadow", 0640, &gshadow);
        if (r < 0)
                return reterr_printf(reterr, r, "cannot read the user database: %s", strerror(-r));

        r = user_lookup(a, u->name, &cur_uid, &cur_gid, NULL);
        if (r >= 0) {
                if (u->uid != USER_ID_UNSET && cur_uid != u->uid)
                        return reterr_printf(reterr, -EEXIST, "user '%s' exists with uid %u, not %u", u->name,
                                             (unsigned) cur_uid, u->uid);
                if (u->gid != USER_ID_UNSET && cur_gid != u->gid)
                        return reterr_printf(reterr, -EEXIST, "user '%s' exists with gid %u, not %u", u->name,
                                             (unsigned) cur_gid, u->gid);
        } else if (r == -ESRCH) {
                unsigned uid, gid;
                gid_t existing_gid;

                if (u->uid != USER_ID_UNSET && db_id_used(passwd.text, u->uid))
                        return reterr_printf(reterr, -EEXIST, "user '%s': uid %u belongs to another user", u->name,
                                             u->uid);
                uid = u->uid != USER_ID_UNSET ? u->uid : next_free_id(passwd.text, NULL, USER_ID_UNSET);
                if (uid == USER_ID_UNSET)
                        return reterr_printf(reterr, -ENOSPC, "user '%s': no free uid", u->name);

                r = group_lookup(a, u->name, &existing_gid);
                if (r >= 0) {
                        if (u->gid != USER_ID_UNSET && existing_gid != u->gid)
                                return reterr_printf(reterr, -EEXIST, "group '%s' exists with gid %u, not %u", u->name,
                                                     (unsigned) existing_gid, u->gid);
                        gid = existing_gid;
                } else if (r == -ESRCH) {
                        if (u->gid != USER_ID_UNSET && db_id_used(group.text, u->gid))
                                return reterr_printf(reterr, -EEXIST, "user '%s': gid %u belongs to another group",
                                                     u->name, u->gid);
                        gid = u->gid != USER_ID_UNSET ? u->gid : next_free_id(group.text, NULL, uid);
                        if (gid == USER_ID_UNSET)
                                return reterr_printf(reterr, -ENOSPC, "user '%s': no free gid", u->name);
                        free(line);
                        line = NULL;
                        if (asprintf(&line, "%s:x:%u:", u->name, gid) < 0)
                                return -ENOMEM;
                        if (db_append(&group, line, true) < 0)
                                return -ENOMEM;
                        free(line);
                        line = NULL;
                        if (asprintf(&line, "%s:!::", u->name) < 0 || db_append(&gshadow, line, false) < 0)
                                return -ENOMEM;
                } else
                        return reterr_printf(reterr, r, "cannot read the group database: %s", strerror(-r));

                if (!home) {
                        if (asprintf(&default_home, "/home/%s", u->name) < 0)
                                return -ENOMEM;
                        home = default_home;
                }
                free(line);
                line = NULL;
                if (asprintf(&line, "%s:x:%u:%u:%s:%s:%s", u->name, uid, gid, u->gecos ?: "", home,
                             u->shell ?: "/bin/sh") < 0 ||
                    db_append(&passwd, line, true) < 0)
                        return -ENOMEM;
                free(line);
                line = NULL;
                /* "*": no password matches, yet the account is not locked, so ssh keys work. */
                if (asprintf(&line, "%s:*:%llu:0:99999:7:::", u->name, (unsigned long long) (time(NULL) / 86400)) < 0 ||
                    db_append(&shadow, line, false) < 0)
                        return -ENOMEM;

                /* group before passwd, shadow last: a half-written set never names a missing group. */
                r = db_write(a, &group);
                if (r >= 0 && gshadow.exists)
                        r = db_write(a, &gshadow);
                if (r >= 0)
                        r = db_write(a, &passwd);
                if (r >= 0 && shadow.exists)
                        r = db_write(a, &shadow);
                if (r < 0)
                        return reterr_printf(reterr, r, "user '%s': cannot write the user database: %s", u->name,
                                             strerror(-r));

                {
                        /* An existing home keeps its mode; it gets the user as owner, through its fd. */
                        _cleanup_close_ int hfd = -EBADF;
                        r = chase_mkdir_p(a->root_fd, home, CHASE_NO_SYMLINKS, 0755, uid, gid, &hfd);
                        if (r >= 0)
                                r = fd_chown_chmod(hfd, uid, gid, (mode_t) -1);
                }
                if (r < 0) {
                        _cleanup_free_ char *why = agent_io_reason(a, home, r);
                        return reterr_printf(reterr, r, "user '%s': cannot create home '%s': %s", u->name, home,
                                             why ?: strerror(-r));
                }
                log_info("Created user '%s' (uid %u, gid %u, home %s).", u->name, uid, gid, home);
                changed = 1;
        } else
                return reterr_printf(reterr, r, "cannot look up user '%s': %s", u->name, strerror(-r));

        STRV_FOREACH(g, u->groups) {
                r = group_add_member(&group.text, *g, u->name, true);
                if (r == -ESRCH)
                        return reterr_printf(reterr, r, "user '%s': no group '%s' in the image", u->name, *g);
                if (r < 0)
                        return r;
                if (r > 0) {
                        if (group_add_member(&gshadow.text, *g, u->name, false) < 0)
                                return -ENOMEM;
                        r = db_write(a, &group);
                        if (r >= 0 && gshadow.exists)
                                r = db_write(a, &gshadow);
                        if (r < 0)
                                return reterr_printf(reterr, r, "user '%s': cannot write the group database: %s",
                                                     u->name, strerror(-r));
                        log_info("Added user '%s' to group '%s'.", u->name, *g);
                        changed = 1;
                }
        }
        if (u->sudo) {
                r = write_sudoers(a, u);
                if (r < 0)
                        return reterr_printf(reterr, r, "user '%s': cannot write its sudoers file: %s", u->name,
                                             strerror(-r));
                if (r > 0)
                        log_info("Wrote the sudo rule of '%s'.", u->name);
                changed |= r;
        }
        return changed;
}
