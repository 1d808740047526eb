"""The board report's stylesheet: screen (a centred column) and print (A4, a cover page, one section per
page, running title and page numbers in the page margins, figures never split). System fonts only."""

CSS = r"""
:root {
  --ink: #1d2733; --muted: #5b6675; --accent: #0b3d66; --accent-2: #0072B2; --rule: #d5dbe3;
  --paper: #ffffff; --tint: #f3f6f9; --warn: #8a4b00; --warn-bg: #fff6e8;
}
* { box-sizing: border-box; }
html { font-size: 11pt; }
body {
  margin: 0; color: var(--ink); background: #e9edf1;
  font-family: "Helvetica Neue", Helvetica, Arial, "Liberation Sans", "DejaVu Sans", sans-serif;
  line-height: 1.45; -webkit-print-color-adjust: exact; print-color-adjust: exact;
}
section { background: var(--paper); max-width: 1000px; margin: 24px auto; padding: 40px 56px; }
h1, h2, h3 { color: var(--accent); line-height: 1.2; font-weight: 700; }
h2 { font-size: 1.75rem; margin: 0 0 0.9rem; padding-bottom: 0.35rem; border-bottom: 2px solid var(--accent); }
h2 .num {
  display: inline-block; min-width: 1.6em; margin-right: 0.5em; padding: 0 0.3em; text-align: center;
  color: #fff; background: var(--accent); border-radius: 3px;
}
h3 { font-size: 1.2rem; margin: 1.4rem 0 0.5rem; }
p { margin: 0 0 0.7rem; }
code { font-family: "DejaVu Sans Mono", monospace; font-size: 0.85em; background: var(--tint); padding: 0 0.2em; }
.small, .small * { font-size: 0.8rem; color: var(--muted); }
figure.fig { margin: 1rem 0 1.2rem; text-align: center; }
figure.fig img { width: 100%; height: auto; }
figcaption { font-size: 0.8rem; color: var(--muted); text-align: left; margin-top: 0.3rem; }
table { border-collapse: collapse; width: 100%; margin: 0.6rem 0 1rem; font-size: 0.86rem; }
th, td { padding: 0.32rem 0.5rem; border-bottom: 1px solid var(--rule); vertical-align: top; text-align: left; }
thead th { background: var(--accent); color: #fff; font-weight: 600; vertical-align: bottom; border-bottom: 0; }
thead th .small { color: #dbe6f0; }
tbody tr:nth-child(even) { background: var(--tint); }
td.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
table.summary td.num { font-size: 0.95rem; }
table.summary tbody th { font-weight: 600; }
.varname { font-size: 0.72rem; color: var(--muted); font-weight: 400; }
td.source { font-size: 0.75rem; color: var(--muted); max-width: 22rem; }
ol.story { font-size: 1.15rem; line-height: 1.5; padding-left: 1.4em; }
ol.story li { margin-bottom: 0.6rem; }
ul.findings li, ul.caveats li { margin-bottom: 0.45rem; }
dl.plans dt { font-weight: 700; color: var(--accent); margin-top: 0.5rem; }
dl.plans dd { margin: 0.1rem 0 0.4rem 0; font-size: 0.9rem; }
.callout { background: var(--warn-bg); border-left: 4px solid var(--warn); padding: 0.6rem 0.8rem; color: #3d2a10; }
.two-col { display: flex; gap: 1.2rem; align-items: center; }
.two-col > div:first-child { flex: 1.35; }
.two-col > div:last-child { flex: 1; }
table.dims th:first-child { white-space: nowrap; } table.dims .bar { width: 3.6rem; }
.two-col figure.fig img { width: 100% !important; }
.bar { display: inline-block; width: 5rem; height: 0.6rem; background: var(--rule); border-radius: 2px; }
.bar span { display: block; height: 100%; background: var(--accent-2); border-radius: 2px; }
table.ranking td.small { min-width: 13rem; }
table.ranking tbody th { min-width: 8.5rem; }
caption { caption-side: top; text-align: left; font-weight: 700; color: var(--accent); padding: 0.2rem 0 0.4rem; }
table.mapping th:nth-child(1) { width: 15%; } table.mapping th:nth-child(2) { width: 15%; }
table.mapping th:nth-child(3) { width: 22%; } table.mapping td:nth-child(3) { font-size: 0.75rem; word-break: break-word; }
table.keynumbers tr.sub th { background: #2c5a85; font-weight: 400; font-size: 0.78rem; padding-top: 0.1rem; }
p.headline { font-size: 1.05rem; }
ul.loop-list { columns: 2; column-gap: 2rem; list-style: none; padding: 0; font-size: 0.85rem; }
ul.loop-list li { break-inside: avoid; margin-bottom: 0.15rem; }
.loop-id { display: inline-block; min-width: 2.4em; font-weight: 700; }
.loop-R, strong.r { color: #b2182b; } .loop-B, strong.b { color: #2166ac; }
table.summary thead th:not(:first-child), table.keynumbers thead th:not(:first-child),
table.position thead th:not(:first-child), table.projection thead th:not(:first-child) { text-align: right; }
.cover-toc { margin-top: 2.2rem; }
.cover-toc-head { font-weight: 700; color: var(--accent); margin-bottom: 0.3rem; text-transform: uppercase; letter-spacing: 0.12em; font-size: 0.85rem; }
.cover-toc ul { list-style: none; padding: 0; margin: 0; columns: 2; column-gap: 2rem; }
.cover-toc li { padding: 0.15rem 0; border-bottom: 1px dotted var(--rule); break-inside: avoid; }

/* cover */
section.cover { position: relative; min-height: 1200px; padding-top: 0; overflow: hidden; }
.cover-band { height: 14px; background: linear-gradient(90deg, var(--accent) 0 70%, var(--accent-2) 70% 100%); margin: 0 -56px 140px; }
.cover-kicker { text-transform: uppercase; letter-spacing: 0.18em; color: var(--accent-2); font-weight: 700; margin: 0 0 0.4rem; }
.cover-title { font-size: 2.9rem; margin: 0 0 0.8rem; color: var(--accent); }
.cover-sub { font-size: 1.25rem; color: var(--muted); margin-bottom: 2rem; }
ul.cover-plans { list-style: none; padding: 0; margin: 0 0 2rem; font-size: 1.15rem; }
ul.cover-plans li { margin: 0.45rem 0; }
.swatch { display: inline-block; width: 1.6em; height: 0.35em; vertical-align: middle; margin-right: 0.6em; border-radius: 1px; }
.cover-audit { font-size: 1.05rem; }
.cover-date { font-size: 1.1rem; font-weight: 700; margin-top: 3rem; }
.cover-note { max-width: 36rem; color: var(--muted); border-top: 1px solid var(--rule); padding-top: 0.8rem; margin-top: 2.5rem; }
.cover-foot { position: absolute; bottom: 40px; color: var(--muted); font-size: 0.8rem; }

@page {
  size: A4; margin: 20mm 17mm 20mm 17mm;
  @top-left { font-family: "Liberation Sans", Arial, sans-serif; font-size: 8pt; color: #5b6675; }
  @bottom-right { content: "Page " counter(page) " of " counter(pages); font-family: "Liberation Sans", Arial, sans-serif; font-size: 8pt; color: #5b6675; }
  @bottom-left { content: "Simulation results: an illustration of the mechanism, not a forecast"; font-family: "Liberation Sans", Arial, sans-serif; font-size: 8pt; color: #5b6675; }
}
@page landscape { size: A4 landscape; margin: 14mm 15mm 16mm 15mm; }
@page :first { margin: 0; @top-left { content: none; } @bottom-right { content: none; } @bottom-left { content: none; } }
@media print {
  html { font-size: 10pt; }
  body { background: #fff; }
  section { max-width: none; margin: 0; padding: 0; break-before: page; }
  section.cover { break-before: auto; min-height: 297mm; height: 297mm; padding: 0 22mm; }
  .cover-band { margin: 0 -22mm 48mm; height: 12mm; }
  .cover-foot { bottom: 18mm; }
  figure.fig { break-inside: avoid; }
  table { break-inside: auto; }
  tr, th, td { break-inside: avoid; }
  thead { display: table-header-group; }
  h2, h3 { break-after: avoid; }
  .two-col { break-inside: avoid; }
  figure.wide, section.wide-page, .wide-block { page: landscape; }
  section.wide-page figure.fig, .wide-block figure.fig { margin: 0.3rem 0 0; }
  figure.wide { margin: 0; }
  .cover-band { margin-bottom: 48mm; }
  section.appendix-b { break-before: auto; margin-top: 10mm; }
}
"""
