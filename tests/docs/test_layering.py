"""The include graph of the product code follows docs/architecture.md
§layers: an `#include "folder/file.h"` may point at the folder's own files
or at a folder below it, never up a layer, and never into another folder's
private `*_internal.h`. A folder listed in PUBLIC is entered only through
its public headers (docs/contributing.md, "Headers and files"). A failure prints
each offending line."""
import re

from repo import read_text, tracked_files

# Each folder and the folders it may include (besides itself).
ALLOWED = {
    "common": set(),
    "aws": {"common"},
    "planner": {"common"},
    "workers": {"aws", "planner", "common"},
    "orchestrator": {"workers", "aws", "planner", "common"},
    "preflight": {"orchestrator", "workers", "aws", "planner", "common"},
    "cli": {"preflight", "orchestrator", "workers", "aws", "planner", "common"},
}
# Folders entered only through their public headers: aws/ and planner/ have
# one each, common/ declares each of its headers public (a header per helper).
PUBLIC = {
    "aws": {"aws/aws.h"},
    "common": None,  # every common/*.h that is not *_internal.h
    "planner": {"planner/planner.h"},
    "workers": {"workers/workers.h"},
    "orchestrator": {"orchestrator/orchestrator.h"},
}
INCLUDE = re.compile(r'^\s*#\s*include\s+"([^"]+)"', re.M)


def product_sources():
    for rel in tracked_files():
        top = rel.split("/", 1)[0]
        if top in ALLOWED and rel.endswith((".c", ".h")):
            yield top, rel


def offending_includes():
    bad = []
    for folder, rel in product_sources():
        text = read_text(rel)
        for m in INCLUDE.finditer(text):
            target = m.group(1)
            line = text.count("\n", 0, m.start()) + 1
            where = "%s:%d: #include \"%s\"" % (rel, line, target)
            if "/" not in target:
                bad.append(where + " (name the folder: \"<folder>/<file>.h\")")
                continue
            dest = target.split("/", 1)[0]
            if dest == folder:
                continue
            if dest not in ALLOWED:
                bad.append(where + " (not a product folder)")
            elif dest not in ALLOWED[folder]:
                bad.append(where + " (%s may not include %s: up or across a layer)"
                           % (folder, dest))
            elif target.endswith("_internal.h"):
                bad.append(where + " (private header of %s)" % dest)
            elif PUBLIC.get(dest) and target not in PUBLIC[dest]:
                bad.append(where + " (not a public header of %s: include %s)"
                           % (dest, " or ".join(sorted(PUBLIC[dest]))))
    return bad


def test_includes_follow_the_layers():
    bad = offending_includes()
    assert not bad, "includes against docs/architecture.md §layers:\n" + "\n".join(bad)


def test_the_check_sees_the_product_code():
    folders = {folder for folder, _ in product_sources()}
    assert folders == set(ALLOWED), folders


def test_a_private_header_is_reported_with_its_line(monkeypatch):
    import test_layering as me
    files = {"orchestrator/x.c": '#include "common/log.h"\n#include "aws/logs.h"\n'}
    monkeypatch.setattr(me, "tracked_files", lambda: list(files))
    monkeypatch.setattr(me, "read_text", lambda rel: files[rel])
    bad = me.offending_includes()
    assert bad == ['orchestrator/x.c:2: #include "aws/logs.h" '
                   '(not a public header of aws: include aws/aws.h)'], bad


def test_planner_is_entered_through_its_public_header(monkeypatch):
    import test_layering as me
    files = {"workers/x.c": '#include "planner/planner.h"\n#include "planner/plan.h"\n'}
    monkeypatch.setattr(me, "tracked_files", lambda: list(files))
    monkeypatch.setattr(me, "read_text", lambda rel: files[rel])
    bad = me.offending_includes()
    assert bad == ['workers/x.c:2: #include "planner/plan.h" '
                   '(not a public header of planner: include planner/planner.h)'], bad


def test_cjson_is_included_one_way():
    bad = []
    for _, rel in product_sources():
        text = read_text(rel)
        for m in re.finditer(r'^\s*#\s*include\s+[<"]cJSON\.h[>"]', text, re.M):
            line = text.count("\n", 0, m.start()) + 1
            bad.append("%s:%d: %s (include <cjson/cJSON.h>)" % (rel, line, m.group(0).strip()))
    assert not bad, "\n".join(bad)
