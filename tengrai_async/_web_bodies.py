"""JSON answers of the aiohttp.web integration, errors in the API's own shape.

Shared by the listing proxy (``web``) and the webhook receiver (``_webhooks``).
"""

from __future__ import annotations

import http
from typing import Any

import orjson
from aiohttp import web


def json_response(data: Any, status: int = 200) -> web.Response:
    """*data* as a JSON answer, encoded by orjson."""
    return web.Response(body=orjson.dumps(data), status=status, content_type="application/json")


def error_response(status: int, message: str, **extra: Any) -> web.Response:
    """``{"message": ..., "statusCode": ..., "error": <reason phrase>}`` plus *extra*."""
    # The API's error shape (NestJS's), so one parser reads the proxy's errors and the API's.
    body = {"message": message, "statusCode": status, "error": http.HTTPStatus(status).phrase}
    return json_response({**body, **extra}, status=status)
