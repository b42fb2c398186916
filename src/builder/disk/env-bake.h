/**
 * Checks an env.yml before it is baked into an image.
 */
#pragma once

/* The first line must be "#cloud-config" and the file must parse as YAML (one or more documents).
 * -EINVAL with "FILE:LINE:COLUMN: problem" in *reterr. */
int image_env_validate(const char *path, char **reterr);
