"""The HTTP API (`dangol api`): FastAPI on uvicorn, OpenAPI docs at /docs.

An entry point like the dashboard: it reads through `storage` queries and acts through the same
`responder` functions, so permissions and the audit trail are the dashboard's. Staff authenticate
with personal tokens (`responder.accounts.api_tokens`) that act with the owner's current role."""

from dangol.api.app import create_app

__all__ = ["create_app"]
