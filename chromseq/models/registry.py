"""Model registry: name -> builder(seq_len, n_features, **params)."""

from __future__ import annotations

import inspect
from collections.abc import Callable

from chromseq.errors import ChromseqError
from chromseq.models.beluga import build_beluga
from chromseq.models.danq import build_danq
from chromseq.models.deepsea import build_deepsea
from chromseq.models.demo import build_demo_cnn, build_demo_cnn_rnn, build_demo_rnn
from chromseq.models.recurrent import build_bigru, build_cwrnn, build_gru_stack

BUILDERS: dict[str, Callable] = {
    "gru_stack": build_gru_stack,
    "bigru": build_bigru,
    "deepsea": build_deepsea,
    "beluga": build_beluga,
    "danq": build_danq,
    "demo_cnn": build_demo_cnn,
    "demo_rnn": build_demo_rnn,
    "demo_cnn_rnn": build_demo_cnn_rnn,
    "cwrnn": build_cwrnn,
}
MODEL_NAMES = tuple(BUILDERS)
#: models whose input length is free (recurrent bodies, global pooling heads)
VARIABLE_LENGTH = {"gru_stack", "bigru", "demo_rnn", "demo_cnn_rnn", "cwrnn"}


def model_params(name: str) -> dict[str, object]:
    """The hyperparameters of a model and their published defaults."""
    builder = _builder(name)
    return {p.name: p.default for p in inspect.signature(builder).parameters.values()
            if p.kind is inspect.Parameter.KEYWORD_ONLY}


def _builder(name: str) -> Callable:
    if name not in BUILDERS:
        raise ChromseqError(f"unknown model {name!r}; choose one of {', '.join(MODEL_NAMES)}")
    return BUILDERS[name]


def build_model(name: str, seq_len: int, n_features: int, **params):
    """Build model ``name`` for sequences of ``seq_len`` bp and ``n_features`` outputs.

    >>> build_model("deepsea", 1000, 919).count_params()   # doctest: +SKIP
    52843176
    """
    builder = _builder(name)
    allowed = model_params(name)
    unknown = sorted(set(params) - set(allowed))
    if unknown:
        raise ChromseqError(f"model {name!r} has no parameter {', '.join(unknown)}; "
                            f"allowed: {', '.join(allowed)}")
    if seq_len is not None and seq_len <= 0 or n_features <= 0:
        raise ChromseqError(f"sequence length and number of features must be positive (got {seq_len}, {n_features})")
    params = {k: tuple(v) if isinstance(v, list) and isinstance(allowed[k], tuple) else v for k, v in params.items()}
    try:
        return builder(seq_len, n_features, **params)
    except ValueError as exc:
        raise ChromseqError(f"cannot build {name} for length {seq_len}: {exc}") from exc
