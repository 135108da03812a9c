/*
 * pp_limits.h: the bounds on every field poolpair accepts from outside.
 * Every length read from a user, a file or the network is checked against one
 * of these before anything is allocated or stored.  Sizes are in bytes.
 */
#ifndef PP_LIMITS_H
#define PP_LIMITS_H

#define PP_FQDN_MAX		253	/* RFC 1035 text form */
#define PP_URI_MAX		256	/* a SIP address of record */
#define PP_NAME_MAX		256	/* display names */
#define PP_SETTING_KEY_MAX	128
#define PP_SETTING_VALUE_MAX	4096
#define PP_SETTINGS_PER_USER	256
#define PP_GROUP_NAME_MAX	128
#define PP_GROUPS_PER_USER	64
#define PP_CONTACTS_PER_USER	1000
#define PP_SUBJECT_MAX		256
#define PP_CONF_ID_LEN		32	/* 128 random bits, lowercase hex */
#define PP_CONTENT_NAME_MAX	255
#define PP_MIME_MAX		127
#define PP_CONTENT_MAX		(2LL << 30)	/* one content item: 2 GiB */
#define PP_CONTENT_PER_CONF	1000
#define PP_CONFIG_NAME_MAX	64
#define PP_CONFIG_DOC_MAX	(1 << 20)	/* one config document: 1 MiB */

#endif
