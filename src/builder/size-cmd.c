/**
 * PLACEHOLDER: replaced by the real 'size' verb.
 */
#include "log.h"
#include "verbs.h"

int verb_size(int argc, char *argv[]) {
        return log_error("'size' is not built yet."), 1;
}
