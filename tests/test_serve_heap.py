"""``handrail serve`` keeps the garbage collector's pauses short."""

from __future__ import annotations

import gc

from aiohttp import web

from bot.cli.main import _freeze_start_up_heap


async def test_start_up_objects_are_frozen_and_collections_spaced() -> None:
    """After start-up the live heap is frozen and young collections run less often."""
    thresholds = gc.get_threshold()
    try:
        await _freeze_start_up_heap(web.Application())
        assert gc.get_freeze_count() > 10_000
        assert gc.get_threshold()[0] > thresholds[0]
    finally:
        gc.unfreeze()
        gc.set_threshold(*thresholds)
