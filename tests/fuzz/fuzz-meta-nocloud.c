/**
 * Fuzzes the NoCloud meta-data reader (YAML: local-hostname, instance-id, public-keys as a list, a
 * string or a mapping of names to keys or lists).
 */
#include <stdint.h>
#include <stdlib.h>

#include "cleanup.h"
#include "cloud-config.h"
#include "log.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        _cleanup_(cloud_config_done) CloudConfig c = {};
        _cleanup_free_ char *err = NULL;

        if (size > 256 * 1024)
                return 0;
        log_set_max_level(LOG_CRIT);
        (void) cloud_meta_data_parse(&c, "fuzz meta-data", META_DATA_NOCLOUD, (const char *) data, size, &err);
        if (c.n_users != 0)
                abort(); /* meta-data names no users */
        return 0;
}
