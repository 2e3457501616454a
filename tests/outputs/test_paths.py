"""Output locations: tried before any work, and a folder a failed run made is taken away again."""

from __future__ import annotations

import pytest

from coverage._errors import InputError
from coverage.outputs.paths import check_out_file, check_out_folder, created_folders


def test_a_folder_to_be_made_or_written(tmp_path):
    assert check_out_folder(tmp_path / "a" / "b") == tmp_path / "a" / "b"
    assert not (tmp_path / "a").exists()  # nothing is created by the check
    (tmp_path / "file").write_text("x")
    with pytest.raises(InputError, match="a file of that name exists"):
        check_out_folder(tmp_path / "file")
    with pytest.raises(InputError, match=r"file is a file, so no folder can be made there; give another --out"):
        check_out_folder(tmp_path / "file" / "below")


def test_a_file_to_be_written(tmp_path):
    assert check_out_file(tmp_path / "maps" / "m.html", suffixes=(".html",)) == tmp_path / "maps" / "m.html"
    with pytest.raises(
        InputError, match=r"--out .*m\.jpg: the map is written as HTML; give a file name ending in \.html"
    ):
        check_out_file(tmp_path / "m.jpg", suffixes=(".html",), what="the map")
    (tmp_path / "x.html").mkdir()
    with pytest.raises(InputError, match=r"is a folder; give the name of a file ending in \.html"):
        check_out_file(tmp_path / "x.html", suffixes=(".html",))


def test_created_folders_are_removed_when_the_block_fails(tmp_path):
    (tmp_path / "kept").mkdir()
    with pytest.raises(RuntimeError), created_folders(tmp_path / "kept" / "new" / "deeper"):
        raise RuntimeError("failed half-way")
    assert not (tmp_path / "kept" / "new").exists()
    assert (tmp_path / "kept").is_dir()  # it was there before
    with created_folders(tmp_path / "kept" / "ok") as folder:
        (folder / "f.txt").write_text("x")
    assert (tmp_path / "kept" / "ok" / "f.txt").is_file()
