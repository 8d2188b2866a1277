"""`cwexport whoami` against the fake AWS: identities, sources, no secrets."""
import pytest

from fixture import DEMO_KEY, FakeAWS, demo_seed


@pytest.fixture(scope="module")
def fake(tmp_path_factory):
    with FakeAWS(seed=demo_seed(), tmp_dir=tmp_path_factory.mktemp("fake")) as f:
        yield f


def test_each_account_of_the_demo_config(cwx, fake):
    proc = cwx("whoami", "-c", "configs/demo.yaml", env=fake.env(), check=0)
    out = proc.stdout
    assert "demo-main\n  credentials: environment\n" in out
    assert "  account:     111111111111\n" in out
    assert "demo-second\n  credentials: assume-role <- environment\n" in out
    assert "assumed-role/cwexport-demo/" in out
    assert f"  logs         {fake.url}" in out
    assert "(path-style)" in out
    assert DEMO_KEY["secret"] not in out + proc.stderr


def test_default_chain_with_region_from_environment(cwx, fake):
    proc = cwx("whoami", env=fake.env(region="eu-west-1"), check=0)
    assert "region:      eu-west-1 (AWS_REGION)" in proc.stdout
    assert "account:     111111111111" in proc.stdout


def test_wrong_secret_is_a_credential_error(cwx, fake):
    env = fake.env()
    env["AWS_SECRET_ACCESS_KEY"] = "not-the-secret-" + "x" * 25
    proc = cwx("whoami", env=env, check=3)
    assert "identity:    ERROR SignatureDoesNotMatch" in proc.stdout
    assert env["AWS_SECRET_ACCESS_KEY"] not in proc.stdout + proc.stderr


def test_account_id_mismatch(cwx, fake, tmp_path, root):
    text = (root / "configs" / "demo.yaml").read_text().replace('account_id: "111111111111"',
                                                    'account_id: "999999999999"')
    cfg = tmp_path / "c.yaml"
    cfg.write_text(text)
    proc = cwx("whoami", "-c", str(cfg), env=fake.env(), check=3)
    assert "the config says account_id 999999999999" in proc.stdout


def test_no_credentials(cwx, fake):
    env = {"AWS_ENDPOINT_URL": fake.url, "AWS_REGION": "us-east-1"}
    proc = cwx("whoami", env=env, check=3)
    assert "identity:    ERROR" in proc.stdout


def test_help(cwx):
    assert cwx("whoami", "--help", check=0).stdout.startswith("usage: cwexport whoami")
