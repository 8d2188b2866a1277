/* The adaptive polling policy and the lane's throughput model (DESIGN.md §4
 * "Polling"). Pure functions: the unit tests drive them directly. */
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
        double band = in->spread_ms > 0 ? (double)in->spread_ms : pred * 0.05;
        if (band < (double)min)
            band = (double)min;
        double start = pred - band; /* where the end becomes likely */
        if (age < start)
            return s_clamp(start - age, min, max);
        if (age <= pred + band)
            return min; /* cluster polls around the predicted end */
        /* Overdue: the prediction was wrong; back off with the lateness. */
        return s_clamp((age - pred) * (growth - 1.0), min, max);
    }
    return s_clamp(age * (growth - 1.0), min, max);
}

/* Older samples fade: tasks of one lane drift as AWS's load changes. */
#define CWX__DECAY 0.95

void cwx__throughput_add(struct cwx_throughput *t, int64_t est_bytes, int64_t duration_ms)
{
    if (duration_ms <= 0)
        return;
    double x = est_bytes > 0 ? (double)est_bytes : 0.0;
    double y = (double)duration_ms;
    /* Relative error of what we would have predicted, for the spread. */
    int64_t before = cwx__throughput_predict(t, est_bytes);
    if (before > 0) {
        double rel = fabs(y - (double)before) / y;
        t->err_n = t->err_n * CWX__DECAY + 1.0;
        t->err_s = t->err_s * CWX__DECAY + rel;
    }
    t->n = t->n * CWX__DECAY + 1.0;
    t->sx = t->sx * CWX__DECAY + x;
    t->sy = t->sy * CWX__DECAY + y;
    t->sxx = t->sxx * CWX__DECAY + x * x;
    t->sxy = t->sxy * CWX__DECAY + x * y;
    t->samples++;
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
