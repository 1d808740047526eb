"""`flywheel play` as a player runs it: through a pseudo-terminal (pexpect), with scripted players, bad
entries, undo, help, save, quit and resume; and the mistakes that stop it before it starts (one line,
exit 2, nothing written)."""

from __future__ import annotations

import json
import os
import re
import sys
from pathlib import Path

import pytest

from .conftest import REPO_ROOT
from .model_text import equation, write_model

pexpect = pytest.importorskip("pexpect", reason="pexpect is not installed (pip install -e '.[test]')")

SHOCK = REPO_ROOT / "scenarios" / "shock_add_overlays.toml"
PROMPTS = (r"1\. Deep dives", r"2\. Overlay staff to launch", r"3\. Overlay staff to dissolve", r"4\. Targets set")
ANSI = re.compile(r"\x1b\[[0-9;?]*[a-zA-Z]")


def spawn(tmp_path: Path, *args: object):
    env = dict(os.environ, COLUMNS="110", LINES="60", TERM="xterm-256color")
    env["PYTHONPATH"] = os.pathsep.join(p for p in [str(REPO_ROOT), env.get("PYTHONPATH", "")] if p)
    child = pexpect.spawn(sys.executable, ["-m", "flywheel", "play", *map(str, args)], cwd=str(tmp_path), env=env,
                          encoding="utf-8", dimensions=(60, 110), timeout=60)  # fmt: skip
    child.delaybeforesend = None  # the game waits for each line anyway
    child.screen = []  # everything the player saw, without colour codes
    child.logfile_read = _Screen(child.screen)
    return child


class _Screen:
    def __init__(self, sink: list[str]):
        self.sink = sink

    def write(self, text: str) -> None:
        self.sink.append(ANSI.sub("", text))

    def flush(self) -> None:
        pass


def answer_turns(child, quarters: int, first: tuple[str, ...], later: tuple[str, ...] = ("", "", "", "")) -> None:
    """Enter ``first`` at the four prompts of the first quarter, then ``later`` (Enter keeps the value)."""
    for quarter in range(quarters):
        for prompt, entry in zip(PROMPTS, first if quarter == 0 else later, strict=True):
            child.expect(prompt)
            child.sendline(entry)


def skip_debrief(child) -> None:
    child.expect("Which loops do you believe drove your result")
    child.sendline("")
    child.expect("Sketch the trajectory you expected")
    child.sendline("")
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 0, "".join(child.screen)[-3000:]


def transcript_numbers(path: Path) -> tuple[float, float]:
    """The score and the attainment at the end, from the trainer's transcript."""
    text = path.read_text(encoding="utf-8")
    score = float(re.search(r"^Score: ([\d.]+)", text, re.M).group(1))
    end = text[text.index("\nAfter ") :]
    attainment = float(re.search(r"Attainment against target (\d+) %", end).group(1))
    return score, attainment


def test_scripted_players_through_the_terminal(tmp_path) -> None:
    """Three overlay FTE per 100 sellers launched every quarter after the shock ends in the trap; 30 %
    deep dives and no launches does not: the game, the end screen and the debrief as a player sees them."""
    players = {"overlays": ("", "3", "", ""), "deep dives": ("30", "0", "", "")}
    children = {name: spawn(tmp_path, SHOCK, "--quarters", 20, "--transcript", f"{name}.txt", "--seed", 1)
                for name in players}  # both start at once: two cores  # fmt: skip
    for name, first in players.items():
        answer_turns(children[name], 20, first)
    results = {}
    for name, child in children.items():
        skip_debrief(child)
        screen = "".join(child.screen)
        for seen in ("Quarter 20 of 20", "What you hear", "Your decisions for quarter 20", "Your score:",
                     "At the end, on the same shocks", "The market shrank by 10% for good in month 12",
                     "What drove your run (Loops That Matter)", "Transcript for the trainer"):  # fmt: skip
            assert seen in screen, f"{seen!r} not shown"
        results[name] = transcript_numbers(tmp_path / f"{name}.txt")
        (tmp_path / f"{name}.screen.txt").write_text(screen, encoding="utf-8")
    (overlay_score, overlay_attainment), (deep_score, deep_attainment) = results["overlays"], results["deep dives"]
    assert overlay_attainment < 75 < 95 < deep_attainment
    assert overlay_score < deep_score - 10
    overlays_screen = (tmp_path / "overlays.screen.txt").read_text(encoding="utf-8")
    assert "You decided Overlay Creation yourself in 20 turns" in overlays_screen


def test_bad_entries_re_prompt_and_nothing_is_lost(tmp_path) -> None:
    child = spawn(tmp_path, SHOCK, "--quarters", 2, "--transcript", "t.txt", "--save", "s.json", "--announce-shock")
    child.expect("The market shrank by 10% for good in month 12")  # announced
    child.expect(PROMPTS[0])
    for entry, reply in (("abc", "'abc' is not a number: enter a number from 0 to 50"), ("99", "99 is out of range"),
                         ("help", r"Help.*Enter"), ("undo", "Nothing to undo"), ("save", "Saved to s.json")):  # fmt: skip
        child.sendline(entry)
        child.expect(reply)
        child.expect(PROMPTS[0])  # the same question again
    child.sendline("30")
    child.expect(PROMPTS[1])
    child.sendline("2,5")  # a decimal comma is read
    child.expect(PROMPTS[2])
    child.sendline("")
    child.expect(PROMPTS[3])
    child.sendline("habit")
    child.expect(r"1\. Deep dives.*now 30 \(yours\)")  # quarter 2: the held value is in force
    child.sendline("undo")
    child.expect("Undone: back to quarter 1")
    answer_turns(child, 2, ("25", "", "", ""))
    child.expect("Which loops")
    child.sendline("R1 99")
    child.expect("Not a loop of the list: 99")
    child.sendline("14 r6")
    child.expect("Sketch the trajectory")
    child.sendline("90")
    child.expect("Enter 2 numbers")  # two checkpoints in a game of two quarters
    child.sendline("90 80")
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 0
    saved = json.loads((tmp_path / "s.json").read_text(encoding="utf-8"))
    moves = saved["game"]["moves"]
    assert moves == [{"Deep Dive Share": 0.25}, {"Deep Dive Share": 0.25}]  # the undone quarter is gone
    assert saved["answers"] == {"loops": ["R1", "R6"], "trajectory": [[3, 90], [6, 80]]}
    transcript = (tmp_path / "t.txt").read_text(encoding="utf-8")
    assert "Deep dives and root-cause work 25 % of your management time" in transcript
    assert "Loops the player named: R1, R6" in transcript and "you expected 80" in transcript


def test_quit_save_and_resume_give_the_same_run(tmp_path) -> None:
    part = spawn(tmp_path, "--quarters", 6, "--seed", 3, "--transcript", "part.txt", "--save", "s.json")
    whole = spawn(tmp_path, "--quarters", 6, "--seed", 3, "--transcript", "whole.txt")  # meanwhile, uninterrupted
    answer_turns(part, 3, ("20", "1", "", "50"), ("", "0", "", ""))
    part.expect(PROMPTS[0])
    part.sendline("quit")
    part.expect(pexpect.EOF)
    part.close()
    assert part.exitstatus == 0
    assert "The player quit after 3 of 6 quarters" in (tmp_path / "part.txt").read_text(encoding="utf-8")
    rest = spawn(tmp_path, "--resume", "s.json", "--transcript", "rest.txt")
    answer_turns(whole, 6, ("20", "1", "", "50"), ("", "0", "", ""))
    rest.expect("seed 3: 3 of 6 quarters played")
    answer_turns(rest, 3, ("", "0", "", ""))
    skip_debrief(whole)
    skip_debrief(rest)
    whole_text, rest_text = ((tmp_path / f"{n}.txt").read_text(encoding="utf-8") for n in ("whole", "rest"))
    assert transcript_numbers(tmp_path / "rest.txt") == transcript_numbers(tmp_path / "whole.txt")
    assert whole_text[whole_text.index("Quarter 1 ") :] == rest_text[rest_text.index("Quarter 1 ") :]


# ---------------------------------------------------------------------------------------------- refusals


def test_a_model_without_game_variables_is_one_line(cli, tmp_path) -> None:
    plain = write_model(tmp_path, equation("Stock", "INTEG(1, 0)", "things"), name="plain.mdl")
    proc = cli("play", plain, "--transcript", "t.txt")
    assert proc.returncode == 2 and proc.stdout == ""
    assert proc.stderr.count("\n") == 1 and "plain.mdl: the model has no GAME variables" in proc.stderr
    assert not (tmp_path / "t.txt").exists()


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("{broken", "not a saved game"),
        ('{"format": "flywheel-game/1", "moves": []}', "not a saved game of flywheel play"),
        ('{"format": "flywheel-play/1", "seed": 0, "turns": 4, "shocks": {}}', "the game or its shocks are missing"),
    ],
)
def test_a_broken_save_file_is_one_line(cli, tmp_path, text: str, message: str) -> None:
    (tmp_path / "s.json").write_text(text, encoding="utf-8")
    proc = cli("play", "--resume", "s.json")
    assert proc.returncode == 2 and proc.stderr.startswith("flywheel: s.json: ") and message in proc.stderr
    assert proc.stderr.count("\n") == 1 and list(tmp_path.iterdir()) == [tmp_path / "s.json"]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--resume", "s.json", "--seed", "3"), "--resume continues a saved session; --seed cannot change it"),
        (("--save", "s.json"), "s.json already exists; use --force"),
        (("--transcript", "s.json"), "s.json already exists; use --force"),
        (("nowhere.toml",), "nowhere.toml: no such scenario or model file"),
        (("--quarters", "0"), "--quarters 0: at least 1"),
        (("--resume", "missing.json"), "missing.json: No such file"),
    ],
)
def test_play_refuses_bad_arguments_before_it_starts(cli, tmp_path, args, message) -> None:
    (tmp_path / "s.json").write_text("{}", encoding="utf-8")
    proc = cli("play", *args)
    assert proc.returncode == 2 and message in proc.stderr and proc.stderr.count("\n") == 1
    assert (tmp_path / "s.json").read_text(encoding="utf-8") == "{}" and len(list(tmp_path.iterdir())) == 1
