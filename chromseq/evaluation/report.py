"""A static, self-contained HTML report of a run: config, metrics, per-feature table, figures."""

from __future__ import annotations

import base64
import csv
import html
import json
import math
import os
from pathlib import Path

from chromseq import runs
from chromseq.errors import ChromseqError

_CSS = """
body{font-family:system-ui,sans-serif;margin:2em auto;max-width:1200px;color:#222}
h1{margin-bottom:0}h2{border-bottom:1px solid #ddd;padding-bottom:.2em;margin-top:1.6em}
table{border-collapse:collapse;font-size:13px}td,th{padding:3px 8px;border-bottom:1px solid #eee;text-align:left}
th{cursor:pointer;background:#f4f4f4;position:sticky;top:0}th:hover{background:#e8e8e8}
td.num{text-align:right;font-variant-numeric:tabular-nums}.na{color:#aaa}
pre{background:#f7f7f7;padding:1em;overflow:auto;font-size:12px}
figure{margin:1em 0}img{max-width:100%;border:1px solid #eee}figcaption{color:#555;font-size:13px}
.facts{color:#444;margin:.3em 0 0}.facts b{color:#222}
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


_ANNOTATIONS = ("cell_type", "element", "treatment")
_MODISCO_LOGOS = 10  # at most this many MoDISco logos are embedded


def _cell(value) -> str:
    if isinstance(value, float):
        if math.isnan(value):
            return '<td class="num na" data-v="">NA</td>'
        return f'<td class="num">{value:.4f}</td>'  # sorted by its text: 4 decimals are enough
    return f"<td>{html.escape(str(value))}</td>"


def _compact_png(path: Path) -> bytes:
    """The picture as a 256-colour PNG when that is smaller (plots hold few distinct colours; it
    is about 2.6 times smaller on the demo run's figures); the file itself is left as it is."""
    import io

    from PIL import Image

    raw = path.read_bytes()
    try:
        with Image.open(io.BytesIO(raw)) as image:
            small = image.convert("RGB").quantize(256, method=Image.Quantize.MEDIANCUT, dither=Image.Dither.NONE)
        buffer = io.BytesIO()
        small.save(buffer, "PNG", optimize=True)
    except (OSError, ValueError):  # not a picture Pillow reads: embed it as it is
        return raw
    return buffer.getvalue() if buffer.tell() < len(raw) else raw


def _figure(path: Path, caption: str) -> str:
    data = base64.b64encode(_compact_png(path)).decode()
    return (f"<figure><img alt='{html.escape(path.stem)}' src='data:image/png;base64,{data}'>"
            f"<figcaption><b>{html.escape(path.name)}</b>: {html.escape(caption)}</figcaption></figure>")


def _read_rows(path: Path, delimiter: str = "\t") -> list[dict[str, str]]:
    """Rows of a TSV (or CSV) with a header, whatever its columns; none when the file is missing."""
    if not path.is_file():
        return []
    with open(path, newline="") as fh:
        return list(csv.DictReader(fh, delimiter=delimiter))


def _text_table(rows: list[dict[str, str]], columns: list[str], table_id: str = "") -> str:
    """A sortable table of text cells (numbers sort as numbers; the columns rows lack stay empty)."""
    head = "".join(f"<th onclick='sortTable(this)'>{html.escape(c)}</th>" for c in columns)
    body = "".join("<tr>" + "".join(f"<td>{html.escape(r.get(c) or '')}</td>" for c in columns) + "</tr>"
                   for r in rows)
    ident = f" id='{table_id}'" if table_id else ""
    return f"<table{ident}><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _header_facts(run: runs.Run, evaluation) -> str:
    """Data sizes (train / valid / test samples, L, K) and training time, from the run's own files."""
    info = run.info
    counts = {}
    for split in ("train", "valid"):
        n = info.extra.get(f"n_{split}")
        if n is None and info.extra.get(split) and Path(str(info.extra[split])).is_file():
            try:  # runs made before dataset.json recorded sizes: ask the file itself
                from chromseq.data import open_dataset

                n = open_dataset(info.extra[split], validate=False).n_samples
            except (ChromseqError, OSError):  # a moved or unreadable file only costs the number
                n = None
        counts[split] = n
    summary = evaluation.summary() if evaluation else None
    counts["test"] = summary.get("samples") if summary else None
    facts = [f"<b>{split}</b> {n:,} samples" if isinstance(n, int) else f"<b>{split}</b> ?"
             for split, n in counts.items()]
    facts.append(f"<b>L</b> {info.seq_len} bp" if info.seq_len else "<b>L</b> any")
    facts.append(f"<b>K</b> {info.n_features} features" if info.n_features else "<b>K</b> ?")
    if info.extra.get("model"):
        facts.append(f"<b>model</b> {html.escape(str(info.extra['model']))}")
    history = _read_rows(run.history_file, ",")
    seconds = [float(r["epoch_seconds"]) for r in history if r.get("epoch_seconds") not in (None, "", "nan")]
    if seconds:
        total = sum(seconds)
        facts.append(f"<b>training</b> {len(history)} epochs, {total / 60:.1f} min ({total / len(seconds):.0f} s/epoch)")
    return "<p class='facts'>" + " &middot; ".join(facts) + "</p>"


def _interpretation(run: runs.Run) -> list[str]:
    """What ``chromseq interpret`` left in the run: filter motifs and their Tomtom matches,
    class optimization, an attribution example, MoDISco motifs. Empty when none was run."""
    parts: list[str] = []
    filters = run.interpret_dir("filters")
    matches = _read_rows(filters / "matches.tsv")
    if (filters / "filter_logos.png").is_file() or matches:
        parts.append("<h3>First-layer filters as motifs</h3>")
        if matches:
            best = [r for r in matches if r.get("rank") == "1"]
            best.sort(key=lambda r: float(r.get("p_value") or 1))
            significant = sum(float(r.get("q_value") or 1) < 0.05 for r in best)
            parts.append(f"<p>{len(best)} filters matched against the motif database by Tomtom's statistics "
                         f"(memelite); {significant} have a best match with q &lt; 0.05. Best match of each "
                         "filter, smallest p-value first (all ranks in <code>interpret/filters/matches.tsv</code>):"
                         "</p>")
            columns = [c for c in ("query", "sites", "information_bits", "target_name", "target_id", "p_value",
                                   "e_value", "q_value", "orientation", "offset", "overlap", "query_consensus",
                                   "target_consensus") if c in best[0]] if best else []
            parts.append("<div class='scroll'>" + _text_table(best[:40], columns, "filter_matches") + "</div>")
        if (filters / "filter_logos.png").is_file():
            parts.append(_figure(filters / "filter_logos.png", "The most informative filters (PWMs of the windows "
                                                               "that activate them) with their best match."))
    classopt = run.interpret_dir("classopt")
    if (classopt / "classopt.png").is_file():
        parts.append("<h3>Class optimization</h3>")
        parts.append(_figure(classopt / "classopt.png", "The input that maximizes the feature's score."))
        found = _read_rows(classopt / "classopt_matches.tsv")
        if found:
            parts.append(_text_table(found, ["query", "rank", "target_name", "target_id", "p_value", "q_value",
                                             "orientation"]))
    examples = sorted(run.interpret_dir("attributions").glob("attributions_*.png"))
    if not examples:
        examples = sorted(run.interpret_dir("saliency").glob("saliency_*.png"))
    if examples:
        parts.append("<h3>Attribution example</h3>")
        parts.append(_figure(examples[0], "Per-base attribution of one sequence "
                                          f"({len(examples)} in {examples[0].parent.name}/)."))
    modisco = run.interpret_dir("modisco")
    motifs = _read_rows(modisco / "motifs.tsv")
    if motifs:
        parts.append("<h3>Motifs from attributions (TF-MoDISco)</h3>")
        if "rank" in motifs[0]:  # one row per pattern and match: the best match of each pattern
            motifs = [r for r in motifs if r["rank"] in ("1", "")]
        parts.append("<p>Best database match of each pattern (all matches in "
                     "<code>interpret/modisco/motifs.tsv</code>):</p>")
        parts.append("<div class='scroll'>" + _text_table(motifs, list(motifs[0]), "modisco_motifs") + "</div>")
        for logo in sorted(modisco.glob("*.png"), key=lambda p: (len(p.name), p.name))[:_MODISCO_LOGOS]:
            parts.append(_figure(logo, "MoDISco motif logo."))
    if parts:
        parts.insert(0, "<h2>Interpretation</h2>")
    return parts


def write_report(run_dir: str | os.PathLike, out_file: str | os.PathLike | None = None,
                 eval_dir: str | os.PathLike | None = None) -> Path:
    """Write ``report.html`` (figures embedded as base64, no server or internet needed)."""
    from chromseq.evaluation.tables import annotation_text, read_table

    run = runs.Run.open(run_dir)
    out = Path(out_file) if out_file else run.report_file
    evaluation = runs.Evaluation(Path(eval_dir)) if eval_dir else run.evaluation()
    parts = [f"<!doctype html><html><head><meta charset='utf-8'><title>chromseq report: {html.escape(run.name)}</title>",
             f"<style>{_CSS}</style><script>{_JS}</script></head><body>",
             f"<h1>chromseq run <code>{html.escape(run.name)}</code></h1>", _header_facts(run, evaluation)]
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
                    else f"<td>{html.escape(annotation_text(r[c]))}</td>" if c in _ANNOTATIONS
                    else _cell(r[c]) for c in columns) + "</tr>")
            parts.append("</tbody></table></div>")
    plots = run.plots_dir
    figures = [p for p in sorted(plots.glob("*.png"))] if plots.is_dir() else []
    order = list(_CAPTIONS)
    figures.sort(key=lambda p: order.index(p.name) if p.name in order else len(order))
    if figures:
        parts.append("<h2>Figures</h2>")
        for fig in figures:
            parts.append(_figure(fig, _CAPTIONS.get(fig.name, "")))
    parts.extend(_interpretation(run))
    if run.config_file.exists():
        parts.append("<h2>Config</h2><pre>" + html.escape(run.config_file.read_text()) + "</pre>")
    if run.environment_file.exists():
        parts.append("<h2>Environment</h2><pre>" + html.escape(run.environment_file.read_text()) + "</pre>")
    parts.append("</body></html>")
    runs.atomic_write_text(out, "\n".join(parts))
    return out
