"""Per-feature performance tables joined with annotations and published AUCs."""

from __future__ import annotations

import csv
import math
import os
from pathlib import Path

import numpy as np

from chromseq.errors import ChromseqError

TABLE_COLUMNS = ("index", "name", "cell_type", "element", "treatment", "feature_class", "positives",
                 "prevalence", "auroc", "auprc", "f1", "best_f1", "best_threshold")
PUBLISHED_COLUMNS = {"deepsea_auroc": "DeepSEA ROC AUC", "danq_auroc": "DanQ ROC AUC",
                     "deepsea_auprc": "DeepSEA PR AUC", "danq_auprc": "DanQ PR AUC"}


def read_published_aucs(path: str | os.PathLike, n_features: int) -> dict[str, np.ndarray]:
    """Per-feature published AUCs from a DanQ ``aucs.txt``-style TSV (one row per feature, in order)."""
    path = Path(path)
    if not path.exists():
        raise ChromseqError(f"{path}: file not found")
    with open(path, newline="") as fh:
        rows = list(csv.reader(fh, delimiter="\t"))
    if not rows:
        raise ChromseqError(f"{path}: empty file")
    header, body = [h.strip() for h in rows[0]], [r for r in rows[1:] if r]
    if len(body) != n_features:
        raise ChromseqError(f"{path}: {len(body)} rows of published AUCs, but the model has {n_features} features")
    out = {}
    for key, column in PUBLISHED_COLUMNS.items():
        if column not in header:
            raise ChromseqError(f"{path}: no column {column!r}; found {', '.join(header)}")
        j = header.index(column)
        values = []
        for r in body:
            try:
                values.append(float(r[j]))
            except (ValueError, IndexError):
                values.append(math.nan)  # e.g. 'NA (No positive in Test region)'
        out[key] = np.array(values)
    return out


def performance_rows(metrics: dict[str, np.ndarray], table, published: dict[str, np.ndarray] | None = None) -> list[dict]:
    """One dict per feature with the columns of ``TABLE_COLUMNS`` (+ published AUCs)."""
    rows = []
    for i, base in enumerate(table.rows()):
        row = dict(base)
        for key in ("positives", "prevalence", "auroc", "auprc", "f1", "best_f1", "best_threshold"):
            value = metrics[key][i]
            row[key] = int(value) if key == "positives" else float(value)
        if published:
            for key, values in published.items():
                row[key] = float(values[i])
        rows.append(row)
    return rows


def annotation_text(value) -> str:
    """An annotation (cell type, element, treatment) for display: empty when missing, which DeepSEA's
    feature names write as 'None' (no treatment)."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    text = str(value).strip()
    return "" if text in ("None", "NA", "nan") else text


def _fmt(value) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return "NA" if math.isnan(value) else f"{value:.6g}"
    return str(value)


def write_table(path: str | os.PathLike, rows: list[dict]) -> None:
    """TSV with NA for undefined values."""
    from chromseq.outputs import atomic_write_text

    if not rows:
        atomic_write_text(path, "\t".join(TABLE_COLUMNS) + "\n")
        return
    columns = list(rows[0])
    lines = ["\t".join(columns)] + ["\t".join(_fmt(r[c]) for c in columns) for r in rows]
    atomic_write_text(path, "\n".join(lines) + "\n")


def read_table(path: str | os.PathLike) -> list[dict]:
    """Read a performance.tsv back (numbers as floats, NA as NaN)."""
    with open(path, newline="") as fh:
        reader = csv.DictReader(fh, delimiter="\t")
        out = []
        for row in reader:
            parsed = {}
            for k, v in row.items():
                if k in ("name", "cell_type", "element", "treatment", "feature_class"):
                    parsed[k] = v
                else:
                    parsed[k] = math.nan if v == "NA" else float(v)
            out.append(parsed)
    return out
