from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.urls import path

app_name = "chat"


def index(request: HttpRequest) -> HttpResponse:
    return HttpResponse("VideoAgent")


urlpatterns = [path("", index, name="index")]
