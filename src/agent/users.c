/**
 * passwd/group parsing under the agent root.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cleanup.h"
#include "fileio.h"
#include "parse-util.h"
#include "users.h"

/* Finds the line whose first field is name; returns the fields (up to max) split at ':'. */
static int db_find(const Agent *a, const char *db, const char *name, char ***ret_fields) {
        _cleanup_free_ char *path = agent_path(a, db), *text = NULL;
        int r;

        if (!path)
                return -ENOMEM;
        r = read_full_file(path, &text, NULL, 16 * 1024 * 1024);
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
