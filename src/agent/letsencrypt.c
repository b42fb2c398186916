/**
 * Let's Encrypt through dehydrated (letsencrypt.h).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent-path.h"
#include "cleanup.h"
#include "crypto.h"
#include "letsencrypt.h"
#include "log.h"
#include "reterr.h"
#include "spawn.h"
#include "tls.h"

#define SERVER_KEY "/app/etc/server.key.pem"
#define SERVER_CERT "/app/etc/server.cert.pem"

bool letsencrypt_wanted(const Env *env) {
        if (env_get_string(env, "appliance:ssl:key", NULL) && env_get_string(env, "appliance:ssl:cert", NULL))
                return false;
        return env_get_bool(env, "appliance:ssl:letsencrypt:enabled", true) != 0;
}

static int dehydrated(const char *dehydrated_path, char *const *args, char **reterr) {
        _cleanup_free_ char *out = NULL;
        char *argv[8];
        size_t n = 0;
        int r;

        argv[n++] = (char *) dehydrated_path;
        for (size_t i = 0; args[i] && n < ELEMENTSOF(argv) - 1; i++)
                argv[n++] = args[i];
        argv[n] = NULL;
        r = spawn_capture(argv, NULL, 0, SPAWN_STDERR_TO_STDOUT, &out, NULL);
        if (out && *out)
                log_info("dehydrated %s: %s", args[0], out);
        if (r != 0) {
                /* Its last line says why. */
                const char *last = out ? out + strlen(out) : NULL;
                while (last && last > out && last[-1] == '\n')
                        last--;
                const char *start = last;
                while (start && start > out && start[-1] != '\n')
                        start--;
                return reterr_printf(reterr, -EIO, "dehydrated %s failed with exit status %d%s%.*s", args[0], r,
                                     start && last > start ? ": " : "", start ? (int) (last - start) : 0,
                                     start ?: "");
        }
        return 0;
}

int letsencrypt_renew(const Agent *a, const Env *env, char **reterr) {
        const char *domain = env_get_string(env, "appliance:domain", NULL);
        _cleanup_free_ char *path = NULL, *key_path = NULL, *cert_path = NULL, *key = NULL, *cert = NULL,
                            *old_key = NULL, *old_cert = NULL;
        int r, changed;

        if (!letsencrypt_wanted(env) || !domain)
                return 0;
        if (!agent_is_host_root(a))
                return 0;
        if (find_executable("dehydrated", &path) < 0) {
                log_info("appliance:ssl:letsencrypt: this image has no dehydrated, the self-signed certificate stays.");
                return 0;
        }
        r = agent_mkdir(a, LETSENCRYPT_WELLKNOWN, 0755, 0, 0, NULL);
        if (r < 0)
                return reterr_printf(reterr, r, "Cannot make '%s': %s", LETSENCRYPT_WELLKNOWN, strerror(-r));
        r = dehydrated(path, (char *[]) { (char *) "--register", (char *) "--accept-terms", NULL }, reterr);
        if (r < 0)
                return r;
        r = dehydrated(path, (char *[]) { (char *) "--cron", (char *) "--domain", (char *) domain, NULL }, reterr);
        if (r < 0)
                return r;

        if (asprintf(&key_path, "%s/certs/%s/privkey.pem", LETSENCRYPT_BASEDIR, domain) < 0 ||
            asprintf(&cert_path, "%s/certs/%s/fullchain.pem", LETSENCRYPT_BASEDIR, domain) < 0)
                return -ENOMEM;
        /* dehydrated's privkey.pem and fullchain.pem are links to the current files: followed, below
         * the root. */
        r = agent_read_image_file(a, key_path, 1024 * 1024, &key, NULL);
        if (r >= 0)
                r = agent_read_image_file(a, cert_path, 1024 * 1024, &cert, NULL);
        if (r < 0)
                return reterr_printf(reterr, r, "dehydrated left no certificate in %s/certs/%s: %s",
                                     LETSENCRYPT_BASEDIR, domain, strerror(-r));
        r = tls_check_pair(key, cert, reterr);
        if (r < 0)
                return r;
        if (!pem_cert_usable(cert, domain, 86400))
                return reterr_printf(reterr, -EKEYEXPIRED,
                                     "the certificate from dehydrated is not valid for '%s' for another day", domain);
        (void) agent_read_text(a, SERVER_KEY, 1024 * 1024, &old_key, NULL);
        (void) agent_read_text(a, SERVER_CERT, 1024 * 1024, &old_cert, NULL);
        if (old_key && old_cert && streq(old_key, key) && streq(old_cert, cert))
                return 0;
        /* The certificate first: a key beside a certificate it does not belong to is replaced by
         * prepare-appliance, never used. */
        r = agent_write_text(a, SERVER_CERT, cert, 0644, 0, 0, reterr);
        if (r < 0)
                return r;
        changed = r;
        r = agent_write_text(a, SERVER_KEY, key, 0600, 0, 0, reterr);
        if (r < 0)
                return r;
        log_info("Installed the ACME certificate for '%s'.", domain);
        return changed | r | 1;
}
