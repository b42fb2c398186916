/**
 * Fuzzes the EC2 meta-data items as the service returns them: the input is a list of
 * "ITEM<TAB>VALUE" records separated by NUL bytes (public-keys/N/openssh-key, local-hostname,
 * anything else), added one by one to one configuration.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cleanup.h"
#include "cloud-config.h"
#include "log.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        _cleanup_(cloud_config_done) CloudConfig c = {};
        _cleanup_free_ char *copy = NULL;
        char *p, *end;

        if (size > 256 * 1024)
                return 0;
        log_set_max_level(LOG_CRIT);
        copy = malloc(size + 1);
        if (!copy)
                return 0;
        memcpy(copy, data, size);
        copy[size] = 0;
        for (p = copy, end = copy + size; p <= end; p += strlen(p) + 1) {
                char *tab = strchr(p, '\t');
                if (tab)
                        *tab = 0;
                (void) cloud_meta_data_add_ec2(&c, p, tab ? tab + 1 : "");
        }
        if (c.n_users != 0)
                abort();
        return 0;
}
