"""Which attributes mean what: the GenAI semantic conventions and OpenInference's.

GenAI (OpenTelemetry's ``gen_ai.*``, in development) names the operation
(``gen_ai.operation.name``: ``chat``, ``execute_tool``, ``invoke_agent``…), the model
asked for and the one that answered, token usage, the tool, and the conversation, as
``gen_ai.input.messages``/``gen_ai.output.messages`` (JSON), the older indexed
``gen_ai.prompt.N.*``/``gen_ai.completion.N.*`` attributes, or the message events
(``gen_ai.user.message``, ``gen_ai.choice``…). OpenInference (Arize) names the kind
(``openinference.span.kind``: ``LLM``, ``TOOL``, ``CHAIN``…), ``llm.model_name``,
``llm.token_count.*``, ``input.value``/``output.value`` and ``llm.input_messages.N.*``.
Where both are present the GenAI attribute is read first.
"""

from __future__ import annotations

from typing import Final

STEP_TYPES: Final = {
    # gen_ai.operation.name
    "chat": "model",
    "text_completion": "model",
    "generate_content": "model",
    "embeddings": "model",
    "execute_tool": "tool",
    # openinference.span.kind
    "LLM": "model",
    "EMBEDDING": "model",
    "TOOL": "tool",
    "RETRIEVER": "tool",
    "RERANKER": "tool",
    "PROMPT": "prompt",
}
"""The step type of a span by its operation or kind; anything else is a ``note``."""

OPERATION: Final = ("gen_ai.operation.name", "openinference.span.kind")
MODEL: Final = ("gen_ai.response.model", "gen_ai.request.model", "llm.model_name")
TOKENS_IN: Final = (
    "gen_ai.usage.input_tokens",
    "gen_ai.usage.prompt_tokens",
    "llm.token_count.prompt",
)
TOKENS_OUT: Final = (
    "gen_ai.usage.output_tokens",
    "gen_ai.usage.completion_tokens",
    "llm.token_count.completion",
)
TOOL_NAME: Final = ("gen_ai.tool.name", "tool.name")

INPUT_ATTRIBUTES: Final = (
    "gen_ai.input.messages",
    "gen_ai.tool.call.arguments",
    "gen_ai.prompt",
    "input.value",
    "tool.parameters",
)
OUTPUT_ATTRIBUTES: Final = (
    "gen_ai.output.messages",
    "gen_ai.tool.call.result",
    "gen_ai.completion",
    "output.value",
)
INPUT_INDEXED: Final = ("gen_ai.prompt.", "llm.input_messages.")
OUTPUT_INDEXED: Final = ("gen_ai.completion.", "llm.output_messages.")

INPUT_EVENTS: Final = {
    "gen_ai.system.message": "system",
    "gen_ai.user.message": "user",
    "gen_ai.assistant.message": "assistant",
    "gen_ai.tool.message": "tool",
}
OUTPUT_EVENTS: Final = frozenset({"gen_ai.choice"})
DETAILS_EVENT: Final = "gen_ai.client.inference.operation.details"

REQUEST_SETTINGS: Final = "gen_ai.request."
"""``gen_ai.request.temperature``, ``…max_tokens``, ``…top_p``: kept as the step's settings."""
INVOCATION_PARAMETERS: Final = "llm.invocation_parameters"

EXCEPTION_EVENT: Final = "exception"
ERROR_TYPE: Final = "error.type"
RUN_ID: Final = "handrail.run_id"
SERVICE_NAME: Final = "service.name"
