"""How the agent is configured: system prompt, our tools only, and a CLI confined to the data directory."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from claude_agent_sdk import ClaudeAgentOptions
from django.conf import settings

from chat.tools import TOOL_NAMES, build_tool_server

SYSTEM_PROMPT = """You are VideoAgent, an assistant that transcribes videos for the user you are talking to.

Your workflow:
1. Greet the user briefly and ask for a video: a link (YouTube or any other video page) or a file they upload.
2. When you get a link or an upload id, call transcribe_video with it. It downloads the audio and transcribes it;
   the user sees the progress live, so do not narrate the progress yourself.
3. Report the result: the title, language, length and a short excerpt. Offer the downloads (TXT, SRT, VTT, JSON)
   from the library, and offer a summary, clean-up or notes, which you save with write_file.
4. Answer questions about the transcript. Use list_transcripts and read_transcript to look at earlier work; read
   in pieces instead of asking for a whole long text.

You can only use your four tools, and they only see this user's own library. If a tool returns an error, explain
it to the user in plain words and suggest what to try instead. Keep answers short and friendly."""

GREETING_PROMPT = "Start the conversation by greeting me and asking for a video to transcribe. Follow your workflow."


def model_service_configured() -> bool:
    """Seed 2.9: without credentials or a base URL there is no model to talk to."""
    return any(os.environ.get(name) for name in ("ANTHROPIC_API_KEY", "ANTHROPIC_AUTH_TOKEN", "ANTHROPIC_BASE_URL"))


def session_home(session_id: object) -> Path:
    """The CLI's home and working directory for one chat, inside the data directory."""
    home = Path(settings.AGENT_HOME_DIR) / str(session_id)
    (home / "work").mkdir(parents=True, exist_ok=True)
    return home


def cli_environment(home: Path) -> dict[str, str]:
    env = {
        "HOME": str(home),
        "CLAUDE_CONFIG_DIR": str(home / ".claude"),
        "CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC": "1",
        "CLAUDE_CODE_MAX_RETRIES": str(settings.AGENT_MAX_RETRIES),
        "API_TIMEOUT_MS": str(int(settings.AGENT_API_TIMEOUT_SECONDS * 1000)),
        "DISABLE_AUTOUPDATER": "1",
        "DISABLE_TELEMETRY": "1",
    }
    for name in ("ANTHROPIC_API_KEY", "ANTHROPIC_AUTH_TOKEN", "ANTHROPIC_BASE_URL"):
        if os.environ.get(name):
            env[name] = os.environ[name]
    return env


def build_options(*, owner: Any, session: Any, resume: str | None, session_store: Any) -> ClaudeAgentOptions:
    home = session_home(session.id)
    return ClaudeAgentOptions(
        system_prompt=SYSTEM_PROMPT,
        mcp_servers={"video-tools": build_tool_server(owner=owner, session=session)},
        # No built-in tools (shell, files, web): on a multi-user server the agent has ours and nothing else.
        tools=[],
        allowed_tools=list(TOOL_NAMES),
        setting_sources=[],
        max_turns=settings.AGENT_MAX_TURNS,
        model=settings.AGENT_MODEL or None,
        cwd=str(home / "work"),
        env=cli_environment(home),
        include_partial_messages=True,
        resume=resume or None,
        session_store=session_store,
        stderr=lambda line: None,
    )
