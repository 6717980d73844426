"""Widget secrets sealed at rest with HERALD_SECRET_KEY (Fernet): the column never holds the
secret, plaintext rows from before the key keep working, a new key put first still reads rows
of the old one, and `herald secrets reencrypt` rewrites them all under the first key."""

from __future__ import annotations

import json
from dataclasses import replace

import pytest
from click.testing import CliRunner
from cryptography.fernet import Fernet
from sqlalchemy import select

from api.cli import main
from shared.feed.reading import user_hmac
from shared.infra.config import ConfigError, Settings
from shared.infra.db import autocommit, make_engine, transaction
from shared.infra.models import projects
from shared.infra.secrets import SecretBox, secret_box
from shared.tenancy.projects import create_project
from tests.support.backends import IN_CI, backends_down, fresh_database
from tests.support.data import token
from tests.support.herald import swapped

OLD, NEW = Fernet.generate_key().decode(), Fernet.generate_key().decode()


def stored_secret(engine, project_id: str) -> str:
    """The widget_secret column of the project, as stored."""
    with autocommit(engine) as connection:
        query = select(projects.c.widget_secret).where(projects.c.id == project_id)
        return connection.execute(query).scalar_one()


def sealed_project(herald, *keys: str) -> dict:
    """A project created with these keys in HERALD_SECRET_KEY."""
    with transaction(herald.engine) as connection:
        return create_project(connection, f"sealed-{token()}", box=secret_box(keys))


def front_status(herald, project: dict, *keys: str) -> int:
    """The status of the user's `users.get` while Herald runs with these keys."""
    user_id = f"u-{token()}"
    query = {"projectId": project["projectId"], "userId": user_id}
    query["userHmac"] = user_hmac(project["widgetSecret"], user_id)
    with swapped(herald, settings=replace(herald.settings, secret_keys=keys)):
        return herald.app.test_client().get("/front/users.get", query_string=query).status_code


def test_a_sealed_widget_secret_is_not_in_its_column(herald):
    project = sealed_project(herald, NEW)
    stored = stored_secret(herald.engine, project["projectId"])
    assert project["widgetSecret"] not in stored
    assert Fernet(NEW).decrypt(stored.encode()).decode() == project["widgetSecret"]
    assert front_status(herald, project, NEW) == 200


def test_a_new_key_put_first_still_reads_rows_of_the_old_one(herald):
    # Given a project sealed under the old key
    project = sealed_project(herald, OLD)
    # When the new key is put first, the old one after it
    # Then the project's HMACs are still accepted
    assert front_status(herald, project, NEW, OLD) == 200
    # And without the old key its row can't be read: it is needed until `reencrypt` has run
    with pytest.raises(ConfigError, match="HERALD_SECRET_KEY"):
        SecretBox((NEW,)).open(stored_secret(herald.engine, project["projectId"]))


def test_a_plaintext_row_keeps_working_once_a_key_is_set(herald, project):
    assert stored_secret(herald.engine, project["projectId"]) == project["widgetSecret"]
    assert front_status(herald, project, NEW) == 200


def test_a_sealed_row_without_any_key_names_the_setting():
    sealed = SecretBox((OLD,)).seal("s3cret")
    with pytest.raises(ConfigError, match="HERALD_SECRET_KEY is not set"):
        SecretBox().open(sealed)


# ---- herald secrets: on a database of the test's own (reencrypt rewrites every project) ----


@pytest.fixture(params=["embedded", "production"])
def database_url(request, tmp_path, monkeypatch):
    """A fresh database of the mode: a SQLite file, or a PostgreSQL database; the CLI's
    environment points at it."""
    for name in ("REDIS_URL", "HERALD_SECRET_KEY"):
        monkeypatch.delenv(name, raising=False)
    if request.param == "embedded":
        url = f"sqlite:///{tmp_path / 'herald.db'}"
        monkeypatch.setenv("DATABASE_URL", url)
        yield url
        return
    down = backends_down()
    if down:
        if IN_CI:
            pytest.fail(f"production mode is required in CI, but {down}")
        pytest.skip(f"production mode skipped: {down}")
    with fresh_database("herald_secrets") as url:
        monkeypatch.setenv("DATABASE_URL", url)
        yield url


def herald_cli(*args: str, keys: str | None = None):
    """Run `herald ARGS` in this process, HERALD_SECRET_KEY set to `keys` (unset: None)."""
    env = {"HERALD_SECRET_KEY": keys}
    result = CliRunner().invoke(main, list(args), env=env)
    assert result.exit_code == 0, result.output
    return result


def test_reencrypt_seals_every_row_under_the_first_key(database_url):
    # Given a project from before the key (plaintext) and one sealed under the old key
    plain = json.loads(herald_cli("project", "create", "Plain").stdout)
    old = json.loads(herald_cli("project", "create", "Old", keys=OLD).stdout)
    # When the new key is put first and the rows are re-encrypted
    result = herald_cli("secrets", "reencrypt", keys=f"{NEW},{OLD}")
    assert "2 projects" in result.output
    # Then both rows are sealed under the new key alone
    engine = make_engine(Settings(database_url=database_url))
    for created in (plain, old):
        stored = stored_secret(engine, created["projectId"])
        assert created["widgetSecret"] not in stored
        assert SecretBox((NEW,)).open(stored) == created["widgetSecret"]
    engine.dispose()


def test_reencrypt_without_a_key_is_refused(database_url):
    result = CliRunner().invoke(main, ["secrets", "reencrypt"])
    assert result.exit_code == 1
    assert "Set HERALD_SECRET_KEY first" in result.output


def test_new_key_prints_a_fernet_key():
    result = herald_cli("secrets", "new-key")
    key = result.stdout.strip()
    assert Fernet(key).decrypt(Fernet(key).encrypt(b"x")) == b"x"


def test_the_secret_key_is_a_comma_separated_list_kept_out_of_reprs():
    settings = Settings.from_env({"HERALD_SECRET_KEY": f" {NEW} , {OLD} "})
    assert settings.secret_keys == (NEW, OLD)
    assert NEW not in repr(settings)


@pytest.mark.parametrize("value", ["not-a-key", "c2hvcnQ=", f"{NEW},{NEW[:-4]}"])
def test_a_secret_key_that_is_not_a_fernet_key_is_refused_without_showing_it(value):
    with pytest.raises(ConfigError, match="HERALD_SECRET_KEY") as refused:
        Settings.from_env({"HERALD_SECRET_KEY": value})
    assert value.split(",")[-1] not in str(refused.value)
