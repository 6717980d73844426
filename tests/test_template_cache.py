"""The compiled-template cache is bounded by bytes, per project and in all."""

from __future__ import annotations

from shared.templating.cache import CompiledTemplates, charge, for_project


def fill(cache: CompiledTemplates, project: str, count: int, length: int) -> None:
    with for_project(project):
        for i in range(count):
            cache.get(f"{i:08d}" + "x" * (length - 8), False, lambda: object())


def test_one_project_never_holds_more_than_its_share():
    cache = CompiledTemplates(total=10 * charge("x" * 1000), per_project=3 * charge("x" * 1000))
    fill(cache, "a", 50, 1000)
    assert cache.held("a") <= cache.per_project
    assert cache.held() == cache.held("a")


def test_a_project_flooding_the_cache_does_not_push_out_more_than_its_share():
    cache = CompiledTemplates(total=8 * charge("x" * 1000), per_project=4 * charge("x" * 1000))
    fill(cache, "b", 4, 1000)
    fill(cache, "a", 100, 1000)
    assert cache.held("b") == 4 * charge("x" * 1000)
    assert cache.held() <= cache.total


def test_all_projects_together_stay_within_the_total():
    cache = CompiledTemplates(total=5 * charge("x" * 1000), per_project=4 * charge("x" * 1000))
    for project in "abcdef":
        fill(cache, project, 3, 1000)
    assert cache.held() <= cache.total


def test_a_template_larger_than_a_share_is_compiled_but_not_kept():
    cache = CompiledTemplates(total=charge("x" * 1000), per_project=charge("x" * 1000))
    built = []
    with for_project("a"):
        for _ in range(2):
            cache.get("y" * 5000, False, lambda: built.append(1) or object())
    assert len(built) == 2 and cache.held() == 0


def test_a_hit_returns_the_same_compiled_template():
    cache = CompiledTemplates()
    with for_project("a"):
        first = cache.get("hello", True, object)
        assert cache.get("hello", True, object) is first
        assert cache.get("hello", False, object) is not first
    with for_project("b"):
        assert cache.get("hello", True, object) is not first
