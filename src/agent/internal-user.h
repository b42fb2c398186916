/**
 * create-internal-user.sh EMAIL "First" "Last" f|m (manual: "create first internal office user"):
 * the arguments are checked here, a 16-character [a-z0-9] password is made, and the profile's hook
 * (hooks: create-internal-user: PROGRAM) creates or updates the user in the application. The hook
 * gets EMAIL FIRST LAST GENDER as arguments and the password as the one line on its stdin (never
 * in argv), and prints "created" or "updated". The password is printed once.
 */
#pragma once

#include "agent.h"

#define INTERNAL_USER_PASSWORD_LEN 16U

/* Checks the arguments: -EINVAL with the argument named in *reterr. */
int internal_user_check(const char *email, const char *first, const char *last, const char *gender, char **reterr);

/* Runs the hook. Returns 1 if created, 0 if updated; -EOPNOTSUPP if the profile has no hook. The
 * password is in password. */
int internal_user_apply(const Agent *a, const char *email, const char *first, const char *last, const char *gender,
                        char password[static INTERNAL_USER_PASSWORD_LEN + 1], char **reterr);
