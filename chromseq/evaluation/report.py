"""A static, self-contained HTML report of a run: config, metrics, per-feature table, figures."""

from __future__ import annotations

import base64
import html
import json
import math
import os
from pathlib import Path

from chromseq import runs

_CSS = """
body{font-family:system-ui,sans-serif;margin:2em auto;max-width:1200px;color:#222}
h1{margin-bottom:0}h2{border-bottom:1px solid #ddd;padding-bottom:.2em;margin-top:1.6em}
table{border-collapse:collapse;font-size:13px}td,th{padding:3px 8px;border-bottom:1px solid #eee;text-align:left}
th{cursor:pointer;background:#f4f4f4;position:sticky;top:0}th:hover{background:#e8e8e8}
td.num{text-align:right;font-variant-numeric:tabular-nums}.na{color:#aaa}
pre{background:#f7f7f7;padding:1em;overflow:auto;font-size:12px}
figure{margin:1em 0}img{max-width:100%;border:1px solid #eee}figcaption{color:#555;font-size:13px}
#filter{padding:4px;width:24em;margin:.5em 0}.scroll{max-height:600px;overflow:auto}
"""
_JS = """
function sortTable(th){const t=th.closest('table'),i=[...th.parentNode.children].indexOf(th);
const asc=th.dataset.asc!=='1';th.dataset.asc=asc?'1':'0';const rows=[...t.tBodies[0].rows];
rows.sort((a,b)=>{let x=a.cells[i].dataset.v??a.cells[i].textContent,y=b.cells[i].dataset.v??b.cells[i].textContent;
const nx=parseFloat(x),ny=parseFloat(y);if(!isNaN(nx)&&!isNaN(ny)){x=nx;y=ny}else if(!isNaN(nx)){return -1}else if(!isNaN(ny)){return 1}
return (x>y?1:x<y?-1:0)*(asc?1:-1)});rows.forEach(r=>t.tBodies[0].appendChild(r));}
function filterTable(q){q=q.toLowerCase();for(const r of document.querySelectorAll('#features tbody tr'))
r.style.display=r.textContent.toLowerCase().includes(q)?'':'none';}
"""
_CAPTIONS = {
    "training_curves.png": "Loss, perplexity, F1 and AUROC/AUPRC on the validation set after each epoch.",
    "auroc_by_class.png": "AUROC of every feature, grouped by class.",
    "auprc_by_class.png": "AUPRC of every feature, grouped by class.",
    "roc_pr_curves.png": "ROC and precision-recall curves of chosen features and the best/worst of each class.",
    "labels_map.png": "True labels: one row per sample, one column per feature; class boundaries marked.",
    "predicted_map.png": "Predicted probabilities for the same samples and features.",
    "difference_map.png": "Prediction minus truth: red = predicted but absent, blue = present but missed.",
    "prediction_evolution.png": "Predictions on a fixed validation sample after successive epochs, and the truth.",
    "input_barcodes.png": "The input sequences of that sample, one colored cell per base.",
}


def _cell(value) -> str:
    if isinstance(value, float):
        if math.isnan(value):
            return '<td class="num na" data-v="">NA</td>'
        return f'<td class="num" data-v="{value}">{value:.4f}</td>'
    return f"<td>{html.escape(str(value))}</td>"


def write_report(run_dir: str | os.PathLike, out_file: str | os.PathLike | None = None,
                 eval_dir: str | os.PathLike | None = None) -> Path:
    """Write ``report.html`` (figures embedded as base64, no server or internet needed)."""
    from chromseq.evaluation.tables import read_table

    run = runs.Run.open(run_dir)
    out = Path(out_file) if out_file else run.report_file
    evaluation = runs.Evaluation(Path(eval_dir)) if eval_dir else run.evaluation()
    parts = [f"<!doctype html><html><head><meta charset='utf-8'><title>chromseq report: {html.escape(run.name)}</title>",
             f"<style>{_CSS}</style><script>{_JS}</script></head><body>",
             f"<h1>chromseq run <code>{html.escape(run.name)}</code></h1>"]
    if run.metrics_file.exists():
        m = json.loads(run.metrics_file.read_text())
        parts.append("<h2>Validation (best epoch)</h2><table><tr>" + "".join(
            f"<th>{html.escape(k)}</th>" for k in m) + "</tr><tr>" + "".join(
            _cell(float(v)) if isinstance(v, float) else _cell(v if v is not None else float("nan"))
            for v in m.values()) + "</tr></table>")
    s = evaluation.summary() if evaluation else None
    if s is not None:
        parts.append(f"<h2>Evaluation on <code>{html.escape(str(s.get('data')))}</code> "
                     f"({s.get('samples')} samples)</h2>")
        cols = ["n_features", "n_na", "median_auroc", "mean_auroc", "median_auprc", "mean_auprc", "mean_f1", "mean_best_f1"]
        parts.append("<table><thead><tr><th>class</th>" + "".join(f"<th>{c}</th>" for c in cols) + "</tr></thead><tbody>")
        for label, row in s["classes"].items():
            parts.append(f"<tr><td>{html.escape(label)}</td>" + "".join(
                _cell(float(row[c]) if row.get(c) is not None else float("nan")) if not c.startswith("n_")
                else f"<td class='num'>{row[c]}</td>" for c in cols) + "</tr>")
        parts.append("</tbody></table>")
        rows = read_table(evaluation.table)
        if rows:
            columns = list(rows[0])
            parts.append("<h2>Per-feature performance</h2><p>Click a column to sort; type to filter "
                         "(cell type, element, class...).</p><input id='filter' placeholder='filter features' "
                         "oninput='filterTable(this.value)'><div class='scroll'><table id='features'><thead><tr>"
                         + "".join(f"<th onclick='sortTable(this)'>{html.escape(c)}</th>" for c in columns)
                         + "</tr></thead><tbody>")
            for r in rows:
                parts.append("<tr>" + "".join(
                    f"<td class='num'>{int(r[c])}</td>" if c in ("index", "positives") and not math.isnan(r[c])
                    else _cell(r[c]) for c in columns) + "</tr>")
            parts.append("</tbody></table></div>")
    plots = run.plots_dir
    figures = [p for p in sorted(plots.glob("*.png"))] if plots.is_dir() else []
    order = list(_CAPTIONS)
    figures.sort(key=lambda p: order.index(p.name) if p.name in order else len(order))
    if figures:
        parts.append("<h2>Figures</h2>")
        for fig in figures:
            data = base64.b64encode(fig.read_bytes()).decode()
            parts.append(f"<figure><img alt='{fig.stem}' src='data:image/png;base64,{data}'>"
                         f"<figcaption><b>{fig.name}</b>: {html.escape(_CAPTIONS.get(fig.name, ''))}</figcaption></figure>")
    if run.config_file.exists():
        parts.append("<h2>Config</h2><pre>" + html.escape(run.config_file.read_text()) + "</pre>")
    if run.environment_file.exists():
        parts.append("<h2>Environment</h2><pre>" + html.escape(run.environment_file.read_text()) + "</pre>")
    parts.append("</body></html>")
    runs.atomic_write_text(out, "\n".join(parts))
    return out
