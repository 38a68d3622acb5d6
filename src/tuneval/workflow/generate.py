"""The generate step: both models answer every example; finished items are never redone.

The work is done by `tuneval.models.generate` (call cache, retries, resume from the run
directory record by record). This module only turns a model's prompting settings (system
prompt, few-shot demonstrations, prompt template) into the conversation each example sends.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from tuneval.models.base import Decoding, DecodingOptions, Message, ModelBackend
from tuneval.models.cache import CallCache
from tuneval.models.generate import GenerateSummary, generate
from tuneval.models.runner import CallOptions, CallResult
from tuneval.records import Example
from tuneval.rundir import RunDir
from tuneval.workflow.config import ModelConfig


def conversation(example: Example, model: ModelConfig) -> list[Message]:
    """The user/assistant turns one model gets for one example (the system prompt aside)."""
    messages: list[Message] = []
    for shot in model.few_shot:
        user = model.prompt_template.replace("{prompt}", shot.prompt)
        messages.append(Message(role="user", content=user))
        messages.append(Message(role="assistant", content=shot.response))
    user = model.prompt_template.replace("{prompt}", example.prompt or "")
    messages.append(Message(role="user", content=user))
    return messages


def prompted_examples(examples: Sequence[Example], model: ModelConfig) -> list[Example]:
    """The examples with the model's conversation in ``metadata["messages"]``.

    `tuneval.models.generate` sends ``metadata["messages"]`` as the conversation when present,
    so few-shot turns and the prompt template travel with each example; a plain prompt with no
    template and no demonstrations is left as it is.
    """
    if not model.few_shot and model.prompt_template == "{prompt}":
        return list(examples)
    return [
        e.model_copy(
            update={
                "metadata": e.metadata
                | {"messages": [m.model_dump() for m in conversation(e, model)]}
            }
        )
        for e in examples
    ]


def decoding_for(model: ModelConfig, decoding: DecodingOptions) -> Decoding:
    """The decoding parameters of one model, with its system prompt."""
    fields = decoding.model_dump(include=set(DecodingOptions.model_fields))
    return Decoding(**fields, system_prompt=model.system_prompt)


def generate_missing(
    run: RunDir,
    examples: Sequence[Example],
    name: str,
    backend: ModelBackend,
    model: ModelConfig,
    decoding: DecodingOptions,
    options: CallOptions,
    *,
    cache: CallCache | None = None,
    refresh: bool = False,
    on_result: Callable[[CallResult], None] | None = None,
) -> GenerateSummary:
    """Generate the outputs of model ``name`` that the run does not have yet.

    No display is drawn here: each finished call is reported to ``on_result``.

    Returns:
        What was done: calls made, cached, failed, skipped (already in the run).
    """
    return generate(
        backend,
        prompted_examples(examples, model),
        run,
        name=name,
        decoding=decoding_for(model, decoding),
        options=options,
        cache=cache,
        refresh=refresh,
        progress=False,
        on_result=on_result,
    )
