from __future__ import annotations

from django.contrib import admin

from uploads.models import Upload


@admin.register(Upload)
class UploadAdmin(admin.ModelAdmin):
    list_display = ["original_name", "owner", "size", "created_at"]
    list_filter = ["owner", "created_at"]
    search_fields = ["original_name", "owner__username"]
    list_select_related = ["owner"]
    # Files arrive through the upload API, which validates them; the admin only looks and deletes
    # (deleting a row removes its file, see uploads/signals.py).
    readonly_fields = ["id", "owner", "original_name", "file", "size", "created_at"]

    def has_add_permission(self, request: object) -> bool:
        return False
