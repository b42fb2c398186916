/**
 * PLACEHOLDER: replaced by the real 'env' verb.
 */
#include "log.h"
#include "verbs.h"

int verb_env(int argc, char *argv[]) {
        return log_error("'env' is not built yet."), 1;
}
