"""The emulator's file upload is as strict as Slack's: arguments, URL, sharing, scope."""

from __future__ import annotations

from typing import Any

import aiohttp
import pytest
from slack_sdk.errors import SlackApiError, SlackRequestError

from sandbox.models import Channel
from sandbox.testing import running_emulator, web_client
from sandbox.webapi_files import UPLOAD_URL_TTL

PNG = b"\x89PNG\r\n\x1a\nnot really a picture"
UNJOINED = Channel("C0UNJOINED", "unjoined", members={"U0ALICE"})


async def slack_error(call: Any) -> dict[str, Any]:
    with pytest.raises(SlackApiError) as caught:
        await call
    answer: dict[str, Any] = caught.value.response.data
    return answer


async def post_bytes(url: str, data: bytes) -> tuple[int, str]:
    async with aiohttp.ClientSession() as session, session.post(url, data=data) as response:
        return response.status, await response.text()


async def test_files_upload_v2_shares_the_file_in_a_message() -> None:
    """URL, bytes, completion: one message in the channel carries the file, bytes recorded."""
    async with running_emulator() as emu:
        answer = await web_client(emu).files_upload_v2(
            channel="C0REVIEW",
            file=PNG,
            filename="chart.png",
            title="Outcomes",
            alt_txt="bars",
            initial_comment="Charts",
        )
        [shared] = emu.files
        [message] = emu.messages("C0REVIEW")
    assert answer["file"]["id"] == shared.id
    assert (shared.data, shared.completed, shared.channels) == (PNG, True, ["C0REVIEW"])
    assert message.text == "Charts"
    assert message.files is not None
    assert message.files[0]["name"] == "chart.png"
    assert message.files[0]["title"] == "Outcomes"


async def test_filename_and_length_are_required() -> None:
    """A missing argument is invalid_arguments saying which; a length of 0 missing_argument."""
    async with running_emulator() as emu:
        slack = web_client(emu)
        no_length = await slack_error(
            slack.api_call("files.getUploadURLExternal", params={"filename": "a.png"})
        )
        zero = await slack_error(slack.files_getUploadURLExternal(filename="a.png", length=0))
        long_alt = await slack_error(
            slack.files_getUploadURLExternal(filename="a.png", length=3, alt_txt="x" * 1001)
        )
    assert no_length["error"] == "invalid_arguments"
    assert no_length["response_metadata"]["messages"] == ["[ERROR] missing required field: length"]
    assert zero["error"] == "missing_argument"
    assert long_alt["error"] == "alt_txt_too_large"


async def test_an_upload_url_takes_exactly_length_bytes_once() -> None:
    """The wrong size is refused, the right one accepted, and the URL is then spent."""
    async with running_emulator() as emu:
        got = await web_client(emu).files_getUploadURLExternal(filename="a.png", length=len(PNG))
        url = str(got["upload_url"])
        assert (await post_bytes(url, PNG[:-1]))[0] == 400
        assert await post_bytes(url, PNG) == (200, f"OK - {len(PNG)}")
        assert (await post_bytes(url, PNG))[0] == 404


async def test_an_upload_url_expires() -> None:
    """An upload URL used after UPLOAD_URL_TTL seconds is refused."""
    now = [1000.0]
    async with running_emulator(clock=lambda: now[0]) as emu:
        got = await web_client(emu).files_getUploadURLExternal(filename="a.png", length=len(PNG))
        now[0] += UPLOAD_URL_TTL + 1
        assert await post_bytes(str(got["upload_url"]), PNG) == (404, "upload URL expired")


async def test_completing_a_file_whose_bytes_never_arrived_is_file_not_found() -> None:
    """No upload, no file: completion refuses it and nothing is shared."""
    async with running_emulator() as emu:
        slack = web_client(emu)
        got = await slack.files_getUploadURLExternal(filename="a.png", length=len(PNG))
        answer = await slack_error(
            slack.files_completeUploadExternal(
                files=[{"id": got["file_id"]}], channel_id="C0REVIEW"
            )
        )
        assert answer["error"] == "file_not_found"
        assert emu.messages("C0REVIEW") == []


async def test_an_upload_never_completed_is_never_shared() -> None:
    """Bytes uploaded but no completion: the file exists, unshared, and no message shows it."""
    async with running_emulator() as emu:
        got = await web_client(emu).files_getUploadURLExternal(filename="a.png", length=len(PNG))
        await post_bytes(str(got["upload_url"]), PNG)
        [pending] = emu.files
        assert (pending.completed, pending.channels) == (False, [])
        assert emu.messages("C0REVIEW") == []


async def test_sharing_needs_the_bot_in_the_channel() -> None:
    """chat:write.public does not reach files: an unjoined channel is not_in_channel."""
    async with running_emulator(channels=[UNJOINED]) as emu:
        with pytest.raises(SlackApiError) as caught:
            await web_client(emu).files_upload_v2(channel=UNJOINED.id, file=PNG, filename="a.png")
    assert caught.value.response["error"] == "not_in_channel"


async def test_uploads_need_files_write() -> None:
    """Without files:write the first step is missing_scope naming it."""
    async with running_emulator(scopes=["chat:write"]) as emu:
        answer = await slack_error(
            web_client(emu).files_getUploadURLExternal(filename="a.png", length=3)
        )
    assert (answer["error"], answer["needed"]) == ("missing_scope", "files:write")


async def test_a_refused_upload_is_a_request_error_in_slack_sdk() -> None:
    """slack_sdk raises SlackRequestError when the bytes are refused (the outbox retries it)."""
    async with running_emulator() as emu:
        emu.inject("upload", "http_503")
        with pytest.raises(SlackRequestError, match="Failed to upload a file"):
            await web_client(emu).files_upload_v2(channel="C0REVIEW", file=PNG, filename="a.png")
