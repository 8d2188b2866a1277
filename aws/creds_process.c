/* credential_process: the command split into argv without a shell, spawned
 * with uv_spawn, its stdout read asynchronously (capped, with a timeout) and
 * parsed as the SDKs' JSON document. Also the JSON documents of the ECS and
 * EC2 metadata endpoints, which share the parsing. */
#include <cjson/cJSON.h>
#include <openssl/crypto.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aws/credentials.h"
#include "aws/credentials_internal.h"
#include "common/buf.h"
#include "common/error.h"
#include "common/secret.h"

#define CWX__PROCESS_MAX_STDOUT (1024 * 1024)
#define CWX__PROCESS_MAX_STDERR (16 * 1024)
#define CWX__PROCESS_TIMEOUT_MS (60 * 1000)
/* After the process exits, how long its stdout may stay open (a grandchild
 * that inherited it) before we stop waiting for the end of the output. */
#define CWX__PROCESS_DRAIN_MS 1000

/* ---- argv ----------------------------------------------------------------- */

void cwx__argv_free(char **argv)
{
    if (!argv)
        return;
    for (char **a = argv; *a; a++)
        cwx_secret_free(*a); /* arguments may carry secrets */
    free(argv);
}

/* The state of one split: the words so far (NULL-terminated), the word being
 * read, where the reader stands in the command and where errors go. */
struct s_split {
    char **argv;
    size_t n, cap;
    struct cwx_buf word;
    int in_word;
    const char *p;
    char *err;
    size_t err_size;
};

static int s_split_fail(struct s_split *s, const char *why)
{
    snprintf(s->err, s->err_size, "%s", why);
    return CWX_EPARSE;
}

/* Ends the word being read, if any, and appends a copy of it to argv. */
static int s_split_end_word(struct s_split *s)
{
    if (!s->in_word)
        return 0;
    if (s->n + 2 > s->cap) {
        char **a = realloc(s->argv, s->cap * 2 * sizeof(*s->argv));
        if (!a)
            return CWX_ENOMEM;
        s->argv = a;
        s->cap *= 2;
    }
    s->argv[s->n] = strdup(s->word.ptr ? s->word.ptr : "");
    if (!s->argv[s->n])
        return CWX_ENOMEM;
    s->argv[++s->n] = NULL;
    cwx_buf_reset(&s->word);
    s->in_word = 0;
    return 0;
}

/* Reads '...' at s->p: everything up to the next quote, taken as it is. */
static int s_split_single(struct s_split *s)
{
    const char *close = strchr(s->p + 1, '\'');
    if (!close)
        return s_split_fail(s, "unterminated single quote");
    int rc = cwx_buf_append(&s->word, s->p + 1, (size_t)(close - s->p - 1));
    s->p = close + 1;
    return rc;
}

/* Reads "..." at s->p: a backslash escapes \ " $ ` and joins lines. */
static int s_split_double(struct s_split *s)
{
    const char *p = s->p + 1;
    int rc = 0;
    while (!rc) {
        if (*p == '\0') {
            rc = s_split_fail(s, "unterminated double quote");
            break;
        }
        if (*p == '"') {
            p++;
            break;
        }
        if (*p == '\\' && (p[1] == '\\' || p[1] == '"' || p[1] == '$' || p[1] == '`')) {
            rc = cwx_buf_putc(&s->word, p[1]);
            p += 2;
        } else if (*p == '\\' && p[1] == '\n') {
            p += 2; /* line continuation */
        } else {
            rc = cwx_buf_putc(&s->word, *p++);
        }
    }
    s->p = p;
    return rc;
}

/* Reads a backslash outside quotes: it takes the next character as it is,
 * or joins lines. */
static int s_split_backslash(struct s_split *s)
{
    const char *p = s->p;
    if (p[1] == '\0')
        return s_split_fail(s, "trailing backslash");
    int rc = 0;
    if (p[1] != '\n')
        rc = cwx_buf_putc(&s->word, p[1]);
    else if (s->word.len == 0)
        s->in_word = 0; /* a continuation between words */
    s->p = p + 2;
    return rc;
}

/* Reads one character (or quoted run) of the command at s->p. Sets *end at
 * the end of the command. */
static int s_split_step(struct s_split *s, int *end)
{
    char c = *s->p;
    if (c == '\0' || c == ' ' || c == '\t' || c == '\n' || c == '\r') {
        int rc = s_split_end_word(s);
        if (c == '\0')
            *end = 1;
        else
            s->p++;
        return rc;
    }
    s->in_word = 1;
    if (c == '\'')
        return s_split_single(s);
    if (c == '"')
        return s_split_double(s);
    if (c == '\\')
        return s_split_backslash(s);
    s->p++;
    return cwx_buf_putc(&s->word, c);
}

int cwx__split_argv(const char *cmd, char ***argv_out, char *err, size_t err_size)
{
    *argv_out = NULL;
    struct s_split s = {.cap = 8, .p = cmd ? cmd : "", .err = err, .err_size = err_size};
    s.argv = calloc(s.cap, sizeof(*s.argv));
    cwx_buf_init(&s.word, 0);
    int rc = s.argv ? 0 : CWX_ENOMEM, end = 0;
    while (!rc && !end)
        rc = s_split_step(&s, &end);
    cwx_buf_free_secret(&s.word);
    if (!rc && s.n == 0)
        rc = s_split_fail(&s, "empty command");
    if (rc) {
        cwx__argv_free(s.argv);
        return rc;
    }
    *argv_out = s.argv;
    return 0;
}

/* ---- JSON documents ------------------------------------------------------- */

static void s_json_wipe(cJSON *j)
{
    for (; j; j = j->next) {
        if (j->valuestring)
            OPENSSL_cleanse(j->valuestring, strlen(j->valuestring));
        s_json_wipe(j->child);
    }
}

void cwx__creds_json_delete(void *root)
{
    s_json_wipe(root);
    cJSON_Delete(root);
}

/* Copies the string member name of obj into *dst. Returns 0, 1 when absent
 * (or null), or -1 when it is not a string. */
static int s_json_str(const cJSON *obj, const char *name, char **dst)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, name);
    *dst = NULL;
    if (!v || cJSON_IsNull(v))
        return 1;
    if (!cJSON_IsString(v) || !v->valuestring)
        return -1;
    *dst = strdup(v->valuestring);
    return *dst ? 0 : -2;
}

static int s_parse_doc(const char *text, size_t len, int process, struct cwx__creds_doc *out,
                       char *err, size_t err_size)
{
    memset(out, 0, sizeof(*out));
    cJSON *root = cJSON_ParseWithLength(text, len);
    int rc = CWX_EPARSE;
    char *exp = NULL;
    if (!root || !cJSON_IsObject(root)) {
        snprintf(err, err_size, "the output is not a JSON object");
        goto cleanup;
    }
    if (process) {
        const cJSON *ver = cJSON_GetObjectItemCaseSensitive(root, "Version");
        if (!cJSON_IsNumber(ver)) {
            snprintf(err, err_size, "\"Version\" is missing");
            goto cleanup;
        }
        if (ver->valuedouble != 1) {
            snprintf(err, err_size, "unsupported \"Version\" %g (only 1 is)", ver->valuedouble);
            goto cleanup;
        }
    } else {
        char *code = NULL;
        int r = s_json_str(root, "Code", &code);
        if (r == 0 && strcmp(code, "Success") != 0) {
            char c[64];
            cwx__creds_first_line(code, strlen(code), c, sizeof(c));
            snprintf(err, err_size, "\"Code\" is \"%s\", not \"Success\"", c);
            free(code);
            goto cleanup;
        }
        free(code);
    }
    static const char *const names[] = {"AccessKeyId", "SecretAccessKey", "SessionToken",
                                        "Token", "Expiration"};
    char **dst[] = {&out->access_key_id, &out->secret_access_key, &out->session_token,
                    &out->session_token, &exp};
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        /* The process document says SessionToken, the metadata ones Token. */
        if ((process && i == 3) || (!process && i == 2))
            continue;
        int r = s_json_str(root, names[i], dst[i]);
        if (r == -2) {
            rc = CWX_ENOMEM;
            goto cleanup;
        }
        if (r == -1) {
            snprintf(err, err_size, "\"%s\" is not a string", names[i]);
            goto cleanup;
        }
    }
    if (!out->access_key_id || !*out->access_key_id) {
        snprintf(err, err_size, "\"AccessKeyId\" is missing");
        goto cleanup;
    }
    if (!out->secret_access_key || !*out->secret_access_key) {
        snprintf(err, err_size, "\"SecretAccessKey\" is missing");
        goto cleanup;
    }
    if (out->session_token && !*out->session_token) {
        cwx_secret_free(out->session_token);
        out->session_token = NULL;
    }
    if (exp && cwx__creds_parse_time(exp, &out->expiration_ms) != 0) {
        snprintf(err, err_size, "\"Expiration\" is not an ISO 8601 time");
        goto cleanup;
    }
    if (!process && (!out->session_token || !exp)) {
        snprintf(err, err_size, "\"%s\" is missing", out->session_token ? "Expiration" : "Token");
        goto cleanup;
    }
    rc = 0;
cleanup:
    free(exp);
    cwx__creds_json_delete(root);
    if (rc)
        cwx__creds_doc_free(out);
    return rc;
}

int cwx__creds_parse_process_json(const char *text, size_t len, struct cwx__creds_doc *out,
                                  char *err, size_t err_size)
{
    return s_parse_doc(text, len, 1, out, err, err_size);
}

int cwx__creds_parse_metadata_json(const char *text, size_t len, struct cwx__creds_doc *out,
                                   char *err, size_t err_size)
{
    return s_parse_doc(text, len, 0, out, err, err_size);
}

/* ---- the process provider -------------------------------------------------- */

struct s_process {
    char *command; /* as configured; may carry secrets */
    char *what;    /* "profile dev", for details */
    struct s_run *run; /* the run in flight, or NULL */
};

/* One run of the command: four handles, freed on the last close. */
struct s_run {
    struct cwx_creds_provider *p; /* NULL once the result was handed over */
    uv_process_t proc;
    uv_pipe_t out;
    uv_pipe_t err;
    uv_timer_t timer;
    int open_handles;
    int out_open, err_open; /* reading, not yet at EOF */
    int exited;
    int64_t exit_status;
    int term_signal;
    int timed_out;
    int too_big;
    char program[128]; /* argv[0], for details */
    struct cwx_buf stdout_buf; /* secrets: wiped */
    struct cwx_buf stderr_buf;
};

static void s_run_on_close(uv_handle_t *h)
{
    struct s_run *r = h->data;
    if (--r->open_handles > 0)
        return;
    cwx_buf_free_secret(&r->stdout_buf);
    cwx_buf_free_secret(&r->stderr_buf);
    free(r);
}

static void s_close(uv_handle_t *h)
{
    if (!uv_is_closing(h))
        uv_close(h, s_run_on_close);
}

static void s_run_finish(struct s_run *r)
{
    struct cwx_creds_provider *p = r->p;
    struct s_process *sp = p->impl;
    char detail[512], why[256], line[200];
    struct cwx__creds_doc doc = {0};
    int rc = CWX_ECRED;
    r->p = NULL;
    sp->run = NULL;
    if (p->closing) {
        snprintf(detail, sizeof(detail), "canceled");
        rc = CWX_ECANCELED;
    } else if (r->timed_out) {
        snprintf(detail, sizeof(detail),
                 "credential_process of %s (%s): no answer within %d s, killed", sp->what,
                 r->program, CWX__PROCESS_TIMEOUT_MS / 1000);
    } else if (r->too_big) {
        snprintf(detail, sizeof(detail),
                 "credential_process of %s (%s): output larger than %d bytes", sp->what,
                 r->program, CWX__PROCESS_MAX_STDOUT);
    } else if (r->term_signal) {
        cwx__creds_first_line(r->stderr_buf.ptr, r->stderr_buf.len, line, sizeof(line));
        snprintf(detail, sizeof(detail), "credential_process of %s (%s): killed by signal %d%s%s",
                 sp->what, r->program, r->term_signal, *line ? ": " : "", line);
    } else if (r->exit_status != 0) {
        cwx__creds_first_line(r->stderr_buf.ptr, r->stderr_buf.len, line, sizeof(line));
        snprintf(detail, sizeof(detail), "credential_process of %s (%s): exit status %lld%s%s",
                 sp->what, r->program, (long long)r->exit_status, *line ? ": " : "", line);
    } else if ((rc = cwx__creds_parse_process_json(r->stdout_buf.ptr ? r->stdout_buf.ptr : "",
                                                   r->stdout_buf.len, &doc, why,
                                                   sizeof(why))) != 0) {
        if (rc != CWX_ENOMEM)
            rc = CWX_ECRED;
        snprintf(detail, sizeof(detail), "credential_process of %s (%s): %s", sp->what,
                 r->program, rc == CWX_ENOMEM ? "out of memory" : why);
    } else if (doc.expiration_ms && doc.expiration_ms <= cwx__creds_wall_ms()) {
        cwx__creds_doc_free(&doc);
        rc = CWX_ECRED;
        snprintf(detail, sizeof(detail),
                 "credential_process of %s (%s): the credentials it returned have expired",
                 sp->what, r->program);
    }
    cwx_buf_free_secret(&r->stdout_buf);
    cwx__creds_fetched(p, rc, rc ? NULL : &doc, rc ? detail : NULL);
}

static void s_run_maybe_done(struct s_run *r)
{
    if (!r->p || !r->exited || r->out_open || r->err_open)
        return;
    uv_timer_stop(&r->timer);
    s_run_finish(r);
    s_close((uv_handle_t *)&r->proc);
    s_close((uv_handle_t *)&r->out);
    s_close((uv_handle_t *)&r->err);
    s_close((uv_handle_t *)&r->timer);
}

static void s_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
    struct s_run *r = h->data;
    struct cwx_buf *b = h == (uv_handle_t *)&r->out ? &r->stdout_buf : &r->stderr_buf;
    (void)suggested;
    /* Read straight into the capped buffer: secrets never sit in a copy. */
    size_t room = b->max - b->len;
    if (room == 0 || cwx_buf_reserve(b, room < 4096 ? room : 4096) != 0) {
        buf->base = NULL;
        buf->len = 0;
        return;
    }
    buf->base = b->ptr + b->len;
    buf->len = b->cap - b->len - 1;
}

static void s_stop_reading(struct s_run *r, uv_pipe_t *pipe)
{
    uv_read_stop((uv_stream_t *)pipe);
    if (pipe == &r->out)
        r->out_open = 0;
    else
        r->err_open = 0;
}

static void s_on_read(uv_stream_t *s, ssize_t nread, const uv_buf_t *buf)
{
    struct s_run *r = s->data;
    uv_pipe_t *pipe = (uv_pipe_t *)s;
    struct cwx_buf *b = pipe == &r->out ? &r->stdout_buf : &r->stderr_buf;
    (void)buf;
    if (nread > 0) {
        b->len += (size_t)nread;
        b->ptr[b->len] = '\0';
        return;
    }
    if (nread == 0)
        return;
    if (nread == UV_ENOBUFS) {
        if (pipe == &r->out) {
            /* Too much output: this is not a credentials document. */
            r->too_big = 1;
            uv_process_kill(&r->proc, SIGKILL);
        }
        /* Too much stderr: keep what we have (its first line). */
    }
    s_stop_reading(r, pipe);
    s_run_maybe_done(r);
}

static void s_on_timer(uv_timer_t *t);

static void s_on_exit(uv_process_t *proc, int64_t exit_status, int term_signal)
{
    struct s_run *r = proc->data;
    r->exited = 1;
    r->exit_status = exit_status;
    r->term_signal = r->timed_out || r->too_big ? 0 : term_signal;
    if (r->out_open || r->err_open) {
        /* Wait a little for the rest of the output, not forever. */
        uv_timer_stop(&r->timer);
        uv_timer_start(&r->timer, s_on_timer, CWX__PROCESS_DRAIN_MS, 0);
    }
    s_run_maybe_done(r);
}

static void s_on_timer(uv_timer_t *t)
{
    struct s_run *r = t->data;
    if (r->exited) {
        /* Exited, but something still holds its stdout open. */
        if (r->out_open)
            s_stop_reading(r, &r->out);
        if (r->err_open)
            s_stop_reading(r, &r->err);
        s_run_maybe_done(r);
        return;
    }
    r->timed_out = 1;
    uv_process_kill(&r->proc, SIGKILL);
}

static void s_process_fetch(struct cwx_creds_provider *p)
{
    struct s_process *sp = p->impl;
    char detail[512], why[128];
    char **argv = NULL;
    int rc = cwx__split_argv(sp->command, &argv, why, sizeof(why));
    if (rc) {
        snprintf(detail, sizeof(detail), "credential_process of %s: %s", sp->what,
                 rc == CWX_ENOMEM ? "out of memory" : why);
        cwx__creds_fetched(p, rc == CWX_ENOMEM ? rc : CWX_ECRED, NULL, detail);
        return;
    }
    struct s_run *r = calloc(1, sizeof(*r));
    if (!r) {
        cwx__argv_free(argv);
        cwx__creds_fetched(p, CWX_ENOMEM, NULL, "out of memory");
        return;
    }
    r->p = p;
    cwx_buf_init(&r->stdout_buf, CWX__PROCESS_MAX_STDOUT);
    cwx_buf_init(&r->stderr_buf, CWX__PROCESS_MAX_STDERR);
    cwx__creds_first_line(argv[0], strlen(argv[0]), r->program, sizeof(r->program));
    uv_pipe_init(p->loop, &r->out, 0);
    uv_pipe_init(p->loop, &r->err, 0);
    uv_timer_init(p->loop, &r->timer);
    r->out.data = r->err.data = r->timer.data = r->proc.data = r;
    r->open_handles = 4;

    uv_stdio_container_t stdio[3] = {
        {.flags = UV_IGNORE},
        {.flags = UV_CREATE_PIPE | UV_WRITABLE_PIPE, .data.stream = (uv_stream_t *)&r->out},
        {.flags = UV_CREATE_PIPE | UV_WRITABLE_PIPE, .data.stream = (uv_stream_t *)&r->err},
    };
    uv_process_options_t opts = {
        .exit_cb = s_on_exit,
        .file = argv[0],
        .args = argv,
        .env = NULL, /* inherited: the tool may need AWS_* and HOME */
        .stdio_count = 3,
        .stdio = stdio,
    };
    rc = uv_spawn(p->loop, &r->proc, &opts);
    cwx__argv_free(argv);
    if (rc) {
        snprintf(detail, sizeof(detail), "credential_process of %s: cannot run %s: %s",
                 sp->what, r->program, uv_strerror(rc));
        r->p = NULL;
        /* The process handle was initialised by uv_spawn: close it too. */
        s_close((uv_handle_t *)&r->proc);
        s_close((uv_handle_t *)&r->out);
        s_close((uv_handle_t *)&r->err);
        s_close((uv_handle_t *)&r->timer);
        cwx__creds_fetched(p, CWX_ECRED, NULL, detail);
        return;
    }
    sp->run = r;
    r->out_open = uv_read_start((uv_stream_t *)&r->out, s_alloc, s_on_read) == 0;
    r->err_open = uv_read_start((uv_stream_t *)&r->err, s_alloc, s_on_read) == 0;
    uv_timer_start(&r->timer, s_on_timer, CWX__PROCESS_TIMEOUT_MS, 0);
}

static void s_process_cancel(struct cwx_creds_provider *p)
{
    struct s_process *sp = p->impl;
    if (sp->run && !sp->run->exited)
        uv_process_kill(&sp->run->proc, SIGKILL);
}

static void s_process_destroy(void *impl)
{
    struct s_process *sp = impl;
    cwx_secret_free(sp->command);
    free(sp->what);
}

static const struct cwx__creds_vtable s_process_vt = {s_process_fetch, s_process_cancel,
                                                      s_process_destroy};

int cwx__creds_process_new(uv_loop_t *loop, const char *source, const char *what,
                           const char *command, struct cwx_creds_provider **out)
{
    *out = NULL;
    struct s_process *sp = calloc(1, sizeof(*sp));
    if (!sp)
        return CWX_ENOMEM;
    sp->command = strdup(command);
    sp->what = strdup(what ? what : "a profile");
    int rc = sp->command && sp->what ? 0 : CWX_ENOMEM;
    return cwx__creds_provider_new(rc, loop, NULL, &s_process_vt, sp, source, out);
}
