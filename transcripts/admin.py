"""The transcript admin is where administrators manage every user's transcripts."""

from __future__ import annotations

from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from django.utils.http import content_disposition_header

from transcripts import exports
from transcripts.models import Transcript, TranscriptionJob


@admin.register(Transcript)
class TranscriptAdmin(admin.ModelAdmin):
    list_display = ["title", "owner", "source_type", "language", "duration", "model_name", "created_at"]
    list_filter = ["source_type", "language", "owner", "created_at"]
    search_fields = ["title", "source", "text"]
    list_select_related = ["owner"]
    date_hierarchy = "created_at"
    readonly_fields = ["id", "created_at", "size"]
    raw_id_fields = ["session"]
    actions = ["download_transcripts"]

    @admin.action(description="Download selected transcripts")
    def download_transcripts(self, request: HttpRequest, queryset: QuerySet[Transcript]) -> HttpResponse:
        """One transcript: its TXT file. Several: a zip of TXT files."""
        transcripts = list(queryset.order_by("created_at"))
        if len(transcripts) == 1:
            exported = exports.export_transcript(transcripts[0], "txt")
            response = HttpResponse(exported.content, content_type=exported.content_type)
            filename = exported.filename
        else:
            response = HttpResponse(exports.export_transcripts_zip(transcripts), content_type="application/zip")
            filename = f"transcripts-{timezone.now():%Y%m%d-%H%M%S}.zip"
        response["Content-Disposition"] = content_disposition_header(as_attachment=True, filename=filename)
        return response


@admin.register(TranscriptionJob)
class TranscriptionJobAdmin(admin.ModelAdmin):
    list_display = ["source", "owner", "status", "stage", "percent", "created_at", "finished_at"]
    list_filter = ["status", "source_type", "owner", "created_at"]
    search_fields = ["source", "error", "owner__username"]
    list_select_related = ["owner"]
    date_hierarchy = "created_at"
    # Jobs are written by the transcription service; the admin reads them (and may delete old ones).
    readonly_fields = [field.name for field in TranscriptionJob._meta.fields]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False
