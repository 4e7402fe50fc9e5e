"""``plot_features``: a run's figures, from its latest evaluation (made first when asked or missing)."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from chromseq import runs


@dataclass
class Figures:
    """What ``plot_features`` did: the data file it evaluated first (if any) and the files it wrote."""

    evaluated: str | None = None
    files: list[Path] = field(default_factory=list)


def plot_features(run_dir: str | os.PathLike, *, data: str | os.PathLike | None = None,
                  out_dir: str | os.PathLike | None = None, features: list[str] | tuple[str, ...] = (),
                  max_rows: int = 1000) -> Figures:
    """Draw every figure of a run (``plots/`` by default).

    The evaluation drawn is that of ``data`` (evaluated now), else the run's latest one, else
    that of its validation file (evaluated now when it exists). ``features``: indices or name
    patterns whose ROC/PR curves are drawn (up to 5 features each).
    """
    from chromseq.evaluation.evaluate import evaluate
    from chromseq.evaluation.tables import read_table
    from chromseq.plots.run_plots import plot_run

    run = runs.Run.open(run_dir)
    done = Figures()
    evaluation = None
    if data:
        evaluation = runs.Evaluation(Path(evaluate(run, data, verbose=False)["out_dir"]))
    else:
        evaluation = run.evaluation()
        valid = run.info.extra.get("valid")
        if evaluation is None and valid and Path(valid).exists():
            done.evaluated = str(valid)
            evaluation = runs.Evaluation(Path(evaluate(run, valid, verbose=False)["out_dir"]))
    picks: list[int] = []
    if features and run.features_file.exists():
        table = run.feature_table()
        for f in features:
            picks.extend(int(i) for i in table.select(f)[:5])
    drawn = {}
    if evaluation is not None and evaluation.exists():
        arrays = evaluation.predictions()
        drawn = dict(eval_name=evaluation.name, y_true=arrays["y_true"], y_pred=arrays["y_pred"],
                     rows=read_table(evaluation.table))
    done.files = plot_run(run, out_dir, features=picks, max_rows=max_rows, **drawn)
    return done
