"""Decorators: record a function as a step, or run it only once a person approved.

Both find the run through ``current_run()``, so they work at any depth below a
``with client.run()`` block, and both wrap sync and async functions alike.

``@step("order_lookup")`` times the call and records its arguments (by parameter name,
``self`` and ``cls`` left out), its return value or the full text of its exception. The
function's own exception always propagates unchanged; recording it never raises. A step
is never dropped silently: outside any run the call still happens and a warning says the
step was not recorded.

``@requires_approval(action="send_reply")`` asks the gate with the call's arguments and
calls the function only once the gate allows it or a person approves. The text under
review is the argument named by ``text_param``, by default the first of ``text``,
``draft``, ``message`` and ``body`` that the function has: it goes to the gate as the
draft, and the function receives the approved text in its place, a reviewer's edit
included, with redactions undone. An argument named ``confidence`` (the model's own
confidence, 0 to 1) is passed to the gate as well as to the function; without one the
policy treats confidence as missing and sends the case to a person. Otherwise it raises:
:class:`ApprovalRejected`, :class:`ApprovalExpired`, :class:`ShadowOnly`,
:class:`UnresolvedRedactions`, :class:`ReviewTimeout`, or :class:`WorkflowPaused`. It
never runs without a run to ask about (:class:`NoCurrentRun`). Before it runs on a
person's approval it states the act to the server with the approval's digest; if the
server refuses (the approval was used already, is held by a pause…) it raises
:class:`ActRefused` and the function does not run.

Nothing here blocks an event loop: an async function records through the async client; a
sync function called inside an async run only queues its step (sent with the run's next
batch), and a sync gated function refuses to wait inside an event loop.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import inspect
import logging
from collections.abc import Awaitable, Callable, Iterator, Mapping
from typing import Any, Literal, ParamSpec, TypeVar, cast

from handrail_client.context import current_run
from handrail_client.errors import (
    ActRefused,
    ApprovalExpired,
    ApprovalRejected,
    ConflictError,
    HandrailClientError,
    InvalidRequest,
    NoCurrentRun,
    ShadowOnly,
    UnresolvedRedactions,
    WorkflowPaused,
)
from handrail_client.payloads import json_safe
from handrail_client.review import Decision
from handrail_client.runs import Run
from handrail_client.steps import Step
from handrail_client.sync import SyncRun

log = logging.getLogger("handrail.client")

P = ParamSpec("P")
R = TypeVar("R")
StepKind = Literal["tool", "model", "action"]
TEXT_PARAMETERS = ("text", "draft", "message", "body")
_SKIPPED = ("self", "cls")


def call_arguments(
    signature: inspect.Signature, args: tuple[Any, ...], kwargs: Mapping[str, Any]
) -> dict[str, Any]:
    """The call's arguments by parameter name (``self``/``cls`` left out), as recorded."""
    positional = _positional_names(signature)
    if positional is not None and len(args) <= len(positional):
        # Plain parameters only (no *args, **kwargs): name them by position, as bind would.
        named = dict(zip(positional, args, strict=False))
        named.update(kwargs)
        return {name: value for name, value in named.items() if name not in _SKIPPED}
    try:
        bound = signature.bind_partial(*args, **kwargs)
    except TypeError:  # the call itself is wrong; the function will say so
        return {"args": list(args), "kwargs": dict(kwargs)}
    return {name: value for name, value in bound.arguments.items() if name not in _SKIPPED}


@functools.lru_cache(maxsize=1024)
def _positional_names(signature: inspect.Signature) -> tuple[str, ...] | None:
    """The names positional arguments bind to, or None if the signature has *args/**kwargs."""
    kinds = {parameter.kind for parameter in signature.parameters.values()}
    if kinds & {inspect.Parameter.VAR_POSITIONAL, inspect.Parameter.VAR_KEYWORD}:
        return None
    return tuple(
        name
        for name, parameter in signature.parameters.items()
        if parameter.kind is not inspect.Parameter.KEYWORD_ONLY
    )


def step(
    name: str | None = None, *, kind: StepKind = "tool"
) -> Callable[[Callable[P, R]], Callable[P, R]]:
    """Record each call of the decorated function as a step of the current run."""

    def decorate(function: Callable[P, R]) -> Callable[P, R]:
        step_name = name or function.__name__
        signature = inspect.signature(function)

        def begin(args: tuple[Any, ...], kwargs: Mapping[str, Any]) -> tuple[Step, Any]:
            run = current_run()
            if run is None:
                log.warning("handrail: step '%s' ran outside any run; not recorded", step_name)
                return Step(kind, step_name), None
            recorded = Step(kind, step_name, input=call_arguments(signature, args, kwargs))
            recorded.begin(_timer(run))
            return recorded, run

        if inspect.iscoroutinefunction(function):
            async_function = cast(Callable[P, Awaitable[Any]], function)

            @functools.wraps(function)
            async def record_async(*args: P.args, **kwargs: P.kwargs) -> Any:
                recorded, run = begin(args, kwargs)
                if run is None:
                    return await async_function(*args, **kwargs)
                try:
                    result = await async_function(*args, **kwargs)
                except BaseException as error:
                    _keep_failed(run, recorded, error)
                    raise
                recorded.output = result
                recorded.end(_timer(run))
                if isinstance(run, Run):
                    await run.record(recorded.to_event())
                else:
                    run.buffer_soon(recorded.to_event())
                return result

            return cast(Callable[P, R], record_async)

        @functools.wraps(function)
        def record_sync(*args: P.args, **kwargs: P.kwargs) -> R:
            recorded, run = begin(args, kwargs)
            if run is None:
                return function(*args, **kwargs)
            try:
                result = function(*args, **kwargs)
            except BaseException as error:
                _keep_failed(run, recorded, error)
                raise
            recorded.output = result
            recorded.end(_timer(run))
            if isinstance(run, SyncRun) and not _in_event_loop():
                run.record(recorded.to_event())
            else:
                _queue(run, recorded)
            return result

        return record_sync

    return decorate


def _timer(run: Run | SyncRun) -> Callable[[], float]:
    return run.timer if isinstance(run, Run) else run.async_run.timer


def _in_event_loop() -> bool:
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return False
    return True


def _queue(run: Run | SyncRun, recorded: Step) -> None:
    """Queue the step without sending or waiting; the run's next batch carries it."""
    if isinstance(run, Run):
        run.buffer(recorded.to_event())
    else:
        run.buffer_soon(recorded.to_event())


def _keep_failed(run: Run | SyncRun, recorded: Step, error: BaseException) -> None:
    """Queue a failed step; never raise, so the function's own exception is what propagates."""
    try:
        recorded.end(_timer(run), error)
        _queue(run, recorded)
    except Exception as failure:  # a bug here must not hide the user's error; say so instead
        error.add_note(f"handrail: step '{recorded.name}' could not be recorded: {failure!r}")
        log.exception("handrail: step '%s' could not be recorded", recorded.name)


def requires_approval(
    *,
    action: str,
    text_param: str | None = None,
    summary: str | None = None,
    max_wait: float = 3600.0,
) -> Callable[[Callable[P, R]], Callable[P, R]]:
    """Run the decorated function only once the gate allows ``action`` or a person approves.

    ``text_param`` names the argument holding the text under review (see the module
    docstring); ``summary`` is shown to the reviewer; ``max_wait`` bounds the wait in
    seconds (then :class:`ReviewTimeout`; the handoff stays open).
    """

    def decorate(function: Callable[P, R]) -> Callable[P, R]:
        signature = inspect.signature(function)
        text_name = text_param or next(
            (n for n in TEXT_PARAMETERS if n in signature.parameters), None
        )
        if text_param is not None and text_param not in signature.parameters:
            raise TypeError(f"{function.__qualname__} has no parameter '{text_param}' to review")

        def question(
            args: tuple[Any, ...], kwargs: Mapping[str, Any]
        ) -> tuple[Any, dict[str, Any]]:
            bound = signature.bind(*args, **kwargs)
            arguments = {k: v for k, v in bound.arguments.items() if k not in _SKIPPED}
            draft = arguments.pop(text_name, None) if text_name else None
            confidence = arguments.pop("confidence", None)
            if draft is not None and not isinstance(draft, str):
                raise TypeError(
                    f"'{text_name}' must be a str to be reviewed, not {type(draft).__name__}"
                )
            payload = json_safe(arguments) if arguments else None
            asked = {
                "draft": draft,
                "summary": summary,
                "payload": payload,
                "confidence": confidence,
            }
            return bound, {k: v for k, v in asked.items() if v is not None}

        def approved_call(bound: inspect.BoundArguments, decision: Decision) -> tuple[Any, Any]:
            raise_unless_approved(decision, action)
            if text_name is not None and text_name in bound.arguments and decision.text is not None:
                bound.arguments[text_name] = decision.text
            return bound.args, bound.kwargs

        if inspect.iscoroutinefunction(function):
            async_function = cast(Callable[P, Awaitable[Any]], function)

            @functools.wraps(function)
            async def gated_async(*args: P.args, **kwargs: P.kwargs) -> Any:
                run = _run_for(function)
                bound, asked = question(args, kwargs)
                if isinstance(run, Run):
                    decision = await run.review(action=action, max_wait=max_wait, **asked)
                else:  # a sync client's run: wait on a worker thread, not on this loop
                    decision = await asyncio.to_thread(
                        run.review, action=action, max_wait=max_wait, **asked
                    )
                call_args, call_kwargs = approved_call(bound, decision)
                with _refusal_of_act(decision, action):
                    if isinstance(run, Run):
                        await run.act(decision)
                    else:
                        await asyncio.to_thread(run.act, decision)
                return await async_function(*call_args, **call_kwargs)

            return cast(Callable[P, R], gated_async)

        @functools.wraps(function)
        def gated_sync(*args: P.args, **kwargs: P.kwargs) -> R:
            run = _run_for(function)
            if not isinstance(run, SyncRun) or _in_event_loop():
                raise HandrailClientError(
                    f"{function.__qualname__} waits for a person, which would block the event "
                    "loop: make it async, or call it in a HandrailSyncClient run outside any loop"
                )
            bound, asked = question(args, kwargs)
            decision = run.review(action=action, max_wait=max_wait, **asked)
            call_args, call_kwargs = approved_call(bound, decision)
            with _refusal_of_act(decision, action):
                run.act(decision)
            return function(*call_args, **call_kwargs)

        return gated_sync

    return decorate


@contextlib.contextmanager
def _refusal_of_act(decision: Decision, action: str) -> Iterator[None]:
    """Turn the server's refusal of the act into :class:`ActRefused`; other errors pass."""
    try:
        yield
    except (ConflictError, InvalidRequest, WorkflowPaused) as refused:
        raise ActRefused(
            f"'{action}' was not run: the act on the approval of handoff "
            f"{decision.handoff_id} was refused: {refused.message}",
            decision=decision,
            error=refused,
        ) from refused


def _run_for(function: Callable[..., Any]) -> Run | SyncRun:
    run = current_run()
    if run is None:
        raise NoCurrentRun(
            f"{function.__qualname__} needs approval, but was called outside any Handrail run: "
            "call it inside `with client.run() as run:` (or `async with`)"
        )
    return run


def raise_unless_approved(decision: Decision, action: str) -> None:
    """Return if the action may go ahead; else raise the error that says why not."""
    who = f" by {decision.reviewer}" if decision.reviewer else ""
    why = f": {decision.reason}" if decision.reason else ""
    where = f" (handoff {decision.handoff_id})" if decision.handoff_id else ""
    if decision.shadow:
        raise ShadowOnly(
            f"'{action}' was not run: the workflow runs in shadow mode{where}", decision=decision
        )
    if decision.approved:
        if decision.unresolved_redactions:
            kinds = ", ".join(decision.unresolved_redactions)
            raise UnresolvedRedactions(
                f"'{action}' was not run: the approved text still holds redacted values "
                f"({kinds}) that cannot be restored{where}",
                decision=decision,
            )
        return
    if decision.status == "expired":
        raise ApprovalExpired(
            f"'{action}' was not run: nobody decided before the review timed out{where}",
            decision=decision,
        )
    raise ApprovalRejected(
        f"'{action}' was not run: {decision.status}{who}{why}{where}", decision=decision
    )
