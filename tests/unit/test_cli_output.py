"""`--json` promises exactly one JSON document on stdout, whatever else runs in the process."""

from __future__ import annotations

import json
import logging
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
import typer

from parakeet_cli.app import Output, run

REPO = Path(__file__).resolve().parents[2]


def noisy_body(out: Output) -> int:
    """What an in-process local stack does while a command runs: a Powertools-style logger created now
    (its handler binds the stdout of the moment), a library's print, then the answer."""
    handler = logging.StreamHandler(sys.stdout)
    log = logging.getLogger("noisy-lambda")
    log.addHandler(handler)
    log.propagate = False
    try:
        log.warning('{"level":"INFO","message":"upload started"}')
        print("a library prints")
    finally:
        log.removeHandler(handler)
    out.emit({"answer": 42}, lambda console: console.print("answer 42"))
    return 0


def test_in_process_stdout_holds_only_the_document(capsys: pytest.CaptureFixture[str]) -> None:
    # When a command body logs and prints to stdout while it runs
    with pytest.raises(typer.Exit):
        run(True, noisy_body)

    # Then stdout is one JSON document, and the noise went to stderr
    captured = capsys.readouterr()
    assert json.loads(captured.out) == {"answer": 42}
    assert "upload started" in captured.err and "a library prints" in captured.err


def test_human_output_stays_on_stdout_and_noise_goes_to_stderr(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(typer.Exit):
        run(False, noisy_body)
    captured = capsys.readouterr()
    assert captured.out.strip() == "answer 42"
    assert "a library prints" in captured.err


def test_in_a_real_process_writes_to_file_descriptor_1_do_not_reach_stdout() -> None:
    # Given a real process, where C libraries and subprocesses write to descriptor 1 directly
    script = textwrap.dedent("""
        import os, subprocess, sys
        import typer
        from parakeet_cli.app import run

        def body(out):
            os.write(1, b"written to fd 1\\n")
            subprocess.run([sys.executable, "-c", "print('a child process prints')"], check=True)
            print("python print")
            out.emit({"answer": 42}, lambda console: None)
            return 0

        try:
            run(True, body)
        except typer.Exit as done:
            sys.exit(done.exit_code)
    """)
    done = subprocess.run(
        [sys.executable, "-c", script],
        cwd=REPO,
        capture_output=True,
        text=True,
        env={"PYTHONPATH": f"{REPO}:{REPO / 'functions'}", "PATH": "/usr/bin:/bin"},
        check=False,
        timeout=120,
    )
    # Then stdout holds the document alone and the rest is on stderr
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == {"answer": 42}
    for noise in ("written to fd 1", "a child process prints", "python print"):
        assert noise in done.stderr
