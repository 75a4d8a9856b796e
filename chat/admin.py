from __future__ import annotations

from django.contrib import admin

from chat.models import ChatSession, Message


class MessageInline(admin.TabularInline):
    model = Message
    fields = ["timestamp", "role", "content"]
    readonly_fields = ["timestamp"]
    extra = 0


@admin.register(ChatSession)
class ChatSessionAdmin(admin.ModelAdmin):
    list_display = ["__str__", "owner", "created_at", "updated_at"]
    list_filter = ["owner", "updated_at"]
    search_fields = ["title", "messages__content", "owner__username"]
    list_select_related = ["owner"]
    readonly_fields = ["id", "created_at", "updated_at"]
    inlines = [MessageInline]
    date_hierarchy = "updated_at"


@admin.register(Message)
class MessageAdmin(admin.ModelAdmin):
    list_display = ["__str__", "role", "session", "timestamp"]
    list_filter = ["role", "timestamp"]
    search_fields = ["content"]
    list_select_related = ["session"]
    raw_id_fields = ["session"]
    readonly_fields = ["id", "timestamp"]
