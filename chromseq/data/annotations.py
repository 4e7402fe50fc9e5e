"""Feature annotation tables: which cell type, regulatory element and treatment each output is.

Reads the DeepSEA ``cell|assay|treatment`` names list (``predictor.names``), .tsv/.csv,
.xlsx (openpyxl) and .xls (xlrd). Classes (DNase / TF / histone) come from a
``feature_class`` column when present, from DeepSEA's column ranges for the 919 real
features (0-124 DNase, 125-814 TF, 815-918 histone), or else from the assay name.
"""

from __future__ import annotations

import csv
import os
import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from chromseq.errors import ChromseqError

COLUMNS = ("name", "cell_type", "element", "treatment", "feature_class")
_HISTONE = re.compile(r"^H[1-4][ABXZ.0-9]*[KRST]\d|^H2A|^H2B|^H3|^H4", re.IGNORECASE)
_ALIASES = {
    "name": ("name", "feature", "feature_name", "label"),
    "cell_type": ("cell_type", "cell type", "cell", "celltype", "cell_line"),
    "element": ("element", "regulatory_element", "assay", "tf/dnase/histonemark", "target", "mark", "factor"),
    "treatment": ("treatment", "condition"),
    "feature_class": ("feature_class", "class", "group", "category"),
}


def classify_assay(assay: str) -> str:
    """'DNase', 'histone' or 'TF' for an assay/element name."""
    a = assay.strip()
    if a.lower().startswith(("dnase", "faire", "atac")):
        return "DNase"
    if _HISTONE.match(a):
        return "histone"
    return "TF"


def deepsea_class(index: int) -> str:
    """Class of column ``index`` of the 919 DeepSEA features."""
    return "DNase" if index < 125 else "TF" if index < 815 else "histone"


@dataclass
class FeatureTable:
    """One row per output feature: name, cell_type, element, treatment, feature_class."""

    names: list[str]
    cell_type: list[str]
    element: list[str]
    treatment: list[str]
    feature_class: list[str]
    extra: dict[str, list[str]] = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.names)

    @classmethod
    def from_triples(cls, triples: list[tuple[str, str, str]]) -> FeatureTable:
        cells, elements, treatments = (list(col) for col in zip(*triples)) if triples else ([], [], [])
        n = len(triples)
        classes = [deepsea_class(i) for i in range(n)] if n == 919 else [classify_assay(e) for e in elements]
        names = [f"{c}|{e}|{t}" for c, e, t in triples]
        return cls(names, cells, elements, treatments, classes)

    @classmethod
    def default(cls, n_features: int) -> FeatureTable:
        """Unnamed features ``feature_0 ...``, class 'all'."""
        names = [f"feature_{i}" for i in range(n_features)]
        return cls(names, ["NA"] * n_features, ["NA"] * n_features, ["NA"] * n_features, ["all"] * n_features)

    @classmethod
    def read(cls, path: str | os.PathLike, n_features: int | None = None) -> FeatureTable:
        """Read a names list, .tsv/.csv, .xlsx or .xls; check the row count when ``n_features`` is given."""
        path = Path(path)
        if not path.exists():
            raise ChromseqError(f"{path}: file not found")
        suffix = "".join(path.suffixes[-1:]).lower()
        if suffix in (".xlsx", ".xlsm"):
            rows = _read_xlsx(path)
        elif suffix == ".xls":
            rows = _read_xls(path)
        else:
            text = path.read_text(encoding="utf-8", errors="replace")
            lines = [ln for ln in text.splitlines() if ln.strip()]
            if lines and "|" in lines[0] and "\t" not in lines[0] and "," not in lines[0]:
                triples = []
                for i, line in enumerate(lines, 1):
                    parts = [p.strip().replace("\xa0", " ").strip() for p in line.split("|")]
                    if len(parts) != 3:
                        raise ChromseqError(f"{path}:{i}: expected 'cell|assay|treatment', got {line!r}")
                    triples.append(tuple(parts))
                table = cls.from_triples(triples)
                table._check_rows(path, n_features)
                return table
            delimiter = "\t" if (suffix != ".csv" and "\t" in (lines[0] if lines else "")) else ","
            rows = list(csv.reader(lines, delimiter=delimiter))
        table = cls._from_rows(rows, path)
        table._check_rows(path, n_features)
        return table

    @classmethod
    def _from_rows(cls, rows: list[list[str]], path: Path) -> FeatureTable:
        if not rows:
            raise ChromseqError(f"{path}: empty annotation table")
        header = [str(h).strip().lower() for h in rows[0]]
        col = {}
        for key, aliases in _ALIASES.items():
            for alias in aliases:
                if alias in header:
                    col[key] = header.index(alias)
                    break
        if "name" not in col and not {"cell_type", "element"} <= col.keys():
            raise ChromseqError(f"{path}: annotation table needs a 'name' column or 'cell_type' and 'element' columns; "
                                f"found {rows[0]}")
        body = [r for r in rows[1:] if any(str(c).strip() for c in r)]

        def get(row: list, key: str, default: str = "NA") -> str:
            i = col.get(key)
            value = str(row[i]).strip().replace("\xa0", " ").strip() if i is not None and i < len(row) else ""
            return value or default

        cells = [get(r, "cell_type") for r in body]
        elements = [get(r, "element") for r in body]
        treatments = [get(r, "treatment") for r in body]
        names = [get(r, "name", f"{c}|{e}|{t}") for r, c, e, t in zip(body, cells, elements, treatments)]
        if "feature_class" in col:
            classes = [get(r, "feature_class") for r in body]
        elif len(body) == 919:
            classes = [deepsea_class(i) for i in range(919)]
        else:
            classes = [classify_assay(e) for e in elements]
        return cls(names, cells, elements, treatments, classes)

    def _check_rows(self, path: Path, n_features: int | None) -> None:
        if n_features is not None and len(self) != n_features:
            raise ChromseqError(f"{path}: annotation table has {len(self)} rows but the data has {n_features} features")

    def select(self, pattern: str | list[int] | np.ndarray) -> np.ndarray:
        """Indices of features by index list, 'i,j,k', or a case-insensitive regex on the names."""
        if not isinstance(pattern, str):
            idx = np.asarray(pattern, dtype=np.int64)
        elif re.fullmatch(r"\s*\d+(\s*,\s*\d+)*\s*", pattern):
            idx = np.array([int(p) for p in pattern.split(",")], dtype=np.int64)
        else:
            try:
                rx = re.compile(pattern, re.IGNORECASE)
            except re.error as exc:
                raise ChromseqError(f"feature pattern {pattern!r} is not a valid regular expression ({exc})") from exc
            idx = np.array([i for i, n in enumerate(self.names) if rx.search(n)], dtype=np.int64)
            if not len(idx):
                raise ChromseqError(f"no feature matches {pattern!r} (e.g. {', '.join(self.names[:3])})")
            return idx
        if idx.size and (idx.min() < 0 or idx.max() >= len(self)):
            raise ChromseqError(f"feature index out of range 0..{len(self) - 1}")
        return idx

    def subset(self, idx: np.ndarray | list[int]) -> FeatureTable:
        idx = list(np.asarray(idx, dtype=np.int64))
        pick = lambda col: [col[i] for i in idx]  # noqa: E731
        return FeatureTable(pick(self.names), pick(self.cell_type), pick(self.element), pick(self.treatment),
                            pick(self.feature_class))

    def rows(self) -> list[dict[str, str | int]]:
        return [{"index": i, "name": n, "cell_type": c, "element": e, "treatment": t, "feature_class": k}
                for i, (n, c, e, t, k) in enumerate(zip(self.names, self.cell_type, self.element,
                                                        self.treatment, self.feature_class))]

    def write_tsv(self, path: str | os.PathLike) -> None:
        from chromseq.outputs import atomic_write_text

        lines = ["\t".join(("index", *COLUMNS))]
        for row in self.rows():
            lines.append("\t".join(str(row[c]) for c in ("index", *COLUMNS)))
        atomic_write_text(path, "\n".join(lines) + "\n")

    def write_xlsx(self, path: str | os.PathLike) -> None:
        import openpyxl

        wb = openpyxl.Workbook()
        ws = wb.active
        ws.title = "features"
        ws.append(["index", *COLUMNS])
        for row in self.rows():
            ws.append([row[c] for c in ("index", *COLUMNS)])
        from chromseq.outputs import atomic_output

        with atomic_output(path) as tmp:
            wb.save(tmp)


def _read_xlsx(path: Path) -> list[list[str]]:
    import openpyxl

    try:
        wb = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:
        raise ChromseqError(f"{path}: cannot read .xlsx ({exc})") from exc
    ws = wb.worksheets[0]
    return [["" if v is None else str(v) for v in row] for row in ws.iter_rows(values_only=True)]


def _read_xls(path: Path) -> list[list[str]]:
    import xlrd

    try:
        sheet = xlrd.open_workbook(str(path)).sheet_by_index(0)
    except Exception as exc:
        raise ChromseqError(f"{path}: cannot read .xls ({exc})") from exc
    out = []
    for r in range(sheet.nrows):
        row = []
        for v in sheet.row_values(r):
            row.append(str(int(v)) if isinstance(v, float) and v.is_integer() else str(v))
        out.append(row)
    return out
