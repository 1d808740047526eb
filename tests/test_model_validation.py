"""scripts/validate_model.py: the quick mode runs end to end and every required behaviour passes."""

from __future__ import annotations

import re

from . import validation


def test_quick_validation_report(tmp_path, capsys) -> None:
    report = tmp_path / "docs" / "model_validation.md"
    assert validation.load().main(["--quick", "-o", str(report)]) == 0
    assert f"wrote {report}" in capsys.readouterr().out
    text = report.read_text(encoding="utf-8")
    assert "quick mode" in text
    for section in ["## 1. Balance", "## 2. Vicious cycle", "## 3. Remedy", "## 4. Price tag", "## 5. Recovery",
                    "## 6. Robust", "## 7. Plausible", "## 8. Extreme", "## 9. Loop dominance", "## 10. Other"]:
        assert section in text, section
    assert "FAIL" not in text
    assert len(re.findall(r"\| pass \|", text)) >= 40
    assert not list(report.parent.glob("*.tmp"))  # written atomically


def test_published_report_is_current() -> None:
    """docs/model_validation.md is the full run of the script on this model (regenerate it after a change)."""
    v = validation.load()
    text = v.REPORT_PATH.read_text(encoding="utf-8")
    assert "quick mode" not in text and "FAIL" not in text
    model = v.load_model()
    runs = v.scenario_runs(model)
    vicious, remedy = v.vicious_cycle(runs), runs["shock_deep_dives"]
    assert f"| {vicious['sales_120']:.3f} vs {vicious['hold_sales_120']:.3f} |" in text
    assert f"| {remedy.loc[48:120, 'Target Attainment'].min():.3f} |" in text
