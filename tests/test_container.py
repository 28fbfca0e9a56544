"""The container recipe, tested without a Docker engine.

The Dockerfile's RUN and CMD lines run in a fresh venv (the files it COPYs are
copied by the .dockerignore rules), compose.yaml is checked against the
services and files it names, and the sample service runs as compose runs it.
What only Docker can show (the base image, USER nobody, compose's networking
and start order) is not run here: see README, "Deploying".
"""

from __future__ import annotations

import fnmatch
import json
import os
import re
import shlex
import shutil
import site
import subprocess
import sys
import sysconfig
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import yaml

from codezest_db import migrate, schema

from .pgcluster import free_port

REPO = Path(__file__).resolve().parent.parent


def instructions(dockerfile: Path) -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) pairs, continuation lines joined, comments dropped."""
    logical, pending = [], ""
    for line in dockerfile.read_text().splitlines():
        if line.strip().startswith("#") or not line.strip():
            continue
        pending += line.rstrip()
        if pending.endswith("\\"):
            pending = pending[:-1] + " "
            continue
        logical.append(pending)
        pending = ""
    return [(text.split(None, 1)[0].upper(), text.split(None, 1)[1]) for text in logical]


def ignored(relative: str, patterns: list[str]) -> bool:
    parts = relative.split("/")
    prefixes = ["/".join(parts[: i + 1]) for i in range(len(parts))]
    for pattern in patterns:
        bare = pattern.removeprefix("**/")
        for prefix in prefixes:
            if fnmatch.fnmatch(prefix, pattern) or (
                pattern.startswith("**/") and fnmatch.fnmatch(prefix.split("/")[-1], bare)
            ):
                return True
    return False


def docker_context(destination: Path) -> Path:
    """Copy the build context as `COPY . /src` would, .dockerignore applied."""
    patterns = [
        line.strip()
        for line in (REPO / ".dockerignore").read_text().splitlines()
        if line.strip() and not line.startswith("#")
    ]
    for path in sorted(REPO.rglob("*")):
        relative = path.relative_to(REPO).as_posix()
        if path.is_file() and not ignored(relative, patterns):
            target = destination / relative
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(path, target)
    return destination


def test_dockerignore_keeps_secrets_and_clutter_out() -> None:
    patterns = [
        line.strip()
        for line in (REPO / ".dockerignore").read_text().splitlines()
        if line.strip() and not line.startswith("#")
    ]
    for path in (".env", "sub/.env", ".venv/bin/python", ".git/HEAD", "x/__pycache__/a.pyc"):
        assert ignored(path, patterns), path
    for path in ("pyproject.toml", "README.md", "db/migrations/x.sql", "queries/auth.sql"):
        assert not ignored(path, patterns), path


def test_the_dockerfile_installs_and_migrates_in_a_fresh_venv(
    tmp_path: Path, fresh_url: str
) -> None:
    steps = instructions(REPO / "Dockerfile")
    kinds = [kind for kind, _ in steps]
    assert kinds[0] == "FROM" and steps[0][1].startswith("python:3.1")
    assert ("COPY", ". /src") in steps
    cmd = json.loads(dict(steps)["CMD"])
    assert cmd == ["codezest-db", "migrate", "--wait"]

    src, app, venv = tmp_path / "src", tmp_path / "app", tmp_path / "venv"
    docker_context(src)
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    # Tests reach no network: pip may not download. The dependencies (and the
    # build backend) are borrowed from this environment through a .pth path, so
    # the RUN line installs codezest-db itself, regularly, from the copied sources.
    purelib = Path(sysconfig.get_path("purelib", vars={"base": str(venv), "platbase": str(venv)}))
    (purelib / "borrowed.pth").write_text("\n".join(site.getsitepackages()) + "\n")
    (venv / "bin" / "dbmate").symlink_to(Path(migrate.dbmate_binary()))
    # PYTHONPATH (a checkout first on the path) would shadow the regular install checked below.
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in ("DATABASE_URL", "VIRTUAL_ENV", "PYTHONPATH")
    }
    env["PATH"] = f"{venv / 'bin'}{os.pathsep}{env.get('PATH', '')}"
    env["PIP_NO_INDEX"] = "1"
    env["PIP_NO_BUILD_ISOLATION"] = "0"  # pip's inverted switch: 0 turns isolation off
    for kind, arguments in steps:
        if kind == "ENV":
            env.update(dict(pair.split("=", 1) for pair in shlex.split(arguments)))
        elif kind == "RUN":
            command = arguments.replace("/src", str(src)).replace("/app", str(app))
            done = subprocess.run(
                ["bash", "-c", command], env=env, capture_output=True, text=True, timeout=900
            )
            assert done.returncode == 0, done.stderr[-2000:]
    assert not src.exists()  # the image keeps the install, not the sources
    installed = subprocess.run(
        [
            str(venv / "bin" / "python"),
            "-c",
            "import codezest_db, sys; print(codezest_db.__file__)",
        ],
        env=env,
        cwd=app,
        capture_output=True,
        text=True,
        check=True,
    )
    assert str(venv) in installed.stdout  # a regular install, not this checkout

    job = subprocess.run(
        cmd, env={**env, "DATABASE_URL": fresh_url}, cwd=app, capture_output=True, text=True
    )
    assert job.returncode == 0, job.stderr
    assert migrate.applied(fresh_url) == schema.package_versions()
    again = subprocess.run(
        cmd, env={**env, "DATABASE_URL": fresh_url}, cwd=app, capture_output=True, text=True
    )
    assert again.returncode == 0 and again.stdout.strip() == "nothing to apply", again.stderr
    # An installed package has no checkout to write a migration into: one clear line.
    new = subprocess.run(
        ["codezest-db", "new", "add_streaks"], env=env, cwd=app, capture_output=True, text=True
    )
    assert new.returncode == 1
    assert new.stderr.strip().splitlines() == [
        "codezest-db new: codezest-db is installed from a wheel: create migrations in a "
        "checkout installed with `pip install -e .`"
    ]


def _resolve(value: str) -> str:
    """Compose's ${VAR:-default} interpolation, with nothing set."""
    return re.sub(r"\$\{[A-Z_]+:-([^}]*)\}", r"\1", value)


def test_compose_file_names_what_exists() -> None:
    compose: dict[str, Any] = yaml.safe_load((REPO / "compose.yaml").read_text())
    services = compose["services"]
    assert set(services) == {"db", "migrate", "service"}
    for name, service in services.items():
        for needed in service.get("depends_on", {}):
            assert needed in services, (name, needed)
        if "build" in service:
            assert (REPO / service["build"] / "Dockerfile").is_file()

    db = services["db"]
    assert re.fullmatch(r"postgres:1[5-9]", db["image"])
    user, database = db["environment"]["POSTGRES_USER"], db["environment"]["POSTGRES_DB"]
    password = _resolve(db["environment"]["POSTGRES_PASSWORD"])
    for name in ("migrate", "service"):
        url = _resolve(services[name]["environment"]["DATABASE_URL"])
        # Reached by the db service's name, with its credentials: no sslmode needed.
        assert url == f"postgresql://{user}:{password}@db:5432/{database}", name

    job = services["migrate"]
    assert "command" not in job  # the image's CMD: codezest-db migrate --wait
    assert job["depends_on"]["db"]["condition"] == "service_started"
    assert job["restart"] == "no"

    app = services["service"]
    assert app["depends_on"]["migrate"]["condition"] == "service_completed_successfully"
    script = app["command"][-1]
    assert script == "/app/examples/service.py"
    assert "cp -r /src/examples /app/examples" in (REPO / "Dockerfile").read_text()
    assert (REPO / "examples" / "service.py").is_file()
    port = app["environment"]["PORT"]
    assert f"127.0.0.1:{port}:{port}" in app["ports"]
    assert f"http://127.0.0.1:{port}/healthz" in " ".join(app["healthcheck"]["test"])


def _health(port: int) -> tuple[int, dict[str, Any]]:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=10) as answer:
            return answer.status, json.loads(answer.read())
    except urllib.error.HTTPError as failed:
        return failed.code, json.loads(failed.read())


def _start_service(url: str, port: int) -> subprocess.Popen[str]:
    env = {**os.environ, "DATABASE_URL": url, "HOST": "127.0.0.1", "PORT": str(port)}
    return subprocess.Popen(
        [sys.executable, str(REPO / "examples" / "service.py")],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def test_the_sample_service_starts_only_on_a_current_schema(empty_database_url: str) -> None:
    url = empty_database_url
    migrate.up(url)
    port = free_port()
    service = _start_service(url, port)
    try:
        assert service.stdout is not None
        assert "serving" in service.stdout.readline()  # blocks until it listens (or exits)
        assert _health(port) == (200, {"status": "ok", "codezest_db": schema.__version__})
        migrate.rollback(url)  # the schema falls behind under a running service
        code, body = _health(port)
        assert code == 503 and body["pending"] == schema.package_versions()[-1:]
    finally:
        service.terminate()
        service.communicate(timeout=30)  # reaps it and closes its pipes
    # Started on a schema that is behind, it refuses with one line.
    refused = _start_service(url, free_port())
    _, err = refused.communicate(timeout=60)
    assert refused.returncode == 1
    assert err.strip().splitlines() == [
        f"service: not starting: the database lacks 1 migration(s) of codezest-db "
        f"{schema.__version__}: {schema.package_versions()[-1]}; run `codezest-db migrate`"
    ]
