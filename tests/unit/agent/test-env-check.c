/**
 * Unit tests of the agent's env check: real envs through the common schema, one verdict and the
 * first error's text (with the count of the others), as prepare-env reports it.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "cleanup.h"
#include "env.h"
#include "env-check.h"
#include "macro.h"

static void test_verdicts(void **state) {
        static const struct {
                const char *text;
                int r;
                const char *error; /* a part of *reterr */
        } rows[] = {
                { "#cloud-config\nappliance:\n  domain: ecs.example.org\n", 0, NULL },
                /* a warning (unknown key) does not refuse the env */
                { "#cloud-config\nappliance:\n  domain: ecs.example.org\n  nope: 1\n", 0, NULL },
                /* the host name rules the builder applies: a label ending in '-', a 64-character label */
                { "#cloud-config\nappliance:\n  domain: a-.example.org\n", -EBADMSG, "env.yml:3:11: appliance:domain" },
                { "#cloud-config\nappliance:\n  domain: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.org\n",
                  -EBADMSG, "appliance:domain" },
                { "#cloud-config\nappliance: {}\n", -EBADMSG, "appliance:domain: required key is missing" },
                { "#cloud-config\nappliance:\n  domain: yes\n", -EBADMSG, "expected a string, found a boolean" },
                /* two errors: the first, and how many more */
                { "#cloud-config\nappliance:\n  domain: yes\n  extra:\n    files:\n      - path: /x\n        permissions: 0600\n",
                  -EBADMSG, "(and 1 more error(s))" },
        };
        (void) state;

        for (size_t i = 0; i < ELEMENTSOF(rows); i++) {
                _cleanup_(env_freep) Env *e = NULL;
                _cleanup_free_ char *err = NULL, *why = NULL;
                int r;

                r = env_load_buffer("env.yml", rows[i].text, strlen(rows[i].text), &e, &err);
                if (r < 0)
                        fail_msg("row %zu: %s", i, strna(err));
                r = agent_env_check(e, false, &why);
                if (r != rows[i].r)
                        fail_msg("row %zu: agent_env_check() = %d (%s), expected %d", i, r, strna(why), rows[i].r);
                if (rows[i].error && (!why || !strstr(why, rows[i].error)))
                        fail_msg("row %zu: '%s' lacks '%s'", i, strna(why), rows[i].error);
                if (!rows[i].error)
                        assert_null(why);
        }
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_verdicts),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
