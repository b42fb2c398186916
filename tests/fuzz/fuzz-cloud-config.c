/**
 * Fuzzes the #cloud-config subset alone (users with their groups, sudo, shells and keys, top-level
 * keys, host names): every user the parser keeps has a name, and every note is a string.
 */
#include <stdint.h>
#include <stdlib.h>

#include "cleanup.h"
#include "cloud-config.h"
#include "log.h"
#include "strv.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        _cleanup_(cloud_config_done) CloudConfig c = {};
        _cleanup_free_ char *err = NULL;

        if (size > 256 * 1024)
                return 0;
        log_set_max_level(LOG_CRIT);
        (void) cloud_config_parse(&c, "fuzz user-data", (const char *) data, size, &err);
        for (size_t i = 0; i < c.n_users; i++)
                if (!c.users[i].name || c.users[i].name[0] == 0)
                        abort();
        STRV_FOREACH(n, c.notes)
                if (!*n)
                        abort();
        return 0;
}
