"""Checks of a workflow config beyond its schema, all made when the config loads.

A typo anywhere must fail before the first model call is paid for: duplicate YAML keys
(PyYAML silently keeps the last one), backend specs and their typed options, metric specs
and their options.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from tuneval.errors import BackendError, ConfigError, MetricError

if TYPE_CHECKING:
    import yaml

    from tuneval.workflow.config import WorkflowConfig


def load_yaml(text: str, source: str) -> Any:
    """Parse YAML like ``yaml.safe_load``, but reject a key given twice in one mapping.

    Raises:
        ConfigError: Naming the key and the lines of both occurrences, or a YAML syntax error.
    """
    import yaml

    class UniqueKeyLoader(yaml.SafeLoader):
        def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> Any:
            seen: dict[Any, int] = {}
            for key_node, _ in node.value:
                key = self.construct_object(key_node, deep=True)
                line = key_node.start_mark.line + 1
                if key_node.tag == "tag:yaml.org,2002:merge":
                    continue  # "<<" merges are the base loader's business
                try:
                    first = seen.get(key)
                except TypeError:  # an unhashable key: the base loader reports it
                    break
                if first is not None:
                    raise ConfigError(
                        f"{source}:{line}: key '{key}' is given twice (first on line {first}); "
                        "keep one of them"
                    )
                seen[key] = line
            return super().construct_mapping(node, deep=deep)

    try:
        return yaml.load(text, Loader=UniqueKeyLoader)  # a SafeLoader: no arbitrary objects
    except yaml.YAMLError as exc:
        raise ConfigError(_yaml_problem(exc, source)) from None


def _yaml_problem(exc: Exception, source: str) -> str:
    """``FILE:LINE:COL: not valid YAML: PROBLEM (CONTEXT)`` on one line."""
    mark = getattr(exc, "problem_mark", None)
    where = f"{source}:{mark.line + 1}:{mark.column + 1}" if mark is not None else source
    problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
    context = getattr(exc, "context", None)
    extra = f" ({context})" if context else ""
    return f"{where}: not valid YAML: {problem}{extra}"


def _backend_problem(key: str, spec: str, options: dict[str, Any]) -> str | None:
    from tuneval.models.base import backend_class, validate_backend_options
    from tuneval.workflow.config import DecodingConfig

    try:
        backend_class(spec)
    except BackendError as exc:
        # The spec itself is wrong (unknown prefix), not its options: name the key to edit.
        flag = " (or --judge)" if key == "judge" else ""
        return f"key '{key}.spec'{flag}: {exc}"
    try:
        validate_backend_options(spec, options)
    except BackendError as exc:
        decoding = sorted(set(options) & set(DecodingConfig.model_fields))
        hint = f" ({', '.join(decoding)}: set under 'decoding')" if decoding else ""
        return f"key '{key}.options': {exc}{hint}"
    return None


def check_config(config: WorkflowConfig, source: str = "config") -> None:
    """Check every backend spec and option and every metric spec of ``config``.

    Raises:
        ConfigError: One line per problem, each naming the key path and the valid choices.
    """
    from tuneval.metrics import create_metric

    backends = [
        ("models.base", config.models.base.spec, config.models.base.options),
        ("models.finetuned", config.models.finetuned.spec, config.models.finetuned.options),
    ]
    if config.judge.spec is not None:
        backends.append(("judge", config.judge.spec, config.judge.options))
    problems = [p for key, spec, opts in backends if (p := _backend_problem(key, spec, opts))]
    metrics = [(f"metrics.default.{i}", s) for i, s in enumerate(config.metrics.default)]
    for category, specs in config.metrics.per_category.items():
        metrics += [(f"metrics.per_category.{category}.{i}", s) for i, s in enumerate(specs)]
    for key, spec in metrics:
        try:
            create_metric(spec)
        except MetricError as exc:
            problems.append(f"key '{key}': {exc}")
    if problems:
        raise ConfigError("\n".join(f"{source}: {p}" for p in problems))
