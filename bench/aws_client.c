/* bench/aws_client: the client side cost of an AWS call.
 *
 *   aws_client [--url URL] [--calls 5000] [--inflight 16]
 *
 * Makes `calls` signed DescribeExportTasks calls through the logs client
 * (rate limiter, credentials, SigV4, libcurl on libuv, retries, JSON parsing)
 * to the fake AWS, never more than `inflight` at once, and prints:
 *   - client CPU per call: user+sys of this process (getrusage) / calls;
 *   - calls/s (wall clock);
 *   - TCP connections opened, as the fake counted them (/_fake/stats) and
 *     as curl counted them (CURLINFO_NUM_CONNECTS).
 * Without --url (or CWX_FAKEAWS_URL) it starts its own fake with
 * tests/unit/server_fixture.py and stops it at the end. Targets: ≤ 100 µs
 * of CPU per call, no more connections than the in-flight limit. Never
 * asserted in CI. */
#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>
#include <uv.h>

#include "aws/core.h"
#include "aws/credentials.h"
#include "aws/logs.h"
#include "common/error.h"

#define DEMO_KEY "AKIAFAKEDEMO00000001"
#define DEMO_SECRET "fakedemosecretkey000000000000000000000001"

struct bench {
    struct cwx_aws_client *client;
    int total;
    int inflight;
    int started;
    int done;
    int failed;
    int running;
    struct cwx_logs_describe_export_tasks_req req;
};

static void s_next(struct bench *b);

static void s_on_done(int status, const struct cwx_logs_export_tasks *res,
                      const struct cwx_aws_error *err, void *ud)
{
    (void)res;
    struct bench *b = ud;
    b->done++;
    b->running--;
    if (status) {
        if (b->failed++ < 5) {
            char msg[512] = "";
            if (err)
                cwx_aws_error_format(err, msg, sizeof(msg));
            fprintf(stderr, "aws_client: call failed: %s %s\n", cwx_err_name(status), msg);
        }
    }
    s_next(b);
}

static void s_next(struct bench *b)
{
    while (b->started < b->total && b->running < b->inflight) {
        int rc = cwx_logs_describe_export_tasks(b->client, &b->req, s_on_done, b);
        if (rc) {
            fprintf(stderr, "aws_client: cannot start a call: %s\n", cwx_strerror(rc));
            b->total = b->started;
            return;
        }
        b->started++;
        b->running++;
    }
}

static size_t s_sink(char *p, size_t s, size_t n, void *ud)
{
    size_t len = s * n;
    char *buf = ud;
    size_t have = strlen(buf);
    if (have + len < 4096) {
        memcpy(buf + have, p, len);
        buf[have + len] = '\0';
    }
    return len;
}

/* The fake's count of accepted TCP connections, or -1. */
static long s_fake_connections(const char *url)
{
    char u[1024], out[4096] = "";
    snprintf(u, sizeof(u), "%s/_fake/stats", url);
    CURL *e = curl_easy_init();
    curl_easy_setopt(e, CURLOPT_URL, u);
    curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, s_sink);
    curl_easy_setopt(e, CURLOPT_WRITEDATA, out);
    CURLcode cc = curl_easy_perform(e);
    curl_easy_cleanup(e);
    if (cc != CURLE_OK)
        return -1;
    const char *p = strstr(out, "\"connections\":");
    return p ? strtol(p + 14, NULL, 10) : -1;
}

static double s_cpu_s(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return (double)ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 + (double)ru.ru_stime.tv_sec +
           ru.ru_stime.tv_usec / 1e6;
}

static double s_wall_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/* Starts a fake with the fixture script; fills url. Returns 0 or -1. */
static int s_start_fake(const char *dir, char *url, size_t size)
{
    char cmd[2048];
    snprintf(cmd, sizeof(cmd), "/usr/bin/python3 '%s/tests/unit/server_fixture.py' start '%s' fakeaws >/dev/null",
             CWX_SOURCE_DIR, dir);
    if (system(cmd) != 0)
        return -1;
    char path[1024];
    snprintf(path, sizeof(path), "%s/url", dir);
    FILE *f = fopen(path, "r");
    if (!f)
        return -1;
    int ok = fgets(url, (int)size, f) != NULL;
    fclose(f);
    url[strcspn(url, "\r\n")] = '\0';
    return ok ? 0 : -1;
}

static void s_stop_fake(const char *dir)
{
    char cmd[2048];
    snprintf(cmd, sizeof(cmd), "/usr/bin/python3 '%s/tests/unit/server_fixture.py' stop '%s'",
             CWX_SOURCE_DIR, dir);
    if (system(cmd) != 0)
        fprintf(stderr, "aws_client: could not stop the fake in %s\n", dir);
}

int main(int argc, char **argv)
{
    const char *url_arg = getenv("CWX_FAKEAWS_URL");
    int calls = 5000, inflight = 16;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--url") && i + 1 < argc)
            url_arg = argv[++i];
        else if (!strcmp(argv[i], "--calls") && i + 1 < argc)
            calls = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--inflight") && i + 1 < argc)
            inflight = atoi(argv[++i]);
        else {
            fprintf(stderr, "usage: %s [--url URL] [--calls N] [--inflight N]\n", argv[0]);
            return 2;
        }
    }
    if (calls < 1 || inflight < 1) {
        fprintf(stderr, "aws_client: --calls and --inflight must be positive\n");
        return 2;
    }
    char url[1024], dir[256] = "";
    if (url_arg && *url_arg) {
        snprintf(url, sizeof(url), "%s", url_arg);
    } else {
        snprintf(dir, sizeof(dir), "/tmp/cwx-bench-aws-client-%d", (int)getpid());
        if (s_start_fake(dir, url, sizeof(url)) != 0) {
            fprintf(stderr, "aws_client: could not start the fake\n");
            return 1;
        }
    }
    setenv("AWS_ENDPOINT_URL", url, 1);

    uv_loop_t loop;
    uv_loop_init(&loop);
    struct cwx_aws *aws = NULL;
    struct cwx_http_options ho = {.max_host_connections = inflight};
    struct cwx_aws_options ao = {.http = &ho};
    struct cwx_creds_provider *creds = NULL;
    struct cwx_aws_client *client = NULL;
    int rc = cwx_aws_new(&loop, &ao, &aws);
    if (!rc)
        rc = cwx_creds_provider_static(&loop, DEMO_KEY, DEMO_SECRET, NULL, 0, "bench", &creds);
    struct cwx_aws_client_options co = {.creds = creds, .region = "us-east-1"};
    if (!rc)
        rc = cwx_aws_client_new(aws, &co, &client);
    if (rc) {
        fprintf(stderr, "aws_client: setup: %s\n", cwx_strerror(rc));
        return 1;
    }
    struct bench b = {.client = client, .total = calls, .inflight = inflight,
                      .req = {.limit = 5}};

    long conns0 = s_fake_connections(url);
    double cpu0 = s_cpu_s(), wall0 = s_wall_s();
    s_next(&b);
    uv_run(&loop, UV_RUN_DEFAULT);
    double cpu = s_cpu_s() - cpu0, wall = s_wall_s() - wall0;
    long conns1 = s_fake_connections(url);

    struct cwx_http_stats hs;
    cwx_http_get_stats(cwx_aws_http(aws), &hs);
    struct cwx_aws_stats as;
    cwx_aws_get_stats(aws, &as);

    printf("aws_client: %d DescribeExportTasks calls, at most %d in flight, %d failed\n", b.done,
           inflight, b.failed);
    printf("  client CPU per call   %8.1f us   (user+sys %.3f s)\n", cpu / b.done * 1e6, cpu);
    printf("  calls per second      %8.0f      (wall %.3f s)\n", b.done / wall, wall);
    /* The fake counts the stats request that read `after` too. */
    if (conns0 >= 0 && conns1 >= 0)
        printf("  TCP connections       %8ld      (counted by the fake)\n", conns1 - conns0 - 1);
    printf("  TCP connections       %8llu      (counted by curl)\n",
           (unsigned long long)hs.connects);
    printf("  HTTP attempts         %8llu      (retries %llu, throttles %llu)\n",
           (unsigned long long)as.attempts, (unsigned long long)as.retries,
           (unsigned long long)as.throttles);

    cwx_aws_client_free(client);
    cwx_creds_provider_free(creds);
    cwx_aws_free(aws);
    uv_run(&loop, UV_RUN_DEFAULT);
    int closed = uv_loop_close(&loop);
    if (dir[0])
        s_stop_fake(dir);
    return b.failed || closed ? 1 : 0;
}
