/* Internals of the logs, s3, sns and sts clients: the response parsers as
 * pure functions (for unit tests and fuzzers) and helpers the clients share.
 * Not part of the module's public interface (aws/aws.h).
 *
 * Every parser takes untrusted bytes (body, len; body need not be
 * NUL-terminated), fills *out and returns 0, or returns CWX_EPARSE (or
 * CWX_ENOMEM) with a one-line reason in msg (when msg is not NULL) and leaves
 * *out zeroed with nothing to free. On success the caller frees *out with the
 * matching public _free function. Parsers never read past len and never
 * trust a size or a count found in the input. */
#ifndef CWX_AWS_CLIENTS_INTERNAL_H
#define CWX_AWS_CLIENTS_INTERNAL_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include "aws/core.h"
#include "aws/logs.h"
#include "aws/s3.h"
#include "aws/sts.h"
#include "common/buf.h"

/* Limits on what a response may make us hold. */
#define CWX__MAX_TEXT (64 * 1024)      /* one XML element's text */
#define CWX__MAX_ITEMS 100000          /* entries of one page */

/* ---- logs (JSON) --------------------------------------------------------- */

/* {"taskId": "…"} → *task_id (malloc'd, caller frees). */
int cwx_logs_parse_create_export_task(const char *body, size_t len, char **task_id,
                                      char *msg, size_t msg_size);
int cwx_logs_parse_describe_export_tasks(const char *body, size_t len,
                                         struct cwx_logs_export_tasks *out, char *msg,
                                         size_t msg_size);
int cwx_logs_parse_describe_log_groups(const char *body, size_t len,
                                       struct cwx_logs_log_groups *out, char *msg,
                                       size_t msg_size);
int cwx_logs_parse_describe_log_streams(const char *body, size_t len,
                                        struct cwx_logs_log_streams *out, char *msg,
                                        size_t msg_size);

/* Request bodies (exposed for tests): append the JSON document to out. */
int cwx__logs_describe_log_streams_body(const struct cwx_logs_describe_log_streams_req *req,
                                        struct cwx_buf *out);
int cwx__logs_create_export_task_body(const struct cwx_logs_create_export_task_req *req,
                                      struct cwx_buf *out);
int cwx__logs_describe_export_tasks_body(const struct cwx_logs_describe_export_tasks_req *req,
                                         struct cwx_buf *out);
int cwx__logs_describe_log_groups_body(const struct cwx_logs_describe_log_groups_req *req,
                                       struct cwx_buf *out);
int cwx__logs_cancel_export_task_body(const char *task_id, struct cwx_buf *out);

/* ---- s3 (XML) ------------------------------------------------------------ */

/* The streaming ListObjectsV2 parser: feed chunks as they arrive, then
 * finish. Bounded memory per element and per page. */
struct cwx_s3_list_parser;
int cwx_s3_list_parser_new(struct cwx_s3_list_parser **out);
/* Forgets everything fed so far (a retried attempt starts over). */
int cwx_s3_list_parser_reset(struct cwx_s3_list_parser *p);
/* Returns 0, or the parse error that has already happened (sticky). */
int cwx_s3_list_parser_feed(struct cwx_s3_list_parser *p, const char *chunk, size_t len);
/* Ends the document; on success moves the page into *out. */
int cwx_s3_list_parser_finish(struct cwx_s3_list_parser *p, struct cwx_s3_list_page *out,
                              char *msg, size_t msg_size);
void cwx_s3_list_parser_free(struct cwx_s3_list_parser *p);

/* The whole body at once (same parser, one chunk). */
int cwx_s3_parse_list_objects_v2(const char *body, size_t len, struct cwx_s3_list_page *out,
                                 char *msg, size_t msg_size);

/* Appends key percent-encoded for an S3 path (slashes kept). */
int cwx__s3_encode_key(struct cwx_buf *out, const char *key);
/* The query string of a listing request, parameters sorted, values encoded. */
int cwx__s3_list_query(const struct cwx_s3_list_req *req, struct cwx_buf *out);

/* ---- sns / sts (Query protocol XML) --------------------------------------- */

/* <PublishResponse><PublishResult><MessageId> → *message_id (malloc'd). */
int cwx_sns_parse_publish(const char *body, size_t len, char **message_id, char *msg,
                          size_t msg_size);

/* out's strings are malloc'd; free with cwx__sts_identity_free. */
struct cwx__sts_identity {
    char *account;
    char *arn;
    char *user_id;
};
void cwx__sts_identity_free(struct cwx__sts_identity *id);
int cwx_sts_parse_get_caller_identity(const char *body, size_t len,
                                      struct cwx__sts_identity *out, char *msg,
                                      size_t msg_size);
/* AssumeRole and AssumeRoleWithWebIdentity answers (the root element names
 * the operation: op is "AssumeRole" or "AssumeRoleWithWebIdentity"). */
int cwx_sts_parse_assume_role(const char *body, size_t len, const char *op,
                              struct cwx_sts_assumed_role *out, char *msg, size_t msg_size);

/* ---- Query protocol calls (SNS, STS, CloudWatch) ------------------------- */

/* One Query-protocol call: a form-encoded POST to "/" whose body starts with
 * Action and Version, answered with XML. A client embeds the struct as the
 * first member of its own call (its results beside it), makes that call with
 * cwx__query_new and frees it with cwx__query_free: in done, or itself when
 * cwx__query_send fails. */
struct cwx__query;

/* Parses a 2xx answer into the embedding call; returns 0, or CWX_E* with a
 * one-line reason in msg. */
typedef int cwx__query_parse_fn(struct cwx__query *q, const char *body, size_t len,
                                char *msg, size_t msg_size);
/* Runs exactly once per sent call with the outcome: status 0 after parse
 * succeeded, or CWX_E* and err (a parse failure says "Action: reason"). */
typedef void cwx__query_done_fn(struct cwx__query *q, int status,
                                const struct cwx_aws_error *err);

struct cwx__query {
    struct cwx_aws_request req;
    struct cwx_http_header header;
    struct cwx_buf body; /* may hold a secret (a web identity token): wiped */
    const char *action;  /* static */
    cwx__query_parse_fn *parse;
    cwx__query_done_fn *done;
};

/* Allocates a client's call of size bytes (zeroed) whose first member is the
 * query, and starts its body with Action and Version (both static strings).
 * NULL when out of memory. */
void *cwx__query_new(size_t size, const char *action, const char *version);
/* Appends one form-encoded parameter. */
int cwx__query_add(struct cwx__query *q, const char *name, const char *value);
/* Sends q to service ("sns", "sts", "monitoring") with cwx_aws_call flags.
 * Returns 0 and done runs later, or CWX_E* and done never runs. */
int cwx__query_send(struct cwx_aws_client *c, struct cwx__query *q, const char *service,
                    unsigned flags, cwx__query_parse_fn *parse, cwx__query_done_fn *done);
/* Wipes and frees the body, then frees the call q is the first member of.
 * NULL is fine. */
void cwx__query_free(struct cwx__query *q);

/* ---- shared helpers ------------------------------------------------------- */

/* One element to pick out of a small XML document: path is the element
 * names from the root down, separated by '/' ("A/B/C"). *dst receives a
 * malloc'd copy of the text of the first match (NULL when absent). */
struct cwx__xml_field {
    const char *path;
    char **dst;
    int required; /* missing → CWX_EPARSE */
};

/* Parses a whole document with expat (DOCTYPE and entity declarations
 * refused, text capped at CWX__MAX_TEXT) and extracts fields. On failure
 * every *dst is freed (wiped when `secret`) and NULL. */
int cwx__xml_extract(const char *body, size_t len, struct cwx__xml_field *fields,
                     size_t n_fields, int secret, char *msg, size_t msg_size);

/* "2024-03-07T05:06:07Z", with optional fraction and "+hh:mm" offset →
 * epoch ms. Returns 0 or CWX_EPARSE. */
int cwx__iso8601_ms(const char *s, size_t len, int64_t *out);
/* RFC 7231 IMF-fixdate "Sun, 06 Nov 1994 08:49:37 GMT" → epoch ms. */
int cwx__http_date_ms(const char *s, size_t len, int64_t *out);

/* Appends s percent-encoded as AWS wants it (RFC 3986 unreserved characters
 * kept, everything else %XX, uppercase); a '/' is kept when keep_slash. */
int cwx__pct_encode(struct cwx_buf *out, const char *s, size_t len, int keep_slash);
/* Decodes %XX (and '+' → ' ' when plus_space) into out. CWX_EPARSE on a bad
 * escape. */
int cwx__pct_decode(struct cwx_buf *out, const char *s, size_t len, int plus_space);
/* Appends "&name=value" (no '&' when out is empty), form-encoded. */
int cwx__form_add(struct cwx_buf *out, const char *name, const char *value);

struct XML_ParserStruct; /* expat's XML_Parser points to one */

/* Stops an expat parse from inside a handler: the first failure is kept in
 * *error (a CWX_E* code) and why (its reason), later ones are dropped. */
void cwx__xml_fail(struct XML_ParserStruct *xml, int *error, char *why, size_t why_size,
                   int err, const char *reason);
/* The start handlers' guard: when an element would open at depth (the
 * number of open elements) max_depth, stops the parse as cwx__xml_fail does
 * (CWX_EPARSE, "XML nested too deeply") and returns 1; otherwise 0. */
int cwx__xml_too_deep(struct XML_ParserStruct *xml, int *error, char *why, size_t why_size,
                      int depth, int max_depth);

/* snprintf into msg when msg is not NULL. */
void cwx__msg(char *msg, size_t size, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* strdup that returns NULL for NULL. */
char *cwx__strdup(const char *s);
/* After a struct copy, makes each string *v[i] (still the source's) a copy
 * of its own; NULL stays NULL. Returns 0, or CWX_ENOMEM with every string
 * not copied set to NULL, so that the struct's free function frees what
 * was copied. */
int cwx__strdup_each(char **const v[], size_t n);

/* Copies src (may be NULL) into dst and puts msg into dst->message: the
 * error handed to a callback whose 2xx answer did not parse. */
void cwx__parse_error(struct cwx_aws_error *dst, const struct cwx_aws_error *src,
                      const char *msg);
/* The error for a callback: err itself, or, when status is set and a parser
 * left its complaint in msg, the copy cwx__parse_error makes in *tmp. */
const struct cwx_aws_error *cwx__answer_error(int status, const char *msg,
                                              const struct cwx_aws_error *err,
                                              struct cwx_aws_error *tmp);

#endif
