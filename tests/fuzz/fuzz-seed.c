/**
 * Fuzzes the seed input checks with untrusted bytes: user-data classification and validation
 * (gzip included), the YAML checks used for meta-data and network-config, key lookups, SSH key
 * files and the preset merge. The first byte picks the YAML flags.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cleanup.h"
#include "seed/config.h"
#include "seed/userdata.h"
#include "strv.h"
#include "yaml-util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        _cleanup_free_ char *text = NULL, *err = NULL, *v = NULL, *merged = NULL;
        _cleanup_strv_free_ char **keys = NULL;
        char *top[] = { (char *) "growpart", (char *) "resize_rootfs", NULL };
        UserDataType t, inner;
        size_t n;

        if (size < 1 || size > 64 * 1024)
                return 0;

        YamlCheckFlags flags = (YamlCheckFlags) (data[0] & 7);
        data++;
        size--;

        (void) user_data_detect(data, size);
        (void) user_data_validate("user-data", data, size, &t, &inner, &err);
        free(err);
        err = NULL;
        (void) yaml_check("meta-data", data, size, flags, &err);
        (void) yaml_lookup(data, size, (const char *const[]) { "instance-id", NULL }, &v, NULL, NULL);
        free(v);
        v = NULL;
        (void) yaml_lookup(data, size, (const char *const[]) { "appliance", "domain", NULL }, &v, NULL, NULL);

        text = strndup((const char *) data, size); /* stops at an embedded NUL, like a C string would */
        if (!text)
                return 0;
        free(err);
        err = NULL;
        (void) seed_ssh_keys_parse("key.pub", text, &keys, &err);
        free(err);
        err = NULL;
        (void) seed_cloud_config_merge("user-data", text, strlen(text), "growpart:\n  mode: auto\nresize_rootfs: true\n",
                                       top, &merged, &n, &err);
        return 0;
}
