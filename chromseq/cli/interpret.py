"""CLI commands: ``chromseq interpret saliency|temporal|classopt|ism|filters``."""

from __future__ import annotations

import click

METHODS = ("saliency", "temporal", "classopt", "ism", "filters")


@click.command("interpret")
@click.argument("method", type=click.Choice(METHODS))
@click.option("--run", "run_dir", required=True, type=click.Path(exists=True, file_okay=False))
@click.option("--data", type=click.Path(dir_okay=False), help="Sequences to explain (default: the run's validation file).")
@click.option("--feature", help="Feature index or name pattern (first match); default 0.")
@click.option("--samples", default=4, show_default=True, type=click.IntRange(1),
              help="How many sequences (positives of the feature when labelled).")
@click.option("--out", "out_dir", type=click.Path(file_okay=False), help="Output folder (default <run>/interpret/<method>).")
@click.option("--motif-db", type=click.Path(dir_okay=False),
              help="filters: motif database (MEME or JASPAR/TRANSFAC) to match the filters against.")
@click.option("--steps", default=1000, show_default=True, type=click.IntRange(1), help="classopt: optimization steps.")
@click.option("--threshold", default=0.5, show_default=True, type=click.FloatRange(0, 1),
              help="filters: activation threshold as a fraction of each filter's maximum.")
@click.option("--batch-size", default=256, show_default=True, type=click.IntRange(1))
def interpret(method, run_dir, data, feature, samples, out_dir, motif_db, steps, threshold, batch_size) -> None:
    """Explain a trained model: which bases matter and what patterns it learned.

    \b
    saliency  |dS/dX| x X per base (heatmap and letters scaled by importance)
    temporal  score of every prefix and suffix along the sequence (recurrent / pooling models)
    classopt  the input that maximizes the feature's score, as a logo (DeMo: 1000 RMSprop steps)
    ism       score change of every substitution at every position
    filters   first-layer filters as PWMs (MEME file, logos), matched to --motif-db
    \b
    Examples:
      chromseq interpret saliency --run runs/demo --feature CTCF
      chromseq interpret filters --run runs/demo --motif-db ../shared/data/motifs/jaspar2024_core.transfac.gz
    """
    from pathlib import Path

    import numpy as np

    from chromseq import runs
    from chromseq.interpret.run_interpret import load_samples, planted_spans, resolve_feature
    from chromseq.outputs import savez

    run = Path(run_dir)
    model = runs.load_model(run)
    info = runs.read_run_info(run)
    k = model.output_shape[-1]
    f = resolve_feature(run, feature, k)
    out = Path(out_dir) if out_dir else run / "interpret" / method
    out.mkdir(parents=True, exist_ok=True)
    names = _feature_names(run, k)
    label = names[f]

    if method == "classopt":
        from chromseq.data.motifs import Motif
        from chromseq.interpret import class_optimization
        from chromseq.plots.logos import plot_logos

        length = info.seq_len or 100
        x_opt, pwm = class_optimization(model, f, length, steps=steps)
        acgt = pwm[:, [info.alphabet.index(b) for b in "ACGT"]]
        savez(out / "classopt.npz", x=x_opt, pwm=pwm, alphabet=info.alphabet, feature=f)
        from chromseq.interpret.filters import information_content

        ic = information_content(acgt)
        best = int(np.argmax(np.convolve(ic, np.ones(20), mode="valid"))) if length > 20 else 0
        span = slice(best, best + min(20, length))
        plot_logos([Motif("classopt", label, acgt), Motif("zoom", label, acgt[span])], out / "classopt.png",
                   titles=[f"class optimization for {label}: whole input",
                           f"most informative 20 bp (positions {span.start}-{span.stop})"])
        click.echo(f"wrote {out}/classopt.npz, classopt.png")
        return

    x, idx, alphabet, _ = load_samples(run, data, f, samples if method != "filters" else 20000,
                                       positives_only=method != "filters")
    data_path = data or info.extra.get("valid")
    crop_offset = ((info.extra.get("full_length") or info.seq_len) - info.seq_len) // 2 if info.seq_len else 0
    spans = planted_spans(data_path, idx, crop_offset) if method != "filters" else []
    if method == "saliency":
        from chromseq.interpret import saliency_map
        from chromseq.plots.attribution import plot_saliency

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
    elif method == "temporal":
        from chromseq.interpret import temporal_scores
        from chromseq.plots.attribution import plot_temporal

        fwd, bwd = temporal_scores(model, x, f, batch_size)
        savez(out / "temporal.npz", forward=fwd, backward=bwd, samples=idx, feature=f)
        for n, i in enumerate(idx):
            plot_temporal(fwd[n], bwd[n], out / f"temporal_{i}.png", title=f"Temporal output scores of {label}, sample {i}")
    else:
        _filters(model, x, alphabet, out, motif_db, threshold, batch_size)
        return
    click.echo(f"wrote {method} arrays and {len(idx)} figure(s) to {out} (feature {f}: {label})")


def _feature_names(run, k):
    from chromseq import runs
    from chromseq.data.annotations import FeatureTable

    path = run / runs.FEATURES_FILE
    return FeatureTable.read(path, n_features=k).names if path.exists() else [f"feature_{i}" for i in range(k)]


def _filters(model, x, alphabet, out, motif_db, threshold, batch_size) -> None:
    import numpy as np

    from chromseq.data.motifs import read_motifs, write_meme
    from chromseq.interpret import compare_motifs, filter_motifs
    from chromseq.interpret.filters import information_content, trim
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
    click.echo(f"wrote {out}/filters.meme ({len(motifs)} filters), filter_logos.png"
               + (", matches.tsv" if matches else ""))
    if matches:
        for i in top[:8]:
            m = matches[i][0]
            click.echo(f"  {motifs[i].id:<10} {ic[i]:5.1f} bits  -> {m.target_name} ({m.target_id}) score {m.score:.2f}")


COMMANDS: list = [interpret]
