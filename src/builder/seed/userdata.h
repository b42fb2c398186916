/**
 * User-data and vendor-data as cloud-init sees them: the type chosen by the first line (or the
 * MIME-Version header, or the gzip magic), and the checks a seed writer can make before boot.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>

typedef enum UserDataType {
        USER_DATA_EMPTY,
        USER_DATA_CLOUD_CONFIG,         /* #cloud-config */
        USER_DATA_CLOUD_CONFIG_ARCHIVE, /* #cloud-config-archive */
        USER_DATA_CLOUD_CONFIG_JSONP,   /* #cloud-config-jsonp */
        USER_DATA_SCRIPT,               /* #! */
        USER_DATA_BOOTHOOK,             /* #cloud-boothook */
        USER_DATA_INCLUDE,              /* #include */
        USER_DATA_INCLUDE_ONCE,         /* #include-once */
        USER_DATA_PART_HANDLER,         /* #part-handler */
        USER_DATA_JINJA,                /* ## template: jinja */
        USER_DATA_MIME_MULTIPART,       /* a MIME message (MIME-Version: / Content-Type:) */
        USER_DATA_GZIP,                 /* gzip magic; the content is one of the above */
        USER_DATA_UNKNOWN,
        _USER_DATA_TYPE_MAX,
} UserDataType;

const char *user_data_type_to_string(UserDataType t);

/* Classifies data by its start, as cloud-init does. Never fails. */
UserDataType user_data_detect(const void *data, size_t size);

/* Validates user-data (or vendor-data) named name: a known header, and for YAML-based types
 * (cloud-config, cloud-config-archive) a single well-formed YAML document of the right shape.
 * gzip content is decompressed and checked in turn. Returns 0 and the detected type (the inner
 * type for gzip, if ret_inner is given), or -EBADMSG with a NAME:LINE:COLUMN message. */
int user_data_validate(const char *name, const void *data, size_t size, UserDataType *ret_type,
                       UserDataType *ret_inner, char **reterr);
