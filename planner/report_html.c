/* The HTML plan report: one self-contained file (inline CSS and JS, no
 * network fetch). Totals and the lanes are HTML; the heatmap of log groups
 * × windows is drawn by the page on a <canvas> from a JSON blob embedded in
 * the page, one row at a time as the reader scrolls, so a plan of 10,000
 * groups stays as light as one of 10.
 *
 * The blob (built here, read by the script below):
 *   {"cols": [window labels, sorted],
 *    "wsets": [{"cols": [column of each window], "from": [ms], "to": [ms]}],
 *    "targets": [[account, account_id|null, region, bucket|null]],
 *    "rates": [[bytes_per_s, overhead_ms]] per target,
 *    "statuses": [names], "reasons": [texts by reason code],
 *    "groups": [[name, target, wset, "statuses", "reasons", [bytes]|null]]}
 * where "statuses" holds one digit per window (enum cwx_job_status), and
 * "reasons" one letter per window ('a' + enum cwx_job_reason). */
#include "planner/report_internal.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "common/error.h"

/* Appends s HTML-escaped (text and attribute values). */
static int s_html(struct cwx_buf *b, const char *s)
{
    static const char *const as[] = {"&lt;", "&gt;", "&amp;", "&quot;", "&#39;"};
    return cwx__report_put_escaped(b, s, "<>&\"'", as);
}

/* Appends s as a JSON string safe inside <script>: '<', '>' and '&' as
 * \u escapes, so no "</script>" can close the element early. */
static int s_js_str(struct cwx_buf *b, const char *s)
{
    if (!s)
        return cwx_buf_puts(b, "null");
    if (!strpbrk(s, "<>&"))
        return cwx_buf_json_str(b, s);
    struct cwx_buf tmp;
    cwx_buf_init(&tmp, 0);
    int rc = cwx_buf_json_str(&tmp, s);
    for (size_t i = 0; i < tmp.len && !rc; i++) {
        char c = tmp.ptr[i];
        if (c == '<' || c == '>' || c == '&')
            rc = cwx_buf_printf(b, "\\u%04x", (unsigned)c);
        else
            rc = cwx_buf_putc(b, c);
    }
    cwx_buf_free(&tmp);
    return rc;
}

static int s_cmp_str(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* The columns of the heatmap: every distinct window label, sorted (labels
 * of one granularity sort in time order). *out points into the plan. */
static int s_columns(const struct cwx_plan *plan, const char ***out, size_t *n_out)
{
    size_t n = 0;
    for (size_t i = 0; i < plan->n_wsets; i++)
        n += plan->wsets[i].n_windows;
    const char **labels = malloc((n ? n : 1) * sizeof *labels);
    if (!labels)
        return CWX_ENOMEM;
    size_t k = 0;
    for (size_t i = 0; i < plan->n_wsets; i++)
        for (size_t w = 0; w < plan->wsets[i].n_windows; w++)
            labels[k++] = plan->wsets[i].windows[w].label;
    qsort(labels, n, sizeof *labels, s_cmp_str);
    size_t m = 0;
    for (size_t i = 0; i < n; i++)
        if (m == 0 || strcmp(labels[m - 1], labels[i]) != 0)
            labels[m++] = labels[i];
    *out = labels;
    *n_out = m;
    return 0;
}

/* Appends strings as the items of a JSON array, comma-separated. */
static int s_js_str_list(struct cwx_buf *b, const char *const *items, size_t n)
{
    int rc = 0;
    for (size_t i = 0; i < n && !rc; i++) {
        if (i) rc = cwx_buf_putc(b, ',');
        if (!rc) rc = s_js_str(b, items[i]);
    }
    return rc;
}

/* Appends the i64 values of an array, comma-separated. */
static int s_js_i64_list(struct cwx_buf *b, const int64_t *v, size_t n)
{
    int rc = 0;
    for (size_t i = 0; i < n && !rc; i++) {
        if (i) rc = cwx_buf_putc(b, ',');
        if (!rc) rc = cwx__report_put_i64(b, v[i]);
    }
    return rc;
}

/* "wsets": each window set's column of each window, its starts and its
 * last milliseconds. */
static int s_blob_wsets(const struct cwx_plan *plan, const char **cols, size_t n_cols,
                        struct cwx_buf *b)
{
    int rc = cwx_buf_puts(b, "],\n\"wsets\": [");
    for (size_t i = 0; i < plan->n_wsets && !rc; i++) {
        const struct cwx_plan_wset *ws = &plan->wsets[i];
        int64_t *v = malloc((ws->n_windows ? ws->n_windows : 1) * 3 * sizeof *v);
        if (!v)
            return CWX_ENOMEM;
        int64_t *col = v, *from = v + ws->n_windows, *to = v + 2 * ws->n_windows;
        for (size_t w = 0; w < ws->n_windows; w++) {
            const char *key = ws->windows[w].label;
            const char **hit = bsearch(&key, cols, n_cols, sizeof *cols, s_cmp_str);
            col[w] = hit ? (int64_t)(hit - cols) : -1;
            from[w] = ws->windows[w].start_ms;
            to[w] = ws->windows[w].end_ms - 1;
        }
        rc = cwx_buf_puts(b, i ? ",\n{\"cols\": [" : "\n{\"cols\": [");
        if (!rc) rc = s_js_i64_list(b, col, ws->n_windows);
        if (!rc) rc = cwx_buf_puts(b, "], \"from\": [");
        if (!rc) rc = s_js_i64_list(b, from, ws->n_windows);
        if (!rc) rc = cwx_buf_puts(b, "], \"to\": [");
        if (!rc) rc = s_js_i64_list(b, to, ws->n_windows);
        if (!rc) rc = cwx_buf_puts(b, "]}");
        free(v);
    }
    return rc;
}

/* "targets" and "rates": each target's account, account id, region and
 * bucket, and its export rate. */
static int s_blob_targets(const struct cwx_plan *plan, struct cwx_buf *b)
{
    int rc = cwx_buf_puts(b, "],\n\"targets\": [");
    for (size_t i = 0; i < plan->n_targets && !rc; i++) {
        const struct cwx_plan_target *t = &plan->targets[i];
        const char *const fields[] = {plan->cfg->accounts[t->account].name, t->account_id,
                                      t->region, t->bucket};
        rc = cwx_buf_puts(b, i ? ",[" : "[");
        if (!rc) rc = s_js_str_list(b, fields, 4);
        if (!rc) rc = cwx_buf_putc(b, ']');
    }
    if (!rc)
        rc = cwx_buf_puts(b, "],\n\"rates\": [");
    for (size_t i = 0; i < plan->n_targets && !rc; i++) {
        struct cwx_estimate_rate r;
        cwx_estimate_rate_of(plan, (uint32_t)i, &r);
        rc = cwx_buf_printf(b, "%s[%.0f,%" PRId64 "]", i ? "," : "", r.bytes_per_s,
                            r.overhead_ms);
    }
    return rc;
}

/* "statuses" and "reasons": the names the digits and letters of a group's
 * row stand for. */
static int s_blob_names(struct cwx_buf *b)
{
    const char *statuses[5], *reasons[CWX_REASON__COUNT];
    for (int s = 0; s < 5; s++)
        statuses[s] = cwx_job_status_name((enum cwx_job_status)s);
    for (int r = 0; r < CWX_REASON__COUNT; r++)
        reasons[r] = cwx_job_reason_text((enum cwx_job_reason)r);
    int rc = cwx_buf_puts(b, "],\n\"statuses\": [");
    if (!rc) rc = s_js_str_list(b, statuses, 5);
    if (!rc) rc = cwx_buf_puts(b, "],\n\"reasons\": [");
    if (!rc) rc = s_js_str_list(b, reasons, CWX_REASON__COUNT);
    return rc;
}

/* One row of "groups": the name, target, window set, a status digit and a
 * reason letter per window, and each window's bytes (null when unknown). */
static int s_blob_group(const struct cwx_plan *plan, const struct cwx_plan_group *g,
                        struct cwx_buf *b, int first)
{
    const struct cwx_plan_wset *ws = &plan->wsets[g->wset];
    struct cwx_job tmp;
    int rc = cwx_buf_puts(b, first ? "\n[" : ",\n[");
    if (!rc) rc = s_js_str(b, g->name);
    if (!rc) rc = cwx_buf_printf(b, ",%" PRIu32 ",%" PRIu32 ",\"", g->target, g->wset);
    for (uint32_t k = 0; k < g->n_jobs && !rc; k++)
        rc = cwx_buf_putc(b, (char)('0' + cwx_plan_job(plan, g->first_job + k, &tmp, 0)->status % 10));
    if (!rc) rc = cwx_buf_puts(b, "\",\"");
    for (uint32_t k = 0; k < g->n_jobs && !rc; k++)
        rc = cwx_buf_putc(b, (char)('a' + cwx_plan_job(plan, g->first_job + k, &tmp, 0)->reason % 26));
    if (!rc) rc = cwx_buf_puts(b, g->stored_bytes < 0 ? "\",null]" : "\",[");
    for (uint32_t k = 0; g->stored_bytes >= 0 && k < g->n_jobs && !rc; k++) {
        const struct cwx_job *job = cwx_plan_job(plan, g->first_job + k, &tmp, 0);
        if (k) rc = cwx_buf_putc(b, ',');
        if (!rc)
            rc = cwx__report_put_i64(b, cwx_estimate_window_bytes(plan, g,
                                                                  &ws->windows[job->window]));
    }
    if (!rc && g->stored_bytes >= 0) rc = cwx_buf_puts(b, "]]");
    return rc;
}

static int s_blob(const struct cwx_plan *plan, struct cwx_buf *b, FILE *f)
{
    const char **cols = NULL;
    size_t n_cols = 0;
    int rc = s_columns(plan, &cols, &n_cols);
    if (rc)
        return rc;
    rc = cwx_buf_puts(b, "{\"cols\": [");
    if (!rc) rc = s_js_str_list(b, cols, n_cols);
    if (!rc) rc = s_blob_wsets(plan, cols, n_cols, b);
    free(cols);
    if (!rc) rc = s_blob_targets(plan, b);
    if (!rc) rc = s_blob_names(b);
    if (!rc) rc = cwx_buf_puts(b, "],\n\"groups\": [");
    for (size_t gi = 0; gi < plan->n_groups && !rc; gi++) {
        rc = s_blob_group(plan, &plan->groups[gi], b, gi == 0);
        if (!rc) rc = cwx__report_flush(b, f, CWX__REPORT_CHUNK);
    }
    if (!rc)
        rc = cwx_buf_puts(b, "]}");
    return rc;
}

static const char s_css[] =
    "body{font:14px/1.4 system-ui,-apple-system,'Segoe UI',sans-serif;margin:20px;color:#222}"
    "h1{font-size:20px;margin:0 0 4px}h2{font-size:16px;margin:24px 0 8px}"
    ".meta{color:#666;margin:0 0 12px}"
    "#errors{background:#fdd;border:1px solid #c00;padding:8px;white-space:pre-wrap}"
    ".cards{display:flex;flex-wrap:wrap;gap:8px}"
    ".card{border:1px solid #ddd;border-radius:6px;padding:6px 12px;min-width:90px}"
    ".card b{display:block;font-size:18px}.card span{color:#666;font-size:12px}"
    "table{border-collapse:collapse;font-size:13px}td,th{border:1px solid #ddd;padding:3px 6px}"
    "th{background:#f4f4f4;text-align:left;vertical-align:bottom}"
    "td.n{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}"
    "td.rate{min-width:150px}"
    ".tw{max-width:100%;overflow-x:auto}"
    "#timeline{max-width:1200px}.tl{display:flex;align-items:center;gap:8px;margin:3px 0}"
    ".tl .nm{flex:0 0 220px;overflow:hidden;text-overflow:ellipsis;white-space:nowrap}"
    ".tl .tr{position:relative;flex:1 1 auto;height:18px;background:#f7f7f7}"
    ".tl .rg{position:absolute;top:6px;height:6px;background:#c9dff2}"
    ".tl .br{position:absolute;top:3px;height:12px;left:0;background:#2d9cdb}"
    ".tl.pole .br{background:#eb5757}.tl .at{flex:0 0 230px;font-size:12px;color:#444}"
    ".controls{display:flex;gap:12px;align-items:center;margin:6px 0;flex-wrap:wrap}"
    ".legend i{display:inline-block;width:12px;height:12px;margin:0 4px 0 10px;vertical-align:-2px}"
    "#hm-wrap{position:relative;overflow:auto;border:1px solid #ddd;max-height:75vh}"
    "#hm{position:sticky;top:0;display:block}"
    "#tip{position:fixed;pointer-events:none;background:#fff;border:1px solid #999;"
    "box-shadow:0 2px 6px rgba(0,0,0,.2);padding:6px 8px;font-size:12px;display:none;"
    "white-space:pre;z-index:10}";

/* Catches every error of the page into #errors and body[data-errors], so a
 * headless browser can tell a broken page from a working one. */
static const char s_js_guard[] =
    "window.cwxErrors=[];"
    "function cwxError(m){window.cwxErrors.push(String(m));"
    "document.body.dataset.errors=String(window.cwxErrors.length);"
    "var e=document.getElementById('errors');if(e){e.hidden=false;e.textContent=window.cwxErrors.join('\\n');}}"
    "window.addEventListener('error',function(ev){cwxError(ev.message||ev);});"
    "window.addEventListener('unhandledrejection',function(ev){cwxError(ev.reason);});";

static const char s_js_main[] =
    "(function(){'use strict';\n"
    "var D=JSON.parse(document.getElementById('plan-data').textContent);\n"
    "var COLORS=['#f2c94c','#27ae60','#2d9cdb','#d5d5d5','#eb5757'];\n"
    "var EMPTY='#f7f7f7',ROW=16,LABEL=300,HEAD=56;\n"
    "var nCols=D.cols.length,groups=D.groups,multi=D.targets.length>1;\n"
    "var inv=D.wsets.map(function(w){var a=new Int32Array(nCols).fill(-1);"
    "w.cols.forEach(function(c,i){if(c>=0)a[c]=i;});return a;});\n"
    "var cells=0,counts=[0,0,0,0,0];groups.forEach(function(g){cells+=g[3].length;"
    "for(var i=0;i<g[3].length;i++)counts[+g[3][i]]++;});\n"
    "function label(g){var t=D.targets[g[1]];return (multi?t[0]+'/'+t[2]+'  ':'')+g[0];}\n"
    "var rows=[],wrap=document.getElementById('hm-wrap'),cv=document.getElementById('hm'),"
    "sp=document.getElementById('hm-spacer'),tip=document.getElementById('tip'),"
    "ctx=cv.getContext('2d'),colW=8,drawn=0;\n"
    "function filter(){var q=document.getElementById('filter').value.toLowerCase(),"
    "st=document.getElementById('only').value;rows=[];"
    "for(var i=0;i<groups.length;i++){var g=groups[i];"
    "if(q&&label(g).toLowerCase().indexOf(q)<0)continue;"
    "if(st!==''&&g[3].indexOf(st)<0)continue;rows.push(i);}layout();}\n"
    "function layout(){var w=Math.max(wrap.clientWidth-2,LABEL+nCols*10);"
    "colW=Math.max(10,Math.min(28,Math.floor((w-LABEL)/Math.max(nCols,1))));"
    "var cw=LABEL+colW*nCols,vh=Math.min(rows.length*ROW+HEAD,Math.floor(window.innerHeight*0.75)-4);"
    "vh=Math.max(vh,HEAD+ROW);var dpr=window.devicePixelRatio||1;"
    "cv.width=Math.floor(cw*dpr);cv.height=Math.floor(vh*dpr);cv.style.width=cw+'px';cv.style.height=vh+'px';"
    "ctx.setTransform(dpr,0,0,dpr,0,0);"
    "sp.style.height=Math.max(0,rows.length*ROW+HEAD-vh)+'px';sp.style.width='1px';draw();}\n"
    "function draw(){var vh=cv.height/(window.devicePixelRatio||1),top=wrap.scrollTop,"
    "first=Math.floor(top/ROW),n=Math.ceil((vh-HEAD)/ROW)+1;"
    "ctx.fillStyle='#fff';ctx.fillRect(0,0,cv.width,cv.height);ctx.font='11px sans-serif';"
    "ctx.textBaseline='middle';drawn=0;var off=top-first*ROW;\n"
    "for(var r=0;r<n&&first+r<rows.length;r++){var g=groups[rows[first+r]],y=HEAD+r*ROW-off;"
    "if(y+ROW<=HEAD)continue;var m=inv[g[2]];ctx.fillStyle='#333';ctx.save();"
    "ctx.beginPath();ctx.rect(0,y,LABEL-6,ROW);ctx.clip();ctx.fillText(label(g),4,y+ROW/2);ctx.restore();\n"
    "for(var c=0;c<nCols;c++){var k=m[c];ctx.fillStyle=k<0?EMPTY:COLORS[+g[3][k]];"
    "ctx.fillRect(LABEL+c*colW,y,Math.max(1,colW-1),ROW-1);if(k>=0)drawn++;}}\n"
    "ctx.fillStyle='#fff';ctx.fillRect(0,0,LABEL+colW*nCols,HEAD);ctx.fillStyle='#333';"
    "var every=Math.max(1,Math.ceil(70/colW));ctx.save();"
    "for(var c=0;c<nCols;c+=every){ctx.save();ctx.translate(LABEL+c*colW+colW/2,HEAD-4);"
    "ctx.rotate(-Math.PI/4);ctx.fillText(D.cols[c],0,0);ctx.restore();}ctx.restore();"
    "ctx.fillText(rows.length+' of '+groups.length+' log groups',4,HEAD-10);\n"
    "var b=document.body.dataset;b.drawn=String(drawn);b.rows=String(rows.length);}\n"
    "function iso(ms){return new Date(ms).toISOString().replace('.000Z','Z');}\n"
    "function bytes(v){if(v==null||v<0)return 'unknown';var u=['B','kB','MB','GB','TB','PB'],i=0;"
    "while(v>=1000&&i<u.length-1){v/=1000;i++;}return (i?v.toFixed(1):v)+' '+u[i];}\n"
    "function dur(ms){var s=Math.round(ms/1000);if(s>=86400)return Math.floor(s/86400)+'d '+Math.floor(s%86400/3600)+'h';"
    "if(s>=3600)return Math.floor(s/3600)+'h '+Math.floor(s%3600/60)+'m';if(s>=60)return Math.floor(s/60)+'m '+(s%60)+'s';return s+'s';}\n"
    "function hit(ev){var rc=cv.getBoundingClientRect(),x=ev.clientX-rc.left,y=ev.clientY-rc.top;"
    "if(x<LABEL||y<HEAD)return null;var c=Math.floor((x-LABEL)/colW),"
    "r=Math.floor((y-HEAD+wrap.scrollTop)/ROW);if(c>=nCols||r>=rows.length)return null;"
    "var g=groups[rows[r]],k=inv[g[2]][c];return k<0?null:{g:g,k:k};}\n"
    "cv.addEventListener('mousemove',function(ev){var h=hit(ev);if(!h){tip.style.display='none';return;}"
    "var g=h.g,k=h.k,t=D.targets[g[1]],w=D.wsets[g[2]],st=+g[3][k],"
    "rs=D.reasons[g[4].charCodeAt(k)-97],by=g[5]?g[5][k]:null,ra=D.rates[g[1]];"
    "var lines=[g[0],'account '+t[0]+(t[1]?' ('+t[1]+')':'')+'  region '+t[2],"
    "'window '+D.cols[w.cols[k]]+'  '+iso(w.from[k])+' .. '+iso(w.to[k]),"
    "'status '+D.statuses[st]+(rs?' ('+rs+')':''),'est. bytes '+bytes(by)];"
    "if(st===0)lines.push('est. export time '+dur(ra[1]+(by>0?by*1000/ra[0]:0)));"
    "tip.textContent=lines.join('\\n');tip.style.display='block';"
    "tip.style.left=Math.min(ev.clientX+14,window.innerWidth-tip.offsetWidth-8)+'px';"
    "tip.style.top=Math.min(ev.clientY+14,window.innerHeight-tip.offsetHeight-8)+'px';});\n"
    "cv.addEventListener('mouseleave',function(){tip.style.display='none';});\n"
    "wrap.addEventListener('scroll',function(){window.requestAnimationFrame(draw);});\n"
    "window.addEventListener('resize',layout);\n"
    "document.getElementById('filter').addEventListener('input',filter);\n"
    "document.getElementById('only').addEventListener('change',filter);\n"
    "filter();var b=document.body.dataset;b.cells=String(cells);b.cols=String(nCols);"
    "b.groups=String(groups.length);D.statuses.forEach(function(s,i){b['n'+s]=String(counts[i]);});"
    "b.rendered='1';})();\n";

static int s_card(struct cwx_buf *b, const char *value, const char *what)
{
    int rc = cwx_buf_puts(b, "<div class=\"card\"><b>");
    if (!rc) rc = s_html(b, value);
    if (!rc) rc = cwx_buf_puts(b, "</b><span>");
    if (!rc) rc = s_html(b, what);
    if (!rc) rc = cwx_buf_puts(b, "</span></div>");
    return rc;
}

static int s_card_n(struct cwx_buf *b, uint64_t n, const char *what)
{
    char v[32];
    snprintf(v, sizeof v, "%" PRIu64, n);
    return s_card(b, v, what);
}

static int s_td_n(struct cwx_buf *b, uint64_t n)
{
    return cwx_buf_printf(b, "<td class=\"n\">%" PRIu64 "</td>", n);
}

static int s_td(struct cwx_buf *b, const char *s, bool num)
{
    int rc = cwx_buf_puts(b, num ? "<td class=\"n\">" : "<td>");
    if (!rc) rc = s_html(b, s);
    if (!rc) rc = cwx_buf_puts(b, "</td>");
    return rc;
}

static int s_lanes(const struct cwx_plan *plan, const struct cwx_estimate *est,
                   struct cwx_buf *b)
{
    int rc = cwx_buf_puts(b, "<h2>Lanes</h2>\n<p class=\"meta\">A lane runs one export at a "
                             "time; lanes run in parallel.</p>\n<div class=\"tw\"><table id=\"lanes\"><tr>"
                             "<th>lane</th><th>account id</th><th>jobs</th><th>pending</th>"
                             "<th>done</th><th>running</th><th>skipped</th><th>failed</th>"
                             "<th>est. bytes</th><th>rate</th><th>backfill</th>"
                             "<th title=\"CreateExportTask\">Create</th>"
                             "<th title=\"DescribeExportTasks\">Describe</th>"
                             "<th title=\"ListObjectsV2\">List</th>"
                             "<th title=\"PutObject\">Put</th></tr>\n");
    for (size_t i = 0; i < est->n_lanes && !rc; i++) {
        const struct cwx_estimate_lane *l = &est->lanes[i];
        const char *account_id = cwx__report_lane_account_id(plan, est, i);
        char name[256], lb[24], dur[24], bps[24], rate[96];
        cwx__report_lane_name(plan, l, name, sizeof name);
        cwx_estimate_format_bytes(cwx_estimate_bytes_shown(l->bytes, l->bytes_unknown), lb, sizeof lb);
        cwx_estimate_format_ms(l->backfill_ms, dur, sizeof dur);
        cwx_estimate_format_bytes((int64_t)l->rate.bytes_per_s, bps, sizeof bps);
        snprintf(rate, sizeof rate, "%s/s + %" PRId64 " s/task (%s)", bps,
                 l->rate.overhead_ms / 1000, l->rate.source ? l->rate.source : "default");
        rc = cwx_buf_puts(b, "<tr class=\"lane\">");
        if (!rc) rc = s_td(b, name, false);
        if (!rc) rc = s_td(b, account_id ? account_id : "unknown", false);
        if (!rc) rc = s_td_n(b, l->totals.jobs);
        if (!rc) rc = s_td_n(b, l->totals.pending);
        if (!rc) rc = s_td_n(b, l->totals.done);
        if (!rc) rc = s_td_n(b, l->totals.running);
        if (!rc) rc = s_td_n(b, l->totals.skipped);
        if (!rc) rc = s_td_n(b, l->totals.failed);
        if (!rc) rc = s_td(b, lb, true);
        if (!rc) rc = cwx_buf_puts(b, "<td class=\"rate\">");
        if (!rc) rc = s_html(b, rate);
        if (!rc) rc = cwx_buf_puts(b, "</td>");
        if (!rc) rc = s_td(b, dur, true);
        if (!rc) rc = s_td_n(b, l->calls.create);
        if (!rc) rc = s_td_n(b, l->calls.describe);
        if (!rc) rc = s_td_n(b, l->calls.list);
        if (!rc) rc = s_td_n(b, l->calls.put);
        if (!rc) rc = cwx_buf_puts(b, "</tr>\n");
    }
    if (!rc)
        rc = cwx_buf_puts(b, "</table></div>\n");
    return rc;
}

/* What skip_empty and coalesce save per lane: export tasks and projected
 * backfill time one task per window, without the windows that have no
 * events (skip_empty), and as planned (with coalesce). Each row carries
 * the figures in data-* attributes (tasks, and backfill in ms) as well. */
static int s_savings(const struct cwx_plan *plan, const struct cwx_estimate *est,
                     struct cwx_buf *b)
{
    static const char *const keys[3] = {"per-window", "skip-empty", "planned"};
    struct cwx_plan_savings *sv = cwx__report_savings(plan, est);
    if (!sv)
        return CWX_ENOMEM;
    int rc = cwx_buf_puts(b, "<h2>Fewest tasks</h2>\n<p class=\"meta\">Export tasks and "
                             "backfill time per lane: one task per window, without the windows "
                             "that have no events (skip_empty), and as planned (with "
                             "coalesce).</p>\n<div class=\"tw\"><table id=\"savings\"><tr>"
                             "<th>lane</th><th>tasks per window</th><th>backfill</th>"
                             "<th>tasks with skip_empty</th><th>backfill</th>"
                             "<th>tasks as planned</th><th>backfill</th></tr>\n");
    for (size_t i = 0; i < est->n_lanes && !rc; i++) {
        char name[256], d[24];
        cwx__report_lane_name(plan, &est->lanes[i], name, sizeof name);
        rc = cwx_buf_puts(b, "<tr class=\"saving\"");
        for (int k = 0; k < 3 && !rc; k++)
            rc = cwx_buf_printf(b, " data-tasks-%s=\"%" PRIu64 "\" data-ms-%s=\"%" PRId64 "\"",
                                keys[k], sv[i].tasks[k], keys[k], sv[i].backfill_ms[k]);
        if (!rc) rc = cwx_buf_putc(b, '>');
        if (!rc) rc = s_td(b, name, false);
        for (int k = 0; k < 3 && !rc; k++) {
            cwx_estimate_format_ms(sv[i].backfill_ms[k], d, sizeof d);
            rc = s_td_n(b, sv[i].tasks[k]);
            if (!rc) rc = s_td(b, d, true);
        }
        if (!rc) rc = cwx_buf_puts(b, "</tr>\n");
    }
    free(sv);
    return rc ? rc : cwx_buf_puts(b, "</table></div>\n");
}

/* The projected timeline: one bar per lane from the start of the run to
 * its projected end (its makespan), the likely range behind it, the
 * lane(s) that finish last (the long poles) in red. Plain HTML and CSS:
 * it shows without the script. */
static int s_timeline(const struct cwx_plan *plan, const struct cwx_estimate *est,
                      struct cwx_buf *b)
{
    int64_t span = 1;
    for (size_t i = 0; i < est->n_lanes; i++) {
        const struct cwx_estimate_lane *l = &est->lanes[i];
        int64_t hi = l->backfill_high_ms > l->backfill_ms ? l->backfill_high_ms : l->backfill_ms;
        if (hi > span)
            span = hi;
    }
    int rc = cwx_buf_printf(b, "<h2>Projected timeline</h2>\n<p class=\"meta\">When each lane "
                               "finishes, from the start of the run (bar: projected makespan; "
                               "band: its likely range; red: the lanes that finish last).</p>\n"
                               "<div id=\"timeline\" data-lanes=\"%zu\">\n", est->n_lanes);
    for (size_t i = 0; i < est->n_lanes && !rc; i++) {
        const struct cwx_estimate_lane *l = &est->lanes[i];
        char name[256], at[24], lo[24], hi[24];
        cwx__report_lane_name(plan, l, name, sizeof name);
        cwx_estimate_format_ms(l->backfill_ms, at, sizeof at);
        cwx_estimate_format_ms(l->backfill_low_ms, lo, sizeof lo);
        cwx_estimate_format_ms(l->backfill_high_ms, hi, sizeof hi);
        /* A long pole: within 10 % of the last lane to finish. */
        int pole = l->backfill_ms > 0 && l->backfill_ms * 10 >= est->wall_ms * 9;
        rc = cwx_buf_printf(b, "<div class=\"tl%s\" data-ms=\"%" PRId64 "\"><span class=\"nm\" "
                               "title=\"", pole ? " pole" : "", l->backfill_ms);
        if (!rc) rc = s_html(b, name);
        if (!rc) rc = cwx_buf_puts(b, "\">");
        if (!rc) rc = s_html(b, name);
        if (!rc)
            rc = cwx_buf_printf(b, "</span><span class=\"tr\"><span class=\"rg\" style=\"left:%.2f%%;"
                                   "width:%.2f%%\"></span><span class=\"br\" style=\"width:%.2f%%\">"
                                   "</span></span><span class=\"at\">",
                                100.0 * (double)l->backfill_low_ms / (double)span,
                                100.0 * (double)(l->backfill_high_ms - l->backfill_low_ms) /
                                    (double)span,
                                100.0 * (double)l->backfill_ms / (double)span);
        if (!rc) rc = l->totals.pending ? s_html(b, at) : cwx_buf_puts(b, "nothing to export");
        if (!rc && l->totals.pending) {
            rc = cwx_buf_puts(b, " (");
            if (!rc) rc = s_html(b, lo);
            if (!rc) rc = cwx_buf_puts(b, " to ");
            if (!rc) rc = s_html(b, hi);
            if (!rc) rc = cwx_buf_printf(b, ", %s)", l->rate.source ? l->rate.source : "default");
        }
        if (!rc) rc = cwx_buf_puts(b, "</span></div>\n");
    }
    if (!rc)
        rc = cwx_buf_puts(b, "</div>\n");
    return rc;
}

/* A table cell of text (cwx__report_cell_fn). */
static int s_td_text(struct cwx_buf *b, const char *s)
{
    return s_td(b, s, false);
}

static int s_unresolved(const struct cwx_plan *plan, struct cwx_buf *b)
{
    if (!plan->n_unresolved)
        return 0;
    int rc = cwx_buf_puts(b, "<h2>Unresolved selectors</h2>\n<p class=\"meta\">Resolved only "
                             "against AWS (DescribeLogGroups).</p>\n<div class=\"tw\"><table id=\"unresolved\">"
                             "<tr><th>account</th><th>region</th><th>kind</th><th>value</th></tr>\n");
    if (!rc)
        rc = cwx__report_unresolved_rows(plan, b, "<tr>", s_td_text, "</tr>\n");
    if (!rc)
        rc = cwx_buf_puts(b, "</table></div>\n");
    return rc;
}

/* The page's head (style and the error guard), its title and the totals
 * as cards. */
static int s_page_head(const struct cwx_plan *plan, const struct cwx_estimate *est,
                       const struct cwx_report_options *opts, struct cwx_buf *b)
{
    struct cwx__report_head h;
    cwx__report_head_fill(plan, est, &h);
    const struct cwx_estimate_calls *c = &est->calls;
    int rc = cwx_buf_puts(b, "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
                             "<meta name=\"viewport\" content=\"width=device-width\">"
                             "<title>cwexport plan</title>\n<style>");
    if (!rc) rc = cwx_buf_puts(b, s_css);
    if (!rc) rc = cwx_buf_puts(b, "</style>\n<script>");
    if (!rc) rc = cwx_buf_puts(b, s_js_guard);
    if (!rc) rc = cwx_buf_puts(b, "</script></head>\n<body data-rendered=\"0\" data-errors=\"0\">\n"
                                  "<h1>cwexport plan</h1>\n<p class=\"meta\">Generated ");
    if (!rc) rc = s_html(b, h.now);
    if (!rc) rc = cwx_buf_puts(b, opts->offline ? " offline (no AWS calls)" : " against AWS");
    if (!rc) rc = cwx_buf_puts(b, " from <code>");
    if (!rc) rc = s_html(b, plan->cfg->path);
    if (!rc) rc = cwx_buf_puts(b, "</code>.</p>\n<div id=\"errors\" hidden></div>\n"
                                  "<h2>Totals</h2>\n<div class=\"cards\" id=\"totals\">");
    if (!rc) rc = s_card_n(b, h.tot.jobs, "jobs");
    if (!rc) rc = s_card_n(b, h.tot.pending, "pending");
    if (!rc) rc = s_card_n(b, h.tot.done, "done");
    if (!rc) rc = s_card_n(b, h.tot.running, "running");
    if (!rc) rc = s_card_n(b, h.tot.skipped, "skipped");
    if (!rc) rc = s_card_n(b, h.tot.failed, "failed");
    if (!rc) rc = s_card_n(b, plan->n_unresolved, "unresolved selectors");
    if (!rc) rc = s_card(b, h.bytes, est->bytes_unknown && est->bytes ? "to export (+ unknown sizes)" : "to export");
    if (!rc) rc = s_card(b, h.wall, "backfill, lanes in parallel");
    if (!rc) rc = s_card(b, h.serial, "export time, all lanes");
    if (!rc) rc = s_card_n(b, c->create + c->describe + c->list + c->put, "AWS calls");
    if (!rc) rc = cwx_buf_printf(b, "</div>\n<p class=\"meta\">AWS calls a run would make: "
                                    "%" PRIu64 " CreateExportTask, %" PRIu64
                                    " DescribeExportTasks, %" PRIu64 " ListObjectsV2, %" PRIu64
                                    " PutObject.</p>\n",
                                 c->create, c->describe, c->list, c->put);
    return rc;
}

int cwx__report_write_html(const struct cwx_plan *plan, const struct cwx_estimate *est,
                           const struct cwx_report_options *opts, FILE *f)
{
    struct cwx_buf b;
    cwx_buf_init(&b, 0);
    int rc = s_page_head(plan, est, opts, &b);
    if (!rc) rc = s_lanes(plan, est, &b);
    if (!rc) rc = s_timeline(plan, est, &b);
    if (!rc) rc = s_savings(plan, est, &b);
    if (!rc) rc = s_unresolved(plan, &b);
    if (!rc)
        rc = cwx_buf_puts(&b, "<h2>Heatmap</h2>\n<div class=\"controls\">"
                              "<input id=\"filter\" type=\"search\" placeholder=\"filter log groups\">"
                              "<select id=\"only\"><option value=\"\">all groups</option>"
                              "<option value=\"0\">with pending windows</option>"
                              "<option value=\"1\">with done windows</option>"
                              "<option value=\"2\">with running windows</option>"
                              "<option value=\"4\">with failed windows</option></select>"
                              "<span class=\"legend\"><i style=\"background:#f2c94c\"></i>pending"
                              "<i style=\"background:#27ae60\"></i>done"
                              "<i style=\"background:#2d9cdb\"></i>running"
                              "<i style=\"background:#d5d5d5\"></i>skipped"
                              "<i style=\"background:#eb5757\"></i>failed</span></div>\n"
                              "<div id=\"hm-wrap\"><canvas id=\"hm\" role=\"img\" "
                              "aria-label=\"log groups by window, coloured by status\"></canvas>"
                              "<div id=\"hm-spacer\"></div></div>\n<div id=\"tip\"></div>\n"
                              "<script id=\"plan-data\" type=\"application/json\">");
    if (!rc) rc = s_blob(plan, &b, f);
    if (!rc) rc = cwx_buf_puts(&b, "</script>\n<script>");
    if (!rc) rc = cwx_buf_puts(&b, s_js_main);
    if (!rc) rc = cwx_buf_puts(&b, "</script>\n</body></html>\n");
    if (!rc) rc = cwx__report_flush(&b, f, 0);
    cwx_buf_free(&b);
    return rc;
}
