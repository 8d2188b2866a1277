/* The adaptive polling policy and the lane's throughput model (docs/architecture.md
 * §polling). Pure functions: the unit tests drive them directly. */
#include "orchestrator/orchestrator_internal.h"

#include <math.h>

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

uint64_t cwx__poll_delay(const struct cwx_poll_policy *p, const struct cwx_poll_input *in)
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

/* Older samples fade: tasks of one lane drift as AWS's load changes. */
#define CWX__DECAY 0.95

static int s_fit(const struct cwx_throughput *t, double *a, double *b);

void cwx__throughput_add(struct cwx_throughput *t, int64_t est_bytes, int64_t duration_ms)
{
    if (duration_ms <= 0)
        return;
    double x = est_bytes > 0 ? (double)est_bytes : 0.0;
    double y = (double)duration_ms;
    /* The error of what we would have predicted: relative for the spread;
     * in ms for the polling margins, once the model is a real fit (the
     * first guesses say nothing about how precise it is). */
    int64_t before = cwx__throughput_predict(t, est_bytes);
    if (before > 0) {
        double rel = fabs(y - (double)before) / y;
        t->err_n = t->err_n * CWX__DECAY + 1.0;
        t->err_s = t->err_s * CWX__DECAY + rel;
        double a, b;
        if (est_bytes >= 0 && s_fit(t, &a, &b)) {
            t->err_ms[t->err_next] = duration_ms - before;
            t->err_next = (t->err_next + 1) % CWX__TP_ERRORS;
            if (t->n_err < CWX__TP_ERRORS)
                t->n_err++;
        }
    }
    t->n = t->n * CWX__DECAY + 1.0;
    t->sx = t->sx * CWX__DECAY + x;
    t->sy = t->sy * CWX__DECAY + y;
    t->sxx = t->sxx * CWX__DECAY + x * x;
    t->sxy = t->sxy * CWX__DECAY + x * y;
    t->samples++;
}

int cwx__throughput_aim(const struct cwx_throughput *t, int64_t min_ms, int64_t *aim,
                        int64_t *late)
{
    int n = t->n_err;
    if (n < 4)
        return 0;
    const int64_t *e = t->err_ms;
    int64_t best = 0, latest = e[0];
    double best_cost = -1;
    for (int k = 0; k < n; k++) {
        if (e[k] > latest)
            latest = e[k];
        /* The optimum sits on one of the errors (the cost is piecewise
         * linear, rising between them). */
        int64_t m = e[k];
        double cost = 0;
        for (int i = 0; i < n; i++)
            cost += (double)(m - e[i]) + (e[i] > m ? (double)min_ms : 0.0);
        if (best_cost < 0 || cost < best_cost) {
            best_cost = cost;
            best = m;
        }
    }
    *aim = best;
    *late = latest;
    return 1;
}

/* Fitted (overhead, ms per byte); 0 when the fit is not usable. */
static int s_fit(const struct cwx_throughput *t, double *a, double *b)
{
    if (t->samples < 2 || t->n <= 0)
        return 0;
    double mx = t->sx / t->n, my = t->sy / t->n;
    double var = t->sxx / t->n - mx * mx;
    if (!(var > 1e-9 * (mx * mx + 1.0)))
        return 0;
    double slope = (t->sxy / t->n - mx * my) / var;
    if (!(slope > 0))
        return 0;
    *b = slope;
    *a = my - slope * mx;
    if (*a < 0)
        *a = 0;
    return 1;
}

int64_t cwx__throughput_predict(const struct cwx_throughput *t, int64_t est_bytes)
{
    if (t->samples < 1 || t->n <= 0)
        return -1;
    double mx = t->sx / t->n, my = t->sy / t->n;
    double a, b;
    if (est_bytes >= 0 && s_fit(t, &a, &b))
        return (int64_t)(a + b * (double)est_bytes);
    if (est_bytes > 0 && mx > 0)
        return (int64_t)(my * ((double)est_bytes / mx));
    if (t->samples >= 3)
        return (int64_t)my;
    return -1;
}

int64_t cwx__throughput_spread(const struct cwx_throughput *t, int64_t predicted_ms)
{
    if (predicted_ms <= 0)
        return 0;
    double rel = t->err_n > 0 ? t->err_s / t->err_n : 0.1;
    if (rel < 0.02)
        rel = 0.02;
    if (rel > 0.33)
        rel = 0.33;
    return (int64_t)(rel * (double)predicted_ms * 1.5);
}

double cwx__throughput_rate(const struct cwx_throughput *t)
{
    double a, b;
    if (s_fit(t, &a, &b))
        return 1000.0 / b;
    return 0.0;
}
