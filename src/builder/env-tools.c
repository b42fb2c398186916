/* PLACEHOLDER: replaced by the real 'env create', 'env check' and 'env flatten'. */
#include "env-verbs.h"
#include "log.h"

int verb_env_create(int argc, char *argv[]) {
        return log_error("'env create' is not built yet."), 1;
}

int verb_env_check(int argc, char *argv[]) {
        return log_error("'env check' is not built yet."), 1;
}

int verb_env_flatten(int argc, char *argv[]) {
        return log_error("'env flatten' is not built yet."), 1;
}
