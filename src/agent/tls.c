/**
 * The server TLS identity from the env, on top of the crypto wrapper (crypto.h).
 */
#include <errno.h>
#include <string.h>

#include "crypto.h"
#include "reterr.h"
#include "tls.h"

int tls_check_pair(const char *key_pem, const char *cert_pem, char **reterr) {
        switch (pem_pair_check(key_pem, cert_pem)) {
        case PEM_PAIR_OK:
                return 0;
        case PEM_PAIR_BAD_KEY:
                return reterr_printf(reterr, -EBADMSG,
                                     "appliance:ssl:key: not a readable PEM private key (or it is encrypted)");
        case PEM_PAIR_BAD_CERT:
                return reterr_printf(reterr, -EBADMSG, "appliance:ssl:cert: not a readable PEM certificate");
        default:
                return reterr_printf(reterr, -EBADMSG, "appliance:ssl: the key does not belong to the certificate");
        }
}
