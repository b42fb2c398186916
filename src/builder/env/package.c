/**
 * The operator's offline copies of env.yml (the verbs 'env package' and 'env unpack-qr' are
 * cli/env-package.c).
 *
 * package writes, into one directory and all or nothing:
 *   env.yml.pdf     the env text, its QR codes (env-qr.h) and restore instructions (env-pdf.h);
 *   env-cidata.iso  a NoCloud seed (seed-iso.h): user-data = env.yml, meta-data, env.yml.pdf;
 *   DOMAIN.env.YYYY-mm-dd_HH.MM.tar.gz.gpg  with --gpg-recipients: a tar.gz of the three files
 *                   above, encrypted to every key in the given file (env-bundle.h).
 * unpack-qr reads scans of the QR pages in any order and restores env.yml byte for byte.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "chase.h"
#include "cleanup.h"
#include "crypto.h"
#include "env/bundle.h"
#include "env/gpg.h"
#include "env/package.h"
#include "env/pdf.h"
#include "env/qr.h"
#include "env.h"
#include "fileio.h"
#include "log.h"
#include "macro.h"
#include "random-util.h"
#include "rm-rf.h"
#include "seed/config.h"
#include "seed/inspect.h"
#include "seed/iso.h"
#include "strv.h"

#define PDF_NAME ENV_PACKAGE_PDF_NAME
#define ISO_NAME ENV_PACKAGE_ISO_NAME
#define ISO_MAX_SIZE (1024U * 1024U * 1024U)

/* Builds the seed ISO through the seed writer in a private temporary directory and returns its
 * bytes, so that it can go into the archive and be committed together with the other outputs. */
static int make_iso(const SeedFile *files, size_t n_files, time_t epoch, char **ret, size_t *ret_size) {
        _cleanup_(rm_rf_and_freep) char *dir = NULL;
        _cleanup_free_ char *path = NULL, *err = NULL;
        int r;

        r = mkdtemp_tmpdir("appliance-envpkg", 0, &dir);
        if (r < 0)
                return log_error_errno(r, "Failed to create a temporary directory: %m");
        if (asprintf(&path, "%s/" ISO_NAME, dir) < 0)
                return log_oom();

        r = seed_iso_write(path, NULL, files, n_files, epoch, output_mode(true), &err);
        if (r < 0)
                return log_error_errno(r, "Failed to write the seed ISO: %s", err ?: strerror(-r));

        /* Read it back as cloud-init would, so that no unusable seed is ever handed out (a custom
         * meta-data that is not YAML, for example). */
        {
                _cleanup_(seed_inspection_done) SeedInspection ins = {};

                r = seed_inspect(path, &ins);
                if (r < 0)
                        return log_error_errno(r, "Failed to inspect the seed ISO: %m");
                if (!seed_inspection_ok(&ins)) {
                        STRV_FOREACH(p, ins.problems)
                                log_error("Seed ISO: %s", *p);
                        return log_error_errno(EBADMSG, "The seed ISO would not be used by cloud-init.");
                }
        }

        r = read_input(AT_FDCWD, path, INPUT_FOLLOW, ISO_MAX_SIZE, ret, ret_size);
        if (r < 0)
                return log_error_errno(r, "Failed to read back the seed ISO '%s': %s", path, input_strerror(r));
        return 0;
}

typedef struct Output {
        const char *name;
        const void *data;
        size_t size;
        AtomicFile file;
        char *backup; /* hidden hard link to the file this run replaces, if there was one */
        bool committed;
} Output;

/* Keeps the current file at o->name (if any) under a hidden name, so a failed run can put it back. */
static int output_backup(int dirfd, Output *o) {
        uint8_t rnd[6];
        _cleanup_free_ char *hex = NULL;
        int r;

        r = random_bytes(rnd, sizeof rnd);
        if (r < 0)
                return r;
        hex = hexmem(rnd, sizeof rnd);
        if (!hex || asprintf(&o->backup, ".#%s.%s.old", o->name, hex) < 0) {
                o->backup = NULL;
                return -ENOMEM;
        }
        if (linkat(dirfd, o->name, dirfd, o->backup, 0) < 0) {
                r = errno == ENOENT ? 0 : -errno; /* nothing to keep */
                free(o->backup);
                o->backup = NULL;
                return r;
        }
        return 0;
}

/* Writes every output to a temporary in dirfd, then commits them one after another. If any step
 * fails, the outputs committed so far are removed and the files they replaced are put back, so a
 * run leaves all or nothing. */
static int write_outputs(int dirfd, const char *dir, Output *o, size_t n) {
        int r = 0;

        for (size_t i = 0; i < n; i++)
                o[i].file = (AtomicFile) { .fd = -EBADF, .dirfd = -EBADF };

        for (size_t i = 0; i < n && r >= 0; i++) {
                r = atomic_file_open(&o[i].file, dirfd, o[i].name, output_mode(true));
                if (r < 0) {
                        log_error_errno(r, "Failed to create '%s/%s': %m", dir, o[i].name);
                        break;
                }
                r = loop_write(o[i].file.fd, o[i].data, o[i].size);
                if (r < 0)
                        log_error_errno(r, "Failed to write '%s/%s': %m", dir, o[i].name);
        }

        for (size_t i = 0; i < n && r >= 0; i++) {
                r = output_backup(dirfd, &o[i]);
                if (r < 0) {
                        log_error_errno(r, "Failed to keep the previous '%s/%s': %m", dir, o[i].name);
                        break;
                }
                r = atomic_file_commit(&o[i].file);
                if (r < 0)
                        log_error_errno(r, "Failed to commit '%s/%s': %m", dir, o[i].name);
                else
                        o[i].committed = true;
        }

        for (size_t i = 0; i < n; i++) {
                bool undo = r < 0 && o[i].committed;

                if (undo && o[i].backup)
                        (void) renameat(dirfd, o[i].backup, dirfd, o[i].name); /* the previous file is back */
                else if (undo)
                        (void) unlinkat(dirfd, o[i].name, 0);
                else if (o[i].backup)
                        (void) unlinkat(dirfd, o[i].backup, 0);
                free(o[i].backup);
                o[i].backup = NULL;
                atomic_file_done(&o[i].file);
        }
        return r;
}

/* The time for dates and the archive name: SOURCE_DATE_EPOCH if set (then *ret_fixed is true). */
static int package_time(time_t *ret, bool *ret_fixed) {
        const char *s = getenv("SOURCE_DATE_EPOCH");
        int r;

        if (isempty(s)) {
                *ret = time(NULL);
                *ret_fixed = false;
                return 0;
        }
        r = seed_parse_epoch(s, ret);
        if (r < 0)
                return log_error_errno(r, "Invalid SOURCE_DATE_EPOCH='%s'.", s);
        *ret_fixed = true;
        return 0;
}

/* The seed's meta-data: --meta-data=FILE, else "meta-data.custom" next to the env (as the original
 * env-package.sh did), else instance-id iid-cloud-default and local-hostname = the domain. */
static int load_meta_data(const char *env_path, const char *meta_data, const char *domain, char **ret) {
        _cleanup_free_ char *dir = NULL, *custom = NULL, *text = NULL;
        const char *path = meta_data, *base;
        size_t size;
        int r;

        if (!path) {
                r = path_split(env_path, &dir, &base);
                if (r < 0)
                        return log_error_errno(r, "Failed to split '%s': %m", env_path);
                if (asprintf(&custom, "%s/meta-data.custom", dir) < 0)
                        return log_oom();
                if (path_exists(custom)) {
                        log_info("Using '%s' as meta-data.", custom);
                        path = custom;
                }
        }

        if (!path) {
                r = seed_meta_data_make("iid-cloud-default", domain, ret);
                if (r < 0)
                        return log_error_errno(r, "Failed to make the meta-data: %m");
                return 0;
        }

        r = read_input(AT_FDCWD, path, INPUT_FOLLOW, 1024 * 1024, &text, &size);
        if (r < 0)
                return log_error_errno(r, "Failed to read the meta-data '%s': %s", path, input_strerror(r));
        if (size == 0 || strlen(text) != size)
                return log_error_errno(EBADMSG, "'%s': meta-data must be non-empty text.", path);
        *ret = TAKE_PTR(text);
        return 0;
}

int env_package(const char *env_path, const EnvPackageOptions *o) {
        const char *arg_output_dir = o->output_dir, *arg_gpg_recipients = o->gpg_recipients;
        _cleanup_(env_freep) Env *env = NULL;
        _cleanup_free_ char *err = NULL, *dir = NULL, *meta = NULL, *iso = NULL, *gpg_name = NULL;
        _cleanup_free_ void *pdf = NULL, *tgz = NULL, *gpg = NULL;
        _cleanup_strv_free_ char **qr = NULL;
        _cleanup_close_ int dirfd = -EBADF;
        size_t text_len, pdf_size, iso_size, tgz_size, gpg_size, n_out;
        const char *domain, *text, *env_dir_base;
        char sha[65], ts[32];
        bool created_dir = false, fixed_time = false;
        struct tm tm;
        time_t now;
        int r;

        /* The libraries only this command needs, before anything is read or written. */
        r = env_pdf_dlopen(&err);
        if (r >= 0 && arg_gpg_recipients)
                r = env_gpg_dlopen(&err);
        if (r < 0)
                return log_error_errno(r, "env package: %s", err ?: strerror(-r));

        /* 1. Validate the input and take its exact bytes. */
        r = env_load_file(env_path, &env, &err);
        if (r < 0) {
                if (err)
                        return log_error_errno(r, "%s", err);
                return log_error_errno(r, "Failed to load '%s': %m", env_path);
        }
        STRV_FOREACH(w, env_warnings(env))
                log_warning("%s", *w);
        domain = env_get_string(env, "appliance:domain", NULL);
        if (!domain) {
                const EnvNode *n = env_lookup(env, "appliance:domain");
                if (n)
                        return log_error_errno(EINVAL,
                                               "%s:%u:%u: appliance:domain must be a string.", env_path,
                                               env_node_line(n), env_node_column(n));
                return log_error_errno(EINVAL, "%s: appliance:domain is missing.", env_path);
        }
        if (!seed_hostname_valid(domain)) {
                const EnvNode *n = env_lookup(env, "appliance:domain");
                return log_error_errno(EINVAL, "%s:%u:%u: appliance:domain '%s' is not a host name.",
                                       env_path, env_node_line(n), env_node_column(n), domain);
        }
        text = env_text(env, &text_len);

        r = sha256_hex(text, text_len, sha);
        if (r < 0)
                return log_error_errno(r, "Failed to hash the env: %m");

        /* 2. The printable PDF. */
        r = qr_texts_from_data(text, text_len, &qr);
        if (r == -E2BIG)
                return log_error_errno(r, "%s: too large for the printout: gzip and base32 of the file need more "
                                       "than %u QR codes of %u characters; shorten it (comments, unused keys).",
                                       env_path, QR_MAX_CODES, QR_CHUNK_CHARS);
        if (r < 0)
                return log_error_errno(r, "Failed to make the QR code texts: %m");
        log_debug("%zu QR code(s) for %zu bytes.", strv_length(qr), text_len);

        _cleanup_free_ char *title = NULL;
        if (asprintf(&title, "%s: env.yml", domain) < 0)
                return log_oom();
        r = package_time(&now, &fixed_time);
        if (r < 0)
                return r;
        EnvPdfInput in = {
                .title = title,
                .file_name = "env.yml",
                .text = text,
                .text_size = text_len,
                .qr_texts = qr,
                .sha256_hex = sha,
                .creation = fixed_time ? now : (time_t) -1,
        };
        free(TAKE_PTR(err));
        r = env_pdf_render(&in, &pdf, &pdf_size, &err);
        if (r < 0)
                return log_error_errno(r, "Failed to render the PDF: %s", err ?: strerror(-r));

        /* 3. The seed ISO. */
        r = load_meta_data(env_path, o->meta_data, domain, &meta);
        if (r < 0)
                return r;
        const SeedFile seed[] = {
                { "user-data", text, text_len },
                { "meta-data", meta, strlen(meta) },
                { PDF_NAME, pdf, pdf_size },
        };
        r = make_iso(seed, ELEMENTSOF(seed), fixed_time ? now : (time_t) -1, &iso, &iso_size);
        if (r < 0)
                return r;

        /* 4. The encrypted archive. */
        if (arg_gpg_recipients) {
                const BundleFile files[] = {
                        { "env.yml", text, text_len },
                        { PDF_NAME, pdf, pdf_size },
                        { ISO_NAME, iso, iso_size },
                };

                free(TAKE_PTR(err));
                r = bundle_tar_gz(files, ELEMENTSOF(files), now, &tgz, &tgz_size, &err);
                if (r < 0)
                        return log_error_errno(r, "Failed to make the tar.gz archive: %s", err ?: strerror(-r));
                r = gpg_encrypt_to_keyfile(arg_gpg_recipients, tgz, tgz_size, &gpg, &gpg_size, &err);
                if (r < 0)
                        return log_error_errno(r, "'%s': %s", arg_gpg_recipients, err ?: strerror(-r));

                if (!localtime_r(&now, &tm) || strftime(ts, sizeof ts, "%Y-%m-%d_%H.%M", &tm) == 0)
                        return log_error_errno(EINVAL, "Failed to format the time stamp.");
                if (asprintf(&gpg_name, "%s.env.%s.tar.gz.gpg", domain, ts) < 0)
                        return log_oom();
        }

        /* 5. Write everything, all or nothing. */
        if (arg_output_dir) {
                dir = strdup(arg_output_dir);
                if (!dir)
                        return log_oom();
        } else {
                r = path_split(env_path, &dir, &env_dir_base);
                if (r < 0)
                        return log_error_errno(r, "Failed to split '%s': %m", env_path);
        }

        if (mkdir(dir, 0700) >= 0)
                created_dir = true;
        else if (errno != EEXIST)
                return log_error_errno(errno, "Failed to create the output directory '%s': %m", dir);

        dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (dirfd < 0) {
                r = log_error_errno(errno, "Failed to open the output directory '%s': %m", dir);
                if (created_dir)
                        (void) rmdir(dir);
                return r;
        }

        Output out[] = {
                { .name = PDF_NAME, .data = pdf, .size = pdf_size },
                { .name = ISO_NAME, .data = iso, .size = iso_size },
                { .name = gpg_name, .data = gpg, .size = gpg_size },
        };
        n_out = gpg_name ? 3 : 2;
        r = write_outputs(dirfd, dir, out, n_out);
        if (r < 0) {
                if (created_dir)
                        (void) rmdir(dir);
                return r;
        }

        for (size_t i = 0; i < n_out; i++)
                printf("%s/%s\n", dir, out[i].name);
        log_info("Packaged '%s' for %s: %zu QR code(s), sha256 %s.", env_path, domain, strv_length(qr), sha);
        return 0;
}

int env_unpack_qr(char **images, const char *arg_output_file) {
        _cleanup_strv_free_ char **texts = NULL;
        _cleanup_free_ char *err = NULL;
        _cleanup_free_ void *data = NULL;
        size_t size;
        int r;

        r = qr_scan_dlopen(&err);
        if (r < 0)
                return log_error_errno(r, "env unpack-qr: %s", err ?: strerror(-r));
        STRV_FOREACH(i, images)
                if (arg_output_file) {
                        r = path_same_file(arg_output_file, *i);
                        if (r < 0)
                                return log_error_errno(r, "Cannot look at '%s': %m", *i);
                        if (r > 0)
                                return log_error_errno(-EEXIST, "Output '%s' is one of the scans: refusing to overwrite an input.",
                                                       arg_output_file);
                }

        STRV_FOREACH(i, images) {
                r = qr_scan_file(*i, &texts, &err);
                if (r < 0)
                        return log_error_errno(r, "'%s': %s", *i, err ?: strerror(-r));
                if (r == 0)
                        log_warning("No QR code found in '%s', ignoring.", *i);
                else
                        log_debug("'%s': %d QR code(s).", *i, r);
        }

        r = qr_texts_to_data(texts, strv_length(texts), &data, &size, &err);
        if (r < 0)
                return log_error_errno(r, "Cannot restore the env: %s.", err ?: strerror(-r));

        /* The bytes are restored whatever they are; say so if they are not an env file. */
        {
                _cleanup_(env_freep) Env *env = NULL;
                _cleanup_free_ char *env_err = NULL;

                if (env_load_buffer("restored", data, size, &env, &env_err) < 0)
                        log_warning("The restored file is not a valid env: %s", strna(env_err));
        }

        if (arg_output_file) {
                r = write_file_atomic(arg_output_file, data, size, 0600);
                if (r < 0)
                        return log_error_errno(r, "Failed to write '%s': %m", arg_output_file);
        } else {
                r = loop_write(STDOUT_FILENO, data, size);
                if (r < 0)
                        return log_error_errno(r, "Failed to write to standard output: %m");
        }

        log_info("Restored %zu bytes from %zu QR code(s).", size, strv_length(texts));
        return 0;
}
