"""How every endpoint under /api/v1/ reads a request's body."""

from rest_framework import parsers
from rest_framework.exceptions import ParseError

# No body of this API nests deeper than a few levels; a deeper one is refused
# before a serializer walks it (Python's recursion limit would end in a 500).
MAX_DEPTH = 32


def _depth(data) -> int:
    """How deeply ``data`` (parsed JSON) nests lists and objects, counted without
    recursion: a scalar is 0, ``[]`` and ``{}`` are 1."""
    deepest = 0
    stack = [(data, 1)]
    while stack:
        value, depth = stack.pop()
        if isinstance(value, dict):
            children = value.values()
        elif isinstance(value, list):
            children = value
        else:
            continue
        deepest = max(deepest, depth)
        if deepest > MAX_DEPTH:
            return deepest
        stack.extend((child, depth + 1) for child in children)
    return deepest


class JSONParser(parsers.JSONParser):
    """DRF's JSON parser, refusing with a 400 a body nested deeper than
    ``MAX_DEPTH`` levels of lists and objects (which Python's JSON decoder would
    otherwise meet as a RecursionError, a 500)."""

    def parse(self, stream, media_type=None, parser_context=None):
        message = f"The JSON body is nested deeper than {MAX_DEPTH} levels."
        try:
            data = super().parse(stream, media_type, parser_context)
        except RecursionError as exc:
            raise ParseError(message) from exc
        if _depth(data) > MAX_DEPTH:
            raise ParseError(message)
        return data
