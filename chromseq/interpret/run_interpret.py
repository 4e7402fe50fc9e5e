"""Run an interpretation method on a run directory: pick samples and feature, write arrays and figures
(what ``chromseq interpret`` does)."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from chromseq import runs
from chromseq.errors import ChromseqError

METHODS = ("saliency", "temporal", "classopt", "ism", "filters")


@dataclass
class Interpretation:
    """What ``interpret_run`` wrote, and the lines that describe it."""

    method: str
    out_dir: Path
    lines: list[str] = field(default_factory=list)


def load_samples(run: runs.Run, data: str | os.PathLike | None, feature: int, n: int,
                 max_read: int = 20000, positives_only: bool = True) -> tuple[np.ndarray, np.ndarray, int]:
    """Up to ``n`` samples of ``data`` (default: the run's validation file) that are positive for
    ``feature`` (the first ones when unlabelled or none is positive), fitted to the run's model.

    Returns x (n, L, 4) in the run's alphabet, their indices in the file and the crop offset.
    """
    data = data or run.info.extra.get("valid")
    if not data:
        raise ChromseqError(f"{run.path}: give --data (the run does not name a validation file)")
    with run.fit_data(data, max_samples=max_read) as ds:
        x, y = ds.load()
        offset = ds.crop_offset
    if positives_only and y is not None and y[:, feature].any():
        idx = np.flatnonzero(y[:, feature])[:n]
    else:
        idx = np.arange(min(n, len(x)))
    return x[idx], idx, offset


def planted_spans(data: str | os.PathLike, indices: np.ndarray, crop_offset: int) -> list[list[tuple[int, int]]]:
    """Planted motif spans (crop-relative) for synthetic bundles that carry a planted_<split>.npz."""
    import json

    path = Path(data)
    planted = path.with_name(f"planted_{path.stem}.npz")
    truth = path.with_name("truth.json")
    if not planted.exists() or not truth.exists():
        return [[] for _ in indices]
    p = np.load(planted)
    widths = [len(m["pwm"]) for m in json.loads(truth.read_text())["motifs"]]
    out = []
    for i in indices:
        rows = np.flatnonzero((p["sample"] == i) & p["center"])
        out.append([(int(p["start"][r]) - crop_offset, int(p["start"][r]) - crop_offset + widths[p["motif"][r]])
                    for r in rows])
    return out


def interpret_run(run_dir: str | os.PathLike, method: str, *, data: str | os.PathLike | None = None,
                  feature: str | None = None, samples: int = 4, out_dir: str | os.PathLike | None = None,
                  motif_db: str | os.PathLike | None = None, steps: int = 1000, threshold: float = 0.5,
                  batch_size: int = 256) -> Interpretation:
    """Explain the model of a run with ``method`` (one of ``METHODS``) and write its arrays and
    figures into ``out_dir`` (default ``<run>/interpret/<method>``).

    ``feature``: index or name pattern (default 0); ``samples``: how many sequences of ``data``
    (positives of the feature when labelled); ``motif_db``, ``threshold``: filters only;
    ``steps``: classopt only.
    """
    from chromseq.outputs import savez

    if method not in METHODS:
        raise ChromseqError(f"unknown interpretation method {method!r}; one of {', '.join(METHODS)}")
    run = runs.Run.open(run_dir)
    model = run.model
    f = run.resolve_feature(feature)
    out = Path(out_dir) if out_dir else run.interpret_dir(method)
    out.mkdir(parents=True, exist_ok=True)
    done = Interpretation(method, out)
    label = run.feature_names[f]

    if method == "classopt":
        _class_optimization(run, f, label, out, steps, done)
        return done
    if method == "filters":
        x, _, _ = load_samples(run, data, f, 20000, positives_only=False)
        _filters(model, x, run.alphabet, out, motif_db, threshold, batch_size, done)
        return done

    x, idx, offset = load_samples(run, data, f, samples)
    alphabet = run.alphabet
    if method == "saliency":
        from chromseq.interpret import saliency_map
        from chromseq.plots.attribution import plot_saliency

        spans = planted_spans(data or run.info.extra.get("valid"), idx, offset)
        sal = saliency_map(model, x, f, batch_size)
        savez(out / "saliency.npz", saliency=sal, x=x, samples=idx, feature=f, alphabet=alphabet)
        for n, i in enumerate(idx):
            plot_saliency(x[n], sal[n], alphabet, out / f"saliency_{i}.png", planted=spans[n],
                          title=f"Saliency of {label}, sample {i}")
    elif method == "ism":
        from chromseq.interpret import in_silico_mutagenesis
        from chromseq.plots.attribution import plot_ism

        ism = in_silico_mutagenesis(model, x, f, batch_size, alphabet=alphabet)
        savez(out / "ism.npz", ism=ism, x=x, samples=idx, feature=f, alphabet=alphabet)
        for n, i in enumerate(idx):
            plot_ism(x[n], ism[n], alphabet, out / f"ism_{i}.png", title=f"In-silico mutagenesis of {label}, sample {i}")
    else:
        from chromseq.interpret import temporal_scores
        from chromseq.plots.attribution import plot_temporal

        fwd, bwd = temporal_scores(model, x, f, batch_size)
        savez(out / "temporal.npz", forward=fwd, backward=bwd, samples=idx, feature=f)
        for n, i in enumerate(idx):
            plot_temporal(fwd[n], bwd[n], out / f"temporal_{i}.png", title=f"Temporal output scores of {label}, sample {i}")
    done.lines.append(f"wrote {method} arrays and {len(idx)} figure(s) to {out} (feature {f}: {label})")
    return done


def _class_optimization(run: runs.Run, f: int, label: str, out: Path, steps: int, done: Interpretation) -> None:
    from chromseq.data.motifs import Motif
    from chromseq.interpret.classopt import class_optimization
    from chromseq.interpret.filters import information_content
    from chromseq.outputs import savez
    from chromseq.plots.logos import plot_logos

    length = run.info.seq_len or 100
    x_opt, pwm = class_optimization(run.model, f, length, steps=steps)
    acgt = pwm[:, [run.alphabet.index(b) for b in "ACGT"]]
    savez(out / "classopt.npz", x=x_opt, pwm=pwm, alphabet=run.alphabet, feature=f)
    ic = information_content(acgt)
    best = int(np.argmax(np.convolve(ic, np.ones(20), mode="valid"))) if length > 20 else 0
    span = slice(best, best + min(20, length))
    plot_logos([Motif("classopt", label, acgt), Motif("zoom", label, acgt[span])], out / "classopt.png",
               titles=[f"class optimization for {label}: whole input",
                       f"most informative 20 bp (positions {span.start}-{span.stop})"])
    done.lines.append(f"wrote {out}/classopt.npz, classopt.png")


def _filters(model, x: np.ndarray, alphabet: str, out: Path, motif_db, threshold: float, batch_size: int,
             done: Interpretation) -> None:
    from chromseq.data.motifs import read_motifs, write_meme
    from chromseq.interpret.filters import filter_motifs, information_content, trim
    from chromseq.interpret.motif_match import compare_motifs
    from chromseq.outputs import atomic_open
    from chromseq.plots.logos import plot_logos

    motifs, sites = filter_motifs(model, x, threshold=threshold, alphabet=alphabet, batch_size=batch_size)
    write_meme(out / "filters.meme", motifs, nsites=[int(s) for s in sites])
    ic = np.array([information_content(m.pwm).sum() for m in motifs])
    order = np.argsort(-(ic * np.minimum(sites, 50)))  # informative and supported by many sites
    matches = None
    if motif_db:
        db = read_motifs(motif_db)
        matches = compare_motifs([trim(m) for m in motifs], db, top=3)
        with atomic_open(out / "matches.tsv", "w") as fh:
            fh.write("filter\tsites\tinformation_bits\trank\ttarget_id\ttarget_name\tscore\toffset\tstrand\toverlap\n")
            for f, row in enumerate(matches):
                for r, m in enumerate(row, 1):
                    fh.write(f"{motifs[f].id}\t{sites[f]}\t{ic[f]:.2f}\t{r}\t{m.target_id}\t{m.target_name}\t"
                             f"{m.score:.4f}\t{m.offset}\t{m.strand}\t{m.overlap}\n")
    top = order[:12]
    titles = [f"{motifs[i].id}: {ic[i]:.1f} bits, {sites[i]} sites"
              + (f"; best match {matches[i][0].target_name} ({matches[i][0].target_id}, {matches[i][0].score:.2f})"
                 if matches and matches[i] else "") for i in top]
    plot_logos([motifs[i] for i in top], out / "filter_logos.png", titles=titles)
    done.lines.append(f"wrote {out}/filters.meme ({len(motifs)} filters), filter_logos.png"
                      + (", matches.tsv" if matches else ""))
    if matches:
        for i in top[:8]:
            m = matches[i][0]
            done.lines.append(f"  {motifs[i].id:<10} {ic[i]:5.1f} bits  -> {m.target_name} ({m.target_id}) "
                              f"score {m.score:.2f}")
