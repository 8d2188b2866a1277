"""Every citation `docs/architecture.md §<section>` or `docs/contributing.md §<section>`
in the repository names a section that exists: the section is a heading of that
file in lower case, with spaces written as dashes."""
import re

from repo import ROOT, read_text, tracked_files

DOCS = ("architecture", "contributing")
# "architecture.md §<a>, §<b>" and the same broken over comment lines (" * ").
CITATION = re.compile(r"\b(architecture|contributing)\.md((?:[\s*]*§[A-Za-z0-9-]+,?)+)")
SECTION = re.compile(r"§([A-Za-z0-9-]+)")


def slug(heading):
    s = heading.strip().lower()
    s = re.sub(r"[^a-z0-9 -]", "", s)
    return re.sub(r" +", "-", s.strip())


def anchors(doc):
    text = (ROOT / "docs" / (doc + ".md")).read_text()
    return {slug(m.group(1)) for m in re.finditer(r"^#+ (.+)$", text, re.M)}


def citations():
    for rel in tracked_files():
        text = read_text(rel)
        if text is None:
            continue
        for m in CITATION.finditer(text):
            line = text.count("\n", 0, m.start()) + 1
            for name in SECTION.findall(m.group(2)):
                yield rel, line, m.group(1), name


def test_the_two_documents_exist_with_the_core_sections():
    have = anchors("architecture")
    for name in ("layers", "window", "job", "task-name", "marker", "token", "slot-busy",
                 "adoption", "polling", "loop-guard", "signals", "exit-codes"):
        assert name in have, name
    assert {"naming", "error-handling", "ownership-and-cleanup", "tests"} <= anchors("contributing")


def test_every_citation_resolves():
    known = {doc: anchors(doc) for doc in DOCS}
    found = list(citations())
    assert len(found) >= 20, "expected the code to cite the docs; found %d" % len(found)
    bad = ["%s:%d: docs/%s.md §%s" % (rel, line, doc, name)
           for rel, line, doc, name in found if name not in known[doc]]
    assert not bad, "citations of sections that do not exist:\n" + "\n".join(bad)


def test_slugs_follow_the_rule():
    assert slug("Slot busy") == "slot-busy"
    assert slug("libcurl multi on libuv") == "libcurl-multi-on-libuv"
    assert slug("Exit codes") == "exit-codes"
