/**
 * Checks an env.yml before it is baked into an image.
 */
#pragma once

/* The whole env check (env/check.h: the common schema, key pairs, OpenPGP keys), quietly: 0 if valid,
 * else -errno with "FILE:LINE:COLUMN: key: problem" (the first one) in *reterr. */
int image_env_validate(const char *path, char **reterr);
