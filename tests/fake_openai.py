"""A small local stand-in for the OpenAI HTTP API: ``POST /v1/chat/completions``.

It answers with the body OpenAI sends for a chat completion (id, model snapshot, one
choice, usage), so the real SDK parses it and its instrumentation records what it reads.
A request whose last message is ``HANG`` gets no answer until the fake is closed, which
lets a client's own timeout fire.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from aiohttp import web
from aiohttp.test_utils import TestServer

HANG = "HANG"
ANSWERED_MODEL = "gpt-4o-mini-2024-07-18"
PROMPT_TOKENS = 31
COMPLETION_TOKENS = 4


def completion(model: str) -> dict[str, Any]:
    return {
        "id": "chatcmpl-B9MBs8CjcvOU2jLn4n570S5qMJKcT",
        "object": "chat.completion",
        "created": 1_765_011_600,
        "model": ANSWERED_MODEL if model == "gpt-4o-mini" else model,
        "choices": [
            {
                "index": 0,
                "message": {
                    "role": "assistant",
                    "content": "billing",
                    "refusal": None,
                    "annotations": [],
                },
                "logprobs": None,
                "finish_reason": "stop",
            }
        ],
        "usage": {
            "prompt_tokens": PROMPT_TOKENS,
            "completion_tokens": COMPLETION_TOKENS,
            "total_tokens": PROMPT_TOKENS + COMPLETION_TOKENS,
            "prompt_tokens_details": {"cached_tokens": 0, "audio_tokens": 0},
            "completion_tokens_details": {"reasoning_tokens": 0, "audio_tokens": 0},
        },
        "service_tier": "default",
        "system_fingerprint": "fp_b376dfbbd5",
    }


@asynccontextmanager
async def fake_openai() -> AsyncIterator[str]:
    """Serve the fake on a free port of 127.0.0.1; yields its base URL (``…/v1``)."""
    released = asyncio.Event()

    async def chat_completions(request: web.Request) -> web.Response:
        body = await request.json()
        if body["messages"][-1]["content"] == HANG:
            await released.wait()
        return web.json_response(completion(body["model"]), headers={"x-request-id": "req_1"})

    app = web.Application()
    app.router.add_post("/v1/chat/completions", chat_completions)
    server = TestServer(app, host="127.0.0.1")
    await server.start_server()
    try:
        yield str(server.make_url("/v1"))
    finally:
        released.set()
        await server.close()
