/* PLACEHOLDER: replaced by the real 'env package' and 'env unpack-qr'. */
#include "env-verbs.h"
#include "log.h"

int verb_env_package(int argc, char *argv[]) {
        return log_error("'env package' is not built yet."), 1;
}

int verb_env_unpack_qr(int argc, char *argv[]) {
        return log_error("'env unpack-qr' is not built yet."), 1;
}
