"""`herald project rotate-widget-secret`: a new widget secret printed once; HMACs under the
old one stay valid for the grace period, then answer 401, in both modes."""

from __future__ import annotations

import json
import time
from dataclasses import replace

import pytest
from click.testing import CliRunner
from cryptography.fernet import Fernet
from sqlalchemy import select

from api.cli import main
from shared.feed.reading import user_hmac
from shared.infra.db import autocommit
from shared.infra.models import projects
from tests.support.data import token
from tests.support.herald import swapped

KEY = Fernet.generate_key().decode()


@pytest.fixture
def cli_env(herald, monkeypatch):
    """The command line's environment: the database of the mode's Herald."""
    monkeypatch.setenv("DATABASE_URL", herald.settings.database_url)
    for name in ("REDIS_URL", "HERALD_SECRET_KEY"):
        monkeypatch.delenv(name, raising=False)


def rotate(project_id: str, *options: str, keys: str | None = None):
    """`herald project rotate-widget-secret PROJECT_ID OPTIONS`: its result."""
    args = ["project", "rotate-widget-secret", project_id, *options]
    return CliRunner().invoke(main, args, env={"HERALD_SECRET_KEY": keys})


def rotated(project_id: str, *options: str, keys: str | None = None) -> str:
    """The new widget secret the command printed."""
    result = rotate(project_id, *options, keys=keys)
    assert result.exit_code == 0, result.output
    printed = json.loads(result.stdout)
    assert printed["projectId"] == project_id
    return printed["widgetSecret"]


def status_under(herald, project_id: str, secret: str, *keys: str) -> int:
    """The status of `users.get` for a user whose HMAC is made with this secret."""
    user_id = f"u-{token()}"
    query = {"projectId": project_id, "userId": user_id, "userHmac": user_hmac(secret, user_id)}
    with swapped(herald, settings=replace(herald.settings, secret_keys=keys)):
        return herald.app.test_client().get("/front/users.get", query_string=query).status_code


def test_both_secrets_are_valid_during_the_grace_period(herald, project, cli_env):
    old = project["widgetSecret"]
    new = rotated(project["projectId"], "--grace", "3600")
    assert new != old and len(new) == 64
    assert status_under(herald, project["projectId"], new) == 200
    assert status_under(herald, project["projectId"], old) == 200


def test_the_old_secret_answers_401_once_the_grace_period_ends(herald, project, cli_env):
    old = project["widgetSecret"]
    new = rotated(project["projectId"], "--grace", "1")
    assert status_under(herald, project["projectId"], old) == 200
    time.sleep(1.1)
    assert status_under(herald, project["projectId"], old) == 401
    assert status_under(herald, project["projectId"], new) == 200


def test_a_grace_of_zero_refuses_the_old_secret_at_once(herald, project, cli_env):
    new = rotated(project["projectId"], "--grace", "0")
    assert status_under(herald, project["projectId"], project["widgetSecret"]) == 401
    assert status_under(herald, project["projectId"], new) == 200


def test_the_default_grace_is_a_day(herald, project, cli_env):
    rotated(project["projectId"])
    with autocommit(herald.engine) as connection:
        expires = connection.execute(
            select(projects.c.previous_widget_secret_expires_at).where(
                projects.c.id == project["projectId"]
            )
        ).scalar_one()
    assert 86_390 < expires.timestamp() - time.time() <= 86_400


def test_a_second_rotation_ends_the_first_secret(herald, project, cli_env):
    middle = rotated(project["projectId"])
    newest = rotated(project["projectId"])
    assert status_under(herald, project["projectId"], project["widgetSecret"]) == 401
    assert status_under(herald, project["projectId"], middle) == 200
    assert status_under(herald, project["projectId"], newest) == 200


def test_with_a_secret_key_both_secrets_are_stored_sealed(herald, project, cli_env):
    new = rotated(project["projectId"], keys=KEY)
    with autocommit(herald.engine) as connection:
        row = connection.execute(
            select(projects.c.widget_secret, projects.c.previous_widget_secret).where(
                projects.c.id == project["projectId"]
            )
        ).one()
    stored = json.dumps(list(row))
    assert new not in stored and project["widgetSecret"] not in stored
    assert status_under(herald, project["projectId"], new, KEY) == 200
    assert status_under(herald, project["projectId"], project["widgetSecret"], KEY) == 200


def test_rotating_an_unknown_project_fails(herald, cli_env):
    result = rotate("prj_nope")
    assert result.exit_code == 1
    assert "No project with id 'prj_nope'" in result.output


def test_a_negative_grace_is_refused(herald, project, cli_env):
    result = rotate(project["projectId"], "--grace", "-5")
    assert result.exit_code == 2
    assert status_under(herald, project["projectId"], project["widgetSecret"]) == 200
