"""The Debian package: CPack builds the .deb from this build, `dpkg-deb -x` puts it in a
temporary root, and the installed files are checked where Debian expects them: the binary
runs (--version, validate on the installed examples), the man page lints clean, the
completions load, the systemd units are hardened and pass `systemd-analyze verify`."""
import os
import re
import shutil
import subprocess

import pytest

BUILD = os.environ.get("CWX_BUILD_DIR")
pytestmark = pytest.mark.skipif(not BUILD or not shutil.which("cpack") or not shutil.which("dpkg-deb"),
                                reason="needs CWX_BUILD_DIR, cpack and dpkg-deb")


def sh(*args, **kw):
    p = subprocess.run([str(a) for a in args], capture_output=True, text=True, timeout=300, **kw)
    assert p.returncode == 0, "%s: %s%s" % (" ".join(map(str, args)), p.stdout, p.stderr)
    return p


@pytest.fixture(scope="module")
def package(tmp_path_factory):
    out = tmp_path_factory.mktemp("deb")
    sh("cpack", "-G", "DEB", "--config", os.path.join(BUILD, "CPackConfig.cmake"), "-B", out)
    debs = sorted(out.glob("cwexport_*.deb"))
    assert len(debs) == 1, list(out.iterdir())
    root = out / "root"
    sh("dpkg-deb", "-x", debs[0], root)
    return debs[0], root


def test_control_fields(package):
    deb, root = package
    info = sh("dpkg-deb", "-f", deb, "Package", "Version", "Architecture", "Depends").stdout
    assert "Package: cwexport" in info
    version = re.search(r"^Version: (\S+)", info, re.M).group(1)
    assert version in sh(root / "usr/bin/cwexport", "--version").stdout
    for lib in ("libcurl", "libuv1", "libyaml", "libcjson", "libexpat", "libssl"):
        assert lib in info, info  # found by dpkg-shlibdeps


def test_files_in_their_conventional_places(package):
    _, root = package
    for rel in ("usr/bin/cwexport",
                "usr/share/man/man1/cwexport.1",
                "usr/share/bash-completion/completions/cwexport",
                "usr/share/zsh/vendor-completions/_cwexport",
                "usr/share/doc/cwexport/examples/nightly.yaml",
                "usr/share/doc/cwexport/examples/backfill.yaml",
                "usr/share/doc/cwexport/examples/demo.yaml",
                "usr/share/doc/cwexport/config-reference.md",
                "usr/lib/systemd/system/cwexport-nightly.service",
                "usr/lib/systemd/system/cwexport-nightly.timer"):
        assert (root / rel).is_file(), rel
    assert os.access(root / "usr/bin/cwexport", os.X_OK)
    # nothing from the build or the tests rides along
    names = [str(p.relative_to(root)) for p in root.rglob("*") if p.is_file()]
    assert not [n for n in names if "test" in n or "bench" in n or "fake" in n], names


def test_installed_binary_validates_the_installed_examples(package):
    _, root = package
    exe = root / "usr/bin/cwexport"
    for name in ("nightly.yaml", "backfill.yaml", "demo.yaml"):
        p = subprocess.run([exe, "validate", "-c", root / "usr/share/doc/cwexport/examples" / name],
                           capture_output=True, text=True, timeout=60)
        assert p.returncode == 0, (name, p.stdout, p.stderr)


def test_man_page_lints_clean_and_covers_the_commands(package):
    _, root = package
    page = root / "usr/share/man/man1/cwexport.1"
    if shutil.which("mandoc"):
        p = subprocess.run(["mandoc", "-T", "lint", "-W", "warning", page], capture_output=True, text=True)
    else:
        p = subprocess.run(["groff", "-ww", "-man", "-z", page], capture_output=True, text=True)
    assert p.returncode == 0 and not (p.stdout + p.stderr).strip(), p.stdout + p.stderr
    text = page.read_text()
    version = sh(root / "usr/bin/cwexport", "--version").stdout.split()[-1]
    assert '"cwexport %s"' % version in text
    help_text = sh(root / "usr/bin/cwexport", "--help").stdout
    commands = re.findall(r"^  ([a-z-]+)\s{2,}", help_text.split("commands:")[1].split("global options:")[0], re.M)
    assert len(commands) >= 8
    for c in commands:
        assert "\n.B %s\n" % c.replace("-", "\\-") in text, c
    for section in ("EXIT STATUS", "ENVIRONMENT", "FILES"):
        assert ".SH %s" % section in text
    for code in ("0", "1", "2", "3", "4", "130"):
        assert "\n.B %s\n" % code in text


def test_completions_load(package):
    _, root = package
    p = subprocess.run(["bash", "-c", "source %s && complete -p cwexport"
                        % (root / "usr/share/bash-completion/completions/cwexport")],
                       capture_output=True, text=True)
    assert p.returncode == 0 and "_cwexport" in p.stdout, p.stderr
    zsh = (root / "usr/share/zsh/vendor-completions/_cwexport").read_text()
    assert zsh.startswith("#compdef cwexport")


def test_systemd_units_are_hardened_and_verify(package, tmp_path):
    _, root = package
    unit_dir = root / "usr/lib/systemd/system"
    service = (unit_dir / "cwexport-nightly.service").read_text()
    assert "ExecStart=/usr/bin/cwexport " in service
    for line in ("DynamicUser=yes", "ProtectSystem=strict", "NoNewPrivileges=yes", "ProtectHome=yes",
                 "PrivateTmp=yes", "CapabilityBoundingSet=", "SystemCallFilter=@system-service",
                 "RestrictAddressFamilies=AF_INET AF_INET6 AF_UNIX"):
        assert "\n%s\n" % line in service, line
    if not shutil.which("systemd-analyze"):
        pytest.skip("systemd-analyze not installed")
    # verify checks that ExecStart exists: point it at the extracted binary.
    (tmp_path / "cwexport-nightly.service").write_text(
        service.replace("/usr/bin/cwexport", str(root / "usr/bin/cwexport")))
    shutil.copy(unit_dir / "cwexport-nightly.timer", tmp_path)
    p = subprocess.run(["systemd-analyze", "verify", "--man=no", tmp_path / "cwexport-nightly.service",
                        tmp_path / "cwexport-nightly.timer"], capture_output=True, text=True, timeout=120)
    assert p.returncode == 0, p.stdout + p.stderr
    sec = subprocess.run(["systemd-analyze", "security", "--offline=yes", unit_dir / "cwexport-nightly.service"],
                         capture_output=True, text=True, timeout=120)
    m = re.search(r"Overall exposure level for \S+: ([0-9.]+)", sec.stdout + sec.stderr)
    if m:
        print("systemd-analyze security exposure: %s" % m.group(1))
        assert float(m.group(1)) < 2.0, sec.stdout
