#include "planner/lane_model.h"

#include <inttypes.h>
#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <cjson/cJSON.h>

#include "common/error.h"

/* ---- the polling policy -------------------------------------------------- */

struct cwx_poll_policy cwx_poll_policy_of(const struct cwx_settings *st)
{
    return (struct cwx_poll_policy){
        .min_ms = st && st->poll_min_ms > 0 ? (uint64_t)st->poll_min_ms : 5000,
        .max_ms = st && st->poll_max_ms > 0 ? (uint64_t)st->poll_max_ms : 60000,
        /* Slow growth: it only matters while nothing is known (a lane's
         * first task with no remembered model) or once a task is overdue;
         * the interval stays under a tenth of the task's age, so the end
         * is seen at most ~10 % late. */
        .growth = 1.1,
    };
}

static uint64_t s_clamp(double d, uint64_t lo, uint64_t hi)
{
    if (!(d >= (double)lo))
        return lo;
    if (d >= (double)hi)
        return hi;
    return (uint64_t)d;
}

/* Waits `left` ms in equal steps of at most max: the delay of the next. */
static uint64_t s_towards(double left, uint64_t min, uint64_t max)
{
    if (left <= (double)max)
        return s_clamp(left, min, max);
    double steps = ceil(left / (double)max);
    return s_clamp(left / steps, min, max);
}

uint64_t cwx_poll_delay(const struct cwx_poll_policy *p, const struct cwx_poll_input *in)
{
    uint64_t min = p->min_ms ? p->min_ms : 1;
    uint64_t max = p->max_ms >= min ? p->max_ms : min;
    double growth = p->growth > 1.0 ? p->growth : 1.5;
    double age = in->age_ms > 0 ? (double)in->age_ms : 0.0;

    if (in->polls <= 0)
        return min; /* the first poll soon: the task may be empty and quick */
    if (in->predicted_ms > 0) {
        double pred = (double)in->predicted_ms;
        double aim = (double)in->aim_ms, late = (double)in->late_ms;
        if (in->aim_ms == 0 && in->late_ms == 0)
            aim = -0.1 * pred, late = 0.1 * pred;
        if (late < aim)
            late = aim;
        aim += pred;
        late += pred;
        if (age < aim)
            return s_towards(aim - age, min, max);
        if (age <= late + (double)min)
            return min;
        /* Overdue: the prediction was wrong; back off with the lateness. */
        return s_clamp((age - pred) * (growth - 1.0), min, max);
    }
    return s_clamp(age * (growth - 1.0), min, max);
}

/* ---- the lane model ------------------------------------------------------- */

/* Older samples fade: tasks of one lane drift as AWS's load changes. */
#define CWX__DECAY 0.95

/* Fitted (overhead, ms per byte); 0 when the fit is not usable. */
static int s_fit(const struct cwx_lane_model *m, double *a, double *b)
{
    if (m->samples < 2 || m->n <= 0)
        return 0;
    double mx = m->sx / m->n, my = m->sy / m->n;
    double var = m->sxx / m->n - mx * mx;
    if (!(var > 1e-9 * (mx * mx + 1.0)))
        return 0;
    double slope = (m->sxy / m->n - mx * my) / var;
    if (!(slope > 0))
        return 0;
    *b = slope;
    *a = my - slope * mx;
    if (*a < 0)
        *a = 0;
    return 1;
}

void cwx_lane_model_add(struct cwx_lane_model *m, int64_t est_bytes, int64_t duration_ms)
{
    if (duration_ms <= 0)
        return;
    double x = est_bytes > 0 ? (double)est_bytes : 0.0;
    double y = (double)duration_ms;
    double y_fit = y;
    /* The error of what we would have predicted: relative for the spread;
     * in ms for the polling margins, once the model is a real fit (the
     * first guesses say nothing about how precise it is). */
    int64_t before = cwx_lane_model_predict(m, est_bytes);
    if (before > 0) {
        double rel = fabs(y - (double)before) / y;
        /* Robust to outliers (Huber's clipped residual): once the recent
         * errors are known, a task far further off the line than they are
         * enters the fit at the edge of the band, so one stuck export does
         * not bend it; a lane that really slowed down moves the fit a band
         * a task. */
        if (m->err_n >= 4) {
            double edge = 4.0 * m->err_s / m->err_n;
            if (edge < 0.3)
                edge = 0.3;
            double hi = (double)before * (1.0 + edge), lo = (double)before * (1.0 - edge);
            if (y_fit > hi)
                y_fit = hi;
            if (y_fit < lo)
                y_fit = lo;
        }
        m->err_n = m->err_n * CWX__DECAY + 1.0;
        m->err_s = m->err_s * CWX__DECAY + (rel < 1.0 ? rel : 1.0);
        double a, b;
        if (est_bytes >= 0 && s_fit(m, &a, &b)) {
            m->err_ms[m->err_next] = duration_ms - before;
            m->pred_ms[m->err_next] = before;
            m->err_next = (m->err_next + 1) % CWX_LANE_MODEL_ERRORS;
            if (m->n_err < CWX_LANE_MODEL_ERRORS)
                m->n_err++;
        }
    }
    m->n = m->n * CWX__DECAY + 1.0;
    m->sx = m->sx * CWX__DECAY + x;
    m->sy = m->sy * CWX__DECAY + y_fit;
    m->sxx = m->sxx * CWX__DECAY + x * x;
    m->sxy = m->sxy * CWX__DECAY + x * y_fit;
    m->samples++;
    m->tasks++;
    if (m->min_ms <= 0 || duration_ms < m->min_ms)
        m->min_ms = duration_ms;
}

void cwx_lane_model_observe_polls(struct cwx_lane_model *m, const struct cwx_poll_policy *p,
                                  int64_t est_bytes, int64_t duration_ms, int polls)
{
    if (polls <= 0 || duration_ms <= 0)
        return;
    uint64_t replayed = cwx_lane_model_polls(m, p, est_bytes, duration_ms, NULL);
    m->polls_made = m->polls_made * CWX__DECAY + (double)polls;
    m->polls_replayed = m->polls_replayed * CWX__DECAY + (double)replayed;
}

void cwx_lane_model_observe_gap(struct cwx_lane_model *m, int64_t gap_ms)
{
    if (gap_ms < 0)
        return;
    m->gap_n = m->gap_n * CWX__DECAY + 1.0;
    m->gap_ms = m->gap_ms * CWX__DECAY + (double)gap_ms;
}

double cwx_lane_model_poll_factor(const struct cwx_lane_model *m)
{
    if (!(m->polls_replayed > 0) || !(m->polls_made > 0))
        return 1.0;
    double f = m->polls_made / m->polls_replayed;
    return f < 0.5 ? 0.5 : f > 2.0 ? 2.0 : f;
}

int64_t cwx_lane_model_gap(const struct cwx_lane_model *m)
{
    return m->gap_n > 0 ? (int64_t)(m->gap_ms / m->gap_n) : -1;
}

void cwx_lane_model_calibrate(struct cwx_lane_model *m, int64_t est_bytes,
                              int64_t exported_bytes)
{
    if (est_bytes <= 0 || exported_bytes < 0)
        return;
    m->est_bytes += (double)est_bytes;
    m->exported_bytes += (double)exported_bytes;
}

int cwx_lane_model_aim(const struct cwx_lane_model *m, int64_t min_ms, int64_t *aim,
                       int64_t *late)
{
    int n = m->n_err;
    if (n < 4)
        return 0;
    const int64_t *e = m->err_ms;
    int64_t best = 0, latest = e[0];
    double best_cost = -1;
    for (int k = 0; k < n; k++) {
        if (e[k] > latest)
            latest = e[k];
        /* The optimum sits on one of the errors (the cost is piecewise
         * linear, rising between them). */
        int64_t c = e[k];
        double cost = 0;
        for (int i = 0; i < n; i++)
            cost += (double)(c - e[i]) + (e[i] > c ? (double)min_ms : 0.0);
        if (best_cost < 0 || cost < best_cost) {
            best_cost = cost;
            best = c;
        }
    }
    *aim = best;
    *late = latest;
    return 1;
}

int64_t cwx_lane_model_predict(const struct cwx_lane_model *m, int64_t est_bytes)
{
    if (m->samples < 1 || m->n <= 0)
        return -1;
    double mx = m->sx / m->n, my = m->sy / m->n;
    double a, b;
    if (est_bytes >= 0 && s_fit(m, &a, &b))
        return (int64_t)(a + b * (double)est_bytes);
    if (est_bytes > 0 && mx > 0)
        return (int64_t)(my * ((double)est_bytes / mx));
    if (m->samples >= 3)
        return (int64_t)my;
    return -1;
}

int64_t cwx_lane_model_spread(const struct cwx_lane_model *m, int64_t predicted_ms)
{
    if (predicted_ms <= 0)
        return 0;
    double rel = m->err_n > 0 ? m->err_s / m->err_n : 0.1;
    if (rel < 0.02)
        rel = 0.02;
    if (rel > 0.33)
        rel = 0.33;
    return (int64_t)(rel * (double)predicted_ms * 1.5);
}

double cwx_lane_model_rate(const struct cwx_lane_model *m)
{
    double a, b;
    if (s_fit(m, &a, &b))
        return 1000.0 / b;
    return 0.0;
}

int64_t cwx_lane_model_overhead(const struct cwx_lane_model *m)
{
    double a, b;
    if (s_fit(m, &a, &b))
        return (int64_t)a;
    return -1;
}

double cwx_lane_model_calibration(const struct cwx_lane_model *m)
{
    return m->est_bytes > 0 ? m->exported_bytes / m->est_bytes : 0.0;
}

void cwx_lane_model_calibrate_incoming(struct cwx_lane_model *m, double incoming_bytes,
                                       double exported_bytes)
{
    if (!(incoming_bytes > 0) || !(exported_bytes >= 0) || !isfinite(incoming_bytes) ||
        !isfinite(exported_bytes))
        return;
    m->incoming_bytes += incoming_bytes;
    m->incoming_exported += exported_bytes;
}

double cwx_lane_model_incoming_ratio(const struct cwx_lane_model *m)
{
    return m->incoming_bytes > 0 ? m->incoming_exported / m->incoming_bytes : 0.0;
}

void cwx_lane_model_poll_input(const struct cwx_lane_model *m, const struct cwx_poll_policy *p,
                               int polls, int64_t age_ms, int64_t est_bytes,
                               struct cwx_poll_input *in)
{
    *in = (struct cwx_poll_input){
        .polls = polls,
        .age_ms = age_ms,
        .predicted_ms = cwx_lane_model_predict(m, est_bytes),
    };
    if (in->predicted_ms > 0 &&
        !cwx_lane_model_aim(m, (int64_t)p->min_ms, &in->aim_ms, &in->late_ms)) {
        int64_t spread = cwx_lane_model_spread(m, in->predicted_ms);
        in->aim_ms = -spread;
        in->late_ms = spread;
    }
}

/* The schedule of one task given its poll input (all but polls and age):
 * polls until one sees the end at duration_ms. */
static uint64_t s_replay(const struct cwx_poll_policy *p, struct cwx_poll_input in,
                         int64_t duration_ms, int64_t *seen_ms)
{
    int64_t age = 0;
    uint64_t polls = 0;
    /* Every delay is at least poll.min (>= 1 ms): the loop ends; past a
     * day of polling the rest is at poll.max, counted at once. */
    while (age < duration_ms) {
        in.polls = (int)(polls < INT32_MAX ? polls : INT32_MAX);
        in.age_ms = age;
        uint64_t d = cwx_poll_delay(p, &in);
        age += (int64_t)d;
        polls++;
        if (age < duration_ms && age > 86400000 && d == p->max_ms && p->max_ms > 0) {
            uint64_t rest = (uint64_t)(duration_ms - age + (int64_t)p->max_ms - 1) / p->max_ms;
            polls += rest;
            age += (int64_t)(rest * p->max_ms);
        }
    }
    if (seen_ms)
        *seen_ms = age;
    return polls ? polls : 1;
}

uint64_t cwx_lane_model_polls(const struct cwx_lane_model *m, const struct cwx_poll_policy *p,
                              int64_t est_bytes, int64_t duration_ms, int64_t *seen_ms)
{
    struct cwx_poll_input in;
    cwx_lane_model_poll_input(m, p, 0, 0, est_bytes, &in);
    return s_replay(p, in, duration_ms, seen_ms);
}

void cwx_lane_model_expect(const struct cwx_lane_model *m, const struct cwx_poll_policy *p,
                           int64_t est_bytes, int64_t duration_ms, double *polls,
                           double *seen_ms)
{
    struct cwx_poll_input in;
    cwx_lane_model_poll_input(m, p, 0, 0, est_bytes, &in);
    int64_t seen = 0;
    if (m->n_err < 4) {
        *polls = (double)s_replay(p, in, duration_ms, &seen);
        *seen_ms = (double)seen;
        return;
    }
    double sp = 0, ss = 0;
    for (int i = 0; i < m->n_err; i++) {
        double ratio = m->pred_ms[i] > 0 ? 1.0 + (double)m->err_ms[i] / (double)m->pred_ms[i] : 1.0;
        int64_t d = (int64_t)((double)duration_ms * ratio);
        sp += (double)s_replay(p, in, d > 0 ? d : 0, &seen);
        ss += (double)seen;
    }
    *polls = sp / m->n_err;
    *seen_ms = ss / m->n_err;
}

/* ---- remembered: _model.json ---------------------------------------------- */

int cwx_lane_model_key(const char *state_prefix, const char *account_id, const char *region,
                       struct cwx_buf *out)
{
    if (!account_id || !account_id[0] || !region || !region[0])
        return CWX_EINVAL;
    size_t sp = state_prefix ? strlen(state_prefix) : 0;
    while (sp > 0 && state_prefix[sp - 1] == '/')
        sp--;
    size_t mark = out->len;
    int rc = 0;
    if (sp)
        rc = cwx_buf_printf(out, "%.*s/", (int)sp, state_prefix);
    if (!rc)
        rc = cwx_buf_printf(out, "%s/%s/%s", account_id, region, CWX_LANE_MODEL_FILE);
    if (rc) {
        out->len = mark;
        if (out->ptr)
            out->ptr[mark] = '\0';
    }
    return rc;
}

int cwx_lane_model_format(const struct cwx_lane_model *m, const char *account_id,
                          const char *region, int64_t updated_ms, struct cwx_buf *out)
{
    cJSON *doc = cJSON_CreateObject();
    if (!doc)
        return CWX_ENOMEM;
    char iso[32] = "";
    time_t secs = (time_t)(updated_ms / 1000);
    struct tm tm;
    if (gmtime_r(&secs, &tm))
        strftime(iso, sizeof(iso), "%Y-%m-%dT%H:%M:%SZ", &tm);
    cJSON_AddStringToObject(doc, "format", "cwexport-lane-model");
    cJSON_AddNumberToObject(doc, "version", CWX_LANE_MODEL_VERSION);
    cJSON_AddStringToObject(doc, "account_id", account_id ? account_id : "");
    cJSON_AddStringToObject(doc, "region", region ? region : "");
    cJSON_AddStringToObject(doc, "updated_at", iso);
    /* For readers: what the fit says. */
    cJSON_AddNumberToObject(doc, "tasks", (double)m->tasks);
    int64_t oh = cwx_lane_model_overhead(m);
    if (oh >= 0)
        cJSON_AddNumberToObject(doc, "overhead_ms", (double)oh);
    else
        cJSON_AddNullToObject(doc, "overhead_ms");
    cJSON_AddNumberToObject(doc, "bytes_per_s", cwx_lane_model_rate(m));
    cJSON_AddNumberToObject(doc, "min_task_ms", (double)m->min_ms);
    cJSON_AddNumberToObject(doc, "calibration", cwx_lane_model_calibration(m));
    /* The state itself. */
    cJSON *fit = cJSON_AddObjectToObject(doc, "fit");
    cJSON *err = cJSON_AddObjectToObject(doc, "errors");
    cJSON *cal = cJSON_AddObjectToObject(doc, "bytes");
    if (fit && err && cal) {
        cJSON_AddNumberToObject(fit, "n", m->n);
        cJSON_AddNumberToObject(fit, "sx", m->sx);
        cJSON_AddNumberToObject(fit, "sy", m->sy);
        cJSON_AddNumberToObject(fit, "sxx", m->sxx);
        cJSON_AddNumberToObject(fit, "sxy", m->sxy);
        cJSON_AddNumberToObject(fit, "samples", m->samples);
        cJSON_AddNumberToObject(err, "n", m->err_n);
        cJSON_AddNumberToObject(err, "s", m->err_s);
        /* Oldest first, so that a reader appends in order. */
        cJSON *recent = cJSON_AddArrayToObject(err, "recent_ms");
        cJSON *preds = cJSON_AddArrayToObject(err, "predicted_ms");
        for (int i = 0; recent && preds && i < m->n_err; i++) {
            int k = (m->err_next - m->n_err + i + 2 * CWX_LANE_MODEL_ERRORS) %
                    CWX_LANE_MODEL_ERRORS;
            cJSON_AddItemToArray(recent, cJSON_CreateNumber((double)m->err_ms[k]));
            cJSON_AddItemToArray(preds, cJSON_CreateNumber((double)m->pred_ms[k]));
        }
        cJSON_AddNumberToObject(cal, "estimated", m->est_bytes);
        cJSON_AddNumberToObject(cal, "exported", m->exported_bytes);
        cJSON_AddNumberToObject(cal, "incoming", m->incoming_bytes);
        cJSON_AddNumberToObject(cal, "incoming_exported", m->incoming_exported);
    }
    cJSON *sch = cJSON_AddObjectToObject(doc, "schedule");
    if (sch) {
        cJSON_AddNumberToObject(sch, "polls_made", m->polls_made);
        cJSON_AddNumberToObject(sch, "polls_replayed", m->polls_replayed);
        cJSON_AddNumberToObject(sch, "gap_n", m->gap_n);
        cJSON_AddNumberToObject(sch, "gap_ms", m->gap_ms);
    }
    char *text = cJSON_PrintUnformatted(doc);
    cJSON_Delete(doc);
    if (!text)
        return CWX_ENOMEM;
    int rc = cwx_buf_puts(out, text);
    cJSON_free(text);
    return rc;
}

/* A finite number within [lo, hi], or a refusal naming the field. */
static int s_num(const cJSON *obj, const char *name, const char *path, double lo, double hi,
                 double *out, char *why, size_t why_size)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, name);
    if (!cJSON_IsNumber(v)) {
        snprintf(why, why_size, "%s%s is %s", path, name, v ? "not a number" : "missing");
        return CWX_EPARSE;
    }
    double d = v->valuedouble;
    if (!isfinite(d) || d < lo || d > hi) {
        snprintf(why, why_size, "%s%s is out of range", path, name);
        return CWX_EPARSE;
    }
    *out = d;
    return 0;
}

/* The parts of a lane model file that hold numbers: the document itself
 * and its four objects, in the order s_lane_model_sections names them. */
enum { S_DOC, S_FIT, S_ERR, S_CAL, S_SCH, S_NSECTIONS };

/* How a number read from the file is stored in the model. */
enum s_kind { S_DOUBLE, S_INT, S_INT64 };

/* One number of the file: where it is, its range (from 0 to hi), whether a
 * file may leave it out, and where it goes in struct cwx_lane_model. */
struct s_field {
    int section;
    const char *name;
    double hi;
    enum s_kind kind;
    int optional;
    size_t offset;
};

#define S_FIELD(sec, name, hi, kind, opt, member)                                            \
    { sec, name, hi, kind, opt, offsetof(struct cwx_lane_model, member) }

/* The numbers in the order they are checked (the first refusal is the one
 * reported). Decayed sums stay below 1 / (1 - decay) = 20 samples' worth.
 * The IncomingBytes calibration of "bytes" came after version 1's first
 * files: a file written without it is read without. */
static const struct s_field s_lane_model_fields[] = {
    S_FIELD(S_FIT, "n", 1000, S_DOUBLE, 0, n),
    S_FIELD(S_FIT, "sx", 1e300, S_DOUBLE, 0, sx),
    S_FIELD(S_FIT, "sy", 1e300, S_DOUBLE, 0, sy),
    S_FIELD(S_FIT, "sxx", 1e300, S_DOUBLE, 0, sxx),
    S_FIELD(S_FIT, "sxy", 1e300, S_DOUBLE, 0, sxy),
    S_FIELD(S_FIT, "samples", 1e15, S_INT, 0, samples),
    S_FIELD(S_ERR, "n", 1000, S_DOUBLE, 0, err_n),
    S_FIELD(S_ERR, "s", 1000, S_DOUBLE, 0, err_s),
    S_FIELD(S_CAL, "estimated", 1e300, S_DOUBLE, 0, est_bytes),
    S_FIELD(S_CAL, "exported", 1e300, S_DOUBLE, 0, exported_bytes),
    S_FIELD(S_SCH, "polls_made", 1e15, S_DOUBLE, 0, polls_made),
    S_FIELD(S_SCH, "polls_replayed", 1e15, S_DOUBLE, 0, polls_replayed),
    S_FIELD(S_SCH, "gap_n", 1000, S_DOUBLE, 0, gap_n),
    S_FIELD(S_SCH, "gap_ms", 1e15, S_DOUBLE, 0, gap_ms),
    S_FIELD(S_DOC, "tasks", 1e15, S_INT64, 0, tasks),
    S_FIELD(S_CAL, "incoming", 1e300, S_DOUBLE, 1, incoming_bytes),
    S_FIELD(S_CAL, "incoming_exported", 1e300, S_DOUBLE, 1, incoming_exported),
    S_FIELD(S_DOC, "min_task_ms", 1e12, S_INT64, 0, min_ms),
};

/* The name of each section in the file, and the prefix of its fields in a
 * refusal. */
static const char *const s_lane_model_sections[S_NSECTIONS] = {"", "fit", "errors", "bytes",
                                                               "schedule"};
static const char *const s_lane_model_paths[S_NSECTIONS] = {"", "fit.", "errors.", "bytes.",
                                                            "schedule."};

/* Stores d (already within the field's range) into the model as the field's
 * kind says: counts of samples saturate at INT32_MAX. */
static void s_store(const struct s_field *f, double d, struct cwx_lane_model *r)
{
    char *at = (char *)r + f->offset;
    if (f->kind == S_INT) {
        int v = d > INT32_MAX ? INT32_MAX : (int)d;
        memcpy(at, &v, sizeof(v));
    } else if (f->kind == S_INT64) {
        int64_t v = (int64_t)d;
        memcpy(at, &v, sizeof(v));
    } else {
        memcpy(at, &d, sizeof(d));
    }
}

/* Reads every number of s_lane_model_fields from the sections sec into r,
 * or refuses with the first field that is missing or out of range. */
static int s_read_fields(const cJSON *const sec[S_NSECTIONS], struct cwx_lane_model *r,
                         char *why, size_t why_size)
{
    size_t n = sizeof(s_lane_model_fields) / sizeof(s_lane_model_fields[0]);
    for (size_t i = 0; i < n; i++) {
        const struct s_field *f = &s_lane_model_fields[i];
        const cJSON *obj = sec[f->section];
        double d = 0;
        if (f->optional && !cJSON_GetObjectItemCaseSensitive(obj, f->name))
            continue;
        if (s_num(obj, f->name, s_lane_model_paths[f->section], 0, f->hi, &d, why, why_size))
            return CWX_EPARSE;
        s_store(f, d, r);
    }
    return 0;
}

/* Checks the file's format and version, and finds its sections: 0, or a
 * refusal in why. */
static int s_read_head(const cJSON *doc, const cJSON *sec[S_NSECTIONS], char *why,
                       size_t why_size)
{
    const cJSON *fmt = cJSON_GetObjectItemCaseSensitive(doc, "format");
    const cJSON *ver = cJSON_GetObjectItemCaseSensitive(doc, "version");
    if (!cJSON_IsString(fmt) || strcmp(fmt->valuestring, "cwexport-lane-model") != 0) {
        snprintf(why, why_size, "not a cwexport lane model (format)");
        return CWX_EPARSE;
    }
    if (!cJSON_IsNumber(ver) || ver->valuedouble != CWX_LANE_MODEL_VERSION) {
        snprintf(why, why_size, "version %s is not %d",
                 cJSON_IsNumber(ver) ? "other" : "missing", CWX_LANE_MODEL_VERSION);
        if (cJSON_IsNumber(ver) && isfinite(ver->valuedouble) && fabs(ver->valuedouble) < 1e9)
            snprintf(why, why_size, "version %.0f is not %d", ver->valuedouble,
                     CWX_LANE_MODEL_VERSION);
        return CWX_EPARSE;
    }
    sec[S_DOC] = doc;
    for (int i = S_FIT; i < S_NSECTIONS; i++)
        sec[i] = cJSON_GetObjectItemCaseSensitive(doc, s_lane_model_sections[i]);
    for (int i = S_FIT; i < S_NSECTIONS; i++) {
        if (!cJSON_IsObject(sec[i])) {
            snprintf(why, why_size, "%s is not an object", s_lane_model_sections[i]);
            return CWX_EPARSE;
        }
    }
    return 0;
}

/* Reads the recent prediction errors (errors.recent_ms) and their
 * predictions (errors.predicted_ms), oldest first, into r. */
static int s_read_errors(const cJSON *err, struct cwx_lane_model *r, char *why, size_t why_size)
{
    const cJSON *recent = cJSON_GetObjectItemCaseSensitive(err, "recent_ms");
    if (!cJSON_IsArray(recent) || cJSON_GetArraySize(recent) > CWX_LANE_MODEL_ERRORS) {
        snprintf(why, why_size, "errors.recent_ms is not an array of at most %d numbers",
                 CWX_LANE_MODEL_ERRORS);
        return CWX_EPARSE;
    }
    const cJSON *preds = cJSON_GetObjectItemCaseSensitive(err, "predicted_ms");
    if (!cJSON_IsArray(preds) || cJSON_GetArraySize(preds) != cJSON_GetArraySize(recent)) {
        snprintf(why, why_size, "errors.predicted_ms is not an array as long as recent_ms");
        return CWX_EPARSE;
    }
    const cJSON *e, *pr = preds->child;
    cJSON_ArrayForEach(e, recent)
    {
        if (!cJSON_IsNumber(e) || !isfinite(e->valuedouble) || fabs(e->valuedouble) > 1e12 ||
            !cJSON_IsNumber(pr) || !isfinite(pr->valuedouble) || pr->valuedouble < 0 ||
            pr->valuedouble > 1e12) {
            snprintf(why, why_size, "errors.recent_ms or predicted_ms holds a value that is "
                                    "not a duration");
            return CWX_EPARSE;
        }
        r->pred_ms[r->n_err] = (int64_t)pr->valuedouble;
        r->err_ms[r->n_err++] = (int64_t)e->valuedouble;
        pr = pr->next;
    }
    r->err_next = r->n_err % CWX_LANE_MODEL_ERRORS;
    return 0;
}

int cwx_lane_model_parse(const char *text, size_t len, struct cwx_lane_model *m, char *why,
                         size_t why_size)
{
    struct cwx_lane_model r = {0};
    char dummy[8];
    if (!why || !why_size) {
        why = dummy;
        why_size = sizeof(dummy);
    }
    why[0] = '\0';
    if (len > CWX_LANE_MODEL_MAX_BYTES) {
        snprintf(why, why_size, "larger than %d bytes", CWX_LANE_MODEL_MAX_BYTES);
        return CWX_EPARSE;
    }
    cJSON *doc = cJSON_ParseWithLength(text, len);
    if (!cJSON_IsObject(doc)) {
        snprintf(why, why_size, "not a JSON object");
        cJSON_Delete(doc);
        return CWX_EPARSE;
    }
    const cJSON *sec[S_NSECTIONS] = {0};
    int rc = s_read_head(doc, sec, why, why_size);
    if (!rc)
        rc = s_read_fields(sec, &r, why, why_size);
    if (!rc)
        rc = s_read_errors(sec[S_ERR], &r, why, why_size);
    if (!rc)
        *m = r;
    cJSON_Delete(doc);
    return rc;
}
