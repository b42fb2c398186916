/**
 * Fuzzes the one profile parser (profile_load_from_string, used by the builder and the agent) and
 * the bootstrap digest of whatever it accepts; checks the invariants both programs rely on.
 */
#include <stdint.h>
#include <stdlib.h>

#include "cleanup.h"
#include "log.h"
#include "profile.h"
#include "source/bootstrap.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        _cleanup_(profile_freep) Profile *p = NULL;
        _cleanup_free_ char *err = NULL, *digest = NULL;

        if (size > 256 * 1024)
                return 0;
        log_set_max_level(LOG_CRIT);
        if (profile_load_from_string("fuzz.yml", (const char *) data, size, &p, &err) < 0)
                return 0;
        digest = profile_digest_with_mirror(p, "deb http://mirror.invalid/debian bookworm main");
        if (!digest || !p->packages || !p->name || !p->architecture || !p->kernel_cmdline)
                abort();
        for (size_t i = 0; i < p->n_volumes; i++)
                if (!p->volumes[i].label || !p->volumes[i].mountpoint)
                        abort();
        for (size_t i = 0; i < p->n_files; i++)
                if (!p->files[i].path || !p->files[i].content || p->files[i].mode > 07777)
                        abort();
        for (size_t i = 0; i < p->n_services; i++)
                if (!p->services[i].unit || p->services[i].timeout == 0 ||
                    p->services[i].timeout > PROFILE_SERVICE_TIMEOUT_MAX)
                        abort();
        for (size_t i = 0; i < p->n_templates; i++)
                if (!p->templates[i].src || !p->templates[i].dest || p->templates[i].src[0] != '/' ||
                    p->templates[i].dest[0] != '/' || p->templates[i].mode > 07777)
                        abort();
        return 0;
}
