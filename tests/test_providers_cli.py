"""`herald providers add|list|remove|test` (SPEC §8), in-process through CliRunner on the
embedded SQLite database: bad URLs refused with the wrong part and nothing stored, secrets
sealed at rest and masked in lists, and a test send through a real SMTP server."""

from __future__ import annotations

import json

import pytest
from cryptography.fernet import Fernet
from sqlalchemy import func, select

from shared.infra.models import project_providers
from shared.infra.secrets import SecretBox
from tests.support.cli import run_herald
from tests.support.smtp_servers import (
    PASSWORD,
    USER,
    ScriptedServer,
    make_certificate,
    real_server,
    server_context,
)

KEY = Fernet.generate_key().decode()
SECRET_URL = "smtp://user:s3cret-pw@127.0.0.1:2525?tls=none"


@pytest.fixture
def project(sqlite_url, monkeypatch) -> str:
    monkeypatch.setenv("HERALD_SECRET_KEY", KEY)
    result = run_herald("project", "create", "Acme", "--email-from", "noreply@example.com")
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)["projectId"]


def _rows(engine_of, url: str) -> list:
    with engine_of(url).connect() as connection:
        return connection.execute(select(project_providers)).all()


def _add(project: str, channel: str, url: str, *more: str):
    return run_herald("providers", "add", project, "--channel", channel, "--url", url, *more)


BAD = {
    "unknown scheme": ("email", "mailgun://key@api", "scheme"),
    "missing host": ("email", "smtp://:587", "host"),
    "port out of range": ("email", "smtp://mail.example.com:99999", "port"),
    "port zero": ("email", "smtp://mail.example.com:0", "port"),
    "a name that does not fit": ("email", "outbox://", "name"),
    "credentials where none are taken": ("email", "outbox://user:pw@", "credentials"),
    "unknown query parameter": ("email", "smtp://mail.example.com:587?tls=none&x=1", "x"),
    "a kind of another channel": ("sms", "smtp://mail.example.com:587", "scheme"),
    "priority out of range": ("email", "outbox://", "priority"),
}


@pytest.mark.parametrize("case", BAD, ids=list(BAD))
def test_a_bad_url_is_refused_with_the_wrong_part_and_nothing_stored(
    case, project, sqlite_url, engine_of
):
    channel, url, part = BAD[case]
    more = {"priority": ("--priority", "-1"), "name": ("--name", "a b<")}.get(part, ())
    result = _add(project, channel, url, *more)
    assert result.exit_code != 0
    assert result.output.startswith(f"Error: {part}") or f"Error: {part}:" in result.output
    assert "Traceback" not in result.output
    assert _rows(engine_of, sqlite_url) == []


def test_a_secret_without_herald_secret_key_is_refused(project, sqlite_url, engine_of, monkeypatch):
    monkeypatch.delenv("HERALD_SECRET_KEY")
    result = _add(project, "email", SECRET_URL)
    assert result.exit_code != 0 and "HERALD_SECRET_KEY is not set" in result.output
    assert _rows(engine_of, sqlite_url) == []


def test_unknown_project_duplicate_name_and_unknown_names(project, sqlite_url, engine_of):
    assert "project: There is no project" in _add("prj_nope", "email", "outbox://").output
    assert _add(project, "email", "outbox://", "--name", "files").exit_code == 0
    again = _add(project, "email", "outbox://", "--name", "files")
    assert again.exit_code != 0 and "already has a provider named 'files'" in again.output
    assert len(_rows(engine_of, sqlite_url)) == 1
    gone = run_herald("providers", "remove", project, "nope")
    assert gone.exit_code != 0 and "no provider named 'nope'" in gone.output
    tested = run_herald("providers", "test", project, "nope", "--to", "a@example.com")
    assert tested.exit_code != 0 and "no provider named 'nope'" in tested.output


def test_add_list_remove_with_the_secret_sealed_and_masked(project, sqlite_url, engine_of):
    added = _add(project, "email", SECRET_URL, "--name", "relay")
    assert added.exit_code == 0, added.output
    assert "s3cret-pw" not in added.output
    [row] = _rows(engine_of, sqlite_url)
    assert "s3cret-pw" not in row.url and SecretBox((KEY,)).open(row.url) == SECRET_URL
    _add(project, "email", "outbox://", "--name", "files")
    listed = run_herald("providers", "list", project)
    assert listed.exit_code == 0 and "s3cret-pw" not in listed.output
    providers = json.loads(listed.stdout)["providers"]
    assert [(p["name"], p["priority"]) for p in providers] == [("relay", 0), ("files", 1)]
    assert providers[0]["url"] == "smtp://user:***@127.0.0.1:2525?tls=none"
    # a token that is both user name and password (Postmark's) is masked in both places
    token_url = "smtp://tok-123:tok-123@smtp.postmarkapp.com:587"
    assert _add(project, "email", token_url, "--name", "postmark").exit_code == 0
    listed = run_herald("providers", "list", project)
    assert "tok-123" not in listed.output and "smtp://***:***@smtp.postmarkapp.com" in listed.output
    assert run_herald("providers", "remove", project, "postmark").exit_code == 0
    assert run_herald("providers", "remove", project, "relay").exit_code == 0
    assert [r.name for r in _rows(engine_of, sqlite_url)] == ["files"]


def test_a_row_sealed_with_an_old_key_opens_after_rotation(
    project, sqlite_url, engine_of, monkeypatch
):
    assert _add(project, "email", SECRET_URL, "--name", "relay").exit_code == 0
    new = Fernet.generate_key().decode()
    monkeypatch.setenv("HERALD_SECRET_KEY", f"{new},{KEY}")
    listed = run_herald("providers", "list", project)
    assert listed.exit_code == 0, listed.output
    assert json.loads(listed.stdout)["providers"][0]["name"] == "relay"
    monkeypatch.setenv("HERALD_SECRET_KEY", new)  # the old key dropped: said, not a traceback
    lost = run_herald("providers", "list", project)
    assert lost.exit_code != 0 and "No key of HERALD_SECRET_KEY opens" in lost.output


def test_test_send_through_a_real_smtp_server(project, tmp_path, monkeypatch):
    cert, key = make_certificate(tmp_path)
    monkeypatch.setenv("SSL_CERT_FILE", str(cert))  # the test's own CA, trusted
    controller, received = real_server(server_context(cert, key))
    try:
        url = f"smtp://{USER}:{PASSWORD}@127.0.0.1:{controller.port}"
        assert _add(project, "email", url, "--name", "relay").exit_code == 0
        result = run_herald("providers", "test", project, "relay", "--to", "bob@example.com")
    finally:
        controller.stop()
    assert result.exit_code == 0, result.output
    outcome = json.loads(result.stdout)
    assert outcome["status"] == "sent" and outcome["providerMessageId"]
    [mail] = received.messages
    assert mail["To"] == "bob@example.com" and mail["Subject"] == "Herald provider test"
    assert mail["Message-ID"] in outcome["providerMessageId"]


def test_test_send_through_a_refusing_server_prints_the_failure(project):
    server = ScriptedServer({"rcpt": b"550 5.1.1 no such user\r\n"})
    try:
        assert _add(project, "email", server.url, "--name", "strict").exit_code == 0
        result = run_herald("providers", "test", project, "strict", "--to", "bob@example.com")
    finally:
        server.stop()
    assert result.exit_code == 1
    outcome = json.loads(result.stdout)
    assert outcome["status"] == "failed" and "550" in outcome["error"] and not outcome["failover"]


def test_test_send_to_the_outbox_and_a_bad_address(project, sqlite_url, engine_of, tmp_path):
    assert _add(project, "sms", "outbox://", "--name", "files").exit_code == 0
    bad = run_herald("providers", "test", project, "files", "--to", "12345")
    assert bad.exit_code != 0 and "to/invalid" in bad.output
    good = run_herald("providers", "test", project, "files", "--to", "+447911123456")
    assert good.exit_code == 0 and json.loads(good.stdout)["status"] == "sent", good.output
    with engine_of(sqlite_url).connect() as connection:
        count = connection.scalar(select(func.count()).select_from(project_providers))
    assert count == 1


def test_a_projects_own_push_chain_is_added_and_a_bad_one_refused(project, sqlite_url, engine_of):
    added = _add(project, "push", "webpush://?subject=mailto:ops@example.com", "--name", "web")
    assert added.exit_code == 0, added.output
    refused = _add(project, "push", "apns://?key=/k.p8&keyId=A&teamId=B", "--name", "ios")
    assert refused.exit_code != 0 and "topic" in refused.output
    assert [(r.channel, r.kind) for r in _rows(engine_of, sqlite_url)] == [("push", "webpush")]
