"""The `lossbook` command and the stdlib-only `course.py` bootstrap: versions, usage, exit codes."""
import os
import subprocess
import sys
from pathlib import Path

import pytest

import lossbook
from lossbook import cli

ROOT = Path(__file__).resolve().parents[2]
LOSSBOOK_SCRIPT = Path(sys.executable).with_name("lossbook")


def run(*command, cwd=ROOT):
    return subprocess.run(command, capture_output=True, text=True, cwd=cwd, timeout=120,
                          env={**os.environ, "PYTHONWARNINGS": "error::DeprecationWarning"})


@pytest.mark.parametrize("command", [
    pytest.param([sys.executable, "-m", "lossbook"], id="python -m lossbook"),
    pytest.param([str(LOSSBOOK_SCRIPT)], id="lossbook console script"),
])
def test_version(command):
    if not Path(command[0]).exists():
        pytest.fail(f"{command[0]} is missing: is lossbook installed (pip install -e .)?")
    done = run(*command, "--version")
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == f"lossbook {lossbook.__version__}"


def test_version_matches_the_package_metadata():
    from importlib.metadata import version
    assert version("lossbook") == lossbook.__version__


def test_no_command_exits_2_with_usage_naming_every_command():
    done = run(sys.executable, "-m", "lossbook")
    assert done.returncode == 2
    assert "usage: lossbook" in done.stderr
    for name in cli.COMMANDS:
        assert name in done.stderr
    assert "Traceback" not in done.stderr


def test_unknown_command_exits_2_with_usage_naming_every_command():
    done = run(sys.executable, "-m", "lossbook", "grdae")
    assert done.returncode == 2
    assert "usage: lossbook" in done.stderr
    assert "invalid choice: 'grdae'" in done.stderr
    for name in cli.COMMANDS:
        assert name in done.stderr
    assert "Traceback" not in done.stderr


def test_every_command_module_registers_itself():
    parser = cli.build_parser()
    choices = next(a for a in parser._actions if a.dest == "command").choices
    assert list(choices) == list(cli.COMMANDS)
    for name in cli.COMMANDS:
        assert callable(choices[name].get_default("func")), f"`lossbook {name}` sets no func"


@pytest.mark.parametrize("name", cli.COMMANDS)
def test_every_command_has_help(name, capsys):
    with pytest.raises(SystemExit) as exit_info:
        cli.main([name, "--help"])
    assert exit_info.value.code == 0
    out = capsys.readouterr().out
    assert out.startswith(f"usage: lossbook {name}")


def test_help_in_a_fresh_process_does_not_load_heavy_libraries():
    code = ("import sys; from lossbook import cli\n"
            "try:\n    cli.main(['--help'])\nexcept SystemExit:\n    pass\n"
            "print(sorted(m for m in ('matplotlib', 'ipywidgets', 'scipy', 'IPython', 'nbclient', 'torch') if m in sys.modules))")
    done = run(sys.executable, "-c", code)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip().splitlines()[-1] == "[]"


def test_course_bootstrap_unknown_command_prints_usage_and_exits_2():
    done = run(sys.executable, "-m", "course", "bogus")
    assert done.returncode == 2
    assert "python3 -m course lab" in done.stderr and "python3 -m course test" in done.stderr
    assert "unknown command 'bogus'; choose one of: lab, test" in done.stderr


def test_course_bootstrap_without_command_prints_usage_and_exits_2():
    done = run(sys.executable, "-m", "course")
    assert done.returncode == 2
    assert "python3 -m course lab" in done.stderr


def test_course_bootstrap_uses_only_the_standard_library():
    # run it with an interpreter that sees no site-packages at all (-S -I): a fresh machine
    done = run(sys.executable, "-S", "-I", "-c",
               "import sys; sys.path.insert(0, '.'); import course; "
               "top = {m.split('.')[0] for m in sys.modules}; "
               "print(sorted(top - set(sys.stdlib_module_names) - set(sys.builtin_module_names)))")
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "['__main__', 'course']"
