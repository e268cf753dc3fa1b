"""The plain-array lists say how many there are in headers: the OpenAPI schema documents
X-Total-Count and X-Shown-Count on each, so a client generated from it knows to read them."""

from __future__ import annotations

import pytest
from fastapi import FastAPI

from fleet.core.paging import SHOWN_HEADER, TOTAL_HEADER

COUNTED = ["/api/v1/recovery/suggestions", "/api/v1/redeploy/suggestions", "/api/v1/prospects"]


@pytest.mark.parametrize("path", COUNTED)
def test_the_count_headers_are_in_the_schema(app: FastAPI, path: str) -> None:
    ok = app.openapi()["paths"][path]["get"]["responses"]["200"]
    headers = ok.get("headers", {})
    assert set(headers) >= {TOTAL_HEADER, SHOWN_HEADER}, ok
    for name in (TOTAL_HEADER, SHOWN_HEADER):
        assert headers[name]["schema"]["type"] == "integer"
        assert headers[name]["description"]
