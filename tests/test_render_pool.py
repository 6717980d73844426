"""The render pool: a tenant's template runs in a child process that is killed past the time
limit and can't grow past its memory limit, and the process that asked goes on answering."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from shared.infra.errors import HeraldError
from shared.templating.pool import Limits, RenderPool

# Compiling 100,000 tags is one long run of the parser that no in-sandbox deadline stops.
SLOW_TO_COMPILE = "{{ a }}" * 100_000
# 600 values of 1 MB each: no single operation is past the sandbox's bounds, all of them are.
MANY_VALUES = "".join(f'{{% set a{i} = "a" * 1000000 %}}' for i in range(600)) + "done"


@pytest.fixture(scope="module")
def pool():
    """A pool of its own, so the kills of these tests don't disturb the apps'."""
    pool = RenderPool(Limits(processes=2, memory_mb=512, seconds=5.0))
    yield pool
    pool.close()


def render(pool: RenderPool, text: str, context: dict | None = None) -> dict:
    """The SMS `text` rendered in the pool: each channel's fields."""
    items = [("en", "sms", {"text": text})]
    return pool.run("render", "p", items, context or {}, 5.0)["contents"]


def test_a_render_comes_back_from_the_child(pool):
    answer = pool.run("render", "p", [("en", "sms", {"text": "Hi {{ firstName }} {{ plan }}"})],
                      {"firstName": "Ann"}, 5.0)  # fmt: skip
    assert answer == {"contents": {"sms": {"text": "Hi Ann "}}, "undefined": ["plan"]}


def test_a_job_past_the_hard_limit_is_killed_and_the_caller_keeps_answering(pool):
    # Given a thread that measures how late a 10 ms sleep wakes up in this process
    lateness: list[float] = []
    stop = threading.Event()

    def beat() -> None:
        while not stop.is_set():
            started = time.perf_counter()
            time.sleep(0.01)
            lateness.append(time.perf_counter() - started - 0.01)

    beating = threading.Thread(target=beat)
    beating.start()
    started = time.monotonic()
    # When a template takes far longer than the limit to compile
    with pytest.raises(HeraldError) as refused:
        pool.run(
            "compile", "p", {"en": {"sms": {"text": SLOW_TO_COMPILE}}}, seconds=1.0,
            failure="template/invalid", doing="compiling",
        )  # fmt: skip
    took = time.monotonic() - started
    stop.set()
    beating.join()
    # Then it fails at the hard limit, naming it, and this process never stalled meanwhile
    assert refused.value.code == "template/invalid"
    assert "time limit of 1 s" in refused.value.message
    assert took < 3.0
    assert max(lateness) < 0.1
    # And the pool has replaced the child: the next render works
    assert render(pool, "{{ 1 + 1 }}") == {"sms": {"text": "2"}}


def test_a_render_past_the_memory_limit_fails_naming_it_and_the_pool_recovers(pool):
    with pytest.raises(HeraldError) as refused:
        render(pool, MANY_VALUES)
    assert refused.value.code == "template/renderFailed"
    assert "memory limit of 512 MB" in refused.value.message
    assert render(pool, "{{ 2 * 3 }}") == {"sms": {"text": "6"}}


def test_the_asking_process_does_not_grow_with_the_template(tmp_path: Path):
    # A fresh process renders the 600 MB template through its pool and reports its own peak
    # (VmHWM: ru_maxrss would carry the peak of the test process it was forked from).
    script = (
        "import json, re\n"
        "from shared.templating.pool import Limits, RenderPool\n"
        "from shared.infra.errors import HeraldError\n"
        "pool = RenderPool(Limits(processes=1, memory_mb=256, seconds=2.0))\n"
        f"items = [('en', 'sms', {{'text': {MANY_VALUES!r}}})]\n"
        "try:\n"
        "    pool.run('render', 'p', items, {}, 2.0)\n"
        "    code = None\n"
        "except HeraldError as e:\n"
        "    code = e.code\n"
        "status = open('/proc/self/status').read()\n"
        "peak = int(re.search(r'VmHWM:\\s+(\\d+)', status).group(1)) // 1024\n"
        "print(json.dumps([code, peak]))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=60, check=True
    )
    code, peak_mb = json.loads(out.stdout.strip().splitlines()[-1])
    assert code == "template/renderFailed"
    assert peak_mb < 100, out.stderr


def test_the_child_holds_none_of_the_parents_secrets(pool, monkeypatch):
    # Given secrets in this process's environment when a child starts
    monkeypatch.setenv("HERALD_SECRET_KEY", "s3cret-key")
    monkeypatch.setenv("DATABASE_URL", "postgresql://user:pw@db/herald")
    fresh = RenderPool(Limits(processes=1, memory_mb=256, seconds=1.0))
    try:
        render(fresh, "x")
        [child] = fresh._children
        environ = Path(f"/proc/{child.process.pid}/environ").read_bytes()
        open_fds = os.listdir(f"/proc/{child.process.pid}/fd")
    finally:
        fresh.close()
    # Then the child's environment has neither, and it holds only its pipe and stdio
    assert b"s3cret-key" not in environ and b"postgresql" not in environ
    assert len(open_fds) <= 4


def test_a_compile_error_comes_back_with_its_code(pool):
    with pytest.raises(HeraldError) as refused:
        pool.run("compile", "p", {"en": {"sms": {"text": "{{ x "}}}, failure="template/invalid")
    assert refused.value.code == "template/invalid"
    assert "en.sms.text, line 1" in refused.value.message


def test_many_threads_sharing_two_children_each_get_their_own_answer(pool):
    # Given more threads than children, each rendering its own values in a loop
    wrong: list[str] = []

    def ask(thread: int) -> None:
        for turn in range(30):
            name = f"t{thread}-{turn}"
            if render(pool, "{{ name }}", {"name": name}) != {"sms": {"text": name}}:
                wrong.append(name)

    threads = [threading.Thread(target=ask, args=(n,)) for n in range(12)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    # Then every job waited in line for a child and came back with its own answer
    assert wrong == []


def test_the_child_renders_by_its_parents_field_rules_without_the_database_layer():
    # Given a fresh child that has rendered an e-mail whose template has HTML and no text
    fresh = RenderPool(Limits(processes=1, memory_mb=256, seconds=1.0))
    try:
        items = [("en", "email", {"subject": "Hi\n{{ name }}", "html": "<p>Hi <b>{{ name }}</b>"})]
        answer = fresh.run("render", "p", items, {"name": "Ann"}, 1.0)["contents"]["email"]
        [child] = fresh._children
        maps = Path(f"/proc/{child.process.pid}/maps").read_text()
    finally:
        fresh.close()
    # Then the channel's rules held there (a header on one line, the text made from the HTML)
    assert answer["subject"] == "Hi Ann" and answer["text"].strip() == "Hi Ann"
    # And the child never loaded the validators' and models' libraries (pydantic's core)
    assert "pydantic_core" not in maps
