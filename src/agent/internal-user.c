/**
 * create-internal-user.sh (internal-user.h).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent-path.h"
#include "client-ca.h"
#include "cleanup.h"
#include "crypto.h"
#include "internal-user.h"
#include "profile.h"
#include "reterr.h"
#include "spawn.h"

static int check_part(const char *what, const char *s, char **reterr) {
        size_t n = strlen(s);

        if (n == 0 || n > 64)
                return reterr_printf(reterr, -EINVAL, "%s must have 1 to 64 characters, it has %zu", what, n);
        for (const unsigned char *p = (const unsigned char *) s; *p; p++)
                if (*p < 0x20 || *p == 0x7f)
                        return reterr_printf(reterr, -EINVAL, "%s must not contain control characters", what);
        return 0;
}

int internal_user_check(const char *email, const char *first, const char *last, const char *gender, char **reterr) {
        int r;

        r = client_cert_check_email(email, reterr);
        if (r >= 0)
                r = check_part("First name", first, reterr);
        if (r >= 0)
                r = check_part("Last name", last, reterr);
        if (r >= 0 && !streq(gender, "f") && !streq(gender, "m"))
                r = reterr_printf(reterr, -EINVAL, "gender must be f or m, not '%s'", gender);
        return r;
}

int internal_user_apply(const Agent *a, const char *email, const char *first, const char *last, const char *gender,
                        char password[static INTERNAL_USER_PASSWORD_LEN + 1], char **reterr) {
        _cleanup_(profile_freep) Profile *p = NULL;
        _cleanup_free_ char *err = NULL, *out = NULL, *line = NULL;
        int r;

        r = internal_user_check(email, first, last, gender, reterr);
        if (r < 0)
                return r;
        r = agent_load_profile(a, &p, &err);
        if (r < 0)
                return reterr_printf(reterr, r, "%s", err ?: "cannot read the image profile");
        if (!p->hook_create_internal_user)
                return reterr_printf(reterr, -EOPNOTSUPP,
                                     "the profile '%s' defines no hooks: create-internal-user (this image has no "
                                     "application users)", p->name ?: "?");
        r = random_password(INTERNAL_USER_PASSWORD_LEN, password);
        if (r < 0)
                return reterr_printf(reterr, r, "No random bytes for the password: %s", strerror(-r));
        if (asprintf(&line, "%s\n", password) < 0)
                return -ENOMEM;
        r = spawn_capture((char *[]) { p->hook_create_internal_user, (char *) email, (char *) first, (char *) last,
                                       (char *) gender, NULL },
                          line, strlen(line), 0, &out, NULL);
        explicit_bzero(line, strlen(line));
        if (r < 0)
                return reterr_printf(reterr, r, "cannot run the hook '%s': %s", p->hook_create_internal_user,
                                     strerror(-r));
        if (r != 0)
                return reterr_printf(reterr, -EIO, "the hook '%s' failed with exit status %d",
                                     p->hook_create_internal_user, r);
        if (out && startswith(out, "created"))
                return 1;
        if (out && startswith(out, "updated"))
                return 0;
        return reterr_printf(reterr, -EPROTO, "the hook '%s' printed neither 'created' nor 'updated': '%.80s'",
                             p->hook_create_internal_user, out ?: "");
}
