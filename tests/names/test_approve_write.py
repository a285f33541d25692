"""names approve writes the configured list only inside the project."""

from __future__ import annotations

from pathlib import Path

from tests.conftest import MakeProject, run_cli

LOCK = "requests==2.31.0 --hash=sha256:" + "a" * 64 + "\n"


def test_configured_path_outside_the_project_is_refused(
    make_project: MakeProject, tmp_path: Path
) -> None:
    root = make_project(
        {
            "project/requirements.txt": LOCK,
            "project/bastion.toml": 'approved-packages-file = "../../x.sh"\n',
        }
    )
    code, out, err = run_cli("names", "approve", str(root / "project"))
    assert code == 3, (out, err)
    assert "refusing to write outside" in err and "Traceback" not in err
    assert not (tmp_path.parent / "x.sh").exists()
    assert not (tmp_path / "x.sh").exists()


def test_configured_symlink_is_not_written_through(
    make_project: MakeProject, tmp_path: Path
) -> None:
    config = 'approved-packages-file = "a.txt"\n'
    root = make_project({"requirements.txt": LOCK, "bastion.toml": config})
    victim = tmp_path.parent / f"{tmp_path.name}-victim.sh"
    victim.write_text("#!/bin/sh\n", encoding="utf-8")
    try:
        (root / "a.txt").symlink_to(victim)
        code, _, err = run_cli("names", "approve", str(root))
        assert code == 3 and "through a symlink" in err
        assert victim.read_text(encoding="utf-8") == "#!/bin/sh\n"
    finally:
        victim.unlink()


def test_configured_path_inside_is_written(make_project: MakeProject) -> None:
    root = make_project(
        {"requirements.txt": LOCK, "bastion.toml": 'approved-packages-file = "lists/a.txt"\n'}
    )
    (root / "lists").mkdir()
    code, _, err = run_cli("names", "approve", str(root))
    assert code == 0, err
    assert (root / "lists" / "a.txt").read_text(encoding="utf-8").splitlines()[-1] == "requests"
