"""The repository's files, as git tracks them (or every file below the root
when the tree is not a git checkout)."""
import os
import pathlib
import subprocess

ROOT = pathlib.Path(__file__).resolve().parents[2]


def is_git_checkout():
    return (ROOT / ".git").exists()


def tracked_files():
    """Paths relative to ROOT of every file the repository holds."""
    if is_git_checkout():
        out = subprocess.run(["git", "-C", str(ROOT), "ls-files", "-z"], check=True,
                             capture_output=True).stdout
        return [p for p in out.decode().split("\0") if p and (ROOT / p).is_file()]
    files = []
    for top, dirs, names in os.walk(ROOT):
        dirs[:] = [d for d in dirs if not d.startswith(("build", ".")) and d != "node_modules"]
        files += [os.path.relpath(os.path.join(top, n), ROOT) for n in names]
    return files


def read_text(rel):
    """The file's text, or None for a binary file."""
    data = (ROOT / rel).read_bytes()
    if b"\0" in data:
        return None
    return data.decode("utf-8", "replace")
