"""signalbench._atomic: files and folders replaced in one step, rolled back on failure, recovered after a crash."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap

import pytest
from hypothesis import given
from hypothesis import strategies as st

import signalbench._atomic as atomic
from tests.conftest import _missing


def _tree(path):
    return {p.name: p.read_text() for p in sorted(path.iterdir())}


def _make(path, **files):
    path.mkdir()
    for name, text in files.items():
        (path / name).write_text(text)
    return path


def test_exchange_swaps_two_folders(tmp_path):
    a, b = _make(tmp_path / "a", x="1"), _make(tmp_path / "b", y="2")
    if not atomic.exchange(a, b):
        _missing("renameat2(RENAME_EXCHANGE) is not available here", "Linux >= 3.15 with glibc >= 2.28 has it")
    assert _tree(a) == {"y": "2"} and _tree(b) == {"x": "1"}
    with pytest.raises(FileNotFoundError):
        atomic.exchange(a, tmp_path / "missing")


@pytest.mark.parametrize("fallback", [False, True], ids=["exchange", "fallback"])
def test_replace_dir_replaces_and_leaves_nothing_else(tmp_path, monkeypatch, fallback):
    if fallback:
        monkeypatch.setattr(atomic, "exchange", lambda a, b: False)
    _make(tmp_path / "target", old="old")
    new = _make(tmp_path / ".target.new", new="new")
    atomic.replace_dir(new, tmp_path / "target")
    assert _tree(tmp_path / "target") == {"new": "new"}
    assert [p.name for p in tmp_path.iterdir()] == ["target"]
    atomic.replace_dir(_make(tmp_path / "src", again="1"), tmp_path / "fresh")  # no target yet: a plain rename
    assert _tree(tmp_path / "fresh") == {"again": "1"}


def test_fallback_rolls_back_when_the_second_rename_fails(tmp_path, monkeypatch):
    monkeypatch.setattr(atomic, "exchange", lambda a, b: False)
    real, calls = os.rename, []

    def rename(src, dst):
        calls.append(dst)
        if len(calls) == 2:
            raise OSError("disk gone")
        return real(src, dst)

    monkeypatch.setattr(os, "rename", rename)
    _make(tmp_path / "target", old="old")
    new = _make(tmp_path / "new", new="new")
    with pytest.raises(OSError, match="disk gone"):
        atomic.replace_dir(new, tmp_path / "target")
    assert _tree(tmp_path / "target") == {"old": "old"}
    assert sorted(p.name for p in tmp_path.iterdir()) == ["new", "target"]


def test_recover_dir_puts_the_old_folder_back_after_a_hard_crash(tmp_path):
    _make(tmp_path / "target", old="old")
    _make(tmp_path / "new", new="new")
    script = textwrap.dedent(
        f"""
        import os
        import signalbench._atomic as atomic

        atomic.exchange = lambda a, b: False
        real, calls = os.rename, []

        def rename(src, dst):
            calls.append(dst)
            if len(calls) == 2:
                os._exit(9)
            return real(src, dst)

        os.rename = rename
        atomic.replace_dir({str(tmp_path / "new")!r}, {str(tmp_path / "target")!r})
        """
    )
    assert subprocess.run([sys.executable, "-c", script], env=os.environ.copy()).returncode == 9
    assert not (tmp_path / "target").exists()
    assert atomic.recover_dir(tmp_path / "target") is True
    assert _tree(tmp_path / "target") == {"old": "old"}
    assert atomic.recover_dir(tmp_path / "target") is False  # nothing to do when the folder is there
    assert atomic.recover_dir(tmp_path / "never") is False
    (tmp_path / ".never.notours.old").mkdir()  # a name that is not the fallback's is never taken
    assert atomic.recover_dir(tmp_path / "never") is False


def test_atomic_dir_removes_its_folder_on_error_and_respects_overwrite(tmp_path):
    with pytest.raises(RuntimeError, match="boom"), atomic.atomic_dir(tmp_path / "out") as tmp:
        (tmp / "half").write_text("x")
        raise RuntimeError("boom")
    assert list(tmp_path.iterdir()) == []
    with atomic.atomic_dir(tmp_path / "out") as tmp:
        (tmp / "a").write_text("1")
    with pytest.raises(FileExistsError, match="overwrite=True"), atomic.atomic_dir(tmp_path / "out"):
        pass
    with atomic.atomic_dir(tmp_path / "out", overwrite=True) as tmp:
        (tmp / "b").write_text("2")
    assert _tree(tmp_path / "out") == {"b": "2"}
    assert [p.name for p in tmp_path.iterdir()] == ["out"]


def test_atomic_path_keeps_the_old_file_on_error(tmp_path):
    target = atomic.write_text(tmp_path / "f.txt", "old")
    with pytest.raises(KeyboardInterrupt), atomic.atomic_path(target) as tmp:
        tmp.write_text("half of the new")
        raise KeyboardInterrupt
    assert target.read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["f.txt"]


@given(st.binary(max_size=2000), st.binary(max_size=2000))
def test_write_bytes_replaces_the_whole_content(data1, data2):
    import tempfile
    from pathlib import Path

    with tempfile.TemporaryDirectory() as d:
        path = Path(d) / "sub" / "x.bin"
        atomic.write_bytes(path, data1)
        atomic.write_bytes(path, data2)
        assert path.read_bytes() == data2
        assert os.listdir(path.parent) == ["x.bin"]


def test_discard_retries_once_and_warns_when_it_cannot(tmp_path, monkeypatch):
    import shutil

    real, calls = shutil.rmtree, []

    def flaky(path, *args, **kwargs):
        calls.append(path)
        if len(calls) == 1:
            raise OSError("busy")
        return real(path, *args, **kwargs)

    monkeypatch.setattr(shutil, "rmtree", flaky)
    atomic._discard(_make(tmp_path / "t", a="1"))
    assert not (tmp_path / "t").exists() and len(calls) == 2
    monkeypatch.setattr(shutil, "rmtree", lambda *a, **k: (_ for _ in ()).throw(OSError("stuck")))
    with pytest.warns(RuntimeWarning, match="could not remove the temporary"):
        atomic._discard(_make(tmp_path / "u", a="1"))


def test_atomic_files_get_the_usual_permissions(tmp_path):
    import os
    import stat

    from signalbench import _atomic

    mask = os.umask(0o022)
    try:
        path = _atomic.write_text(tmp_path / "a.json", "{}")
        (tmp_path / "b.json").write_text("{}")
        assert stat.S_IMODE(path.stat().st_mode) == stat.S_IMODE((tmp_path / "b.json").stat().st_mode) == 0o644
    finally:
        os.umask(mask)
