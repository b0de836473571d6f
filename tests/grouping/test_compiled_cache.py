"""The compiled-scheme cache: written on first use, read afterwards, keyed by content."""

from __future__ import annotations

import pytest

from huiyan.grouping import Case, compiled, group_case


@pytest.fixture
def cache(tmp_path, monkeypatch):
    monkeypatch.setenv(compiled.CACHE_ENV, str(tmp_path))
    compiled.compile_scheme.cache_clear()
    yield tmp_path
    compiled.compile_scheme.cache_clear()


# sample case S000002 of yancheng-2023: TB19 in the reference
CASE = Case("S000002", "1", 18, None, None, ("F60.300",), ("29.3100", "99.1900"), los=9)


def test_second_process_reads_the_compiled_scheme_from_disk(cache, monkeypatch):
    first = group_case(CASE, "yancheng-2023")
    files = list((cache / "schemes").glob("yancheng-2023-*.pickle"))
    assert len(files) == 1
    compiled.compile_scheme.cache_clear()  # as in a new process

    def no_compile(name):
        raise AssertionError("compiled again although the cache entry is valid")

    monkeypatch.setattr(compiled, "_compile", no_compile)
    again = group_case(CASE, "yancheng-2023")
    assert again.key() == first.key() == ("SUCCESS", "MDCT", "TB1", "TB19")


def test_changed_data_gives_a_new_key(cache, monkeypatch):
    compiled.compile_scheme("yancheng-2023")
    old = compiled.cache_path("yancheng-2023")
    monkeypatch.setattr(compiled, "content_key", lambda name: "changed")
    assert compiled.cache_path("yancheng-2023") != old
    assert compiled.cache_path("yancheng-2023").parent == old.parent


def test_a_damaged_entry_is_rebuilt(cache):
    compiled.compile_scheme("yancheng-2023")
    path = compiled.cache_path("yancheng-2023")
    path.write_bytes(b"not a pickle")
    compiled.compile_scheme.cache_clear()
    assert compiled.compile_scheme("yancheng-2023").name == "yancheng-2023"
    assert path.read_bytes() != b"not a pickle"


def test_an_unwritable_cache_only_costs_time(tmp_path, monkeypatch):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    monkeypatch.setenv(compiled.CACHE_ENV, str(blocker))  # a file: no folder can be made in it
    compiled.compile_scheme.cache_clear()
    try:
        assert group_case(CASE, "yancheng-2023").status == "SUCCESS"
    finally:
        compiled.compile_scheme.cache_clear()
