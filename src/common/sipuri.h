/*
 * sipuri.h: validation and normalization of a user's SIP address of record
 * (RFC 3261 section 19.1): "sip:" or "sips:", a user part, "@", a host name.
 *
 * Normal form (docs/store.md, "SIP URIs"):
 *  - the scheme and host are lowercased (RFC 3261: case-insensitive);
 *  - the user part is also lowercased: RFC 3261 compares it case-sensitively,
 *    but like the system poolpair replaces we treat identities
 *    case-insensitively, so "Alice" and "alice" cannot be two people;
 *  - %HH escapes of unreserved characters are decoded, other escapes keep
 *    uppercase hex digits;
 *  - a trailing dot on the host is dropped.
 * Refused: other schemes, a missing user part, passwords, ports, URI
 * parameters and headers (an address of record has none), IP literals, and
 * anything longer than PP_URI_MAX.
 */
#ifndef PP_SIPURI_H
#define PP_SIPURI_H

#include <stddef.h>

#include "pp_limits.h"

/*
 * Validate ${in} and write its normal form to ${out} (PP_URI_MAX + 1 bytes).
 * Returns 0, or -1 with PP_EINVAL and the reason recorded.
 */
int sipuri_normalize(const char *in, char out[static PP_URI_MAX + 1]);

#endif
