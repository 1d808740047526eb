"""Screenshots of `flywheel play` for the documentation: a turn in the middle of a game and the end screen
with the debrief, rendered by rich exactly as the terminal shows them (SVG) and, when Chromium is
installed, as PNG.

    PYTHONPATH=. python3 scripts/play_screenshots.py [--out docs] [--width 110]

The player is scripted: on the flywheel's default game (seed 0: the market shrinks by 12 % in month 12,
hidden), they launch two overlay FTE per 100 sellers every quarter from the fourth quarter on.
"""

from __future__ import annotations

import argparse
import io
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from rich.console import Console

import flywheel
from flywheel.analysis.debrief import check_prediction, loop_story
from flywheel.analysis.play import PolicyRun, Session
from flywheel.present import game_view as view

ROOT = Path(__file__).resolve().parents[1]


def render(out: Path, name: str, width: int, *renderables) -> Path:
    console = Console(record=True, width=width, force_terminal=True, color_system="truecolor", file=io.StringIO())
    for item in renderables:
        console.print(item)
    svg = out / f"{name}.svg"
    console.save_svg(str(svg), title="flywheel play")
    return svg


def to_png(svg: Path, width: int) -> Path | None:
    browser = shutil.which("chromium") or shutil.which("chromium-browser") or shutil.which("google-chrome")
    if browser is None:
        return None
    text = svg.read_text(encoding="utf-8")
    box = text[text.index('viewBox="') + 9 :].split('"')[0].split()
    w, h = int(float(box[2])) + 2, int(float(box[3])) + 2
    png = svg.with_suffix(".png")
    with tempfile.TemporaryDirectory() as profile:
        subprocess.run([browser, "--headless", "--no-sandbox", "--disable-gpu", f"--user-data-dir={profile}",
                        "--hide-scrollbars", f"--screenshot={png}", f"--window-size={w},{h}", svg.resolve().as_uri()],
                       check=True, capture_output=True, timeout=120)  # fmt: skip
    return png


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", default=str(ROOT / "docs"), help="folder for the images (default docs/)")
    parser.add_argument("--width", type=int, default=110, help="terminal columns (default 110)")
    args = parser.parse_args()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    model = flywheel.load_model(ROOT / "models" / "evil_sales_flywheel.mdl")
    title = flywheel.load_profile(model).title
    session = Session(model, seed=0)
    for turn in range(12):
        session.play({"Overlay Creation": 0.2 / 3} if turn >= 3 else {})
    written = [render(out, "play_turn", args.width, view.turn_view(session, title, args.width))]
    while not session.done:
        session.play({})
    you = PolicyRun("You", session.frame(), session.score())
    story = loop_story(session)
    session.answers = {"loops": ["R1", "R8", "B1"], "trajectory": [[42, 90], [81, 85], [120, 80]]}
    actual = session.frame()["Target Attainment"]
    check = check_prediction(story, session.answers["loops"], [(t, v, 100 * float(actual.loc[t])) for t, v in session.answers["trajectory"]])
    written.append(render(out, "play_end", args.width, view.end_view(session, you, session.comparisons(), args.width),
                          view.reveal_view(story, check, "Attainment against target", "%", "month")))  # fmt: skip
    for svg in written:
        png = to_png(svg, args.width)
        print(f"wrote {svg}" + (f" and {png}" if png else " (no Chromium: no PNG)"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
