"""Validation against Telnyx's published OpenAPI excerpt (a copy kept in tests/data)."""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Any

import yaml
from openapi_schema_validator import OAS31Validator

SPEC_PATH = Path(__file__).parent / "data" / "telnyx-openapi-group-mms.yml"


@functools.cache
def _spec() -> dict[str, Any]:
    spec: dict[str, Any] = yaml.safe_load(SPEC_PATH.read_text(encoding="utf-8"))
    return spec


def _problems(schema: dict[str, Any], instance: object) -> list[str]:
    # Checked with the document's components beside it, so that its $refs resolve.
    validator = OAS31Validator(
        {**schema, "components": _spec()["components"]},
        format_checker=OAS31Validator.FORMAT_CHECKER,
    )
    return [
        f"{'/'.join(map(str, e.absolute_path)) or '<root>'}: {e.message}"
        for e in validator.iter_errors(instance)
    ]


def errors_against(component: str, instance: object) -> list[str]:
    """Every way ``instance`` breaks the named schema component (empty when it conforms)."""
    return _problems({"$ref": f"#/components/schemas/{component}"}, instance)


def errors_against_response(instance: object) -> list[str]:
    """Every way ``instance`` breaks the 200 response schema of POST /messages/group_mms."""
    operation = _spec()["paths"]["/messages/group_mms"]["post"]
    return _problems(
        operation["responses"]["200"]["content"]["application/json"]["schema"], instance
    )


def errors_against_error_response(instance: object) -> list[str]:
    """Every way ``instance`` breaks the endpoint's 4XX response schema."""
    return _problems({"$ref": "#/components/schemas/messaging_Errors"}, instance)
