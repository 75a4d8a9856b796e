"""The chat websocket: authenticate, check ownership, then parse and forward. Logic lives in chat.conversation;
chat.cluster routes a message to the server process whose agent owns the chat."""

from __future__ import annotations

import logging
from typing import Any

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer
from django.conf import settings

from accounts.owned import NotFound
from accounts.sockets import CLOSE_UNAUTHENTICATED, LoginWatch
from chat import cluster, conversation, selectors, services
from chat.decoding import BadMessage, decode_message
from chat.events import chat_group
from chat.models import ChatSession
from transcripts.events import session_jobs_group
from videoagent.shutdown import is_shutting_down
from videoagent.user_input import BadInput, check_text

logger = logging.getLogger(__name__)

CLOSE_NOT_FOUND = 4404
CLOSE_SERVICE_RESTART = 1012


class ChatConsumer(LoginWatch, AsyncJsonWebsocketConsumer):
    session: ChatSession | None = None

    async def connect(self) -> None:
        await self.accept()
        if is_shutting_down():  # the server is stopping: the page reconnects to the next one
            await self.close(code=CLOSE_SERVICE_RESTART)
            return
        user = self.scope.get("user")
        if user is None or not user.is_authenticated:
            await self.close(code=CLOSE_UNAUTHENTICATED)
            return
        try:
            self.session = await database_sync_to_async(selectors.get_session_for)(
                owner=user, session_id=self.scope["url_route"]["kwargs"]["session_id"]
            )
        except NotFound:  # another user's chat reads exactly like a missing one
            await self.close(code=CLOSE_NOT_FOUND)
            return
        conversation.tab_opened(self.session)
        self.start_login_watch()  # a logout, expiry or deactivation closes this socket (accounts/sockets.py)
        await self.channel_layer.group_add(chat_group(self.session.id), self.channel_name)
        await self.channel_layer.group_add(session_jobs_group(self.session.id), self.channel_name)
        await self.send_json(await conversation.history_event(self.session))
        status, message = await cluster.status(self.session.id, watch=True)
        await self.send_json({"type": "status", "status": str(status), "message": message})
        conversation.spawn(conversation.greet_new_chat(self.session, user))

    async def disconnect(self, code: int) -> None:
        await self.stop_login_watch()
        if self.session is not None:
            conversation.tab_closed(self.session)
            await self.channel_layer.group_discard(chat_group(self.session.id), self.channel_name)
            await self.channel_layer.group_discard(session_jobs_group(self.session.id), self.channel_name)

    async def receive(self, text_data: str | None = None, bytes_data: bytes | None = None, **kwargs: Any) -> None:
        # Bad JSON (or JSON nested too deeply, or with lone surrogates) gets an error event; the socket stays open.
        try:
            content = decode_message(text_data)
        except BadMessage as exc:
            await self._error(str(exc))
            return
        await self.receive_json(content)

    async def receive_json(self, content: Any, **kwargs: Any) -> None:
        if self.session is None or await self.login_ended():
            return
        if not await database_sync_to_async(selectors.session_exists)(session_id=self.session.id):
            await self.chat_deleted({})  # in another tab or over the API: nothing of this tab's is saved or sent
            return
        kind = content.get("type") if isinstance(content, dict) else None
        if kind == "cancel":
            await cluster.cancel(self.session.id)
            return
        if kind != "message":
            await self._error(f'Unknown message type {kind!r}; send "message" or "cancel".')
            return
        text = content.get("text")
        if not isinstance(text, str) or not text.strip():
            await self._error("The message is empty.")
            return
        try:
            check_text(text, name="The message")  # a NUL would be saved on SQLite and fail on PostgreSQL
        except BadInput as exc:
            await self._error(str(exc))
            return
        if len(text) > settings.CHAT_MESSAGE_MAX_CHARS:
            await self._error(f"The message is too long (limit {settings.CHAT_MESSAGE_MAX_CHARS} characters).")
            return
        refusal = await cluster.submit(self.session, self.scope["user"], text.strip())
        if refusal:
            await self._error(refusal)

    async def chat_event(self, event: dict[str, Any]) -> None:
        await self.send_json(event["event"])

    async def chat_deleted(self, event: dict[str, Any]) -> None:
        await self._error(services.CHAT_DELETED)
        await self.close(code=CLOSE_NOT_FOUND)

    async def job_progress(self, event: dict[str, Any]) -> None:
        await self.send_json(event)

    async def _error(self, message: str) -> None:
        await self.send_json({"type": "error", "message": message})
