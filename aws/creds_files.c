/* The shared config and credentials files: the AWS flavour of ini, profile
 * lookup across both files, and the profile's region. */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aws/credentials.h"
#include "aws/credentials_internal.h"
#include "common/error.h"
#include "common/secret.h"

/* The files are small; a larger one is a mistake, not a config. */
#define CWX__MAX_SHARED_FILE (4 * 1024 * 1024)

static int s_blank(char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\f' || c == '\v';
}

static char *s_dup_trim(const char *b, const char *e)
{
    while (b < e && s_blank(*b))
        b++;
    while (e > b && s_blank(e[-1]))
        e--;
    char *s = malloc((size_t)(e - b) + 1);
    if (!s)
        return NULL;
    memcpy(s, b, (size_t)(e - b));
    s[e - b] = '\0';
    return s;
}

static void s_kv_free(struct cwx__ini_kv *kv)
{
    free(kv->key);
    cwx_secret_free(kv->value);
    free(kv);
}

void cwx__ini_free(struct cwx__ini *ini)
{
    struct cwx__ini_section *s = ini->sections;
    while (s) {
        struct cwx__ini_section *next = s->next;
        struct cwx__ini_kv *kv = s->kvs;
        while (kv) {
            struct cwx__ini_kv *kn = kv->next;
            s_kv_free(kv);
            kv = kn;
        }
        free(s->name);
        free(s);
        s = next;
    }
    ini->sections = NULL;
}

const struct cwx__ini_section *cwx__ini_section(const struct cwx__ini *ini, const char *name)
{
    for (const struct cwx__ini_section *s = ini->sections; s; s = s->next)
        if (strcmp(s->name, name) == 0)
            return s;
    return NULL;
}

const char *cwx__ini_get(const struct cwx__ini_section *s, const char *key)
{
    if (!s)
        return NULL;
    for (const struct cwx__ini_kv *kv = s->kvs; kv; kv = kv->next)
        if (strcmp(kv->key, key) == 0)
            return kv->value;
    return NULL;
}

/* Sets key in s (replacing an earlier value); takes key and value, also on
 * failure. Returns 0 or CWX_ENOMEM. */
static int s_section_set(struct cwx__ini_section *s, char *key, char *value)
{
    struct cwx__ini_kv **tail = &s->kvs;
    for (struct cwx__ini_kv *kv = s->kvs; kv; kv = kv->next) {
        if (strcmp(kv->key, key) == 0) {
            free(key);
            cwx_secret_free(kv->value);
            kv->value = value;
            return 0;
        }
        tail = &kv->next;
    }
    struct cwx__ini_kv *kv = calloc(1, sizeof(*kv));
    if (!kv) {
        free(key);
        cwx_secret_free(value);
        return CWX_ENOMEM;
    }
    kv->key = key;
    kv->value = value;
    *tail = kv;
    return 0;
}

/* The parser's place: the section being filled and, after `key =` with no
 * value, the key whose indented lines nest under it. */
struct s_ini {
    struct cwx__ini *out;
    struct cwx__ini_section *cur;
    struct cwx__ini_section **tail;
    int in_subsection;
    char parent[128];
    int line_no;
    char *err;
    size_t err_size;
};

static int s_ini_error(struct s_ini *st, const char *what)
{
    snprintf(st->err, st->err_size, "line %d: %s", st->line_no, what);
    return CWX_EPARSE;
}

/* "[name]" (b..e trimmed): the section lines that follow go into. */
static int s_ini_section(struct s_ini *st, const char *b, const char *e)
{
    const char *close = memchr(b, ']', (size_t)(e - b));
    if (!close)
        return s_ini_error(st, "section header without ']'");
    const char *rest = close + 1;
    while (rest < e && s_blank(*rest))
        rest++;
    if (rest < e && *rest != '#' && *rest != ';')
        return s_ini_error(st, "text after the section header");
    char *name = s_dup_trim(b + 1, close);
    if (!name)
        return CWX_ENOMEM;
    if (!*name) {
        free(name);
        return s_ini_error(st, "empty section name");
    }
    st->in_subsection = 0;
    st->cur = (struct cwx__ini_section *)cwx__ini_section(st->out, name);
    if (st->cur) {
        free(name); /* a repeated section adds to the first */
        return 0;
    }
    st->cur = calloc(1, sizeof(*st->cur));
    if (!st->cur) {
        free(name);
        return CWX_ENOMEM;
    }
    st->cur->name = name;
    *st->tail = st->cur;
    st->tail = &st->cur->next;
    return 0;
}

/* The key of a "key = value" line, lower case; "parent.key" for a nested
 * property. NULL when out of memory. */
static char *s_ini_key(struct s_ini *st, const char *b, const char *eq, int nested)
{
    char *key = s_dup_trim(b, eq);
    if (key && nested) {
        size_t n = strlen(st->parent) + strlen(key) + 2;
        char *full = malloc(n);
        if (full)
            snprintf(full, n, "%s.%s", st->parent, key);
        free(key);
        key = full;
    }
    for (char *k = key; k && *k; k++)
        *k = (char)tolower((unsigned char)*k);
    return key;
}

/* "key = value" (or "key: value"), b..e trimmed. */
static int s_ini_property(struct s_ini *st, const char *b, const char *e, int indented)
{
    const char *eq = b;
    while (eq < e && *eq != '=' && *eq != ':')
        eq++;
    if (eq == e)
        return s_ini_error(st, "expected 'key = value'");
    if (!st->cur)
        return s_ini_error(st, "key outside of any [section]");
    int nested = indented && st->in_subsection;
    char *key = s_ini_key(st, b, eq, nested);
    char *value = s_dup_trim(eq + 1, e);
    if (!key || !value || !*key) {
        int rc = key && value ? s_ini_error(st, "empty key") : CWX_ENOMEM;
        free(key);
        cwx_secret_free(value);
        return rc;
    }
    if (!nested) {
        st->in_subsection = *value == '\0';
        if (st->in_subsection)
            snprintf(st->parent, sizeof(st->parent), "%s", key);
    }
    return s_section_set(st->cur, key, value);
}

int cwx__ini_parse(const char *text, size_t len, struct cwx__ini *out, char *err,
                   size_t err_size)
{
    out->sections = NULL;
    struct s_ini st = {.out = out, .tail = &out->sections, .err = err, .err_size = err_size};
    int rc = 0;
    const char *p = text, *end = text + len;
    if (len >= 3 && memcmp(p, "\xEF\xBB\xBF", 3) == 0)
        p += 3; /* a UTF-8 byte order mark from Windows editors */
    while (p < end && !rc) {
        const char *eol = memchr(p, '\n', (size_t)(end - p));
        if (!eol)
            eol = end;
        const char *b = p, *e = eol;
        p = eol < end ? eol + 1 : end;
        st.line_no++;
        int indented = b < e && s_blank(*b);
        while (b < e && s_blank(*b))
            b++;
        while (e > b && s_blank(e[-1]))
            e--;
        if (b == e || *b == '#' || *b == ';')
            continue;
        if (memchr(b, '\0', (size_t)(e - b)))
            rc = s_ini_error(&st, "NUL byte");
        else if (*b == '[')
            rc = s_ini_section(&st, b, e);
        else
            rc = s_ini_property(&st, b, e, indented);
    }
    if (rc)
        cwx__ini_free(out);
    return rc;
}

/* ---- profiles -------------------------------------------------------------- */

static char *s_path(const char *env, const char *rel)
{
    const char *v = cwx__creds_env(env);
    const char *home = getenv("HOME");
    if (!v) {
        if (!home)
            home = "";
        size_t n = strlen(home) + strlen(rel) + 2;
        char *s = malloc(n);
        if (s)
            snprintf(s, n, "%s/%s", home, rel);
        return s;
    }
    if (v[0] == '~' && (v[1] == '/' || v[1] == '\0') && home) {
        size_t n = strlen(home) + strlen(v);
        char *s = malloc(n + 1);
        if (s)
            snprintf(s, n + 1, "%s%s", home, v + 1);
        return s;
    }
    return strdup(v);
}

static int s_load_one(const char *path, struct cwx__ini *ini, char *err, size_t err_size)
{
    char *text = NULL, why[160];
    size_t len = 0;
    int rc = cwx__creds_read_file(path, CWX__MAX_SHARED_FILE, &text, &len, why, sizeof(why));
    if (rc == CWX_ENOTFOUND)
        return 0;
    if (rc == CWX_ENOMEM)
        return rc;
    if (rc) {
        snprintf(err, err_size, "cannot read %s: %s", path, why);
        return CWX_ECRED;
    }
    rc = cwx__ini_parse(text, len, ini, why, sizeof(why));
    cwx_secret_free(text);
    if (rc == CWX_EPARSE) {
        snprintf(err, err_size, "%s: %s", path, why);
        return CWX_ECRED;
    }
    return rc;
}

void cwx__profiles_free(struct cwx__profiles *p)
{
    free(p->config_path);
    free(p->credentials_path);
    cwx__ini_free(&p->config);
    cwx__ini_free(&p->credentials);
    memset(p, 0, sizeof(*p));
}

int cwx__profiles_load(struct cwx__profiles *out, char *err, size_t err_size)
{
    memset(out, 0, sizeof(*out));
    out->config_path = s_path("AWS_CONFIG_FILE", ".aws/config");
    out->credentials_path = s_path("AWS_SHARED_CREDENTIALS_FILE", ".aws/credentials");
    int rc = out->config_path && out->credentials_path ? 0 : CWX_ENOMEM;
    if (!rc)
        rc = s_load_one(out->config_path, &out->config, err, err_size);
    if (!rc)
        rc = s_load_one(out->credentials_path, &out->credentials, err, err_size);
    if (rc)
        cwx__profiles_free(out);
    return rc;
}

/* The config file's section of profile name: `[profile NAME]`, and for
 * "default" also `[default]` (which wins, as in botocore). */
static const struct cwx__ini_section *s_config_section(const struct cwx__ini *ini,
                                                       const char *name)
{
    const struct cwx__ini_section *found = NULL;
    if (strcmp(name, "default") == 0 && (found = cwx__ini_section(ini, "default")))
        return found;
    for (const struct cwx__ini_section *s = ini->sections; s; s = s->next) {
        const char *n = s->name;
        if (strncmp(n, "profile", 7) != 0 || !s_blank(n[7]))
            continue;
        n += 7;
        while (s_blank(*n))
            n++;
        if (strcmp(n, name) == 0)
            return s;
    }
    return NULL;
}

/* The config file's `[<kind> NAME]` section (`sso-session`, `services`). */
static const struct cwx__ini_section *s_kind_section(const struct cwx__ini *ini, const char *kind,
                                                     const char *name)
{
    size_t k = strlen(kind);
    for (const struct cwx__ini_section *s = ini->sections; s; s = s->next) {
        const char *n = s->name;
        if (strncmp(n, kind, k) != 0 || !s_blank(n[k]))
            continue;
        n += k;
        while (s_blank(*n))
            n++;
        if (strcmp(n, name) == 0)
            return s;
    }
    return NULL;
}

const struct cwx__ini_section *cwx__config_section(const struct cwx__profiles *p,
                                                   const char *kind, const char *name)
{
    return s_kind_section(&p->config, kind, name);
}

int cwx__profile_exists(const struct cwx__profiles *p, const char *name)
{
    return s_config_section(&p->config, name) || cwx__ini_section(&p->credentials, name);
}

const char *cwx__profile_get(const struct cwx__profiles *p, const char *name, const char *key)
{
    const char *v = cwx__ini_get(cwx__ini_section(&p->credentials, name), key);
    if (!v || !*v)
        v = cwx__ini_get(s_config_section(&p->config, name), key);
    return v && *v ? v : NULL;
}

/* ---- regions ------------------------------------------------------------------ */

int cwx_creds_profile_region(const char *profile, char *out, size_t size)
{
    char err[512];
    struct cwx__profiles files;
    if (!profile || !*profile)
        profile = cwx__creds_env("AWS_PROFILE");
    if (!profile)
        profile = "default";
    int rc = cwx__profiles_load(&files, err, sizeof(err));
    if (rc)
        return rc;
    const char *region = cwx__profile_get(&files, profile, "region");
    if (!region)
        rc = CWX_ENOTFOUND;
    else if (strlen(region) >= size)
        rc = CWX_ETOOBIG;
    else
        memcpy(out, region, strlen(region) + 1);
    cwx__profiles_free(&files);
    return rc;
}

int cwx_creds_resolve_region(const char *cli_region, const char *profile, char *out,
                             size_t size, const char **origin)
{
    const char *v = NULL, *from = NULL;
    if (cli_region && *cli_region) {
        v = cli_region;
        from = "--region";
    } else if ((v = cwx__creds_env("AWS_REGION"))) {
        from = "AWS_REGION";
    } else if ((v = cwx__creds_env("AWS_DEFAULT_REGION"))) {
        from = "AWS_DEFAULT_REGION";
    }
    if (v) {
        if (strlen(v) >= size)
            return CWX_ETOOBIG;
        memcpy(out, v, strlen(v) + 1);
        if (origin)
            *origin = from;
        return 0;
    }
    int rc = cwx_creds_profile_region(profile, out, size);
    if (rc == 0 && origin)
        *origin = "profile";
    return rc;
}
