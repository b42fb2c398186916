/**
 * Unit tests of the builder's env check: the schema plus the OpenPGP keys, with a key made by
 * GnuPG in a throw-away home (importable, with its secret, under its expected user id or another),
 * a damaged block, and env_check_file() on real files.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cleanup.h"
#include "env.h"
#include "env/check.h"
#include "env/gpg.h"
#include "fileio.h"
#include "log.h"
#include "macro.h"
#include "../tmpdir.h"

/* text with each line indented by n spaces (for a block scalar). */
static char *indent(const char *text, int n) {
        char *out = NULL;
        size_t size = 0;
        FILE *f = open_memstream(&out, &size);

        assert_non_null(f);
        for (const char *l = text; *l;) {
                size_t k = strcspn(l, "\n");
                fprintf(f, "%*s%.*s\n", n, "", (int) k, l);
                l += k + (l[k] == '\n');
        }
        assert_int_equal(fclose(f), 0);
        return out;
}

static unsigned check_text(const char *text, unsigned *ret_warnings, char **ret_first) {
        _cleanup_(env_findings_done) EnvFindings f = {};
        _cleanup_(env_freep) Env *e = NULL;
        _cleanup_free_ char *err = NULL;

        if (env_load_buffer("env.yml", text, strlen(text), &e, &err) < 0)
                fail_msg("load: %s\n%s", strna(err), text);
        assert_int_equal(env_check(e, &f), 0);
        *ret_warnings = f.warnings;
        free(*ret_first);
        *ret_first = f.n > 0 ? strdup(f.items[0].text) : NULL;
        return f.errors;
}

#define HEAD "#cloud-config\nappliance:\n  domain: a.example.org\n"

static void test_pgp_keys(void **state) {
        _cleanup_(env_gpg_home_freep) EnvGpgHome *h = NULL;
        _cleanup_free_ char *key = NULL, *err = NULL, *k4 = NULL, *k6 = NULL, *ok = NULL, *other = NULL, *bad = NULL,
                            *first = NULL, *good_path = NULL, *bad_path = NULL;
        unsigned warnings;

        log_set_max_level(LOG_CRIT);
        assert_int_equal(env_gpg_home_new(&h), 0);
        if (env_gpg_create_key(h, "ecs_mediaserver", &key, &err) < 0)
                fail_msg("env_gpg_create_key: %s", strna(err));
        k4 = indent(key, 4);
        k6 = indent(key, 6);

        /* the vault keys; the signing one has the wrong user id, which is noted only */
        assert_true(asprintf(&ok, HEAD "ecs:\n  settings: x\n  vault_encrypt: |\n%s  vault_sign: |\n%s", k4, k4) > 0);
        if (check_text(ok, &warnings, &first) != 0)
                fail_msg("valid env refused: %s", strna(first));
        assert_int_equal(warnings, 1);
        assert_non_null(strstr(first, "ecs:vault_sign: OpenPGP user id is"));

        /* the same key where the backup key belongs: valid, its other user id noted */
        assert_true(asprintf(&other, HEAD "  backup:\n    encrypt: |\n%s", k6) > 0);
        assert_int_equal(check_text(other, &warnings, &first), 0);
        assert_int_equal(warnings, 1);
        assert_non_null(strstr(first, "appliance:backup:encrypt: OpenPGP user id is"));
        assert_non_null(strstr(first, "'ecs_backup'"));

        /* a damaged block: an error naming the key and its line */
        char *mid = strstr(k4, "\n    ") + 10;
        for (int i = 0; i < 20 && mid[i] && mid[i] != '\n'; i++)
                mid[i] = mid[i] == 'A' ? 'B' : 'A';
        _cleanup_free_ char *k4_good = indent(key, 4);
        assert_true(asprintf(&bad, HEAD "ecs:\n  settings: x\n  vault_encrypt: |\n%s  vault_sign: |\n%s", k4_good, k4) > 0);
        if (check_text(bad, &warnings, &first) != 1 || !strstr(first, "ecs:vault_sign: not an importable OpenPGP key"))
                fail_msg("finding: %s", strna(first));

        /* env_check_file(): 0, or -EINVAL with the first error */
        good_path = tmpdir_path(state, "good.yml");
        bad_path = tmpdir_path(state, "bad.yml");
        assert_int_equal(write_file_atomic(good_path, ok, strlen(ok), 0600), 0);
        assert_int_equal(write_file_atomic(bad_path, bad, strlen(bad), 0600), 0);
        free(err);
        err = NULL;
        assert_int_equal(env_check_file(good_path, false, &err), 0);
        assert_null(err);
        assert_int_equal(env_check_file(bad_path, false, &err), -EINVAL);
        assert_non_null(strstr(err, "ecs:vault_sign: not an importable OpenPGP key"));
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test_setup_teardown(test_pgp_keys, tmpdir_setup, tmpdir_teardown),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
