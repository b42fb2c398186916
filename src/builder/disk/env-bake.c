/**
 * env.yml validation for image builds (see env-bake.h): the full env check, as `env check` does it.
 */
#include "disk/env-bake.h"
#include "env/check.h"

int image_env_validate(const char *path, char **reterr) {
        return env_check_file(path, false, reterr);
}
