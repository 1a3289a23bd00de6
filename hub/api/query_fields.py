"""Serializer fields for query parameters.

DRF reads form-style input (a ``QueryDict``) with the HTML-form rule that an optional field
given blank is absent; for a query string that is wrong: ``?hazard=`` is not "every hazard"
but a value outside the schema's enum (or below its pattern), so it must be a 400 naming it.
"""

from __future__ import annotations

from rest_framework import serializers
from rest_framework.fields import empty


class BlankRefused:
    """Take a blank query value as given, so the field's own validation refuses it."""

    field_name: str

    def get_value(self, dictionary):
        return dictionary.get(self.field_name, empty)


class QueryChoiceField(BlankRefused, serializers.ChoiceField):
    pass


class QueryRegexField(BlankRefused, serializers.RegexField):
    pass
