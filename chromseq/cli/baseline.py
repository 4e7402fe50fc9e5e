"""CLI commands: ``chromseq baseline kmer``, ``chromseq compare``, ``chromseq tfbs train|eval``."""

from __future__ import annotations

import click


@click.group("baseline")
def baseline_group() -> None:
    """Non-neural baselines.

    \b
    Example:
      chromseq baseline kmer --data data/synth/train.mat --test data/synth/test.mat --out runs/kmer
    """


@baseline_group.command("kmer")
@click.option("--data", required=True, type=click.Path(dir_okay=False),
              help="Training data: DeepSEA .mat / .h5 / .npz (multitask) or a DeepBind .seq.gz / labelled FASTA.")
@click.option("--test", "test_file", type=click.Path(dir_okay=False),
              help="Evaluation data (default: test.mat beside a .mat training file).")
@click.option("--out", "out_dir", default="runs/kmer", show_default=True, type=click.Path(file_okay=False))
@click.option("--max-samples", type=click.IntRange(1),
              help="Only the first N training samples of a multitask file (default: all).")
@click.option("--features", "pattern", help="Only features matching this name pattern (or indices).")
@click.option("--class-weight", is_flag=True, help="Balance classes in each regression.")
@click.option("--crop", type=click.IntRange(1), help="Count k-mers on the central N bp only (e.g. 200).")
@click.option("--C", "c", default=1.0, show_default=True, type=click.FloatRange(0, min_open=True),
              help="Inverse L2 strength, as scikit-learn's LogisticRegression(C=...).")
@click.option("--block-size", default=4096, show_default=True, type=click.IntRange(1),
              help="Samples counted and fitted per block (memory grows with it, not with the file).")
def kmer(data, test_file, out_dir, max_samples, pattern, class_weight, crop, c, block_size) -> None:
    """k-mer (k = 1..5, 1,364 counts) logistic regression for every feature at once, streamed.

    One linear layer 1,364 -> K with a sigmoid and its own L2 penalty per feature (the same
    optimum as K scikit-learn regressions), fitted by L-BFGS over the whole training file.
    Writes model.npz, performance.tsv (auroc, auprc, f1 at 0.5, best_f1...) and summary.json.
    """
    from chromseq.baseline.run_baseline import kmer_baseline

    s = kmer_baseline(data, test_file=test_file, out_dir=out_dir, max_samples=max_samples, pattern=pattern,
                      class_weight=class_weight, crop=crop, c=c, block_size=block_size)
    fit = s["fit"]
    median, p90 = fit["iterations_median_p90"]
    click.echo(f"k-mer baseline: {s['train_samples']} training samples; L-BFGS {median:.0f} iterations per feature "
               f"(median; 90 % within {p90:.0f}), {fit['passes']} passes over the data, {fit['seconds']} s"
               + ("" if fit["converged"] else f"; {fit['not_converged']} feature(s) stopped at the iteration limit"))
    click.echo(f"mean F1 {s['mean_f1']:.4f} over {s['features_with_1pct_positives']} features with >= 1 % "
               f"positives; mean AUROC {s['mean_auroc']:.4f}; wrote {s['out_dir']}/performance.tsv, model.npz")


@click.command("compare")
@click.option("--run", "run_dirs", multiple=True, required=True, type=click.Path(exists=True, file_okay=False),
              help="A trained run with an evaluation (repeatable).")
@click.option("--baseline", "baseline_dir", required=True, type=click.Path(exists=True, file_okay=False),
              help="Output folder of `chromseq baseline kmer` on the same test data.")
@click.option("--eval-name", default="test", show_default=True, help="Which <run>/eval/<name> to compare.")
@click.option("--out", "out_dir", default="runs/compare", show_default=True, type=click.Path(file_okay=False))
def compare(run_dirs, baseline_dir, eval_name, out_dir) -> None:
    """Mean per-feature F1 of networks vs the k-mer baseline and the share of features each network wins.

    \b
    Example:
      chromseq eval --run runs/demo --data data/synth/test.mat
      chromseq baseline kmer --data data/synth/train.mat --out runs/kmer --crop 200
      chromseq compare --run runs/demo --baseline runs/kmer
    """
    from chromseq.baseline.versus_network import compare_runs

    result = compare_runs(list(run_dirs), baseline_dir, eval_name=eval_name, out_dir=out_dir)
    click.echo(f"{result['n_features']} features with >= 1 % positives")
    click.echo(f"  k-mer logistic regression: mean F1 {result['baseline']['mean']:.4f}")
    for name, s in result["networks"].items():
        click.echo(f"  {name}: mean F1 {s['mean']:.4f}; better than the baseline on {s['share_better']:.1%} of features")
    click.echo(f"wrote {result['out_dir']}/compare.json, f1_scatter.png")


@click.group("tfbs")
def tfbs_group() -> None:
    """Binary TF-binding classification on DeepBind / DeMo ENCODE ChIP-seq folds."""


@tfbs_group.command("train")
@click.option("--train", "train_file", type=click.Path(dir_okay=False), help="Training fold (_AC.seq.gz or labelled FASTA).")
@click.option("--test", "test_file", type=click.Path(dir_okay=False), help="Test fold (_B.seq.gz).")
@click.option("--dir", "directory", type=click.Path(file_okay=False),
              help="A DeepBind folder with train/*_AC.seq.gz and test/*_B.seq.gz: every TF.")
@click.option("--model", "models", multiple=True, default=("demo_cnn", "demo_rnn", "demo_cnn_rnn", "deepsea"),
              show_default=True, help="Models to train (repeatable).")
@click.option("--out", "out_dir", default="runs/tfbs", show_default=True, type=click.Path(file_okay=False))
@click.option("--epochs", default=30, show_default=True, type=click.IntRange(1),
              help="At most this many epochs (early stopping on validation AUROC, patience 4).")
@click.option("--one-strand", is_flag=True, help="Train and score on the given strand only (default: both).")
@click.option("--jobs", default=1, show_default=True, type=click.IntRange(1),
              help="With --dir: train this many TFs at once, each in its own process.")
@click.option("--threads", type=click.IntRange(1), help="TensorFlow CPU threads per process (default: all cores, "
              "or cores/jobs with --jobs; recurrent models gain little from a second thread).")
@click.option("--no-kmer", is_flag=True, help="Skip the k-mer logistic baseline.")
@click.option("--quiet", is_flag=True, help="No line per epoch; only each model's test result.")
@click.option("--seed", default=0, show_default=True, type=int)
def tfbs_train(train_file, test_file, directory, models, out_dir, epochs, one_strand, jobs, threads, no_kmer,
               quiet, seed) -> None:
    """Train each model on each TF and report test AUROC/AUPRC/F1 as one table.

    Writes results.tsv (a row per TF and model) and auroc_table.tsv (TFs x models) in --out,
    and a run directory per TF and model (``chromseq interpret saliency --run`` works on it).

    \b
    Examples:
      chromseq tfbs train --dir ../shared/data/deepbind_encode --out runs/tfbs --jobs 2
      chromseq tfbs train --train ARID3A_AC.seq.gz --test ARID3A_B.seq.gz --model demo_cnn
    """
    from pathlib import Path

    from chromseq.experiments.tfbs import pair_folds, run_tfs, write_results

    if directory:
        pairs = pair_folds(directory)
    elif train_file and test_file:
        pairs = [(Path(train_file), Path(test_file))]
    else:
        raise click.UsageError("give --dir, or --train and --test")
    rows = run_tfs(pairs, list(models), out_dir, jobs=jobs, threads=threads, epochs=epochs,
                   strands=1 if one_strand else 2, kmer=not no_kmer, seed=seed, verbose=0 if quiet else 2)
    results, table = write_results(rows, out_dir)
    click.echo(table.read_text().replace("\t", "  "), nl=False)
    click.echo(f"wrote {results} and {table}")


@tfbs_group.command("eval")
@click.option("--run", "run_dir", required=True, type=click.Path(exists=True, file_okay=False))
@click.option("--data", required=True, type=click.Path(dir_okay=False), help="A DeepBind fold or labelled FASTA.")
def tfbs_eval(run_dir, data) -> None:
    """Evaluate a trained binary run on a fold (AUROC, AUPRC, F1).

    \b
    Example:
      chromseq tfbs eval --run runs/tfbs/CTCF/demo_cnn --data ../shared/data/deepbind_encode/ood/CTCF_NH-A_CTCF_Broad_B.seq.gz
    """
    from chromseq.evaluation.evaluate import evaluate_binary

    m = evaluate_binary(run_dir, data)
    click.echo(f"{data}: {m['sequences']} sequences, AUROC {m['auroc']:.4f}, AUPRC {m['auprc']:.4f}, F1 {m['f1']:.4f}")


COMMANDS: list = [baseline_group, compare, tfbs_group]
