/**
 * What the agent requires of an env beyond being a well-formed #cloud-config mapping (the env model
 * checks that): the common env schema, so that a bad env stops in prepare-env with one readable
 * reason instead of half-configuring the machine.
 */
#include <errno.h>

#include "env-check.h"
#include "env-schema.h"
#include "log.h"
#include "reterr.h"

int agent_env_check(const Env *e, bool log_warnings, char **reterr) {
        _cleanup_(env_findings_done) EnvFindings f = {};
        const char *first;
        int r;

        r = env_schema_check(e, &f);
        if (r < 0)
                return r;
        for (size_t i = 0; log_warnings && i < f.n; i++)
                if (!f.items[i].error)
                        log_warning("%s", f.items[i].text);
        first = env_findings_first_error(&f);
        if (!first)
                return 0;
        if (f.errors > 1)
                return reterr_printf(reterr, -EBADMSG, "%s (and %u more error(s))", first, f.errors - 1);
        return reterr_printf(reterr, -EBADMSG, "%s", first);
}
