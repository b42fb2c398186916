/**
 * Fuzzes what the agent does with an untrusted env: the env model's loader, the agent's checks
 * (agent_env_check) and template rendering against it.
 */
#include <stdint.h>
#include <stdlib.h>

#include "env-check.h"
#include "template.h"
#include "cleanup.h"
#include "env.h"
#include "log.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        _cleanup_(env_freep) Env *e = NULL;
        _cleanup_free_ char *err = NULL, *err2 = NULL, *out = NULL;

        if (size > 256 * 1024)
                return 0;
        log_set_max_level(LOG_CRIT);
        if (env_load_buffer("fuzz", (const char *) data, size, &e, &err) < 0)
                return 0;
        (void) agent_env_check(e, false, &err2);
        (void) template_render(e, "fuzz", "{{ appliance:domain | x }} {{ ssh_authorized_keys:0 | }} \\{{ {{ ecs }}", &out,
                               NULL);
        return 0;
}
