"""The page's look: one colour per plan (the comparison figure's first two), fonts and the style sheets.

System fonts only (nothing is fetched from the network); sizes chosen for a projector in a workshop.
"""

from __future__ import annotations

from ..plots import OKABE_ITO

PLAN_KEYS = ("your_plan", "alternative")
PLAN_COLORS = {"your_plan": OKABE_ITO[0], "alternative": OKABE_ITO[1]}  # blue, vermillion
INK = "#1f2933"
MUTED = "#52606d"
RULE = "#d9e2ec"
PAPER = "#f5f7fa"
FONT = 'system-ui, -apple-system, "Segoe UI", Roboto, "Liberation Sans", "DejaVu Sans", Arial, sans-serif'

PAGE_CSS = f"""
body {{ font-family: {FONT}; color: {INK}; background: {PAPER}; margin: 0; }}
"""

#: Style sheet for the page's HTML panes (each lives in its own shadow root).
HTML_CSS = f"""
:host {{ font-family: {FONT}; color: {INK}; width: 100%; }}
.fw-header h1 {{ font-size: 26px; margin: 0 0 4px 0; font-weight: 650; }}
.fw-header p {{ font-size: 15px; color: {MUTED}; margin: 0; max-width: 1100px; line-height: 1.4; }}
.fw-section {{ font-size: 13px; font-weight: 700; letter-spacing: .08em; text-transform: uppercase;
               color: {MUTED}; margin: 6px 0 0 0; }}
.fw-lever-title {{ font-size: 15px; font-weight: 650; margin: 0; line-height: 1.3; }}
.fw-dimension {{ font-size: 11px; font-weight: 700; letter-spacing: .06em; text-transform: uppercase;
                 color: {MUTED}; margin: 0 0 2px 0; }}
.fw-explain {{ font-size: 13px; color: {MUTED}; margin: 2px 0 0 0; line-height: 1.35; }}
.fw-chip {{ display: inline-block; width: 14px; height: 14px; border-radius: 3px; margin-right: 6px;
            vertical-align: -2px; }}
.fw-plan {{ font-size: 16px; font-weight: 650; }}
.fw-note {{ font-size: 13px; color: {MUTED}; }}
.fw-takeaways {{ margin: 0; padding: 0; list-style: none; min-height: 190px; }}
.fw-takeaways li {{ font-size: 16px; line-height: 1.45; margin: 0 0 8px 0; padding: 2px 0 2px 12px;
                    border-left: 5px solid {RULE}; }}
table.fw-summary {{ border-collapse: collapse; width: 100%; font-size: 15px; }}
table.fw-summary th {{ font-size: 12px; font-weight: 650; color: {MUTED}; text-align: right; padding: 4px 10px;
                       border-bottom: 2px solid {RULE}; vertical-align: bottom; line-height: 1.25; }}
table.fw-summary th:first-child, table.fw-summary td:first-child {{ text-align: left; }}
table.fw-summary td {{ text-align: right; padding: 7px 10px; border-bottom: 1px solid {RULE};
                       font-variant-numeric: tabular-nums; }}
table.fw-summary td:first-child {{ font-weight: 650; }}
.fw-chance {{ display: flex; gap: 14px; flex-wrap: wrap; align-items: stretch; }}
.fw-chance .fw-card {{ border-left: 6px solid; padding: 6px 12px; background: white; border-radius: 4px;
                       min-width: 220px; }}
.fw-chance .fw-big {{ font-size: 26px; font-weight: 700; }}
.fw-caveats {{ font-size: 12.5px; color: {MUTED}; line-height: 1.4; }}
.fw-caveats li {{ margin-bottom: 4px; }}
"""

CARD_STYLES = {"background": "white", "border": f"1px solid {RULE}", "border-radius": "6px",
               "padding": "6px 10px 4px 10px", "margin": "4px 0"}  # fmt: skip
PANEL_STYLES = {"background": "white", "border": f"1px solid {RULE}", "border-radius": "6px", "padding": "10px 14px"}
