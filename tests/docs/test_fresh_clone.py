"""A clone of HEAD in an empty temporary directory, with nothing beside it,
configures, builds the SigV4 tests and passes them: the test data the suite
needs is in the repository."""
import os
import shutil
import subprocess
import tempfile

import pytest

from repo import ROOT, is_git_checkout


@pytest.mark.skipif(not is_git_checkout(), reason="not a git checkout")
def test_fresh_clone_builds_and_passes_the_sigv4_suite():
    top = tempfile.mkdtemp(prefix="cwexport-clone-")
    try:
        src = os.path.join(top, "cwexport")
        subprocess.run(["git", "clone", "-q", "--no-hardlinks", str(ROOT), src], check=True)
        assert os.listdir(top) == ["cwexport"]        # nothing beside the clone
        build = os.path.join(src, "build")
        env = dict(os.environ)
        env.pop("CWX_SOURCE_DIR", None)
        subprocess.run(["cmake", "-S", src, "-B", build, "-DCMAKE_BUILD_TYPE=Debug"],
                       check=True, env=env, stdout=subprocess.DEVNULL)
        subprocess.run(["cmake", "--build", build, "--target", "test_sigv4",
                        "-j%d" % (os.cpu_count() or 1)], check=True, env=env,
                       stdout=subprocess.DEVNULL)
        r = subprocess.run(["ctest", "--test-dir", build, "-R", r"^test_sigv4\.",
                            "--output-on-failure"], env=env, capture_output=True, text=True)
        assert r.returncode == 0, r.stdout + r.stderr
        assert "100% tests passed" in r.stdout
        ran = [l for l in r.stdout.splitlines() if "Passed" in l]
        assert len(ran) >= 77, "expected every SigV4 case to run, ran %d" % len(ran)
    finally:
        shutil.rmtree(top, ignore_errors=True)
