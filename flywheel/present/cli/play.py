"""``flywheel play``: the management game in the terminal.

Each turn shows the dashboard, what people say about the misses and the decisions in force, then asks
for each decision (Enter keeps it; a number holds it; "habit" hands it back to the organisation;
"undo", "save", "help", "quit" at any prompt; a bad entry is asked again, nothing is lost). After the
last turn: the score, the player's path against the profile's comparison policies on the same shocks,
and a debrief that first asks for the player's prediction and then reveals the run's loop dominance.
The session is saved after every turn with ``--save`` and continued with ``--resume``; a plain-text
transcript for the trainer is written at the end and on quit.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path
from typing import Any

from .common import DEFAULT_MODEL, EXIT_OK, UsageError, add_command, default_path

QUIT_WORDS = ("quit", "exit", "q")
HELP_WORDS = ("help", "?", "h")


def register(sub: Any) -> None:
    p = add_command(
        sub, "play",
        help="play the management game in the terminal",
        description="Play the model's management game: each turn you see what a sales leader sees and take the "
        "model's GAME decisions; the model advances one turn. At the end: your score, your path against the "
        "comparison policies on the same shocks, and a debrief of the loops that drove your run. The model's "
        "profile ([game] in models/<model>.profile.toml) sets the turns, dashboard, decisions, score and shocks.",
        epilog="examples:\n  flywheel play                                  the flywheel game, seed 0, shock hidden\n"
        "  flywheel play --seed 7 --quarters 12 --save me.json\n  flywheel play --resume me.json\n"
        "  flywheel play scenarios/shock_add_overlays.toml --announce-shock --transcript room1.txt",
    )  # fmt: skip
    p.add_argument("scenario", nargs="?", metavar="SCENARIO.toml|MODEL",
                   help="a scenario or a model file (default: the flywheel model's own game)")  # fmt: skip
    p.add_argument("--quarters", type=int, default=None, metavar="N", help="turns to play (default: the profile's, 40)")
    p.add_argument("--seed", type=int, default=None, metavar="S", help="seed of the random shocks (default 0)")
    p.add_argument("--announce-shock", action="store_true", help="tell the player the shock (default: hidden)")
    p.add_argument("--save", metavar="FILE", help="save the session to FILE after every turn")
    p.add_argument("--resume", metavar="FILE", help="continue a saved session (and keep saving to it)")
    p.add_argument("--transcript", metavar="FILE",
                   help="plain-text transcript for the trainer (default: flywheel-play-<date-time>.txt)")  # fmt: skip
    p.add_argument("--force", action="store_true", help="overwrite an existing save or transcript file")
    p.set_defaults(func=cmd_play)


def cmd_play(args: argparse.Namespace) -> int:
    from ...analysis.play import Session
    from ..output import check_can_write

    if args.resume:
        given = [flag for flag, value in (("SCENARIO", args.scenario), ("--seed", args.seed), ("--quarters", args.quarters),
                                          ("--announce-shock", args.announce_shock)) if value]  # fmt: skip
        if given:
            raise UsageError(f"play: --resume continues a saved session; {', '.join(given)} cannot change it")
        path = Path(args.resume)
        session = Session.from_json(path.read_text(encoding="utf-8"), where=str(path))
    else:
        if args.quarters is not None and args.quarters < 1:
            raise UsageError(f"play: --quarters {args.quarters}: at least 1")
        if args.seed is not None and args.seed < 0:
            raise UsageError(f"play: --seed {args.seed}: a whole number >= 0")
        source = Path(args.scenario) if args.scenario else default_path(DEFAULT_MODEL)
        if not source.is_file():
            raise UsageError(f"{source}: no such scenario or model file")
        session = Session(source, seed=args.seed or 0, turns=args.quarters, announce=args.announce_shock)
    save = Path(args.save) if args.save else Path(args.resume) if args.resume else None
    if save is not None and not (args.resume and save.resolve() == Path(args.resume).resolve()):
        check_can_write([save], force=args.force)
    transcript = Path(args.transcript or f"flywheel-play-{time.strftime('%Y%m%d-%H%M%S')}.txt")
    check_can_write([transcript], force=args.force)
    return _Player(session, save, transcript, resumed=bool(args.resume)).run()


class _Quit(Exception):
    """The player typed quit (or the input ended)."""


class _Player:
    """The interactive loop: one object so that every prompt can save, undo, help or quit."""

    def __init__(self, session: Any, save: Path | None, transcript: Path, resumed: bool):
        from rich.console import Console

        from ...scenarios import load_profile

        self.session = session
        self.save_path = save
        self.transcript_path = transcript
        self.resumed = resumed
        self.console = Console(highlight=False)
        self.title = load_profile(session.model).title
        self.end: dict[str, Any] = {}
        self._loops = _Background(session.model)  # the loop analysis of the debrief, found while the player plays

    # ------------------------------------------------------------------ the game
    def run(self) -> int:
        from .. import game_view as view

        session = self.session
        try:
            if self.resumed:
                self.console.print(f"[bold]Resuming[/] seed {session.seed}: {session.turn} of {session.turns} "
                                   f"{session.settings.turn}s played.")  # fmt: skip
            else:
                self.console.print(view.intro(session, self.title))
            while not session.done:
                self._turn()
            self._finish()
        except (_Quit, KeyboardInterrupt):  # Ctrl-C is a quit too: nothing played is lost
            note = f"The player quit after {session.turn} of {session.turns} {session.settings.turn}s."
            self._autosave()
            self._write_transcript(note)
            self.console.print(f"{note} Transcript: {self.transcript_path}"
                               + (f"; saved: {self.save_path} (--resume to continue)" if self.save_path else ""))  # fmt: skip
            return EXIT_OK
        self._write_transcript("")
        self.console.print(f"Transcript for the trainer: {self.transcript_path}")
        return EXIT_OK

    def _turn(self) -> None:
        from ...errors import ParameterError
        from .. import game_view as view

        session = self.session
        self.console.print(view.turn_view(session, self.title, self.console.width))
        entries: dict[str, float | None] = {}
        rows = session.decision_rows()
        k = 0
        while k < len(rows):
            row = rows[k]
            text = self._ask(_prompt(k + 1, row))
            command = text.strip().lower()
            if command == "undo":
                if session.turn == 0:
                    self._error(f"Nothing to undo: this is the first {session.settings.turn}.")
                    continue
                session.undo()
                self._autosave()
                self.console.print(f"[gold1]Undone: back to {session.settings.turn} {session.turn + 1}.[/]")
                return
            if command == "":
                k += 1
                continue
            try:
                entries[row.view.name] = session.parse(row.view, text)
            except ParameterError as exc:
                self._error(str(exc))
                continue
            k += 1
        session.play(entries)
        self._autosave()

    def _error(self, message: str) -> None:
        from rich.text import Text

        self.console.print(Text(message, style="red1"))

    def _ask(self, prompt: str) -> str:
        """One line from the player; help and save are handled here, quit ends the game."""
        from rich.markup import escape

        from .. import game_view as view

        while True:
            try:
                text = self.console.input(escape(prompt))
            except EOFError:
                raise _Quit from None
            command = text.strip().lower()
            if command in QUIT_WORDS:
                raise _Quit
            if command in HELP_WORDS:
                self.console.print(view.help_view(self.session))
                continue
            if command == "save" or command.startswith("save "):
                self._save_command(text.strip()[4:].strip())
                continue
            return text

    # ------------------------------------------------------------------ the end
    def _finish(self) -> None:
        from ...analysis.debrief import check_prediction, loop_story
        from ...analysis.play import PolicyRun
        from ...errors import ModelError
        from .. import game_view as view

        session = self.session
        you = PolicyRun("You", session.frame(), session.score())
        others = session.comparisons()
        self.end.update(you=you, others=others)
        self.console.rule(f"[bold]The end: {session.turns} {session.settings.turn}s played")
        self.console.print(view.end_view(session, you, others, self.console.width))
        try:
            with self.console.status("Reading the feedback loops of your run..."):
                self._loops.result()
                story = loop_story(session)
        except ModelError as exc:
            self.console.print(f"[grey58]No loop debrief: {exc}[/]")
            story = None
        self.console.rule("[bold]Debrief: first your prediction")
        if story is not None and story.named and "loops" not in session.answers:
            self.console.print(view.loop_menu(story))
            session.answers["loops"] = self._ask_loops(story)
            self._autosave()
        item = next((i for i in session.settings.dashboard if i.variable == session.settings.predict), None)
        if item is not None and "trajectory" not in session.answers:
            session.answers["trajectory"] = self._ask_trajectory(item)
            self._autosave()
        actual = self._actual(item, you.frame) if item is not None else []
        predicted = dict((t, v) for t, v in session.answers.get("trajectory") or [])
        trajectory = [(t, predicted[t], a) for t, a in actual if t in predicted]
        check = check_prediction(story, session.answers.get("loops") or [], trajectory) if story is not None else None
        self.end.update(story=story, check=check)
        self.console.rule("[bold]Debrief: what happened")
        if story is not None:
            self.console.print(view.reveal_view(story, check, item.label if item else "", item.units if item else "",
                                                view.time_unit(session)))  # fmt: skip

    def _ask_loops(self, story: Any) -> list[str]:
        named = [loop_id for loop_id, _, _ in story.named]
        lookup = {loop_id.lower(): loop_id for loop_id in named}
        while True:
            text = self._ask("Which loops do you believe drove your result? Numbers or ids (e.g. 5 14 R6), "
                             "Enter to skip: ")  # fmt: skip
            picked, bad = [], []
            for token in text.replace(",", " ").split():
                if token.isdigit() and 1 <= int(token) <= len(named):
                    picked.append(named[int(token) - 1])
                elif token.lower() in lookup:
                    picked.append(lookup[token.lower()])
                else:
                    bad.append(token)
            if bad:
                self._error(f"Not a loop of the list: {' '.join(bad)} (numbers 1-{len(named)} or ids such as {named[0]})")
                continue
            return list(dict.fromkeys(picked))

    def _ask_trajectory(self, item: Any) -> list[list[float]]:
        times = self.session.checkpoints()
        unit = f" in {item.units}" if item.units else ""
        shown = ", ".join(f"{t:g}" for t in times)
        while True:
            text = self._ask(f"Sketch the trajectory you expected: {item.label}{unit} at months {shown}? "
                             f"{len(times)} numbers, Enter to skip: ")  # fmt: skip
            if not text.strip():
                return []
            try:
                values = [float(x.rstrip("%")) for x in text.replace(",", " ").split()]
            except ValueError:
                values = []
            if len(values) == len(times) and all(v == v and abs(v) != float("inf") for v in values):
                return [[t, v] for t, v in zip(times, values, strict=True)]
            self._error(f"Enter {len(times)} numbers separated by spaces, e.g. 90 85 80.")

    def _actual(self, item: Any, frame: Any) -> list[tuple[float, float]]:
        series = frame[item.variable]
        first = float(series.iloc[0])
        out = []
        for t in self.session.checkpoints():
            value = float(series.loc[min(series.index, key=lambda x: abs(x - t))])
            out.append((t, value / first * item.scale if item.relative and first else value * item.scale))
        return out

    # ------------------------------------------------------------------ files
    def _autosave(self) -> None:
        if self.save_path is not None:
            from ..output import write_text

            write_text(self.save_path, self.session.to_json(), force=True)

    def _save_command(self, name: str) -> None:
        from ...errors import OutputError
        from ..output import check_can_write, write_text

        target = Path(name) if name else self.save_path or Path(f"flywheel-play-seed{self.session.seed}.json")
        try:
            if target != self.save_path:
                check_can_write([target])
            write_text(target, self.session.to_json(), force=True)
        except OutputError as exc:
            self._error(f"{exc} (type save FILE to save elsewhere)")
            return
        self.save_path = target
        self.console.print(f"[gold1]Saved to {target}; it is kept after every {self.session.settings.turn} from now on "
                           f"(flywheel play --resume {target}).[/]")  # fmt: skip

    def _write_transcript(self, note: str) -> None:
        from .. import game_view as view
        from ..output import write_text

        text = view.transcript(self.session, self.title, self.end.get("you"), self.end.get("others", ()),
                               self.end.get("story"), self.end.get("check"), note)  # fmt: skip
        write_text(self.transcript_path, text, force=True)


class _Background:
    """Prepare the loop analysis in a daemon thread (a quit never waits for it); ``result()`` waits for it
    and re-raises its error, if any."""

    def __init__(self, model: Any):
        import threading

        from ...analysis.debrief import prepare

        self._error: BaseException | None = None

        def work() -> None:
            try:
                prepare(model)
            except BaseException as exc:  # handed to the main thread by result()
                self._error = exc

        self._thread = threading.Thread(target=work, name="flywheel-loops", daemon=True)
        self._thread.start()

    def result(self) -> None:
        self._thread.join()
        if self._error is not None:
            raise self._error


def _prompt(k: int, row: Any) -> str:
    view = row.view
    low = "" if row.low is None else f"{row.low:.{view.digits}f}".rstrip("0").rstrip(".") if view.digits else f"{row.low:.0f}"
    high = "" if row.high is None else f"{row.high:.{view.digits}f}".rstrip("0").rstrip(".") if view.digits else f"{row.high:.0f}"
    now = f"{row.value:.{view.digits}f}"
    state = "yours" if row.held else "habit"
    units = f", {view.units}" if view.units else ""
    return f"{k}. {view.label}{units} [{low}-{high}], now {now} ({state}): "
