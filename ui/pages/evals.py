"""Evals: open an eval report and see each metric per variant against its threshold."""

from __future__ import annotations

from pathlib import Path

import state
import streamlit as st

from agent.evals.view import find_reports, load_report, parse_report
from agent.library.passages import escape_markdown as esc

STATUS_COLOURS = {"pass": "#2e7d32", "fail": "#c62828", "no gate": "#78909c"}

state.init_state()
st.title("Evals")
st.caption(
    "Reports written by `coach eval --report DIR` (report.json under ./reports or COACH_HOME/reports)."
)


def roots() -> list[Path]:
    return [Path.cwd() / "reports", state.current_settings().home / "reports"]


def metric_chart(rows) -> None:
    """A small bar chart per metric (own scale): a bar per variant, coloured pass/fail, threshold as a tick."""
    import altair as alt

    data = [
        {
            "metric": r.metric,
            "name": r.label or r.metric,
            "variant": r.variant,
            "value": r.value,
            "threshold": r.threshold,
            "status": {True: "pass", False: "fail", None: "no gate"}[r.passed],
        }
        for r in rows
    ]
    base = alt.Chart(alt.Data(values=data)).properties(width=280, height=alt.Step(22))
    bars = base.mark_bar().encode(
        y=alt.Y("variant:N", title=None),
        x=alt.X("value:Q", title=None, scale=alt.Scale(zero=True)),
        color=alt.Color(
            "status:N",
            scale=alt.Scale(domain=list(STATUS_COLOURS), range=list(STATUS_COLOURS.values())),
            legend=alt.Legend(orient="top", title=None),
        ),
        tooltip=[
            "metric:N",
            "name:N",
            "variant:N",
            alt.Tooltip("value:Q", format=".3f"),
            alt.Tooltip("threshold:Q", format=".3f"),
            "status:N",
        ],
    )
    ticks = base.mark_tick(color="black", thickness=2).encode(y="variant:N", x="threshold:Q")
    header = alt.Header(
        labelAngle=0, labelAlign="left", labelAnchor="start", labelOrient="top", labelFontSize=12
    )
    chart = alt.layer(bars, ticks).facet(row=alt.Row("metric:N", title=None, header=header))
    st.altair_chart(chart.resolve_scale(x="independent", y="independent"), width="content")


def comparison_chart(comparisons) -> None:
    """Candidate minus baseline per metric, with its confidence interval when the report has one."""
    import altair as alt

    deltas = [c for c in comparisons if isinstance(c.get("delta"), (int, float)) and c.get("metric")]
    if not deltas:
        return
    base = alt.Chart(alt.Data(values=deltas)).encode(
        y=alt.Y("metric:N", title=None, axis=alt.Axis(labelLimit=260))
    )
    bars = base.mark_bar().encode(
        x=alt.X("delta:Q", title="candidate − baseline"),
        tooltip=[
            alt.Tooltip(k, type="nominal" if k == "metric" else "quantitative")
            for k in ("metric", "baseline", "candidate", "delta", "ci_low", "ci_high")
            if k in deltas[0]
        ],
    )
    layers = [bars]
    if all(
        isinstance(c.get("ci_low"), (int, float)) and isinstance(c.get("ci_high"), (int, float))
        for c in deltas
    ):
        layers.append(base.mark_rule(color="black").encode(x="ci_low:Q", x2="ci_high:Q"))
    st.altair_chart(alt.layer(*layers), width="stretch")


def pick_report():
    """The report chosen from the found files, or uploaded; None until there is one."""
    found = []
    with state.friendly_errors("reports"):
        found = find_reports(*roots())
    source = st.radio("Report", ["Pick a file", "Upload"], horizontal=True, key="evals_source")
    with state.friendly_errors("report"):
        if source == "Upload":
            upload = st.file_uploader("Upload report.json", type=["json"], key="evals_upload")
            return parse_report(upload.getvalue(), name=upload.name) if upload is not None else None
        if not found:
            st.info("No reports found yet. Run `coach eval --report reports/run1` or upload a report.json.")
            return None
        return load_report(st.selectbox("Report file", found, format_func=str, key="evals_file"))
    return None


view = pick_report()
if view is not None:
    st.subheader(esc(view.title))
    if view.facts:
        st.caption(esc(" · ".join(f"{k}: {v}" for k, v in view.facts.items())))
    fails = sorted({f"{r.metric} ({r.variant})" for r in view.rows if r.passed is False})
    if view.passed is True:
        st.success("All gated metrics pass their thresholds.")
    elif view.passed is False:
        st.error(esc(f"{len(fails)} metric(s) miss their threshold: " + ", ".join(fails)))
    suites = sorted({r.suite for r in view.rows if r.suite})
    suite = st.selectbox("Suite", ["all", *suites], key="evals_suite") if len(suites) > 1 else "all"
    shown = [r for r in view.rows if suite == "all" or r.suite == suite]
    metric_chart(shown)
    table = [
        {
            "variant": r.variant,
            "metric": r.metric,
            "value": round(r.value, 4),
            "threshold": r.threshold,
            "pass": r.passed,
        }
        for r in shown
    ]
    st.dataframe(table, hide_index=True, width="stretch")
    if view.comparisons:
        st.subheader("Comparisons")
        comparison_chart(view.comparisons)
        st.dataframe(view.comparisons, hide_index=True, width="stretch")
