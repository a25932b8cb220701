"""The baseline for HTTP benchmarks: Litestar's hello world, served exactly like the product.

python -m uvicorn bench.hello:create_app --factory --workers 2 ...
"""

from __future__ import annotations

from litestar import Litestar, get


@get("/", operation_id="hello")
async def hello() -> dict[str, str]:
    return {"hello": "world"}


def create_app() -> Litestar:
    return Litestar(route_handlers=[hello], debug=False)
