"""The exception tree: shape, attributes, messages, pickling, no headers, and a leaf module."""

from __future__ import annotations

import ast
import pickle
import re
from pathlib import Path
from typing import Any

import pytest

import tengrai_async
from tengrai_async import (
    APIConnectionError,
    APIError,
    APITimeoutError,
    AuthenticationError,
    BadRequestError,
    ClientStateError,
    ConfigurationError,
    InvalidArgumentError,
    InvalidArgumentTypeError,
    MalformedResponseError,
    NotFoundError,
    PermissionDeniedError,
    RateLimitError,
    ResponseTooLargeError,
    ResponseValidationError,
    ServerError,
    StalledListingError,
    TengrAIError,
    TransportError,
    ValidationError,
    WaitTimeoutError,
    _errors,
)
from tengrai_async._codegen import MISSING

SECRET = "sk-test-SECRET-KEY-0123456789"  # noqa: S105 - a fake key to catch leaks
HEADERS = {"Authorization": f"Bearer {SECRET}", "X-Request-Id": "req-1", "X-Api-Key": SECRET}

TREE: list[tuple[type[BaseException], type[BaseException]]] = [
    (ConfigurationError, TengrAIError),
    (ConfigurationError, ValueError),
    (InvalidArgumentError, TengrAIError),
    (InvalidArgumentError, ValueError),
    (InvalidArgumentTypeError, InvalidArgumentError),
    (InvalidArgumentTypeError, TypeError),
    (ClientStateError, TengrAIError),
    (ClientStateError, RuntimeError),
    (ValidationError, TengrAIError),
    (ValidationError, ValueError),
    (ResponseValidationError, ValidationError),
    (MalformedResponseError, ResponseValidationError),
    (TransportError, TengrAIError),
    (APIConnectionError, TransportError),
    (APITimeoutError, APIConnectionError),
    (APITimeoutError, TransportError),
    (APIError, TengrAIError),
    (BadRequestError, APIError),
    (AuthenticationError, APIError),
    (PermissionDeniedError, APIError),
    (NotFoundError, APIError),
    (RateLimitError, APIError),
    (ServerError, APIError),
    (TengrAIError, Exception),
]
API_ERRORS: list[type[APIError]] = [
    APIError,
    BadRequestError,
    AuthenticationError,
    PermissionDeniedError,
    NotFoundError,
    RateLimitError,
    ServerError,
]


@pytest.mark.parametrize(("child", "parent"), TREE, ids=lambda c: c.__name__)
def test_error_tree_matches_the_documented_hierarchy(
    child: type[BaseException], parent: type[BaseException]
) -> None:
    assert issubclass(child, parent)


def test_transport_and_api_errors_are_separate_branches() -> None:
    assert not issubclass(APIError, TransportError)
    assert not issubclass(TransportError, APIError)
    assert not issubclass(APITimeoutError, TimeoutError) or issubclass(
        APITimeoutError, TengrAIError
    )


def test_errors_module_imports_nothing_of_the_package() -> None:
    assert _errors.__file__ is not None
    tree = ast.parse(Path(_errors.__file__).read_text(encoding="utf-8"))
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            assert node.level == 0, f"relative import at line {node.lineno}"
            assert node.module is not None
            assert not node.module.startswith("tengrai_async"), node.module
        elif isinstance(node, ast.Import):
            for alias in node.names:
                assert not alias.name.startswith("tengrai_async"), alias.name


def test_errors_module_exports_exactly_its_exception_classes() -> None:
    defined = {
        name
        for name, value in vars(_errors).items()
        if isinstance(value, type) and issubclass(value, BaseException) and not name.startswith("_")
    }
    assert set(_errors.__all__) == defined
    assert _errors.__all__ == sorted(_errors.__all__)


# --- API errors ---------------------------------------------------------------------------------


@pytest.mark.parametrize("cls", API_ERRORS, ids=lambda c: c.__name__)
def test_api_error_keeps_status_body_headers_and_request_id(cls: type[APIError]) -> None:
    error = cls(418, {"error": "teapot"}, HEADERS, "req-1")
    assert error.status == 418
    assert error.body == {"error": "teapot"}
    assert error.headers == HEADERS
    assert error.request_id == "req-1"


@pytest.mark.parametrize("cls", API_ERRORS, ids=lambda c: c.__name__)
def test_api_error_never_shows_headers_in_str_or_repr(cls: type[APIError]) -> None:
    error = cls(401, "unauthorised", HEADERS, "req-1")
    for text in (str(error), repr(error), str(error.args)):
        assert SECRET not in text
        assert "Authorization" not in text


@pytest.mark.parametrize("cls", API_ERRORS, ids=lambda c: c.__name__)
def test_api_error_pickles_with_its_attributes(cls: type[APIError]) -> None:
    error = cls(503, {"error": "busy"}, HEADERS, "req-1")
    copy = pickle.loads(pickle.dumps(error))  # noqa: S301 - our own bytes
    assert type(copy) is cls
    assert (copy.status, copy.body, copy.headers, copy.request_id) == (
        503,
        {"error": "busy"},
        HEADERS,
        "req-1",
    )
    assert str(copy) == str(error)
    assert SECRET not in repr(copy)


def test_api_error_message_names_status_reason_message_and_request_id() -> None:
    error = ServerError(502, {"error": "bad gateway"}, None, "req-9")
    assert str(error) == "HTTP 502 Bad Gateway: bad gateway (request id req-9)"


def test_api_error_reads_the_documented_error_body() -> None:
    body = {"message": "artwork not found", "statusCode": 404, "error": "Not Found"}
    error = NotFoundError(404, body)
    assert str(error) == "HTTP 404 Not Found: artwork not found"
    assert error.message == "artwork not found"
    assert error.body == body


def test_api_error_joins_a_list_of_messages() -> None:
    body = {"message": ["limit must not be greater than 500", "offset must be >= 0"]}
    error = BadRequestError(400, {**body, "statusCode": 400, "error": "Bad Request"})
    assert error.message == "limit must not be greater than 500; offset must be >= 0"
    assert str(error) == f"HTTP 400 Bad Request: {error.message}"


@pytest.mark.parametrize(
    "body",
    [
        {"message": "", "statusCode": 500},
        {"message": [], "statusCode": 500},
        {"message": [1, 2], "statusCode": 500},
        {"statusCode": 500},
        ["not", "an", "object"],
        42,
    ],
)
def test_api_error_message_is_none_when_the_body_says_nothing_readable(body: Any) -> None:
    error = ServerError(500, body)
    assert error.message is None
    assert str(error) == "HTTP 500 Internal Server Error"
    assert "{" not in str(error)


def test_api_error_message_of_a_text_body_is_its_text_on_one_line() -> None:
    error = ServerError(503, "<html>\n  Service   Unavailable\n</html>")
    assert error.message == "<html> Service Unavailable </html>"


def test_api_error_message_of_an_unregistered_status_has_no_reason() -> None:
    assert str(APIError(599, {"message": "odd"})) == "HTTP 599: odd"


@pytest.mark.parametrize("body", [None, "", b""])
def test_api_error_message_omits_an_empty_body(body: Any) -> None:
    assert str(NotFoundError(404, body)) == "HTTP 404 Not Found"


def test_api_error_message_truncates_a_long_body() -> None:
    body = "x" * 5000
    message = str(BadRequestError(400, body))
    assert len(message) < 300
    assert message.endswith("x...")


def test_wait_timeout_error_is_a_timeout_error_and_pickles() -> None:
    error = WaitTimeoutError("0b6f4a52-7c1e-4d3a-9f2b-5e8c1a7d3f60", 2.5, None)
    assert isinstance(error, TimeoutError)
    assert isinstance(error, TengrAIError)
    assert str(error) == (
        "artwork 0b6f4a52-7c1e-4d3a-9f2b-5e8c1a7d3f60 did not reach a final status within 2.5 s"
    )
    copy = pickle.loads(pickle.dumps(error))  # noqa: S301 - our own bytes
    assert (type(copy), str(copy), copy.timeout) == (WaitTimeoutError, str(error), 2.5)


def test_api_error_headers_default_to_an_empty_mapping() -> None:
    assert APIError(500).headers == {}
    assert APIError(500).body is None
    assert APIError(500).request_id is None


def test_api_error_copies_the_headers_it_is_given() -> None:
    headers = {"X-Request-Id": "a"}
    error = APIError(500, None, headers)
    headers["X-Request-Id"] = "b"
    assert error.headers == {"X-Request-Id": "a"}


@pytest.mark.parametrize("retry_after", [None, 0.0, 2.5])
def test_rate_limit_error_keeps_and_pickles_retry_after(retry_after: float | None) -> None:
    error = RateLimitError(429, "slow down", HEADERS, "req-2", retry_after=retry_after)
    copy = pickle.loads(pickle.dumps(error))  # noqa: S301 - our own bytes
    assert copy.retry_after == error.retry_after == retry_after
    assert (copy.status, copy.request_id, copy.headers) == (429, "req-2", HEADERS)
    assert SECRET not in str(copy)
    assert SECRET not in repr(copy)


# --- validation errors --------------------------------------------------------------------------


def test_validation_error_message_names_value_path_and_rule() -> None:
    error = ValidationError("creativity", 9, "an integer in 1..=5")
    assert (error.path, error.value, error.expected) == ("creativity", 9, "an integer in 1..=5")
    assert str(error) == "invalid value 9 @ creativity: expected an integer in 1..=5"


def test_response_validation_error_message_starts_with_the_offset() -> None:
    error = ResponseValidationError(
        "$[17].parameters.creativity", 9, "an integer in 1..=5", raw={"a": 1}, offset=117
    )
    assert str(error) == (
        "item at offset 117: invalid value 9 @ $[17].parameters.creativity: "
        "expected an integer in 1..=5"
    )
    assert error.raw == {"a": 1}
    assert error.offset == 117


def test_response_validation_error_without_offset_has_no_prefix() -> None:
    error = ResponseValidationError("$.id", MISSING, "a UUID (required)")
    assert str(error) == "invalid value <missing> @ $.id: expected a UUID (required)"
    assert error.offset is None
    assert error.raw is None


@pytest.mark.parametrize("cls", [ResponseValidationError, MalformedResponseError])
def test_response_validation_error_pickles_with_its_type_and_attributes(
    cls: type[ResponseValidationError],
) -> None:
    error = cls("$[3].status", "done", "one of ...", raw={"s": 1}, offset=43)
    copy = pickle.loads(pickle.dumps(error))  # noqa: S301 - our own bytes
    assert type(copy) is cls
    assert (copy.path, copy.value, copy.expected, copy.raw, copy.offset) == (
        "$[3].status",
        "done",
        "one of ...",
        {"s": 1},
        43,
    )
    assert str(copy) == str(error)


def test_validation_error_pickles_with_its_attributes() -> None:
    error = ValidationError("creativity", 9, "an integer in 1..=5")
    copy = pickle.loads(pickle.dumps(error))  # noqa: S301 - our own bytes
    assert (copy.path, copy.value, copy.expected) == ("creativity", 9, "an integer in 1..=5")


def test_a_long_invalid_value_is_previewed_not_dumped() -> None:
    error = ResponseValidationError("$.parameters.prompt", 1, "a string", raw=None)
    long_error = ResponseValidationError("$", "y" * 10_000, "a JSON array")
    assert "1" in str(error)
    assert len(str(long_error)) < 400


@pytest.mark.parametrize(
    "error",
    [
        TengrAIError("boom"),
        ConfigurationError("no API key"),
        ClientStateError("client is closed"),
        TransportError("lost"),
        APIConnectionError("connection reset"),
        APITimeoutError("timed out after 5s"),
    ],
    ids=lambda e: type(e).__name__,
)
def test_message_only_errors_pickle(error: TengrAIError) -> None:
    copy = pickle.loads(pickle.dumps(error))  # noqa: S301 - our own bytes
    assert type(copy) is type(error)
    assert str(copy) == str(error)


def test_every_package_error_is_caught_by_the_root() -> None:
    for name in tengrai_async.__all__:
        value = getattr(tengrai_async, name)
        if isinstance(value, type) and issubclass(value, BaseException):
            assert issubclass(value, TengrAIError), name


def test_the_tree_in_the_module_docstring_names_every_exported_error() -> None:
    assert _errors.__doc__ is not None
    for name in _errors.__all__:
        assert re.search(rf"\b{name}\b", _errors.__doc__), name


def test_an_invalid_argument_error_names_argument_value_and_expectation() -> None:
    error = InvalidArgumentError("offset", -1, "an integer >= 0")
    assert str(error) == "offset must be an integer >= 0, not -1"
    assert (error.argument, error.value, error.expected) == ("offset", -1, "an integer >= 0")
    assert not isinstance(error, TypeError)
    wrong_type = InvalidArgumentTypeError("limit", "10", "an integer in 1..=500")
    assert str(wrong_type) == "limit must be an integer in 1..=500, not '10'"
    assert isinstance(wrong_type, TypeError)
    assert isinstance(wrong_type, ValueError)


def test_an_invalid_argument_error_previews_a_long_value() -> None:
    error = InvalidArgumentError("status", ["x"] * 1000, "one status or several")
    assert len(str(error)) < 300


@pytest.mark.parametrize("cls", [InvalidArgumentError, InvalidArgumentTypeError])
def test_an_invalid_argument_error_pickles_with_its_attributes(
    cls: type[InvalidArgumentError],
) -> None:
    error = cls("timeout", "soon", "a number of seconds > 0")
    copy = pickle.loads(pickle.dumps(error))  # noqa: S301 - our own bytes
    assert type(copy) is cls
    assert (copy.argument, copy.value, copy.expected) == ("timeout", "soon", error.expected)
    assert str(copy) == str(error)


ATTEMPTED: list[TengrAIError] = [
    APIConnectionError("GET x failed: the connection was reset"),
    APITimeoutError("GET x failed: no complete answer within 5 s"),
    ServerError(503, {"message": "busy"}, HEADERS, "req-1"),
    RateLimitError(429, None, None, None, retry_after=2.0),
    MalformedResponseError("$", "<html>", "a JSON body", raw="<html>", offset=0),
    ResponseTooLargeError("GET x: the body is over max_response_bytes (5 bytes)", 5),
    StalledListingError("windows repeat", (0, 10, 20)),
]


@pytest.mark.parametrize("error", ATTEMPTED, ids=lambda e: type(e).__name__)
def test_an_error_after_retries_says_how_many_attempts_and_pickles_them(
    error: TengrAIError,
) -> None:
    plain = str(error)
    assert error.attempts is None
    error.attempts = 1
    assert str(error) == plain  # a single attempt says nothing of retries
    error.attempts = 4
    assert str(error) == f"{plain} (after 4 attempts)"
    copy = pickle.loads(pickle.dumps(error))  # noqa: S301 - our own bytes
    assert (type(copy), copy.attempts, str(copy)) == (type(error), 4, str(error))
    assert SECRET not in repr(copy)
