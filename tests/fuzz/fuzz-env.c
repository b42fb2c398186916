/**
 * Fuzzes the env loader (env.h) with untrusted bytes: loading with and without the header rule,
 * the typed accessors on well-known paths, a walk over the whole tree, and flattening in both
 * formats (alias expansion must stay bounded), and the env schema both programs apply (every
 * finding names the file, the error count adds up). The first byte selects the load
 * flags.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cleanup.h"
#include "env-schema.h"
#include "env.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Visits every node (aliases share nodes, so the budget keeps alias bombs cheap). */
static void walk(const EnvNode *n, unsigned depth, size_t *budget) {
        if (depth > 300)
                abort();   /* the loader limits nesting */
        if (*budget == 0)
                return;
        (*budget)--;
        (void) env_node_line(n);
        (void) env_node_string(n);
        (void) env_node_bool(n);
        int64_t v;
        (void) env_node_int(n, &v);
        for (size_t i = 0; i < env_node_size(n) && *budget > 0; i++) {
                (void) env_node_key(n, i);
                (void) env_node_key_line(n, i);
                walk(env_node_item(n, i), depth + 1, budget);
        }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        static const char *const paths[] = {
                "appliance:domain", "appliance:standby", "ecs:userswitcher:enabled", "ssh_authorized_keys:0",
                "appliance:extra:files:0:path", "USERDATA_TYPE", "", "a:b:c:0:1",
        };
        _cleanup_(env_freep) Env *e = NULL;
        _cleanup_free_ char *err = NULL;

        if (size < 1 || size > 64 * 1024)
                return 0;
        EnvLoadFlags flags = (data[0] & 1) ? ENV_LOAD_NO_HEADER : 0;
        if (env_load_buffer_flags("fuzz.yml", (const char *) data + 1, size - 1, flags, &e, &err) < 0) {
                if (!err)
                        abort();   /* every failure but OOM carries a message */
                return 0;
        }

        for (size_t i = 0; i < sizeof(paths) / sizeof(paths[0]); i++) {
                int64_t v;
                (void) env_get_string(e, paths[i], NULL);
                (void) env_get_bool(e, paths[i], 0);
                (void) env_get_int(e, paths[i], 0, &v);
                (void) env_list_length(e, paths[i]);
        }
        size_t budget = 100000;
        walk(env_root(e), 0, &budget);
        for (char *const *w = env_warnings(e); *w; w++)
                (void) strlen(*w);

        char *all[] = { (char *) ".", NULL };
        _cleanup_free_ char *a = NULL, *b = NULL;
        (void) env_flatten(e, NULL, ENV_FLATTEN_SYSTEMD, &a);
        (void) env_flatten(e, all, ENV_FLATTEN_SH, &b);

        _cleanup_(env_findings_done) EnvFindings f = {};
        if (env_schema_check(e, &f) < 0)
                return 0;
        unsigned errors = 0;
        for (size_t i = 0; i < f.n; i++) {
                if (!f.items[i].text || !strstr(f.items[i].text, "fuzz.yml"))
                        abort();
                errors += f.items[i].error;
        }
        if (errors != f.errors || (errors > 0) != !!env_findings_first_error(&f))
                abort();
        return 0;
}
