"""The API schema's error answers, documented once for every operation."""

ERROR = {
    "type": "object",
    "properties": {"detail": {"type": "string"}},
    "required": ["detail"],
}
# A refused input names each field in error (a list of messages, or the errors of
# a nested object), or says what was wrong with the body as a whole in ``detail``.
INVALID = {"type": "object", "additionalProperties": True}

ERRORS = {
    "400": ("Invalid input: the body names each field in error.", INVALID),
    "401": ("Not signed in: send a token (Authorization: Token ...).", ERROR),
    "403": ("Visible, but not yours to act on (or a second factor is still to enrol).", ERROR),
    "404": ("Not found, or not visible to you.", ERROR),
    "409": ("Refused in the record's present state.", ERROR),
    "415": ("The body is not JSON.", ERROR),
}


def _errors_for(operation: dict) -> list[str]:
    """The error statuses an operation can answer: every one 401 and 403 (the
    permissions of every view); 404 when its path names a record; 400 when it reads
    a query or a body; 415 when it reads a body."""
    statuses = ["401", "403"]
    parameters = operation.get("parameters", [])
    if any(p.get("in") == "path" for p in parameters):
        statuses.append("404")
    if operation.get("requestBody") or any(p.get("in") == "query" for p in parameters):
        statuses.append("400")
    if operation.get("requestBody"):
        statuses.append("415")
    return statuses


def document_errors(result, generator, request, public):
    """drf-spectacular postprocessing hook: adds to each operation of ``result`` the
    error answers it can give (see ``_errors_for``), and gives a JSON body to any
    documented error answer that has none. Statuses a view documents itself keep
    their description. Returns the schema."""
    for path in result.get("paths", {}).values():
        for operation in path.values():
            responses = operation.setdefault("responses", {})
            for status in _errors_for(operation):
                description, _ = ERRORS[status]
                responses.setdefault(status, {"description": description})
            for status, response in responses.items():
                if status in ERRORS and "content" not in response:
                    response["content"] = {"application/json": {"schema": ERRORS[status][1]}}
    return result


def _years_pattern(first: int, last: int) -> str:
    """A regular expression for the four-digit years ``first`` to ``last``: whole
    centuries as ``20[0-9]{2}``, the other years one by one."""
    parts = []
    year = first
    while year <= last:
        if year % 100 == 0 and year + 99 <= last:
            parts.append(f"{year // 100}[0-9]{{2}}")
            year += 100
        else:
            parts.append(str(year))
            year += 1
    return "|".join(parts)


def date_in_years(first: int, last: int) -> dict:
    """The schema of a date ``YYYY-MM-DD`` the server accepts only in the years
    ``first`` to ``last`` (OpenAPI 3.0 has no minimum for a date: a pattern says it)."""
    return {
        "type": "string",
        "format": "date",
        "pattern": (f"^({_years_pattern(first, last)})-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])$"),
        "description": f"A date between the years {first} and {last}.",
    }


def accepted_day() -> dict:
    """The schema of a day as ``constellation.clock.parse_day`` accepts it (the one
    parser of days of the API's bodies and queries)."""
    from constellation import clock

    return date_in_years(clock.EARLIEST_YEAR, clock.LATEST_YEAR)
