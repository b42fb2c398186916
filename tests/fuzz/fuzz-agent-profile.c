/**
 * Fuzzes the agent's profile.yml reader.
 */
#include <stdint.h>
#include <stdlib.h>

#include "agent-profile.h"
#include "cleanup.h"
#include "log.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        _cleanup_(agent_profile_freep) AgentProfile *p = NULL;
        _cleanup_free_ char *err = NULL;

        if (size > 256 * 1024)
                return 0;
        log_set_max_level(LOG_CRIT);
        (void) agent_profile_parse("fuzz", (const char *) data, size, &p, &err);
        return 0;
}
