/* Reading a config's YAML (docs/config-reference.md): libyaml's document API
 * builds the node tree, whose nodes keep their positions for FILE:LINE:COL
 * errors. Before it is built, one pass over the parser's events accounts
 * for what aliases add; after, the tree is searched for secret-looking keys.
 * Scalars are expanded (${VAR}) on first use and cached in the context. */
#include "planner/config_internal.h"

#include <ctype.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common/buf.h"
#include "common/error.h"

/* ---- errors ----------------------------------------------------------- */

static int s_vfail_at(struct cwx__config_ctx *c, size_t line0, size_t col0, const char *fmt,
                      va_list ap) __attribute__((format(printf, 4, 0)));

static int s_vfail_at(struct cwx__config_ctx *c, size_t line0, size_t col0, const char *fmt,
                      va_list ap)
{
    c->err->line = line0 >= INT_MAX ? INT_MAX : (int)line0 + 1;
    c->err->col = col0 >= INT_MAX ? INT_MAX : (int)col0 + 1;
    vsnprintf(c->err->msg, sizeof c->err->msg, fmt, ap);
    return CWX_ECONFIG;
}

int cwx__config_fail_at(struct cwx__config_ctx *c, size_t line0, size_t col0, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int rc = s_vfail_at(c, line0, col0, fmt, ap);
    va_end(ap);
    return rc;
}

int cwx__config_fail(struct cwx__config_ctx *c, const yaml_node_t *n, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int rc = s_vfail_at(c, n->start_mark.line, n->start_mark.column, fmt, ap);
    va_end(ap);
    return rc;
}

int cwx__config_oom(struct cwx__config_ctx *c)
{
    c->err->line = 0;
    c->err->col = 0;
    snprintf(c->err->msg, sizeof c->err->msg, "out of memory");
    return CWX_ENOMEM;
}

/* Writes s (len bytes) as a double-quoted, escaped string into out, cut
 * after CWX__CONFIG_QUOTE_MAX bytes with "..." added. */
void cwx__config_quote(const char *s, size_t len, char *out, size_t size)
{
    size_t o = 0;
    if (size < 8) {
        if (size)
            out[0] = '\0';
        return;
    }
    out[o++] = '"';
    size_t shown = len > CWX__CONFIG_QUOTE_MAX ? CWX__CONFIG_QUOTE_MAX : len;
    /* Never cut a UTF-8 sequence in half. */
    while (shown < len && shown > 0 && ((unsigned char)s[shown] & 0xC0) == 0x80)
        shown--;
    for (size_t i = 0; i < shown; i++) {
        unsigned char ch = (unsigned char)s[i];
        if (o + 8 >= size)
            break;
        if (ch == '"' || ch == '\\') {
            out[o++] = '\\';
            out[o++] = (char)ch;
        } else if (ch < 0x20 || ch == 0x7f) {
            o += (size_t)snprintf(out + o, size - o, "\\x%02x", ch);
        } else {
            out[o++] = (char)ch;
        }
    }
    out[o++] = '"';
    if (shown < len && o + 4 < size) {
        memcpy(out + o, "...", 3);
        o += 3;
    }
    out[o] = '\0';
}

const char *cwx__config_raw(const yaml_node_t *n)
{
    return (const char *)n->data.scalar.value;
}

/* True for YAML's null: an empty plain scalar, `~` or `null`. */
bool cwx__config_is_null(const yaml_node_t *n)
{
    if (n->type != YAML_SCALAR_NODE || n->data.scalar.style != YAML_PLAIN_SCALAR_STYLE)
        return false;
    const char *v = cwx__config_raw(n);
    return !*v || !strcmp(v, "~") || !strcmp(v, "null") || !strcmp(v, "Null") || !strcmp(v, "NULL");
}

static size_t s_node_index(const struct cwx__config_ctx *c, const yaml_node_t *n)
{
    return (size_t)(n - c->doc.nodes.start);
}

const char *cwx__config_expanded(const struct cwx__config_ctx *c, const yaml_node_t *n)
{
    return c->expanded[s_node_index(c, n)];
}

yaml_node_t *cwx__config_node(struct cwx__config_ctx *c, int id)
{
    return yaml_document_get_node(&c->doc, id);
}

/* True when an environment variable's name suggests it holds a secret. */
static bool s_secret_var(const char *name, size_t len)
{
    static const char *const words[] = {"SECRET", "TOKEN",   "PASS", "KEY",
                                        "CRED",   "PRIVATE", "AUTH"};
    char up[256];
    if (len >= sizeof up)
        return true;
    for (size_t i = 0; i < len; i++)
        up[i] = (char)toupper((unsigned char)name[i]);
    up[len] = '\0';
    for (size_t i = 0; i < sizeof words / sizeof words[0]; i++)
        if (strstr(up, words[i]))
            return true;
    return false;
}

/* True when the raw scalar refers to a variable whose value must not be
 * shown. */
static bool s_refers_secret(const char *raw)
{
    for (const char *p = raw; (p = strstr(p, "${")) != NULL; p += 2) {
        if (p > raw && p[-1] == '$')
            continue;
        const char *end = strchr(p + 2, '}');
        if (!end || s_secret_var(p + 2, (size_t)(end - (p + 2))))
            return true;
    }
    return false;
}

/* Describes what was found at n: "a list", "an empty value", or the scalar
 * quoted as written in the file. When ${VAR} expansion changed the value
 * and no variable looks secret, the expanded value follows. */
const char *cwx__config_found(struct cwx__config_ctx *c, const yaml_node_t *n,
                              char buf[CWX__CONFIG_FOUND_SIZE])
{
    switch (n->type) {
    case YAML_SEQUENCE_NODE:
        return n->data.sequence.items.top == n->data.sequence.items.start ? "an empty list"
                                                                          : "a list";
    case YAML_MAPPING_NODE:
        return n->data.mapping.pairs.top == n->data.mapping.pairs.start ? "an empty mapping"
                                                                        : "a mapping";
    case YAML_SCALAR_NODE:
        break;
    default:
        return "nothing";
    }
    if (cwx__config_is_null(n))
        return "an empty value";
    char q[CWX__CONFIG_QUOTE_SIZE];
    cwx__config_quote(cwx__config_raw(n), n->data.scalar.length, q, sizeof q);
    const char *x = cwx__config_expanded(c, n);
    if (x && strcmp(x, cwx__config_raw(n)) && !s_refers_secret(cwx__config_raw(n))) {
        char qx[CWX__CONFIG_QUOTE_SIZE];
        cwx__config_quote(x, strlen(x), qx, sizeof qx);
        snprintf(buf, CWX__CONFIG_FOUND_SIZE, "%s (expanded to %s)", q, qx);
    } else {
        snprintf(buf, CWX__CONFIG_FOUND_SIZE, "%s", q);
    }
    return buf;
}

int cwx__config_expected(struct cwx__config_ctx *c, const yaml_node_t *n, const char *expected)
{
    char f[CWX__CONFIG_FOUND_SIZE];
    return cwx__config_fail(c, n, "expected %s, found %s", expected, cwx__config_found(c, n, f));
}

/* Like cwx__config_expected with a reason appended: "expected X, found "v": why". */
int cwx__config_expected_why(struct cwx__config_ctx *c, const yaml_node_t *n, const char *expected,
                             const char *why)
{
    char f[CWX__CONFIG_FOUND_SIZE];
    return cwx__config_fail(c, n, "expected %s, found %s: %s", expected, cwx__config_found(c, n, f),
                            why);
}

/* ---- scalars ---------------------------------------------------------- */

static bool s_var_name_ok(const char *p, size_t len)
{
    if (!len || len > 255 || !(isalpha((unsigned char)p[0]) || p[0] == '_'))
        return false;
    for (size_t i = 1; i < len; i++)
        if (!isalnum((unsigned char)p[i]) && p[i] != '_')
            return false;
    return true;
}

/* True when a variable must not be expanded into a config at all: its name
 * says it holds a secret (SECRET, PASSWORD, PASSWD, PRIVATE, SESSION_TOKEN,
 * SECURITY_TOKEN), or its value is the secret key or the session token of
 * the environment's AWS credentials (an alias). An expanded value becomes a
 * name, a prefix or a bucket that every report and log line prints, so the
 * only safe secret in a config is none. Names that merely look secret (KEY,
 * TOKEN, AUTH, as in ${KMS_KEY_ARN}) expand, and errors never echo them. */
static bool s_credential_var(const char *name, const char *value)
{
    static const char *const words[] = {"SECRET",  "PASSWORD",      "PASSWD",
                                        "PRIVATE", "SESSION_TOKEN", "SECURITY_TOKEN"};
    static const char *const aws[] = {"AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN",
                                      "AWS_SECURITY_TOKEN"};
    char up[256];
    size_t len = strlen(name);
    if (len >= sizeof up)
        return true;
    for (size_t i = 0; i <= len; i++)
        up[i] = (char)toupper((unsigned char)name[i]);
    for (size_t i = 0; i < sizeof words / sizeof words[0]; i++)
        if (strstr(up, words[i]))
            return true;
    for (size_t i = 0; i < sizeof aws / sizeof aws[0] && value[0]; i++) {
        const char *v = getenv(aws[i]);
        if (v && v[0] && strcmp(v, value) == 0)
            return true;
    }
    return false;
}

/* Expands ${VAR} references in scalar n ($${ is a literal ${) and caches
 * the result. *out is owned by the context. */
int cwx__config_expand(struct cwx__config_ctx *c, const yaml_node_t *n, const char **out)
{
    size_t idx = s_node_index(c, n);
    if (c->expanded[idx]) {
        *out = c->expanded[idx];
        return 0;
    }
    const char *raw = cwx__config_raw(n);
    size_t len = n->data.scalar.length;
    if (memchr(raw, '\0', len))
        return cwx__config_expected(c, n, "text without NUL characters");
    struct cwx_buf b;
    int rc = 0;
    cwx_buf_init(&b, 0);
    for (size_t i = 0; i < len && !rc;) {
        if (raw[i] == '$' && i + 2 < len && raw[i + 1] == '$' && raw[i + 2] == '{') {
            rc = cwx_buf_append(&b, "${", 2);
            i += 3;
        } else if (raw[i] == '$' && i + 1 < len && raw[i + 1] == '{') {
            const char *name = raw + i + 2;
            const char *end = memchr(name, '}', len - (i + 2));
            if (!end || !s_var_name_ok(name, (size_t)(end - name))) {
                cwx_buf_free(&b);
                return cwx__config_expected(c, n,
                                            "${NAME} with a NAME of letters, digits and "
                                            "'_' (write $${ for a literal ${)");
            }
            char var[256];
            memcpy(var, name, (size_t)(end - name));
            var[end - name] = '\0';
            const char *val = getenv(var);
            if (!val) {
                cwx_buf_free(&b);
                return cwx__config_fail(c, n,
                                        "expected environment variable %s to be set, "
                                        "found it unset",
                                        var);
            }
            if (s_credential_var(var, val)) {
                cwx_buf_free(&b);
                return cwx__config_fail(c, n,
                                        "expected no credentials in the config, found "
                                        "${%s}, which holds a secret: config files cannot "
                                        "carry secret keys, not even from the environment; "
                                        "use a profile, role or the environment",
                                        var);
            }
            rc = cwx_buf_puts(&b, val);
            i = (size_t)(end - raw) + 1;
        } else {
            rc = cwx_buf_putc(&b, raw[i]);
            i++;
        }
    }
    if (!rc && !b.ptr)
        rc = cwx_buf_append(&b, "", 0); /* an empty value is "" */
    if (rc) {
        cwx_buf_free(&b);
        return cwx__config_oom(c);
    }
    c->expanded[idx] = cwx_buf_steal(&b);
    *out = c->expanded[idx];
    return 0;
}

bool cwx__config_before(yaml_mark_t a, yaml_mark_t b)
{
    return a.line < b.line || (a.line == b.line && a.column < b.column);
}

size_t cwx__config_seq_len(const yaml_node_t *n)
{
    return (size_t)(n->data.sequence.items.top - n->data.sequence.items.start);
}

yaml_node_t *cwx__config_seq_item(struct cwx__config_ctx *c, const yaml_node_t *n, size_t i)
{
    return cwx__config_node(c, n->data.sequence.items.start[i]);
}

/* Key names that suggest a secret; refused anywhere in a config. */
static bool s_secret_key(const char *k)
{
    static const char *const keys[] = {
        "aws_secret_access_key", "secret_access_key", "secret_key",        "aws_session_token",
        "session_token",         "password",          "aws_access_key_id", "access_key_id",
    };
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++)
        if (!strcasecmp(k, keys[i]))
            return true;
    return false;
}

/* Looks for secret-looking keys anywhere in the document, before any other
 * check, and reports the first in the file. */
static int s_scan_secrets(struct cwx__config_ctx *c)
{
    const yaml_node_t *first = NULL;
    for (yaml_node_t *n = c->doc.nodes.start; n < c->doc.nodes.top; n++) {
        if (n->type != YAML_MAPPING_NODE)
            continue;
        for (yaml_node_pair_t *pair = n->data.mapping.pairs.start; pair < n->data.mapping.pairs.top;
             pair++) {
            const yaml_node_t *k = cwx__config_node(c, pair->key);
            if (k->type == YAML_SCALAR_NODE && s_secret_key(cwx__config_raw(k)) &&
                (!first || cwx__config_before(k->start_mark, first->start_mark)))
                first = k;
        }
    }
    if (!first)
        return 0;
    char q[CWX__CONFIG_QUOTE_SIZE];
    cwx__config_quote(cwx__config_raw(first), first->data.scalar.length, q, sizeof q);
    return cwx__config_fail(c, first,
                            "expected no credentials in the config, found secret key "
                            "%s: config files cannot carry secret keys; use a profile, "
                            "role or the environment",
                            q);
}

/* ---- aliases ---------------------------------------------------------- */

/* What YAML aliases may add to a config: the nodes reached through them
 * (an alias counts as a copy of everything below its anchor), anchors, and
 * nesting. A few KB of nested aliases otherwise stand for billions of
 * nodes, and every walk of the config would visit each of them. */
#define S_ALIAS_NODES_MAX 100000
#define S_ANCHORS_MAX 1000
#define S_DEPTH_MAX 64

struct s_anchor {
    char *name;
    uint64_t size; /* nodes of the anchored node, aliases counted expanded */
};

/* The alias accounting's state over the events of one stream. */
struct s_scan {
    struct s_anchor anchors[S_ANCHORS_MAX];
    size_t n_anchors;
    /* Open collections: their size so far and their anchor (or NULL). */
    uint64_t size[S_DEPTH_MAX + 1];
    char *anchor[S_DEPTH_MAX + 1];
    size_t depth;
    uint64_t through_aliases; /* nodes repeated by the aliases so far */
};

/* An alias adds the size of its anchor (the latest of that name). */
static int s_scan_alias(struct cwx__config_ctx *c, struct s_scan *sc, const yaml_event_t *e,
                        uint64_t *add)
{
    const char *name = (const char *)e->data.alias.anchor;
    size_t i = sc->n_anchors;
    while (i > 0 && strcmp(sc->anchors[i - 1].name, name) != 0)
        i--;
    *add = i > 0 ? sc->anchors[i - 1].size : 1;
    sc->through_aliases += *add;
    if (sc->through_aliases > S_ALIAS_NODES_MAX)
        return cwx__config_fail_at(c, e->start_mark.line, e->start_mark.column,
                                   "expected a config whose aliases repeat at most %d nodes in "
                                   "all, found alias *%.64s repeating %llu more (%llu so far)",
                                   S_ALIAS_NODES_MAX, name, (unsigned long long)*add,
                                   (unsigned long long)sc->through_aliases);
    return 0;
}

/* A list or mapping opens: it counts itself and remembers its anchor. */
static int s_scan_open(struct cwx__config_ctx *c, struct s_scan *sc, const yaml_event_t *e)
{
    if (sc->depth == S_DEPTH_MAX)
        return cwx__config_fail_at(c, e->start_mark.line, e->start_mark.column,
                                   "expected lists and mappings nested at most %d deep, "
                                   "found deeper ones",
                                   S_DEPTH_MAX);
    const char *own = e->type == YAML_SEQUENCE_START_EVENT
                          ? (const char *)e->data.sequence_start.anchor
                          : (const char *)e->data.mapping_start.anchor;
    int rc = 0;
    sc->size[sc->depth] = 1;
    sc->anchor[sc->depth] = NULL;
    if (own && !(sc->anchor[sc->depth] = strdup(own)))
        rc = cwx__config_oom(c);
    sc->depth++;
    return rc;
}

/* Records anchor `own` for a node of `size` nodes. */
static int s_scan_anchor(struct cwx__config_ctx *c, struct s_scan *sc, const yaml_event_t *e,
                         const char *own, uint64_t size)
{
    if (sc->n_anchors == S_ANCHORS_MAX)
        return cwx__config_fail_at(c, e->start_mark.line, e->start_mark.column,
                                   "expected at most %d YAML anchors, found more", S_ANCHORS_MAX);
    if (!(sc->anchors[sc->n_anchors].name = strdup(own)))
        return cwx__config_oom(c);
    sc->anchors[sc->n_anchors++].size = size;
    return 0;
}

/* Accounts for one event; *done is set at the end of the stream. */
static int s_scan_event(struct cwx__config_ctx *c, struct s_scan *sc, const yaml_event_t *e,
                        int *done)
{
    uint64_t add = 0;
    const char *own = NULL;
    int rc = 0;
    bool closes = e->type == YAML_SEQUENCE_END_EVENT || e->type == YAML_MAPPING_END_EVENT;
    if (e->type == YAML_STREAM_END_EVENT) {
        *done = 1;
    } else if (e->type == YAML_SCALAR_EVENT) {
        add = 1;
        own = (const char *)e->data.scalar.anchor;
    } else if (e->type == YAML_ALIAS_EVENT) {
        rc = s_scan_alias(c, sc, e, &add);
    } else if (e->type == YAML_SEQUENCE_START_EVENT || e->type == YAML_MAPPING_START_EVENT) {
        rc = s_scan_open(c, sc, e);
    } else if (closes && sc->depth > 0) {
        sc->depth--;
        add = sc->size[sc->depth];
        own = sc->anchor[sc->depth];
    }
    if (!rc && own)
        rc = s_scan_anchor(c, sc, e, own, add);
    if (closes) {
        free(sc->anchor[sc->depth]);
        sc->anchor[sc->depth] = NULL;
    }
    if (sc->depth > 0 && add) {
        /* Saturating: a count past the cap is refused anyway. */
        sc->size[sc->depth - 1] += add;
        if (sc->size[sc->depth - 1] > ((uint64_t)1 << 62))
            sc->size[sc->depth - 1] = (uint64_t)1 << 62;
    }
    return rc;
}

/* One pass over the parser's events before the document is loaded: refuses
 * with FILE:LINE:COL of the offending alias a config whose aliases expand
 * past S_ALIAS_NODES_MAX nodes. Syntax errors are left to the loader. */
static int s_alias_scan(struct cwx__config_ctx *c, const char *yaml, size_t len)
{
    yaml_parser_t p;
    if (!yaml_parser_initialize(&p))
        return cwx__config_oom(c);
    yaml_parser_set_input_string(&p, (const unsigned char *)yaml, len);
    struct s_scan *sc = calloc(1, sizeof *sc);
    int rc = sc ? 0 : cwx__config_oom(c), done = 0;
    while (!rc && !done) {
        yaml_event_t e;
        if (!yaml_parser_parse(&p, &e))
            break; /* the loader reports it */
        rc = s_scan_event(c, sc, &e, &done);
        yaml_event_delete(&e);
    }
    for (size_t i = 0; sc && i < sc->depth; i++)
        free(sc->anchor[i]);
    for (size_t i = 0; sc && i < sc->n_anchors; i++)
        free(sc->anchors[i].name);
    free(sc);
    yaml_parser_delete(&p);
    return rc;
}

/* ---- loading ---------------------------------------------------------- */

/* libyaml's reader errors carry a byte offset, not a mark. */
static void s_offset_to_mark(const char *yaml, size_t len, size_t offset, size_t *line, size_t *col)
{
    *line = 0;
    *col = 0;
    for (size_t i = 0; i < offset && i < len; i++) {
        if (yaml[i] == '\n') {
            (*line)++;
            *col = 0;
        } else if (((unsigned char)yaml[i] & 0xC0) != 0x80) {
            (*col)++;
        }
    }
}

static int s_yaml_error(struct cwx__config_ctx *c, const yaml_parser_t *p, const char *yaml,
                        size_t len)
{
    const char *problem = p->problem ? p->problem : "unreadable input";
    if (p->error == YAML_MEMORY_ERROR)
        return cwx__config_oom(c);
    if (p->error == YAML_READER_ERROR) {
        size_t line, col;
        s_offset_to_mark(yaml, len, p->problem_offset, &line, &col);
        return cwx__config_fail_at(c, line, col, "expected valid UTF-8 YAML, found %s", problem);
    }
    if (p->context)
        return cwx__config_fail_at(c, p->problem_mark.line, p->problem_mark.column,
                                   "invalid YAML: %s (%s at %zu:%zu)", problem, p->context,
                                   (size_t)p->context_mark.line + 1,
                                   (size_t)p->context_mark.column + 1);
    return cwx__config_fail_at(c, p->problem_mark.line, p->problem_mark.column, "invalid YAML: %s",
                               problem);
}

/* Loads the one document of the stream into c->doc. */
static int s_load(struct cwx__config_ctx *c, const char *yaml, size_t len, yaml_node_t **root)
{
    yaml_document_t next;
    if (!yaml_parser_load(&c->parser, &c->doc))
        return s_yaml_error(c, &c->parser, yaml, len);
    c->have_doc = true;
    *root = yaml_document_get_root_node(&c->doc);
    if (!*root)
        return cwx__config_fail_at(c, 0, 0,
                                   "expected a mapping with \"version: 1\" at the top "
                                   "level, found an empty document");
    /* A second document in the stream is an error; so is a syntax error
     * after the first one. */
    if (!yaml_parser_load(&c->parser, &next))
        return s_yaml_error(c, &c->parser, yaml, len);
    yaml_node_t *second = yaml_document_get_root_node(&next);
    int rc = 0;
    if (second)
        rc = cwx__config_fail_at(c, second->start_mark.line, second->start_mark.column,
                                 "expected one YAML document, found a second one");
    yaml_document_delete(&next);
    return rc;
}

int cwx__config_read(struct cwx__config_ctx *c, const char *yaml, size_t len, yaml_node_t **root)
{
    if (!yaml_parser_initialize(&c->parser))
        return cwx__config_oom(c);
    c->have_parser = true;
    yaml_parser_set_input_string(&c->parser, (const unsigned char *)yaml, len);
    int rc = s_alias_scan(c, yaml, len);
    if (!rc)
        rc = s_load(c, yaml, len, root);
    if (rc)
        return rc;
    c->n_nodes = (size_t)(c->doc.nodes.top - c->doc.nodes.start);
    if (!(c->expanded = calloc(c->n_nodes ? c->n_nodes : 1, sizeof *c->expanded)))
        return cwx__config_oom(c);
    return s_scan_secrets(c);
}

void cwx__config_release(struct cwx__config_ctx *c)
{
    if (c->expanded) {
        for (size_t i = 0; i < c->n_nodes; i++)
            free(c->expanded[i]);
        free(c->expanded);
        c->expanded = NULL;
    }
    if (c->have_doc)
        yaml_document_delete(&c->doc);
    if (c->have_parser)
        yaml_parser_delete(&c->parser);
    c->have_doc = c->have_parser = false;
}
