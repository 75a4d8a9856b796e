"""The API keeps its OpenAPI contract: Schemathesis sends generated requests, valid and invalid, to every operation
as alice, with all its checks on: no 5xx, every status, content type and body as documented, valid data accepted
and invalid data refused."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis
from django.core import signals
from django.core.handlers.wsgi import WSGIHandler
from django.db import close_old_connections
from django.test.client import MULTIPART_CONTENT
from hypothesis import HealthCheck
from hypothesis import settings as hypothesis_settings

from tests.api.test_bad_input import UNREADABLE_UPLOADS
from tests.factories import MessageFactory, TranscriptFactory
from tests.live_server import daphne_server
from transcripts.engine import download
from transcripts.models import SourceType, TranscriptionJob
from transcripts.runner import JobHandle

pytestmark = pytest.mark.django_db

# Answers that valid data may get besides 2xx: a link that cannot be fetched, a language the chosen model does not
# understand, or a file of the wrong type is refused with a readable 400 that no schema can foresee.
BUSINESS_REFUSALS = (
    ("POST", "/api/transcriptions"),
    ("POST", "/api/upload"),
)


def numeric_hosts_only(host: Any, port: Any, *args: Any, **kwargs: Any) -> Any:
    """The link check's resolver without DNS: generated host names fail at once instead of waiting on a resolver
    that may be slow or absent; IP addresses still go through the private-address check."""
    return socket.getaddrinfo(host, port, flags=socket.AI_NUMERICHOST)


@pytest.fixture
def wsgi_app() -> Iterator[WSGIHandler]:
    """Django's WSGI application, with requests kept on the test's database connection (as Django's test client
    does): closing it at the end of a request would end the test's transaction."""
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    try:
        yield WSGIHandler()
    finally:
        signals.request_started.connect(close_old_connections)
        signals.request_finished.connect(close_old_connections)


@pytest.fixture
def alices_library(alice) -> None:
    """Something in every list, so the list answers are checked against their schemas with real rows."""
    transcript = TranscriptFactory(owner=alice)
    message = MessageFactory(session__owner=alice)
    TranscriptionJob.objects.create(
        owner=alice, source=transcript.source, source_type=SourceType.URL, session=message.session
    )


@pytest.fixture
def api_schema(wsgi_app, alice_token, alices_library, settings, monkeypatch):
    settings.ALLOW_PRIVATE_URLS = False
    settings.UPLOAD_MAX_BYTES = 10 * 1024  # generated files stay small, and larger ones show the 413
    monkeypatch.setattr("transcripts.runner.submit", JobHandle)  # jobs are recorded, never run
    monkeypatch.setattr(download, "_system_getaddrinfo", numeric_hosts_only)
    config = schemathesis.Config.from_dict(
        {
            "operations": [
                {
                    "include-method": method,
                    "include-path": path,
                    "checks": {"positive_data_acceptance": {"expected-statuses": ["2xx", "400", "401", "404"]}},
                }
                for method, path in BUSINESS_REFUSALS
            ]
        }
    )
    auth = {"Authorization": f"Bearer {alice_token}"}
    return schemathesis.openapi.from_wsgi("/api/openapi.json", wsgi_app, headers=auth, config=config)


schema = schemathesis.pytest.from_fixture("api_schema")


@schema.parametrize()
@hypothesis_settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.filter_too_much],
)
def test_every_operation_answers_as_documented(case, alice_token):
    case.call_and_validate(headers={"Authorization": f"Bearer {alice_token}"})


@pytest.fixture(scope="module")
def live_schema(tmp_path_factory) -> Iterator[tuple[Any, str]]:
    """The contract as a real Daphne serves it (its web server parses nothing for Django), with alice's token."""
    with daphne_server(tmp_path_factory.mktemp("contract")) as server:
        token = server.make_user()[2]
        auth = {"Authorization": f"Bearer {token}"}
        yield schemathesis.openapi.from_url(f"{server.url}/api/openapi.json", headers=auth), token


@pytest.mark.parametrize("body", UNREADABLE_UPLOADS.values(), ids=UNREADABLE_UPLOADS.keys())
def test_a_multipart_body_without_a_file_answers_as_documented_under_daphne(live_schema, body):
    schema, token = live_schema
    case = schema["/api/upload"]["POST"].Case(body=body.encode(), media_type="multipart/form-data")
    headers = {"Authorization": f"Bearer {token}", "Content-Type": MULTIPART_CONTENT}
    response = case.call_and_validate(headers=headers)
    assert response.status_code == 400
