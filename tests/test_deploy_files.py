"""The deployment files (deploy/) agree with the settings and with each other: every variable the
settings read is in the example environment file, which boots the production settings cleanly; the
systemd units point where nginx and the README say; exactly one beat."""

import re
import subprocess

from .servers import BIN, ROOT, required_program

DEPLOY = ROOT / "deploy"
ENV_EXAMPLE = DEPLOY / "crm.env.example"
UNITS = {path.name: path.read_text(encoding="utf-8") for path in (DEPLOY / "systemd").glob("*.service")}
NGINX = (DEPLOY / "nginx" / "crm.conf").read_text(encoding="utf-8")
# env("X"), env.int("X", ...), env.db("X"), env.email_url("X"), os.environ.get("X")
READ = re.compile(r"""\benv(?:\.\w+)?\(\s*["']([A-Z][A-Z0-9_]+)["']|environ\.get\(\s*["']([A-Z][A-Z0-9_]+)["']""")


def settings_variables() -> set[str]:
    names = set()
    for path in (ROOT / "crm" / "settings").glob("*.py"):
        for match in READ.finditer(path.read_text(encoding="utf-8")):
            names.add(match[1] or match[2])
    return names


def example_values() -> dict[str, str]:
    """The example's variables, set ones and commented-out defaults alike."""
    values = {}
    for line in ENV_EXAMPLE.read_text(encoding="utf-8").splitlines():
        match = re.match(r"^#?\s?([A-Z][A-Z0-9_]+)=(\S*)", line)
        if match:
            values[match[1]] = match[2]
    return values


def test_the_example_environment_names_every_variable_the_settings_read():
    read = settings_variables()
    assert {"SECRET_KEY", "DATABASE_URL", "EMAIL_URL", "CRM_TRUSTED_PROXY_COUNT"} <= read  # the pattern works
    missing = read - set(example_values())
    assert not missing, f"add these to deploy/crm.env.example: {sorted(missing)}"


def test_the_example_environment_starts_the_production_settings_without_a_deployment_warning():
    env = {
        line.split("=", 1)[0]: line.split("=", 1)[1]
        for line in ENV_EXAMPLE.read_text(encoding="utf-8").splitlines()
        if line and not line.startswith("#")
    }
    refused = subprocess.run(  # noqa: S603 (our own arguments)
        [str(BIN / "python"), "manage.py", "check"], cwd=ROOT, env=env, capture_output=True, text=True
    )
    assert refused.returncode != 0 and "SECRET_KEY" in refused.stderr  # left empty on purpose

    env["SECRET_KEY"] = "x" * 20 + "-an-example-key-long-enough-for-the-production-settings"
    checked = subprocess.run(  # noqa: S603 (our own arguments)
        [str(BIN / "python"), "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
    )
    assert checked.returncode == 0, checked.stdout + checked.stderr


def test_the_units_run_what_nginx_and_the_example_expect():
    assert set(UNITS) == {"crm-web.service", "crm-worker.service", "crm-beat.service"}
    values = example_values()
    upstream = re.search(r"upstream crm_app \{\s*(?:#[^\n]*\n\s*)*server ([\d.:]+)", NGINX)[1]
    assert f"--bind {upstream}" in UNITS["crm-web.service"]
    gunicorn_timeout = int(re.search(r"--timeout (\d+)", UNITS["crm-web.service"])[1])
    assert gunicorn_timeout < int(re.search(r"proxy_read_timeout (\d+)s;", NGINX)[1])
    assert f"alias {values['STATIC_ROOT']}/;" in NGINX
    for name, text in UNITS.items():
        assert "EnvironmentFile=/etc/crm/crm.env" in text, name
        assert "ExecStart=/srv/crm/venv/bin/" in text, name
        if name != "crm-beat.service":
            assert f"ReadWritePaths={values['MEDIA_ROOT']}" in text, name
    # Exactly one scheduler: the beat unit; no worker embeds one.
    assert exec_start("crm-beat.service").startswith("/srv/crm/venv/bin/celery -A crm beat ")
    assert exec_start("crm-worker.service").startswith("/srv/crm/venv/bin/celery -A crm worker ")
    assert "--beat" not in exec_start("crm-worker.service") and " -B" not in exec_start("crm-worker.service")


def exec_start(unit: str) -> str:
    """The unit's command line, continuation lines joined."""
    text = UNITS[unit].replace("\\\n", " ")
    return " ".join(re.search(r"^ExecStart=(.*)$", text, re.MULTILINE)[1].split())


def test_systemd_accepts_the_units(tmp_path):
    analyze = required_program("systemd-analyze", "apt-get install systemd")
    for name, text in UNITS.items():
        (tmp_path / name).write_text(text, encoding="utf-8")
    result = subprocess.run(  # noqa: S603 (our own arguments)
        [analyze, "verify", *sorted(str(p) for p in tmp_path.glob("*.service"))], capture_output=True, text=True
    )
    # The programs live in /srv/crm/venv on a server, not here: that is the only complaint allowed.
    problems = [
        line
        for line in (result.stdout + result.stderr).splitlines()
        if line.strip() and "is not executable: No such file or directory" not in line
    ]
    assert not problems, problems
