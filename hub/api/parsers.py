"""The JSON parser of the REST API: a body Python's ``json`` cannot read is a 400, never a 500.

DRF's ``JSONParser`` turns a ``ValueError`` into a ``ParseError`` but lets ``RecursionError``
through: a body nested a few thousand levels deep (``[[[[…]]]]``) made every JSON endpoint
answer 500. Every view that names its parsers uses this one (``REST_FRAMEWORK``'s
``DEFAULT_PARSER_CLASSES`` for the rest).
"""

from __future__ import annotations

from django.utils.translation import gettext as _
from rest_framework import parsers
from rest_framework.exceptions import ParseError


class JSONParser(parsers.JSONParser):
    """DRF's JSON parser with nesting too deep to read answered as a ``ParseError``."""

    def parse(self, stream, media_type=None, parser_context=None):
        try:
            return super().parse(stream, media_type, parser_context)
        except RecursionError:
            # DRF already answers a ValueError (bad syntax, bad encoding) with a ParseError.
            raise ParseError(_("JSON 请求体嵌套过深，无法解析。")) from None
