"""The repository stands on its own: nothing in it reads a folder beside it,
and no file cites design notes that are not part of it."""
import re

from repo import read_text, tracked_files

# Spelled in pieces so that this file does not match itself.
SIBLING = re.compile(r"\.\./" + "shared")
OUTSIDE_DOCS = re.compile(r"\b(?:" + "DESIGN" + r"|" + "STYLE" + r")\.md\b")


def test_no_file_but_markdown_refers_to_a_sibling_shared_folder():
    offenders = []
    for rel in tracked_files():
        if rel.endswith(".md"):
            continue
        text = read_text(rel)
        if text is None:
            continue
        for n, line in enumerate(text.splitlines(), 1):
            if SIBLING.search(line):
                offenders.append("%s:%d: %s" % (rel, n, line.strip()))
    assert not offenders, "files refer to a folder outside the repository:\n" + \
        "\n".join(offenders)


def test_no_file_cites_design_notes_outside_the_repository():
    offenders = []
    for rel in tracked_files():
        text = read_text(rel)
        if text is None:
            continue
        for n, line in enumerate(text.splitlines(), 1):
            if OUTSIDE_DOCS.search(line):
                offenders.append("%s:%d: %s" % (rel, n, line.strip()))
    assert not offenders, ("cite docs/architecture.md or docs/contributing.md instead:\n"
                           + "\n".join(offenders))


def test_sigv4_vectors_are_in_the_repository_with_their_notice():
    files = set(tracked_files())
    assert "tests/data/sigv4/NOTICE" in files
    assert "tests/data/sigv4/LICENSE" in files
    cases = {p.split("/")[4] for p in files if p.startswith("tests/data/sigv4/v4/")}
    assert len(cases) == 38, sorted(cases)
