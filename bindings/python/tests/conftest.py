"""Fixtures: every test that takes `db` runs on a fresh SQLite file and on a fresh database
of the private MariaDB server that ./scripts/test.sh starts (BANYAN_TEST_MYSQL_URL)."""

import os
import re
import subprocess
import uuid

import pytest

import banyan


def _mariadb(statement: str) -> None:
    socket = os.environ.get("BANYAN_TEST_MYSQL_SOCKET")
    if not socket:
        raise RuntimeError("BANYAN_TEST_MYSQL_SOCKET is not set: run the tests through "
                           "./scripts/test.sh, which starts a private MariaDB server")
    subprocess.run(["mariadb", "--no-defaults", f"--socket={socket}", "-uroot", "-e", statement],
                   check=True, capture_output=True)


@pytest.fixture(params=["sqlite", "mariadb"])
def url(request, tmp_path):
    if request.param == "sqlite":
        yield f"sqlite://{tmp_path}/crm.db"
        return
    base = os.environ.get("BANYAN_TEST_MYSQL_URL")
    if not base:
        raise RuntimeError("BANYAN_TEST_MYSQL_URL is not set: run the tests through "
                           "./scripts/test.sh, which starts a private MariaDB server")
    name = "py_" + uuid.uuid4().hex[:16]
    _mariadb(f"CREATE DATABASE {name}")
    try:
        yield re.sub(r"/[^/]*$", "/" + name, base)
    finally:
        _mariadb(f"DROP DATABASE IF EXISTS {name}")


@pytest.fixture
def db(url):
    database = banyan.open(url)
    try:
        yield database
    finally:
        database.close()


@pytest.fixture
def crm(db):
    return db.engine()


@pytest.fixture
def pipeline(crm):
    """A pipeline with two open stages, a won one and a lost one."""
    p = crm.pipelines.create(name="Sales")
    stages = [crm.stages.create(pipeline_id=p.id, name=name, position=i, win_probability=prob,
                                kind=kind)
              for i, (name, prob, kind) in enumerate([("Qualify", 10, "open"),
                                                      ("Propose", 50, "open"),
                                                      ("Won", 100, "won"),
                                                      ("Lost", 0, "lost")])]
    return p, stages
