/**
 * The instance's host name: ROOT/etc/hostname, the 127.0.1.1 line of ROOT/etc/hosts, and on the
 * real root sethostname() when it differs.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "agent.h"
#include "agent-path.h"
#include "cleanup.h"
#include "hostname.h"
#include "log.h"

int hostname_set(const Agent *a, const char *domain, char **reterr) {
        _cleanup_free_ char *line = NULL, *out = NULL, *hostline = NULL, *old = NULL;
        const char *dot = strchr(domain, '.');
        size_t olen = 0;
        FILE *f;
        int r, changed;

        if (asprintf(&line, "%s\n", domain) < 0)
                return log_oom();
        r = agent_write_text(a, "/etc/hostname", line, 0644, 0, 0, reterr);
        if (r < 0)
                return r;
        changed = r;

        if (dot)
                r = asprintf(&hostline, "127.0.1.1\t%s %.*s\n", domain, (int) (dot - domain), domain);
        else
                r = asprintf(&hostline, "127.0.1.1\t%s\n", domain);
        if (r < 0)
                return log_oom();
        r = agent_read_text(a, "/etc/hosts", 1024 * 1024, &old, reterr);
        if (r < 0)
                return r;
        f = open_memstream(&out, &olen);
        if (!f)
                return log_oom();
        if (!old)
                fputs("127.0.0.1\tlocalhost\n", f);
        bool placed = false;
        for (char *l = old, *next; l && *l; l = next) {
                size_t n = strcspn(l, "\n");
                next = l[n] ? l + n + 1 : l + n;
                if (startswith(l, "127.0.1.1") && (l[9] == ' ' || l[9] == '\t')) {
                        if (!placed)
                                fputs(hostline, f);
                        placed = true;
                        continue;
                }
                fwrite(l, 1, n, f);
                fputc('\n', f);
        }
        if (!placed)
                fputs(hostline, f);
        if (fclose(f) != 0)
                return log_oom();
        r = agent_write_text(a, "/etc/hosts", out, 0644, 0, 0, reterr);
        if (r < 0)
                return r;
        changed |= r;

        if (agent_is_host_root(a)) {
                char cur[256] = {};
                if (gethostname(cur, sizeof cur - 1) < 0 || !streq(cur, domain)) {
                        if (sethostname(domain, strlen(domain)) < 0)
                                return log_error_errno(errno, "Failed to set the hostname to '%s': %m", domain);
                        changed = 1;
                }
        }
        if (changed)
                log_info("Hostname set to '%s'.", domain);
        return changed;
}

int hostname_apply(const Agent *a, const char *name) {
        _cleanup_free_ char *reason = NULL;
        int r = hostname_set(a, name, &reason);

        if (r < 0 && reason)
                log_error("%s", reason);
        return r;
}
