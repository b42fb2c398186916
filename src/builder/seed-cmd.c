/**
 * PLACEHOLDER: replaced by the real 'seed' verb.
 */
#include "log.h"
#include "verbs.h"

int verb_seed(int argc, char *argv[]) {
        return log_error("'seed' is not built yet."), 1;
}
