from pathlib import Path

import pytest
from wf_helpers import write_config

from tuneval.errors import ConfigError, UsageError
from tuneval.workflow import load_config

GOOD = (
    "name: t\n"
    "eval_set: eval.jsonl\n"
    "models:\n"
    "  base: {spec: 'mock:echo'}\n"
    "  finetuned: {spec: 'mock:echo'}\n"
)


def test_defaults_and_relative_paths(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path.parent)
    cfg = load_config(write_config(tmp_path, GOOD), environ={})
    assert cfg.eval_set == tmp_path / "eval.jsonl"
    assert cfg.run_dir == Path("runs") / "t"  # output_dir is relative to the working dir
    assert cfg.decoding.max_tokens == 256 and cfg.judge.spec is None


def test_unknown_nested_key_is_named(tmp_path):
    text = GOOD.replace("{spec: 'mock:echo'}\n", "{spec: 'mock:echo', sytem_prompt: x}\n", 1)
    with pytest.raises(ConfigError, match=r"unknown key 'models\.base\.sytem_prompt'"):
        load_config(write_config(tmp_path, text), environ={})


def test_unknown_top_level_key(tmp_path):
    with pytest.raises(ConfigError, match="unknown key 'judgee'"):
        load_config(write_config(tmp_path, GOOD + "judgee: {spec: x}\n"), environ={})


def test_wrong_type_is_named(tmp_path):
    text = GOOD + "decoding: {max_tokens: many}\n"
    with pytest.raises(ConfigError, match=r"key 'decoding\.max_tokens'.*'many'"):
        load_config(write_config(tmp_path, text), environ={})


def test_missing_required_key(tmp_path):
    text = "eval_set: eval.jsonl\nmodels: {base: {spec: 'mock:echo'}}\n"
    with pytest.raises(ConfigError, match=r"missing required key 'models\.finetuned'"):
        load_config(write_config(tmp_path, text), environ={})


def test_spec_without_prefix(tmp_path):
    text = GOOD.replace("'mock:echo'", "'gpt4'", 1)
    with pytest.raises(ConfigError, match=r"models\.base\.spec.*no backend prefix"):
        load_config(write_config(tmp_path, text), environ={})


def test_missing_eval_set_file_named(tmp_path):
    text = GOOD.replace("eval.jsonl", "nope.jsonl")
    with pytest.raises(ConfigError, match=r"'eval_set'.*nope\.jsonl does not exist"):
        load_config(write_config(tmp_path, text), environ={})


def test_missing_training_file_named(tmp_path):
    text = GOOD + "contamination: {training_data: [train.jsonl]}\n"
    with pytest.raises(ConfigError, match=r"contamination\.training_data\.0.*train\.jsonl"):
        load_config(write_config(tmp_path, text), environ={})


def test_missing_config_file(tmp_path):
    with pytest.raises(ConfigError, match="does not exist"):
        load_config(tmp_path / "missing.yaml", environ={})


def test_invalid_yaml(tmp_path):
    with pytest.raises(ConfigError, match="not valid YAML"):
        load_config(write_config(tmp_path, "models: [unclosed\n"), environ={})


def test_layers_env_then_flags(tmp_path):
    path = write_config(tmp_path, GOOD + "decoding: {max_tokens: 10}\n")
    env = {
        "TUNEVAL_DECODING__MAX_TOKENS": "20",
        "TUNEVAL_JUDGE__SPEC": "mock:upper",
        "TUNEVAL_CACHE_DIR": "/elsewhere",  # not a config key: ignored
    }
    cfg = load_config(path, environ=env)
    assert cfg.decoding.max_tokens == 20 and cfg.judge.spec == "mock:upper"
    cfg = load_config(path, environ=env, overrides=["decoding.max_tokens=30", "name=x"])
    assert cfg.decoding.max_tokens == 30 and cfg.name == "x"


def test_bad_env_value_names_variable_key(tmp_path):
    path = write_config(tmp_path, GOOD)
    with pytest.raises(ConfigError, match=r"decoding\.temperature"):
        load_config(path, environ={"TUNEVAL_DECODING__TEMPERATURE": "hot"})


def test_bad_override_syntax(tmp_path):
    with pytest.raises(UsageError, match=r"key\.path=value"):
        load_config(write_config(tmp_path, GOOD), environ={}, overrides=["judge.spec"])
