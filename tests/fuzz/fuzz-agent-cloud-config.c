/**
 * Fuzzes the cloud-config subset the agent applies from a seed that carries no env (users, keys,
 * host names), and the meta-data readers (NoCloud YAML, config-2 JSON) on the same input.
 */
#include <stdint.h>
#include <stdlib.h>

#include "cleanup.h"
#include "cloud-config.h"
#include "log.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        _cleanup_(cloud_config_done) CloudConfig c = {};
        _cleanup_free_ char *err = NULL, *err2 = NULL, *err3 = NULL, *item = NULL;

        if (size > 256 * 1024)
                return 0;
        log_set_max_level(LOG_CRIT);
        (void) cloud_config_parse(&c, "fuzz user-data", (const char *) data, size, &err);
        (void) cloud_meta_data_parse(&c, "fuzz meta-data", META_DATA_NOCLOUD, (const char *) data, size, &err2);
        (void) cloud_meta_data_parse(&c, "fuzz meta_data.json", META_DATA_CONFIG2, (const char *) data, size, &err3);
        item = strndup((const char *) data, size);
        if (item)
                (void) cloud_meta_data_add_ec2(&c, "public-keys/0/openssh-key", item);
        for (size_t i = 0; i < c.n_users; i++)
                if (!c.users[i].name)
                        abort();
        return 0;
}
