"""Run an interpretation method on a run directory: pick samples and feature, write arrays and figures
(what ``chromseq interpret`` does)."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from chromseq import runs
from chromseq.errors import ChromseqError

METHODS = ("saliency", "temporal", "classopt", "ism", "filters", "attributions", "modisco")
MODISCO_SAMPLES = 1000  # sequences for modisco unless --samples says otherwise (see interpret/modisco.py)


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
                  feature: str | None = None, samples: int | None = None, out_dir: str | os.PathLike | None = None,
                  motif_db: str | os.PathLike | None = None, taxon: str | None = None,
                  steps: int = 1000, threshold: float = 0.7,
                  batch_size: int = 256, attribution: str = "deepshap", shuffles: int = 20,
                  ig_steps: int = 50) -> Interpretation:
    """Explain the model of a run with ``method`` (one of ``METHODS``) and write its arrays and
    figures into ``out_dir`` (default ``<run>/interpret/<method>``).

    ``feature``: index or name pattern (default 0); ``samples``: how many sequences of ``data``
    (positives of the feature when labelled); ``motif_db`` (restricted to ``taxon``, e.g.
    'vertebrates', by its own annotations): filters and classopt, matched by Tomtom's statistics
    into ``matches.tsv`` / ``classopt_matches.tsv``; ``threshold``: filters only; ``steps``:
    classopt only; ``attribution`` (grad_x_input, integrated_gradients, deepshap), ``shuffles``
    (deepshap references), ``ig_steps`` (integrated gradients): attributions and modisco
    (``samples`` default 4, modisco 1000).
    """
    from chromseq.outputs import savez

    if method not in METHODS:
        raise ChromseqError(f"unknown interpretation method {method!r}; one of {', '.join(METHODS)}")
    # a bad --motif-db / --taxon is refused before the model is loaded
    database = _motif_database(motif_db, taxon) if method in ("classopt", "filters") else None
    run = runs.Run.open(run_dir)
    model = run.model
    f = run.resolve_feature(feature)
    out = Path(out_dir) if out_dir else run.interpret_dir(method)
    out.mkdir(parents=True, exist_ok=True)
    done = Interpretation(method, out)
    label = run.feature_names[f]

    if method == "classopt":
        _class_optimization(run, f, label, out, steps, database, done)
        return done
    if method == "filters":
        x, _, _ = load_samples(run, data, f, 20000, positives_only=False)
        _filters(model, x, run.alphabet, out, database, threshold, batch_size, done)
        return done

    if method in ("attributions", "modisco"):
        _signed_attributions(run, method, data, f, label, samples, _motif_database(motif_db, taxon), attribution,
                             shuffles, ig_steps, batch_size, out, done)
        return done
    samples = samples or 4
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


def _class_optimization(run: runs.Run, f: int, label: str, out: Path, steps: int, database: list | None,
                        done: Interpretation) -> None:
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
    if database:
        from chromseq.interpret.motif_match import compare_motifs, write_matches

        zoom = Motif(f"classopt_{span.start}_{span.stop}", label, acgt[span])
        matches = compare_motifs([zoom], database, top=5)
        write_matches(out / "classopt_matches.tsv", matches)
        done.lines.append(f"wrote {out}/classopt_matches.tsv (the most informative 20 bp against the database)")
        for m in matches[0][:3]:
            done.lines.append(f"  {m.rank}. {m.target_name} ({m.target_id}) p {m.p_value:.2g}, q {m.q_value:.2g}")


def _filters(model, x: np.ndarray, alphabet: str, out: Path, database: list | None, threshold: float,
             batch_size: int, done: Interpretation) -> None:
    from chromseq.data.motifs import write_meme
    from chromseq.interpret.filters import filter_motifs, information_content, trim
    from chromseq.interpret.motif_match import compare_motifs, write_matches
    from chromseq.plots.logos import plot_logos

    motifs, sites = filter_motifs(model, x, threshold=threshold, alphabet=alphabet, batch_size=batch_size)
    write_meme(out / "filters.meme", motifs, nsites=[int(s) for s in sites])
    ic = np.array([information_content(m.pwm).sum() for m in motifs])
    order = np.argsort(-(ic * np.minimum(sites, 50)))  # informative and supported by many sites
    matches = None
    if database:
        matches = compare_motifs([trim(m) for m in motifs], database, top=3)
        write_matches(out / "matches.tsv", matches, {"sites": [int(s) for s in sites],
                                                      "information_bits": [f"{v:.2f}" for v in ic]})
    top = order[:12]
    titles = [f"{motifs[i].id}: {ic[i]:.1f} bits, {sites[i]} sites"
              + (f"; best match {matches[i][0].target_name} ({matches[i][0].target_id}, "
                 f"q {matches[i][0].q_value:.2g})" if matches and matches[i] else "") for i in top]
    plot_logos([motifs[i] for i in top], out / "filter_logos.png", titles=titles)
    done.lines.append(f"wrote {out}/filters.meme ({len(motifs)} filters), filter_logos.png"
                      + (", matches.tsv" if matches else ""))
    if matches:
        for i in top[:8]:
            if matches[i]:
                m = matches[i][0]
                done.lines.append(f"  {motifs[i].id:<10} {ic[i]:5.1f} bits  -> {m.target_name} ({m.target_id}) "
                                  f"p {m.p_value:.2g}, q {m.q_value:.2g}")


def _motif_database(path: str | os.PathLike | None, taxon: str | None) -> list | None:
    """The motifs of a database file, restricted to ``taxon`` by the file's own annotations."""
    from chromseq.data.motifs import read_motifs, select_taxon

    if not path:
        if taxon:
            raise ChromseqError("--taxon restricts the --motif-db file: give --motif-db too")
        return None
    db = read_motifs(path)
    return select_taxon(db, taxon, path) if taxon else db


def _signed_attributions(run: runs.Run, method: str, data, f: int, label: str, samples: int | None,
                         database: list | None, attribution: str, shuffles: int, ig_steps: int, batch_size: int,
                         out: Path, done: Interpretation) -> None:
    """``attributions``: arrays and a figure per sequence; ``modisco``: TF-MoDISco on the
    attributions of many sequences, its patterns matched against ``database``."""
    import time

    from chromseq.interpret.attributions import METHODS as ATTRIBUTIONS
    from chromseq.interpret.attributions import attributions
    from chromseq.outputs import savez

    if attribution not in ATTRIBUTIONS:
        raise ChromseqError(f"--method {attribution!r}: one of {', '.join(ATTRIBUTIONS)}")
    samples = samples or (MODISCO_SAMPLES if method == "modisco" else 4)
    x, idx, offset = load_samples(run, data, f, samples, max_read=max(20000, 20 * samples))
    options = {"integrated_gradients": {"steps": ig_steps, "verbose": True},
               "deepshap": {"n_shuffles": shuffles, "verbose": True}}.get(attribution, {})
    start = time.perf_counter()
    att = attributions(run.model, x, f, attribution, batch_size, alphabet=run.alphabet, **options)
    seconds = time.perf_counter() - start
    arrays = dict(contributions=att.contributions, hypothetical=att.hypothetical, x=x.astype(np.uint8),
                  samples=idx, feature=f, alphabet=run.alphabet, method=attribution, rule=att.rule)
    if att.delta is not None:
        arrays["delta"] = att.delta
    done.lines.append(f"{attribution} ({att.rule}) of {label} on {len(x)} sequences: {seconds:.1f} s")
    if method == "attributions":
        from chromseq.plots.attribution import plot_attributions

        savez(out / "attributions.npz", **arrays)
        spans = planted_spans(data or run.info.extra.get("valid"), idx, offset)
        for n, i in enumerate(idx):
            plot_attributions(x[n], att.contributions[n], run.alphabet, out / f"attributions_{i}.png",
                              planted=spans[n], title=f"{attribution} attributions of {label}, sample {i}")
        done.lines.append(f"wrote {out}/attributions.npz and {len(idx)} figure(s) (feature {f}: {label})")
        return

    from chromseq.interpret.modisco import find_motifs, match_patterns, write_h5, write_motif_table
    from chromseq.plots.attribution import plot_pattern

    savez(out / "attributions.npz", compressed=True, **arrays)
    start = time.perf_counter()
    result = find_motifs(x, att.hypothetical, run.alphabet)
    done.lines.append(f"TF-MoDISco: {len(result.patterns)} pattern(s) in {time.perf_counter() - start:.1f} s")
    write_h5(out / "modisco_results.h5", result)
    matches = match_patterns(result.patterns, database) if database and result.patterns else None
    write_motif_table(out / "motifs.tsv", result.patterns, matches)
    for k, p in enumerate(result.patterns):
        best = matches[k][0] if matches and matches[k] else None
        note = f"; best match {best.target_name} ({best.target_id}, q {best.q_value:.2g})" if best else ""
        plot_pattern(p.ppm, p.cwm, out / f"pattern_{k}.png",
                     title=f"{p.name} ({p.sign}), {p.n_seqlets} seqlets, {p.consensus}{note}")
        done.lines.append(f"  pattern_{k}: {p.name:<24} {p.sign} {p.n_seqlets:5d} seqlets  {p.consensus}"
                          + (f"  -> {best.target_name} ({best.target_id}) p {best.p_value:.2g}, "
                             f"q {best.q_value:.2g}" if best else ""))
    if not result.patterns:
        done.lines.append(f"  no pattern: {len(x)} sequences gave too few seqlets (modisco clusters a sign's "
                          "seqlets only above 100); give --data with more positives or a larger --samples")
    done.lines.append(f"wrote {out}/motifs.tsv, modisco_results.h5, attributions.npz"
                      + (f", pattern_0..{len(result.patterns) - 1}.png" if result.patterns else ""))
