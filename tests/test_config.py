"""Config validation: unknown keys list the allowed keys, wrong types name the field, --set overrides."""

import pytest
import yaml

from chromseq.config import config_from_dict, load_config
from chromseq.errors import ChromseqError


def test_defaults_and_overrides_are_typed():
    cfg = config_from_dict({"name": "x"}, ["train.epochs=3", "train.learning_rate=1e-2",
                                           "data.crop=200", "model.params.filters=8"])
    assert cfg.train.epochs == 3 and isinstance(cfg.train.learning_rate, float)
    assert cfg.data.crop == 200 and cfg.model.params == {"filters": 8}
    assert str(cfg.resolved_run_dir) == "runs/x"


def test_resolved_config_round_trips_through_yaml():
    cfg = config_from_dict({"name": "x", "model": {"name": "deepsea", "params": {"l2": 5e-7}}})
    again = config_from_dict(yaml.safe_load(cfg.to_yaml()))
    assert again == cfg


@pytest.mark.parametrize("data, overrides, message", [
    ({"trian": {}}, [], "unknown config key trian; allowed keys: name, run_dir, seed, model"),
    ({"train": {"epoch": 3}}, [], "unknown config key train.epoch; allowed keys in train: epochs"),
    ({}, ["train.epochs=three"], "train.epochs: expected an integer"),
    ({}, ["data.rc_augment=1"], "data.rc_augment: expected true/false"),
    ({}, ["train.batch_size=0"], "train.batch_size: must be positive"),
    ({}, ["train.optimizer=adagrad"], "train.optimizer: 'adagrad' is not one of adam, sgd, rmsprop"),
    ({}, ["model.name=resnet"], "model.name: unknown model 'resnet'"),
    ({"model": {"name": "deepsea", "params": {"filter": 3}}}, [],
     "unknown config key model.params.filter for deepsea; allowed keys:"),
    ({}, ["train.epochs"], "expected key=value"),
])
def test_bad_configs_name_the_field(data, overrides, message):
    with pytest.raises(ChromseqError, match=None) as info:
        config_from_dict(data, overrides)
    assert message in str(info.value) and "\n" not in str(info.value)


def test_every_shipped_config_is_valid():
    from pathlib import Path

    for path in sorted(Path(__file__).parents[1].glob("configs/*.yaml")):
        if not path.name.startswith(("lm", "tfbs")):
            assert load_config(path).model.name


def test_load_config_errors_name_the_file(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("train: [unclosed\n")
    with pytest.raises(ChromseqError, match="bad.yaml: not valid YAML"):
        load_config(bad)
    with pytest.raises(ChromseqError, match="missing.yaml: config file not found"):
        load_config(tmp_path / "missing.yaml")
