/**
 * The table of target releases and the systemd directive table (see target.h).
 *
 * Sources of the release rows:
 *   kernels and systemd: the releases' own packages (Ubuntu 16.04: linux 4.4, systemd 229; Ubuntu
 *     24.04: linux 6.8, systemd 255; Debian 11: linux 5.10, systemd 247; Debian 12: linux 6.1,
 *     systemd 252; Debian 13: linux 6.12, systemd 257), as in their release notes.
 *   ext4_features: each release's /etc/mke2fs.conf ([defaults] base_features
 *     sparse_super,large_file,filetype,resize_inode,dir_index,ext_attr plus [fs_types] ext4
 *     features, inode_size = 256): e2fsprogs 1.42.13 (xenial) has
 *     has_journal,extent,huge_file,flex_bg,uninit_bg,dir_nlink,extra_isize with 64bit only above
 *     16 TiB (auto_64-bit_support); from 1.43 on metadata_csum and 64bit replace uninit_bg (e2fsprogs
 *     RelNotes v1.43.0: "Mke2fs will now create file systems with the metadata_csum and 64bit
 *     features enabled by default"); the /etc/mke2fs.conf of Debian 11 (1.46.2-2) and Debian 12
 *     (1.47.0-2) has exactly that list (read from the bootstrapped trees). Upstream 1.47.0 also turns on metadata_csum_seed and orphan_file (RelNotes v1.47.0),
 *     and so does Debian 13's mke2fs.conf (1.47.2, read from the bootstrapped tree). The builder
 *     stays with the 1.43 list on every release from 1.43 on: all of them support it, and an
 *     image of a newer release stays readable by the tools that may meet it elsewhere (the GRUB
 *     core the build host writes, the e2fsck of an older rescue system; orphan_file needs e2fsck
 *     1.47 and Linux 5.15).
 *   ext4_supported: the features e2fsprogs' e2fsck accepts (lib/ext2fs/ext2fs.h,
 *     EXT2_LIB_FEATURE_*_SUPP of the release's version), intersected with the kernel's: 1.42.13 has
 *     no metadata_csum, inline_data, encrypt, project, csum_seed (all added in 1.43, RelNotes
 *     v1.43.0) and no largedir, ea_inode (1.44), casefold, verity, stable_inodes (1.45/1.46),
 *     fast_commit (1.46.0, kernel 5.10), orphan_file (1.47.0, kernel 5.15).
 *   journal_supported: journal_checksum_v3 and journal_64bit come with metadata_csum and 64bit
 *     (e2fsck's journal code of 1.43; 1.42.13 replays no v3 checksummed journal), so xenial: none.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "macro.h"
#include "reterr.h"
#include "target.h"

#define BASE_FEATURES "has_journal,ext_attr,resize_inode,dir_index,filetype,extent,flex_bg,sparse_super,large_file,huge_file,dir_nlink,extra_isize"
#define SUPPORTED_1_42                                                                                         \
        "has_journal,ext_attr,resize_inode,dir_index,filetype,extent,flex_bg,sparse_super,large_file,huge_file," \
        "uninit_bg,dir_nlink,extra_isize,64bit,meta_bg,mmp,bigalloc,quota,sparse_super2"
#define SUPPORTED_1_46 SUPPORTED_1_42 ",metadata_csum,metadata_csum_seed,inline_data,encrypt,project,largedir,ea_inode,casefold,verity,stable_inodes,fast_commit"
#define SUPPORTED_1_47 SUPPORTED_1_46 ",orphan_file"
#define JOURNAL_CSUM "journal_64bit,journal_checksum_v3"

static const TargetRelease releases[] = {
        { "ubuntu", "xenial",   "16.04", "4.4",  "1.42.13", 229, BASE_FEATURES ",uninit_bg",
          SUPPORTED_1_42, "", 256 },
        { "debian", "bullseye", "11",    "5.10", "1.46.2",  247, BASE_FEATURES ",metadata_csum,64bit",
          SUPPORTED_1_46, JOURNAL_CSUM, 256 },
        { "debian", "bookworm", "12",    "6.1",  "1.47.0",  252, BASE_FEATURES ",metadata_csum,64bit",
          SUPPORTED_1_47, JOURNAL_CSUM, 256 },
        { "ubuntu", "noble",    "24.04", "6.8",  "1.47.0",  255, BASE_FEATURES ",metadata_csum,64bit",
          SUPPORTED_1_47, JOURNAL_CSUM, 256 },
        { "debian", "trixie",   "13",    "6.12", "1.47.2",  257, BASE_FEATURES ",metadata_csum,64bit",
          SUPPORTED_1_47, JOURNAL_CSUM, 256 },
};

const TargetRelease *target_release_find(const char *distribution, const char *suite) {
        if (!distribution || !suite)
                return NULL;
        for (size_t i = 0; i < ELEMENTSOF(releases); i++)
                if (streq(releases[i].distribution, distribution) && streq(releases[i].suite, suite))
                        return &releases[i];
        return NULL;
}

const TargetRelease *target_releases(size_t *ret_n) {
        *ret_n = ELEMENTSOF(releases);
        return releases;
}

unsigned target_oldest_systemd(void) {
        unsigned v = releases[0].systemd;

        for (size_t i = 1; i < ELEMENTSOF(releases); i++)
                if (releases[i].systemd < v)
                        v = releases[i].systemd;
        return v;
}

static bool list_has(const char *list, const char *word, size_t n) {
        for (const char *p = list; *p;) {
                size_t k = strcspn(p, ", ");
                if (k == n && strncmp(p, word, n) == 0)
                        return true;
                p += k;
                p += strspn(p, ", ");
        }
        return false;
}

bool target_feature_subset(const char *a, const char *b, const char **ret_missing) {
        static char missing[64];

        for (const char *p = a + strspn(a, ", "); *p;) {
                size_t k = strcspn(p, ", ");
                if (!list_has(b, p, k)) {
                        if (ret_missing) {
                                snprintf(missing, sizeof missing, "%.*s", (int) MIN(k, sizeof missing - 1), p);
                                *ret_missing = missing;
                        }
                        return false;
                }
                p += k;
                p += strspn(p, ", ");
        }
        if (ret_missing)
                *ret_missing = NULL;
        return true;
}

/* Directives (and values) newer than systemd 219, with the version whose NEWS entry ("CHANGES WITH
 * N") introduced them; anything not listed predates every target. value NULL: the key itself;
 * otherwise the value, or a value prefix ending in ':' (StandardOutput=file:PATH). Exec* command
 * prefixes are checked separately below. */
typedef struct UnitDirective {
        const char *section, *key, *value;
        unsigned since;
} UnitDirective;

static const UnitDirective directives[] = {
        { "Service", "AmbientCapabilities", NULL, 229 },
        { "Service", "RuntimeMaxSec", NULL, 229 },
        { "Timer", "RandomizedDelaySec", NULL, 229 },
        { "Unit", "StartLimitIntervalSec", NULL, 230 },
        { "Unit", "StartLimitBurst", NULL, 230 },
        { "Unit", "StartLimitAction", NULL, 230 },
        { "Service", "IOWeight", NULL, 230 },
        { "Service", "IODeviceWeight", NULL, 230 },
        { "Service", "IOReadBandwidthMax", NULL, 230 },
        { "Service", "IOWriteBandwidthMax", NULL, 230 },
        { "Socket", "TriggerLimitIntervalSec", NULL, 230 },
        { "Socket", "TriggerLimitBurst", NULL, 230 },
        { "Service", "ReadWritePaths", NULL, 231 },
        { "Service", "ReadOnlyPaths", NULL, 231 },
        { "Service", "InaccessiblePaths", NULL, 231 },
        { "Service", "MemoryDenyWriteExecute", NULL, 231 },
        { "Service", "RestrictRealtime", NULL, 231 },
        { "Service", "MemoryLow", NULL, 231 },
        { "Service", "MemoryHigh", NULL, 231 },
        { "Service", "MemoryMax", NULL, 231 },
        { "Service", "DynamicUser", NULL, 232 },
        { "Service", "ProtectKernelTunables", NULL, 232 },
        { "Service", "ProtectKernelModules", NULL, 232 },
        { "Service", "ProtectControlGroups", NULL, 232 },
        { "Service", "PrivateUsers", NULL, 232 },
        { "Service", "ProtectSystem", "strict", 232 },
        { "Service", "RestrictNamespaces", NULL, 233 },
        { "Service", "RootImage", NULL, 233 },
        { "Service", "MountAPIVFS", NULL, 233 },
        { "Service", "StateDirectory", NULL, 235 },
        { "Service", "CacheDirectory", NULL, 235 },
        { "Service", "LogsDirectory", NULL, 235 },
        { "Service", "ConfigurationDirectory", NULL, 235 },
        { "Service", "RuntimeDirectoryPreserve", NULL, 235 },
        { "Service", "LockPersonality", NULL, 235 },
        { "Service", "KeyringMode", NULL, 235 },
        { "Service", "UnsetEnvironment", NULL, 235 },
        { "Service", "IPAddressAllow", NULL, 235 },
        { "Service", "IPAddressDeny", NULL, 235 },
        { "Service", "IPAccounting", NULL, 235 },
        { "Unit", "FailureAction", NULL, 236 },
        { "Unit", "SuccessAction", NULL, 236 },
        { "Unit", "CollectMode", NULL, 236 },
        { "Service", "BindPaths", NULL, 236 },
        { "Service", "BindReadOnlyPaths", NULL, 236 },
        { "Service", "LogLevelMax", NULL, 236 },
        { "Service", "LogExtraFields", NULL, 236 },
        { "Service", "StandardInputText", NULL, 236 },
        { "Service", "StandardInputData", NULL, 236 },
        { "Service", "StandardInput", "data", 236 },
        { "Service", "StandardOutput", "file:", 236 },
        { "Service", "StandardError", "file:", 236 },
        { "Service", "NotifyAccess", "exec", 236 },
        { "Unit", "ConditionUser", NULL, 237 },
        { "Unit", "ConditionGroup", NULL, 237 },
        { "Service", "TemporaryFileSystem", NULL, 238 },
        { "Service", "PrivateMounts", NULL, 239 },
        { "Service", "Type", "exec", 240 },
        { "Service", "StandardOutput", "append:", 240 },
        { "Service", "StandardError", "append:", 240 },
        { "Service", "LogRateLimitIntervalSec", NULL, 240 },
        { "Service", "LogRateLimitBurst", NULL, 240 },
        { "Service", "ProtectHostname", NULL, 242 },
        { "Timer", "OnClockChange", NULL, 242 },
        { "Timer", "OnTimezoneChange", NULL, 242 },
        { "Service", "ExecCondition", NULL, 243 },
        { "Service", "TimeoutAbortSec", NULL, 243 },
        { "Service", "OOMPolicy", NULL, 243 },
        { "Service", "ProtectKernelLogs", NULL, 244 },
        { "Service", "TimeoutCleanSec", NULL, 244 },
        { "Unit", "ConditionControlGroupController", NULL, 244 },
        { "Unit", "ConditionMemory", NULL, 244 },
        { "Unit", "ConditionCPUs", NULL, 244 },
        { "Service", "ProtectClock", NULL, 245 },
        { "Service", "LogNamespace", NULL, 245 },
        { "Unit", "ConditionEnvironment", NULL, 246 },
        { "Service", "ProtectProc", NULL, 247 },
        { "Service", "ProcSubset", NULL, 247 },
        { "Service", "LoadCredential", NULL, 247 },
        { "Service", "SetCredential", NULL, 247 },
        { "Timer", "FixedRandomDelay", NULL, 247 },
        { "Service", "PrivateIPC", NULL, 248 },
        { "Service", "StandardOutput", "truncate:", 248 },
        { "Service", "StandardError", "truncate:", 248 },
        { "Unit", "OnSuccess", NULL, 249 },
        { "Unit", "Upholds", NULL, 249 },
        { "Unit", "PropagatesStopTo", NULL, 249 },
        { "Unit", "StopPropagatedFrom", NULL, 249 },
        { "Service", "ExitType", NULL, 250 },
        { "Service", "ExecSearchPath", NULL, 250 },
        { "Service", "LoadCredentialEncrypted", NULL, 250 },
        { "Path", "TriggerLimitIntervalSec", NULL, 250 },
        { "Path", "TriggerLimitBurst", NULL, 250 },
        { "Service", "Type", "notify-reload", 253 },
        { "Service", "OpenFile", NULL, 253 },
        { "Service", "RestartSteps", NULL, 254 },
        { "Service", "RestartMaxDelaySec", NULL, 254 },
        { "Service", "RestartMode", NULL, 254 },
        { "Service", "ImportCredential", NULL, 254 },
        { "Unit", "WantsMountsFor", NULL, 256 },
};

/* Exec*= command prefixes (systemd.service(5), "Table 1. Special executable prefixes"). */
static unsigned exec_prefix_since(const char *v) {
        unsigned since = 0;

        for (; *v && strchr("-@+!:|", *v); v++) {
                unsigned s = *v == '+' ? 231 : *v == '!' ? 236 : *v == ':' ? 243 : *v == '|' ? 256 : 0;
                if (s > since)
                        since = s;
        }
        return since;
}

unsigned unit_directive_since(const char *section, const char *key, const char *value) {
        unsigned since = 0;

        /* Resource-control and exec settings are shared by the kinds that start processes. */
        bool exec_kind = streq(section, "Service") || streq(section, "Socket") || streq(section, "Mount") ||
                         streq(section, "Swap");

        for (size_t i = 0; i < ELEMENTSOF(directives); i++) {
                const UnitDirective *d = &directives[i];

                if (!streq(d->key, key))
                        continue;
                if (!streq(d->section, section) && !(streq(d->section, "Service") && exec_kind))
                        continue;
                if (d->value) {
                        size_t n = strlen(d->value);
                        if (!value)
                                continue;
                        if (d->value[n - 1] == ':' ? strncmp(value, d->value, n) != 0 : !streq(value, d->value))
                                continue;
                }
                if (d->since > since)
                        since = d->since;
        }
        if (value && startswith(key, "Exec")) {
                unsigned s = exec_prefix_since(value);
                if (s > since)
                        since = s;
        }
        return since;
}

int unit_text_check(const char *name, const char *text, unsigned version, char **reterr) {
        char section[64] = "";
        unsigned line = 0;

        for (const char *p = text; p && *p; line++) {
                const char *eol = strchr(p, '\n');
                size_t n = eol ? (size_t) (eol - p) : strlen(p);
                char buf[1024];

                snprintf(buf, sizeof buf, "%.*s", (int) MIN(n, sizeof buf - 1), p);
                p = eol ? eol + 1 : NULL;

                char *s = buf + strspn(buf, " \t");
                s[strcspn(s, "\r")] = 0;
                if (!*s || *s == '#' || *s == ';')
                        continue;
                if (*s == '[') {
                        char *e = strchr(s, ']');
                        if (e)
                                snprintf(section, sizeof section, "%.*s", (int) MIN((size_t) (e - s - 1), sizeof section - 1),
                                         s + 1);
                        continue;
                }
                char *eq = strchr(s, '=');
                if (!eq)
                        continue;
                char *k = s, *v = eq + 1;
                *eq = 0;
                for (char *t = eq; t > k && (t[-1] == ' ' || t[-1] == '\t'); t--)
                        t[-1] = 0;
                v += strspn(v, " \t");

                unsigned since = unit_directive_since(section, k, v);
                if (since > version)
                        return reterr_printf(reterr, -EPROTO, "%s:%u: %s.%s=%s needs systemd %u (target has %u)", name,
                                             line + 1, section, k, v, since, version);
        }
        return 0;
}

bool unit_path_is_unit(const char *path) {
        static const char *const suffixes[] = { ".service", ".socket", ".timer", ".path", ".target", ".mount",
                                                ".automount", ".swap", ".slice", ".scope" };
        const char *dir;

        if (!path || !strstr(path, "/systemd/"))
                return false;
        if (!strstr(path, "/systemd/system/") && !strstr(path, "/systemd/user/"))
                return false;
        dir = strrchr(path, '/');
        if (!dir)
                return false;
        for (size_t i = 0; i < ELEMENTSOF(suffixes); i++)
                if (endswith(dir, suffixes[i]))
                        return true;
        /* A drop-in: …/NAME.service.d/X.conf */
        if (endswith(path, ".conf")) {
                for (size_t i = 0; i < ELEMENTSOF(suffixes); i++) {
                        char pat[32];
                        snprintf(pat, sizeof pat, "%s.d/", suffixes[i]);
                        const char *at = strstr(path, pat);
                        if (at && at + strlen(pat) == dir + 1)
                                return true;
                }
        }
        return false;
}
