"""The jobs page's websocket: every progress event of the logged-in user's jobs, whichever process runs them."""

from __future__ import annotations

from typing import Any

from channels.generic.websocket import AsyncJsonWebsocketConsumer

from accounts.sockets import CLOSE_UNAUTHENTICATED, LoginWatch
from transcripts.events import jobs_group

NOTHING_TO_RECEIVE = "This socket only sends job progress."


class JobsConsumer(LoginWatch, AsyncJsonWebsocketConsumer):
    group: str | None = None

    async def connect(self) -> None:
        await self.accept()
        user = self.scope.get("user")
        if user is None or not user.is_authenticated:
            await self.close(code=CLOSE_UNAUTHENTICATED)
            return
        self.group = jobs_group(user.pk)
        await self.channel_layer.group_add(self.group, self.channel_name)
        self.start_login_watch()  # progress stops within seconds of a logout (accounts/sockets.py)

    async def disconnect(self, code: int) -> None:
        await self.stop_login_watch()
        if self.group is not None:
            await self.channel_layer.group_discard(self.group, self.channel_name)

    async def receive(self, text_data: str | None = None, bytes_data: bytes | None = None, **kwargs: Any) -> None:
        # The page sends nothing. Whatever arrives gets one error event and the socket stays open: the base class
        # decoded the frame first and closed with 1011 on a binary frame, text that is not JSON or deep nesting.
        # No login check here: nothing a frame says is acted on, and the watch closes a socket whose login ended.
        await self.send_json({"type": "error", "message": NOTHING_TO_RECEIVE})

    async def job_progress(self, event: dict[str, Any]) -> None:
        await self.send_json(event)
