"""Responses whose body a route has already written."""

from __future__ import annotations

from starlette.responses import Response


class JSONBytes(Response):
    """JSON written by the route (orjson, once, from the rows): FastAPI neither validates it against
    the route's ``response_model`` (which still documents it) nor encodes it again."""

    media_type = "application/json"
