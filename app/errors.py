"""HTTP errors with a stable code: {"code", "message", "fields"?}, as on the socket; and
which of them each route declares in the OpenAPI document (`errors`)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ValidationError
from starlette.exceptions import HTTPException


class FieldProblem(BaseModel):
    field: str
    message: str


class ErrorBody(BaseModel):
    code: str
    message: str
    fields: list[FieldProblem] | None = None


class ApiError(Exception):
    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        fields: list[FieldProblem] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message
        self.fields = fields
        self.headers = headers


@dataclass(frozen=True)
class Refusal:
    """One error a route can answer with: its status, its stable code and when it comes."""

    status: int
    code: str
    when: str


# Refused by app/connection_caps.py before any route runs, so every route can get it.
TOO_MANY_CONNECTIONS = Refusal(
    429, "too_many_connections", "the address holds `max_connections_per_address` connections already (`Retry-After`)"
)
# Answered by the handlers below for any route that reads a body, a query or a typed path.
INVALID_REQUEST = Refusal(
    422,
    "invalid_request",
    "a body that is not JSON, or a field, query or path value missing or invalid: `fields` names it",
)
UNPARSABLE_BODY = Refusal(
    400, "invalid_request", "a body the JSON parser gives up on, such as one nested thousands deep"
)
# Refused by app/body_limit.py before the route reads a byte of it.
TOO_LARGE = Refusal(413, "too_large", "the body is over 2 MB")


def errors(*refusals: Refusal) -> dict[int | str, dict[str, Any]]:
    """OpenAPI `responses` for the errors a route can answer with, and only those: per status,
    the envelope, the codes it carries on this route and when (`x-error-codes` lists the
    codes for a generated client). `too_many_connections` is always among them."""
    by_status: dict[int, list[Refusal]] = {}
    for refusal in (*refusals, TOO_MANY_CONNECTIONS):
        if refusal not in by_status.setdefault(refusal.status, []):
            by_status[refusal.status].append(refusal)
    return {
        status: {
            "model": ErrorBody,
            "description": "; ".join(f"`{refusal.code}`: {refusal.when}" for refusal in group),
            "x-error-codes": list(dict.fromkeys(refusal.code for refusal in group)),
        }
        for status, group in sorted(by_status.items())
    }


def field_problems(error: ValidationError | RequestValidationError, prefix: str = "") -> list[FieldProblem]:
    problems = []
    for item in error.errors():
        parts = [str(part) for part in item["loc"] if part != "body"]
        path = ".".join([prefix, *parts] if prefix else parts) or prefix or "body"
        problems.append(FieldProblem(field=path, message=str(item["msg"])))
    return problems


def _body(code: str, message: str, fields: list[FieldProblem] | None = None) -> dict[str, Any]:
    return ErrorBody(code=code, message=message, fields=fields).model_dump(exclude_none=True)


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(ApiError)
    async def _api_error(_request: Request, error: ApiError) -> JSONResponse:
        return JSONResponse(
            _body(error.code, error.message, error.fields),
            status_code=error.status,
            headers=error.headers,
        )

    @app.exception_handler(RequestValidationError)
    async def _invalid(_request: Request, error: RequestValidationError) -> JSONResponse:
        problems = field_problems(error)
        message = "; ".join(f"{p.field}: {p.message}" for p in problems[:3])
        return JSONResponse(_body("invalid_request", message, problems), status_code=422)

    @app.exception_handler(HTTPException)
    async def _http(_request: Request, error: HTTPException) -> JSONResponse:
        # 400: a body FastAPI could not even parse (e.g. JSON nested thousands deep).
        codes = {400: "invalid_request", 404: "not_found", 405: "method_not_allowed"}
        code = codes.get(error.status_code, "http_error")
        return JSONResponse(_body(code, str(error.detail)), status_code=error.status_code)

    _declared_errors_only(app)


def _declared_errors_only(app: FastAPI) -> None:
    """FastAPI adds to every route with a parameter a 422 in a body shape of its own
    (`HTTPValidationError`), which this app never sends (`_invalid` above answers in the
    envelope) and which a route whose only parameter is a path string cannot even get. A
    route that can get 422 declares it with `errors`; FastAPI's is taken out of the document."""
    generate = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is not None:
            return app.openapi_schema
        schema = generate()  # kept by FastAPI in app.openapi_schema, so cleaned once
        for operations in schema.get("paths", {}).values():
            for operation in operations.values():
                responses = operation.get("responses", {})
                if "HTTPValidationError" in json.dumps(responses.get("422", {})):
                    del responses["422"]
        if "HTTPValidationError" not in json.dumps(schema.get("paths", {})):
            for name in ("HTTPValidationError", "ValidationError"):
                schema.get("components", {}).get("schemas", {}).pop(name, None)
        return schema

    app.openapi = openapi  # type: ignore[method-assign]
