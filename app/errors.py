"""HTTP errors with a stable code: {"code", "message", "fields"?}, as on the socket."""

from __future__ import annotations

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
