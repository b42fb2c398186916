/**
 * The operator's offline copies of env.yml: env package writes, into one directory and all or
 * nothing, the PDF (text, QR codes, restore instructions), a NoCloud seed ISO and, with
 * recipients, an encrypted tar.gz of both with the env; env unpack-qr restores the env from scans
 * of the QR pages.
 */
#pragma once

#define ENV_PACKAGE_PDF_NAME "env.yml.pdf"
#define ENV_PACKAGE_ISO_NAME "env-cidata.iso"

typedef struct EnvPackageOptions {
        const char *output_dir;     /* NULL: the directory of the env */
        const char *gpg_recipients; /* NULL: no encrypted bundle */
        const char *meta_data;      /* NULL: meta-data.custom next to the env, else the default */
} EnvPackageOptions;

/* Returns 0 when every output was written, -errno on failure (logged; nothing is written). */
int env_package(const char *env_path, const EnvPackageOptions *o);

/* Restores the env from the scans in images (a NULL-terminated list) into output (atomically, mode
 * 0600), or to standard output if output is NULL. Returns 0 or -errno (logged). */
int env_unpack_qr(char **images, const char *output);
