/**
 * Generated seed content. Everything here produces YAML text directly; strings that come from the
 * user (host names, instance ids, SSH keys) are validated first and written double-quoted.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "chase.h"
#include "cleanup.h"
#include "fileio.h"
#include "macro.h"
#include "random-util.h"
#include "reterr.h"
#include "seed/config.h"
#include "strv.h"
#include "yaml-util.h"

static const char *const preset_table[_SEED_PRESET_MAX] = {
        [SEED_PRESET_NONE] = "none",
        [SEED_PRESET_VAGRANT] = "vagrant",
        [SEED_PRESET_ROOT] = "root",
};

const char *seed_preset_to_string(SeedPreset p) {
        if (p < 0 || p >= _SEED_PRESET_MAX)
                return NULL;
        return preset_table[p];
}

SeedPreset seed_preset_from_string(const char *s) {
        if (!s)
                return _SEED_PRESET_INVALID;
        for (int i = 0; i < _SEED_PRESET_MAX; i++)
                if (streq(s, preset_table[i]))
                        return (SeedPreset) i;
        return _SEED_PRESET_INVALID;
}

static bool is_alnum(char c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

bool seed_instance_id_valid(const char *s) {
        size_t n;

        if (!s)
                return false;
        n = strlen(s);
        if (n == 0 || n > 128 || streq(s, ".") || streq(s, ".."))
                return false;
        for (const char *p = s; *p; p++)
                if (!is_alnum(*p) && !strchr("._:-", *p))
                        return false;
        return true;
}

bool seed_hostname_valid(const char *s) {
        size_t label = 0;

        if (!s || !*s || strlen(s) > 253)
                return false;
        for (const char *p = s;; p++) {
                if (*p == '.' || *p == 0) {
                        if (label == 0 || p[-1] == '-')
                                return false;
                        if (*p == 0)
                                return true;
                        label = 0;
                        continue;
                }
                if (!is_alnum(*p) && *p != '-')
                        return false;
                if (*p == '-' && label == 0)
                        return false;
                if (++label > 63)
                        return false;
        }
}

int seed_instance_id_random(char **ret) {
        unsigned char b[8];
        _cleanup_free_ char *hex = NULL;
        char *s;
        int r;

        r = random_bytes(b, sizeof b);
        if (r < 0)
                return r;
        hex = hexmem(b, sizeof b);
        if (!hex)
                return -ENOMEM;
        if (asprintf(&s, "iid-%s", hex) < 0)
                return -ENOMEM;
        *ret = s;
        return 0;
}

int seed_meta_data_make(const char *instance_id, const char *hostname, char **ret) {
        char *s;
        int n;

        if (!seed_instance_id_valid(instance_id) || (hostname && !seed_hostname_valid(hostname)))
                return -EINVAL;
        /* Quoted so that an id like "1234" or a host called "null" stays a string. */
        if (hostname)
                n = asprintf(&s, "instance-id: \"%s\"\nlocal-hostname: \"%s\"\n", instance_id, hostname);
        else
                n = asprintf(&s, "instance-id: \"%s\"\n", instance_id);
        if (n < 0)
                return -ENOMEM;
        *ret = s;
        return 0;
}

static bool key_type_known(const char *t) {
        static const char *const types[] = {
                "ssh-ed25519",
                "ssh-rsa",
                "ssh-dss",
                "ecdsa-sha2-nistp256",
                "ecdsa-sha2-nistp384",
                "ecdsa-sha2-nistp521",
                "sk-ssh-ed25519@openssh.com",
                "sk-ecdsa-sha2-nistp256@openssh.com",
        };
        for (size_t i = 0; i < ELEMENTSOF(types); i++)
                if (streq(t, types[i]))
                        return true;
        /* certificates: ssh-ed25519-cert-v01@openssh.com and friends */
        return endswith(t, "-cert-v01@openssh.com");
}

static bool base64_valid(const char *s) {
        size_t n = strlen(s);

        if (n < 16)
                return false;
        for (const char *p = s; *p; p++)
                if (!is_alnum(*p) && !strchr("+/=", *p))
                        return false;
        return true;
}

int seed_ssh_keys_parse(const char *name, const char *text, char ***ret_keys, char **reterr) {
        _cleanup_strv_free_ char **keys = NULL;
        unsigned line = 0;
        int r;

        for (const char *p = text; p && *p;) {
                const char *eol = strchrnul(p, '\n');
                _cleanup_free_ char *l = strndup(p, (size_t) (eol - p));
                _cleanup_strv_free_ char **words = NULL;
                char *s;
                bool ok = false;

                line++;
                p = *eol ? eol + 1 : eol;
                if (!l)
                        return -ENOMEM;
                /* trim */
                s = l + strspn(l, " \t\r");
                for (size_t k = strlen(s); k > 0 && strchr(" \t\r", s[k - 1]); k--)
                        s[k - 1] = 0;
                if (*s == 0 || *s == '#')
                        continue;
                if (startswith(s, "-----BEGIN"))
                        return reterr_printf(reterr, -EBADMSG, "%s:%u: this is a private key; give the public key (.pub)", name,
                                         line);
                for (const char *c = s; *c; c++)
                        if ((unsigned char) *c < 0x20 && *c != '\t')
                                return reterr_printf(reterr, -EBADMSG, "%s:%u: control character in an SSH key line", name, line);

                r = strv_split(s, " \t", &words);
                if (r < 0)
                        return r;
                /* The type may follow authorized_keys options ("no-pty,from=... ssh-ed25519 AAAA..."). */
                for (size_t i = 0; words[i]; i++)
                        if (key_type_known(words[i])) {
                                ok = words[i + 1] && base64_valid(words[i + 1]);
                                break;
                        }
                if (!ok)
                        return reterr_printf(reterr, -EBADMSG, "%s:%u: not an SSH public key (expected 'ssh-ed25519 AAAA...', "
                                         "'ssh-rsa AAAA...', 'ecdsa-sha2-nistp256 AAAA...', ...)",
                                         name, line);
                r = strv_extend(&keys, s);
                if (r < 0)
                        return r;
        }

        if (strv_length(keys) == 0)
                return reterr_printf(reterr, -EBADMSG, "%s: no SSH public key in the file", name);
        *ret_keys = TAKE_PTR(keys);
        return 0;
}

const char *seed_data_dir(void) {
        const char *e = getenv("APPLIANCE_SEED_DIR");

        if (!isempty(e))
                return e;
#ifdef PROJECT_SOURCE_DIR
        if (access(PROJECT_SOURCE_DIR "/seed", F_OK) >= 0)
                return PROJECT_SOURCE_DIR "/seed";
#endif
        return APPLIANCE_DATADIR "/seed";
}

int seed_vagrant_keys(char ***ret_keys, char **reterr) {
        static const char *const files[] = { "vagrant.pub", "vagrant.pub.ed25519" };
        _cleanup_strv_free_ char **all = NULL;
        int r;

        for (size_t i = 0; i < ELEMENTSOF(files); i++) {
                _cleanup_free_ char *path = NULL, *text = NULL;
                _cleanup_strv_free_ char **keys = NULL;

                if (asprintf(&path, "%s/%s", seed_data_dir(), files[i]) < 0)
                        return -ENOMEM;
                r = read_input(AT_FDCWD, path, INPUT_FOLLOW, 64 * 1024, &text, NULL);
                if (r < 0) {
                        reterr_printf(reterr, -EBADMSG, "cannot read the Vagrant key '%s': %s (set APPLIANCE_SEED_DIR)", path,
                                  input_strerror(r));
                        return r;
                }
                r = seed_ssh_keys_parse(path, text, &keys, reterr);
                if (r < 0)
                        return r;
                STRV_FOREACH(k, keys) {
                        r = strv_extend(&all, *k);
                        if (r < 0)
                                return r;
                }
        }
        *ret_keys = TAKE_PTR(all);
        return 0;
}

/* SSH key lines are printable ASCII (checked by seed_ssh_keys_parse); only " and \ need escaping. */
static int append_quoted(FILE *f, const char *s) {
        fputc('"', f);
        for (const char *p = s; *p; p++) {
                if (*p == '"' || *p == '\\')
                        fputc('\\', f);
                fputc(*p == '\t' ? ' ' : *p, f);
        }
        fputc('"', f);
        return 0;
}

int seed_preset_config(SeedPreset preset, char *const *vagrant_keys, char *const *ssh_keys, bool grow_root,
                       char **ret, char ***ret_keys) {
        _cleanup_strv_free_ char **top = NULL;
        _cleanup_free_ char *buf = NULL;
        size_t size = 0;
        FILE *f;
        int r = 0;

        f = open_memstream(&buf, &size);
        if (!f)
                return -ENOMEM;

        switch (preset) {
        case SEED_PRESET_VAGRANT:
                fputs("users:\n"
                      "  - name: vagrant\n"
                      "    gecos: Vagrant\n"
                      "    shell: /bin/bash\n"
                      "    lock_passwd: true\n"
                      "    sudo: \"ALL=(ALL) NOPASSWD:ALL\"\n"
                      "    ssh_authorized_keys:\n",
                      f);
                STRV_FOREACH(k, vagrant_keys) {
                        fputs("      - ", f);
                        append_quoted(f, *k);
                        fputc('\n', f);
                }
                STRV_FOREACH(k, ssh_keys) {
                        fputs("      - ", f);
                        append_quoted(f, *k);
                        fputc('\n', f);
                }
                r = strv_extend(&top, "users");
                break;
        case SEED_PRESET_ROOT:
                /* No default user; with disable_root off, cloud-init installs ssh_authorized_keys for
                 * root without the "login as the default user" command prefix. */
                fputs("users: []\n"
                      "disable_root: false\n"
                      "ssh_pwauth: false\n"
                      "ssh_authorized_keys:\n",
                      f);
                STRV_FOREACH(k, ssh_keys) {
                        fputs("  - ", f);
                        append_quoted(f, *k);
                        fputc('\n', f);
                }
                if (r >= 0)
                        r = strv_extend(&top, "users");
                if (r >= 0)
                        r = strv_extend(&top, "disable_root");
                if (r >= 0)
                        r = strv_extend(&top, "ssh_pwauth");
                if (r >= 0)
                        r = strv_extend(&top, "ssh_authorized_keys");
                break;
        default:
                break;
        }

        if (grow_root) {
                fputs("growpart:\n"
                      "  mode: auto\n"
                      "  devices: [\"/\"]\n"
                      "resize_rootfs: true\n",
                      f);
                if (r >= 0)
                        r = strv_extend(&top, "growpart");
                if (r >= 0)
                        r = strv_extend(&top, "resize_rootfs");
        }

        if (fclose(f) != 0 || !buf)
                return -ENOMEM;
        if (r < 0)
                return r;
        *ret = TAKE_PTR(buf);
        if (ret_keys)
                *ret_keys = TAKE_PTR(top);
        return 0;
}

int seed_cloud_config_merge(const char *name, const char *user, size_t user_size, const char *settings,
                            char *const *setting_keys, char **ret, size_t *ret_size, char **reterr) {
        _cleanup_free_ char *out = NULL;
        size_t n, l;
        int r;

        STRV_FOREACH(k, setting_keys) {
                const char *path[] = { *k, NULL };
                unsigned line = 0, column = 0;

                r = yaml_lookup(user, user_size, path, NULL, &line, &column);
                if (r < 0)
                        return r;
                if (r > 0)
                        return reterr_printf(reterr, -EBADMSG, "%s:%u:%u: '%s' is also set by the preset options; remove it here or "
                                         "drop the option",
                                         name, line, column, *k);
        }

        l = strlen(settings);
        n = user_size + 1 + l;
        out = malloc(n + 1);
        if (!out)
                return -ENOMEM;
        memcpy(out, user, user_size);
        n = user_size;
        if (n > 0 && out[n - 1] != '\n')
                out[n++] = '\n';
        memcpy(out + n, settings, l);
        n += l;
        out[n] = 0;

        /* Appending works for block mappings; catch anything else (flow style, "..." markers). */
        r = yaml_check(name, out, n, YAML_CHECK_ROOT_MAPPING | YAML_CHECK_NO_DUPLICATE_KEYS, NULL);
        if (r == -ENOMEM)
                return r;
        if (r < 0)
                return reterr_printf(reterr, -EBADMSG, "%s: cannot add the preset settings: the document must be a block mapping "
                                 "at the top level (no flow style '{...}', no '---'/'...' markers)",
                                 name);
        *ret = TAKE_PTR(out);
        if (ret_size)
                *ret_size = n;
        return 0;
}
