"""report.html: one self-contained page, charts drawn as inline SVG, every case and model string escaped."""

from __future__ import annotations

import math
from html import escape
from typing import Any

PALETTE = ("#3b6ea5", "#d08c2b", "#6a994e", "#8e5ea2")
ROW_H, LABEL_W, BAR_W = 22, 300, 360
CSS = """
body{font:14px/1.45 system-ui,-apple-system,Segoe UI,sans-serif;margin:24px auto;max-width:1100px;color:#222;padding:0 16px}
h1 .ok{color:#2e7d32}h1 .bad{color:#c62828}table{border-collapse:collapse;width:100%;margin:8px 0 20px}
td,th{border-bottom:1px solid #ddd;padding:4px 8px;text-align:left;vertical-align:top;white-space:nowrap}
td:last-child{white-space:normal}th{background:#f4f4f4}
.pass{color:#2e7d32}.fail{color:#c62828;font-weight:600}details{margin:2px 0}summary{cursor:pointer}
.turn{margin:6px 0 6px 12px}.who{font-weight:600;color:#555}.meta{color:#777;font-size:12px}
svg text{font:12px system-ui,sans-serif;fill:#222}code{background:#f4f4f4;padding:0 3px}
"""


def e(value: Any) -> str:
    return escape("" if value is None else str(value), quote=True)


def _num(v: Any) -> float | None:
    return None if v is None or (isinstance(v, float) and math.isnan(v)) else float(v)


def _fmt(v: Any) -> str:
    n = _num(v)
    return "—" if n is None else (f"{n:.0f}" if abs(n) >= 100 else f"{n:.3f}")


def metric_chart(suite: str, data: dict[str, Any]) -> str:
    """Horizontal bars per metric and target, with the threshold (red) and the 'good' level (green) marked."""
    targets = [t["name"] for t in data["targets"]]
    keys = sorted({k for v in data["variants"].values() for k in v["metrics"] if k.startswith(suite + ".")})
    if not keys:
        return ""
    height = len(keys) * (ROW_H * len(targets) + 10) + 30
    parts = [f'<svg role="img" aria-label="{e(suite)} metrics" width="{LABEL_W + BAR_W + 90}" height="{height}" '
             f'xmlns="http://www.w3.org/2000/svg">']
    y = 10
    for key in keys:
        rows = [(t, data["variants"].get(t, {}).get("metrics", {}).get(key) or {}) for t in targets]
        info = next((r for _, r in rows if r), {})
        bar = _num(info.get("min", info.get("max")))
        good = _num(info.get("good"))
        values = [_num(r.get("value")) for _, r in rows]
        top = max([v for v in values if v is not None] + [x for x in (bar, good) if x is not None] + [1.0])
        scale = BAR_W / (top * 1.1)
        block = ROW_H * len(targets)
        parts.append(f'<text x="0" y="{y + block / 2 + 4:.0f}">{e(key.split(".", 1)[1])}</text>')
        for i, ((target, row), v) in enumerate(zip(rows, values)):
            w = max(0.0, (v or 0.0) * scale)
            ok = row.get("passed")
            color = PALETTE[i % len(PALETTE)] if ok is None else ("#2e7d32" if ok else "#c62828")
            parts.append(f'<rect x="{LABEL_W}" y="{y + i * ROW_H + 3}" width="{w:.1f}" height="{ROW_H - 6}" '
                         f'fill="{color}" opacity="{0.9 if i == 0 else 0.6}"><title>{e(target)}: {_fmt(v)}</title></rect>')
            parts.append(f'<text x="{LABEL_W + w + 4:.1f}" y="{y + i * ROW_H + ROW_H - 7}">{_fmt(v)}</text>')
        for mark, color, dash in ((bar, "#c62828", "4 2"), (good, "#2e7d32", "1 3")):
            if mark is not None:
                x = LABEL_W + mark * scale
                parts.append(f'<line x1="{x:.1f}" x2="{x:.1f}" y1="{y}" y2="{y + block}" stroke="{color}" '
                             f'stroke-width="2" stroke-dasharray="{dash}"/>')
        y += block + 10
    parts.append("</svg>")
    return "".join(parts)


def delta_chart(comparison: dict[str, Any]) -> str:
    """A forest plot: each metric's delta (candidate - baseline) with its 95% CI; each row on its own scale."""
    rows = [d for d in comparison["metrics"] if _num(d.get("delta")) is not None]
    if not rows:
        return ""
    half = BAR_W / 2
    parts = [f'<svg role="img" aria-label="comparison" width="{LABEL_W + BAR_W + 120}" height="{len(rows) * ROW_H + 20}" '
             f'xmlns="http://www.w3.org/2000/svg"><line x1="{LABEL_W + half}" x2="{LABEL_W + half}" y1="0" '
             f'y2="{len(rows) * ROW_H + 10}" stroke="#999"/>']
    for i, d in enumerate(rows):
        y = 10 + i * ROW_H + ROW_H / 2
        delta, lo, hi = _num(d["delta"]) or 0.0, _num(d.get("ci_low")), _num(d.get("ci_high"))
        span = max(abs(x) for x in (delta, lo or 0.0, hi or 0.0)) or 1.0

        def px(v: float, span: float = span) -> float:
            return LABEL_W + half + v / span * (half - 10)

        better = delta > 0 if d.get("higher_is_better", True) else delta < 0
        color = "#999" if abs(delta) < 1e-12 else ("#2e7d32" if better else "#c62828")
        parts.append(f'<text x="0" y="{y + 4:.0f}">{e(d["suite"])}.{e(d["metric"])}</text>')
        if lo is not None and hi is not None:
            parts.append(f'<line x1="{px(lo):.1f}" x2="{px(hi):.1f}" y1="{y:.0f}" y2="{y:.0f}" stroke="{color}" '
                         f'stroke-width="2"/>')
        parts.append(f'<circle cx="{px(delta):.1f}" cy="{y:.0f}" r="4" fill="{color}"><title>{_fmt(delta)} '
                     f'[{_fmt(lo)}, {_fmt(hi)}]</title></circle>')
        parts.append(f'<text x="{LABEL_W + BAR_W + 6}" y="{y + 4:.0f}">{_fmt(delta)} · {d["wins"]}/{d["losses"]}/'
                     f'{d["ties"]}</text>')
    parts.append("</svg>")
    return "".join(parts)


def _gate_table(gate: list[dict[str, Any]]) -> str:
    rows = []
    for g in gate:
        bar = f"&ge; {_fmt(g['min'])}" if g.get("min") is not None else f"&le; {_fmt(g.get('max'))}"
        verdict = f'<span class="pass">{e(g["level"])}</span>' if g["passed"] else '<span class="fail">missed</span>'
        rows.append(f"<tr><td>{e(g['suite'])}</td><td>{e(g['metric'])}</td><td>{_fmt(g['value'])}</td><td>{bar}</td>"
                    f"<td>{_fmt(g.get('good'))}</td><td>{verdict}</td><td>{e(g.get('why', ''))}</td></tr>")
    return ("<table><tr><th>suite</th><th>metric</th><th>value</th><th>bar</th><th>good</th><th>verdict</th>"
            "<th>why</th></tr>" + "".join(rows) + "</table>")


def _case_block(c: dict[str, Any]) -> str:
    mark = '<span class="pass">pass</span>' if c["passed"] else '<span class="fail">FAIL</span>'
    asserts = "".join(f'<li class="{"pass" if a["passed"] else "fail"}"><code>{e(a["type"])}</code> '
                      f'{_fmt(a["score"])} / {_fmt(a["threshold"])}: {e(a["detail"])}</li>' for a in c["asserts"])
    turns = "".join(
        f'<div class="turn"><span class="who">Person:</span> {e(t["user"])}<br><span class="who">Coach:</span> '
        f'{e(t["reply"])}<div class="meta">phase {e(t["phase"])} · situation {e(t["situation"])} · safety '
        f'{e(t["safety"]["category"])} · cited {e(", ".join(x["source"] + "#" + str(x["chunk"]) for x in t["citations"]) or "none")}'
        f'{" · commitment " + e(t["commitment"]["what"]) + " by " + e(t["commitment"]["by_when"]) if t["commitment"] else ""}'
        f'</div></div>' for t in c["transcript"])
    openers = "".join(f"<li>{e(o['text'])} <span class='meta'>{e(o['why'])}</span></li>" for o in c["openers"])
    error = f'<p class="fail">{e(c["error"])}</p>' if c["error"] else ""
    rep = f" #{c['repeat'] + 1}" if c["repeat"] else ""
    return (f"<details><summary>{mark} <code>{e(c['suite'])}/{e(c['id'])}</code>{e(rep)} · {e(c['target'])} · "
            f"{e(c['description'])}</summary>{error}<ul>{asserts}</ul>{turns}"
            f"{'<ol>' + openers + '</ol>' if openers else ''}</details>")


def report_html(data: dict[str, Any]) -> str:
    """The whole page; no scripts, no external resources."""
    verdict = '<span class="ok">PASSED</span>' if data["passed"] else '<span class="bad">FAILED</span>'
    suites = list(data["suites"])
    legend = " ".join(f'<span style="color:{PALETTE[i % len(PALETTE)]}">&#9632;</span> {e(t["name"])} ({e(t["role"])})'
                      for i, t in enumerate(data["targets"]))
    body = [f"<h1>coach eval: {verdict}</h1>",
            f"<p class='meta'>{e(data['created_at'])} · {e(data['duration_s'])} s · mode {e(data['mode'])} · "
            f"repeat {e(data['repeat'])}</p><p>{legend}</p>"]
    if data["missed"]:
        body.append("<h2>Missed thresholds</h2><ul>" + "".join(f'<li class="fail">{e(m)}</li>' for m in data["missed"])
                    + "</ul>")
    body.append("<h2>Thresholds</h2>" + _gate_table(data["gate"]))
    for s in suites:
        info = data["suites"][s]["targets"]
        counts = " · ".join(
            f"{e(t)}: " + (f"{v['cases']} misses listed" if v.get("misses_only") else
                           f"{v['passed']}/{v['cases']} cases passed") + f" in {e(v.get('duration_s'))} s"
            + (f" ({e(v['error'])})" if v["error"] else "") for t, v in info.items())
        body.append(f"<h2>{e(s)}</h2><p class='meta'>{counts}. Red dashes: the bar; green dots: good.</p>"
                    + metric_chart(s, data))
    if data["comparison"]:
        c = data["comparison"]
        body.append(f"<h2>{e(c['candidate'])} vs {e(c['baseline'])}</h2><p class='meta'>Delta with bootstrap 95% CI "
                    f"over cases; green is better for the candidate. Right: delta · wins/losses/ties.</p>"
                    + delta_chart(c))
    cases = sorted(data["case_results"], key=lambda c: (c["passed"], c["suite"], c["id"]))
    body.append(f"<h2>Cases ({len(cases)})</h2>" + "".join(_case_block(c) for c in cases))
    return ("<!doctype html><html lang='en'><head><meta charset='utf-8'><title>coach eval</title>"
            f"<meta name='viewport' content='width=device-width,initial-scale=1'><style>{CSS}</style></head><body>"
            + "".join(body) + "</body></html>\n")
