/* AWS Signature Version 4 as a pipeline of small pure steps: canonical
 * request, string to sign, signing key, signature. The clock is injected;
 * the signer never reads it. */
#ifndef CWX_AWS_SIGV4_H
#define CWX_AWS_SIGV4_H

#include <stddef.h>
#include <stdint.h>

#include "common/buf.h"

/* One header of the request to sign; borrowed. */
struct cwx_sigv4_header {
    const char *name;
    const char *value;
};

/* The request as it goes on the wire. Everything is borrowed. The headers
 * are the ones to sign (Host included); Authorization, and the X-Amz-Date,
 * x-amz-content-sha256 and X-Amz-Security-Token the signer adds itself in
 * header signing, are ignored if present, so a retry can be signed again
 * from the headers it was sent with. */
struct cwx_sigv4_request {
    const char *method;
    const char *path;  /* as sent, percent-encoded: "/" or "/bucket/a%20b" */
    const char *query; /* as sent, without '?', or NULL */
    const struct cwx_sigv4_header *headers; /* includes Host */
    size_t n_headers;
    const void *body;
    size_t body_len;
    /* Override of the payload hash ("UNSIGNED-PAYLOAD", or a precomputed hex
     * SHA-256); NULL = SHA-256 of the body, or UNSIGNED-PAYLOAD when
     * presigning with s3_rules. */
    const char *payload_hash;
};

struct cwx_sigv4_params {
    const char *access_key_id;
    const char *secret_access_key;
    const char *session_token; /* NULL for long-term keys */
    const char *region;
    const char *service;
    int64_t time_s;         /* injected clock: epoch seconds (1970 to 9999) */
    int s3_rules;           /* S3: single encoding, no normalisation, signs x-amz-content-sha256 */
    int normalize_path;     /* non-S3: remove dot segments and duplicate slashes */
    int sign_body;          /* add and sign x-amz-content-sha256 (always with s3_rules) */
    int omit_session_token; /* the token is added after signing */
    int expires_s;          /* presign only; 0 = 3600 */
};

/* Every function returning int returns 0 or a negative CWX_E* code
 * (CWX_EINVAL for a missing field or a time out of range, CWX_ENOMEM). */

/* Appends the canonical request to out and the signed-headers list to
 * signed_headers (presign: the query variant). */
int cwx_sigv4_canonical_request(const struct cwx_sigv4_request *req,
                                const struct cwx_sigv4_params *p, int presign,
                                struct cwx_buf *out, struct cwx_buf *signed_headers);
/* Appends the string to sign of a canonical request to out. */
int cwx_sigv4_string_to_sign(const struct cwx_sigv4_params *p,
                             const char *canonical_request, size_t len,
                             struct cwx_buf *out);
/* Derives the signing key for date8 ("20150830"). */
void cwx_sigv4_signing_key(const char *secret, const char *date8,
                           const char *region, const char *service,
                           unsigned char key[32]);
/* Hex HMAC-SHA256 of the string to sign under key. */
void cwx_sigv4_signature(const unsigned char key[32], const char *string_to_sign,
                         size_t len, char hex[65]);

/* The headers header signing adds to the request. Owned by the struct. */
struct cwx_sigv4_signed {
    char amz_date[17];       /* X-Amz-Date */
    char content_sha256[65]; /* x-amz-content-sha256 value when signed, else "" */
    char *authorization;     /* Authorization */
    char *security_token;    /* X-Amz-Security-Token, or NULL */
};

int cwx_sigv4_sign_headers(const struct cwx_sigv4_request *req,
                           const struct cwx_sigv4_params *p,
                           struct cwx_sigv4_signed *out);
void cwx_sigv4_signed_free(struct cwx_sigv4_signed *s);

/* Presigned query form: appends the whole query string (the request's own
 * parameters as given, then X-Amz-Algorithm, -Credential, -Date,
 * -SignedHeaders, -Expires, -Security-Token when there is one, and
 * X-Amz-Signature last) to query_out. */
int cwx_sigv4_presign(const struct cwx_sigv4_request *req,
                      const struct cwx_sigv4_params *p, struct cwx_buf *query_out);

/* RFC 3986 percent-encoding: unreserved characters kept; '/' kept unless
 * encode_slash. Appends to out. */
int cwx_uri_encode(struct cwx_buf *out, const char *s, size_t len, int encode_slash);
/* Hex SHA-256 of data. */
void cwx_sha256_hex(const void *data, size_t len, char hex[65]);

#endif
