"""factory-boy factories for the models."""

from __future__ import annotations

import factory
from django.contrib.auth import get_user_model

from chat.models import ChatSession, Message
from transcripts.models import SourceType, Transcript

PASSWORD = "correct horse battery staple"


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ("username",)

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.LazyAttribute(lambda user: f"{user.username}@example.com")
    password = factory.django.Password(PASSWORD)


class ChatSessionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ChatSession

    owner = factory.SubFactory(UserFactory)


class MessageFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Message

    session = factory.SubFactory(ChatSessionFactory)
    role = Message.Role.USER
    content = factory.Sequence(lambda n: f"message {n}")


class TranscriptFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Transcript

    owner = factory.SubFactory(UserFactory)
    title = factory.Sequence(lambda n: f"Transcript {n}")
    source = factory.Sequence(lambda n: f"https://example.com/video{n}.mp4")
    source_type = SourceType.URL
    language = "en"
    duration = 11.0
    model_name = "tiny.en"
    text = "And so my fellow Americans, ask not what your country can do for you."
    segments = factory.LazyAttribute(lambda t: [{"start": 0.0, "end": 11.0, "text": t.text}])
    size = factory.LazyAttribute(lambda t: len(t.text.encode()))
