"""The ``chromseq`` command line: click commands that parse options, call the API and print.

Each command group lives in its own module; heavy imports (TensorFlow) happen inside the
commands so that ``chromseq --help`` answers at once.
"""

from __future__ import annotations

import contextlib
import sys

import click

from chromseq import __version__
from chromseq.errors import ChromseqError, describe_os_error, unwrap


class ChromseqGroup(click.Group):
    """Top-level group that turns user errors into one line and a non-zero exit."""

    def invoke(self, ctx: click.Context):
        from chromseq.allocator import pool_cpu_memory
        from chromseq.quiet import quiet_tensorflow

        pool_cpu_memory()  # before any command imports TensorFlow
        loud = ctx.params.get("verbose") or ctx.params.get("debug")
        with contextlib.nullcontext() if loud else quiet_tensorflow():
            return self._invoke_with_one_line_errors(ctx)

    def _invoke_with_one_line_errors(self, ctx: click.Context):
        try:
            return super().invoke(ctx)
        except (click.exceptions.Exit, click.exceptions.Abort, click.ClickException):
            raise
        except KeyboardInterrupt:
            click.echo("interrupted", err=True)
            sys.exit(130)
        except Exception as exc:  # noqa: BLE001 - the one place errors become messages
            if ctx.obj and ctx.obj.get("debug"):
                raise
            exc = unwrap(exc)  # e.g. a ChromseqError raised while tf.data streamed the file
            # a full disk or an unwritable folder is a problem with the command's paths too
            disk = None if isinstance(exc, ChromseqError) else describe_os_error(exc)
            click.echo(f"error: {disk or _one_line(exc)}", err=True)
            sys.exit(2 if disk or isinstance(exc, ChromseqError) else 1)


def _one_line(exc: BaseException) -> str:
    if isinstance(exc, ChromseqError):
        return " ".join(line.strip() for line in str(exc).splitlines() if line.strip())
    if isinstance(exc, FileNotFoundError):
        return f"{exc.filename}: file not found"
    if isinstance(exc, OSError) and getattr(exc, "filename", None):
        return f"{exc.filename}: {exc.strerror or exc}"
    text = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[0] if text else ''} (run with --debug for the traceback)"


@click.group(cls=ChromseqGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="chromseq")
@click.option("--verbose", is_flag=True, help="Show TensorFlow's own log messages (hidden by default).")
@click.option("--debug", is_flag=True, help="Show full tracebacks instead of one-line errors (implies --verbose).")
@click.pass_context
def main(ctx: click.Context, verbose: bool, debug: bool) -> None:
    """chromseq: train, evaluate and explain neural networks that read DNA.

    \b
    The main job:
      chromseq data synth --out data/synth
      chromseq train --config configs/demo.yaml
      chromseq eval --run runs/demo --data data/synth/test.mat
      chromseq plot-features --run runs/demo
    """
    ctx.ensure_object(dict)
    ctx.obj["debug"] = debug


def _register() -> None:
    """Add the ``COMMANDS`` of every module in this package (groups first, so others can extend them)."""
    import importlib
    import pkgutil

    names = sorted(m.name for m in pkgutil.iter_modules(__path__))
    # data and bench define groups that other modules attach subcommands to
    for name in sorted(names, key=lambda n: n not in ("data", "bench")):
        module = importlib.import_module(f"{__name__}.{name}")
        for command in getattr(module, "COMMANDS", []):
            main.add_command(command)


_register()
