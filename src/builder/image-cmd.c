/**
 * PLACEHOLDER: replaced by the real 'image' verb.
 */
#include "log.h"
#include "verbs.h"

int verb_image(int argc, char *argv[]) {
        return log_error("'image' is not built yet."), 1;
}
