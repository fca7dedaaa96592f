"""FakeKubeAPI's own semantics, over raw HTTP: what a test of the Kubernetes applier relies on it to keep."""

from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest

from tests.fakes.kube import FakeKubeAPI

DRS = "/apis/networking.istio.io/v1/namespaces/bookinfo/destinationrules"
RULE = {"apiVersion": "networking.istio.io/v1", "kind": "DestinationRule",
        "metadata": {"name": "reviews"}, "spec": {"host": "reviews"}}  # fmt: skip


@pytest.fixture
async def api() -> AsyncIterator[tuple[FakeKubeAPI, aiohttp.ClientSession]]:
    async with FakeKubeAPI() as fake, aiohttp.ClientSession(
        base_url=fake.url, headers={"Authorization": f"Bearer {fake.token}"}
    ) as session:
        yield fake, session


async def call(session: aiohttp.ClientSession, method: str, path: str, body: Any = None) -> tuple[int, Any]:
    async with session.request(method, path, json=body) as response:
        return response.status, await response.json()


def is_status(body: dict[str, Any], code: int, reason: str) -> bool:
    return (body["kind"], body["apiVersion"], body["status"], body["code"], body["reason"]) == (
        "Status", "v1", "Failure", code, reason) and isinstance(body["message"], str)  # fmt: skip


async def test_versions_are_monotonic_strings_and_generation_follows_spec(
    api: tuple[FakeKubeAPI, aiohttp.ClientSession],
) -> None:
    _, session = api
    code, created = await call(session, "POST", DRS, RULE)
    assert code == 201 and created["metadata"]["resourceVersion"] == "1" and created["metadata"]["generation"] == 1
    labelled = {**created, "metadata": {**created["metadata"], "labels": {"a": "b"}}}
    code, updated = await call(session, "PUT", f"{DRS}/reviews", labelled)
    assert code == 200 and updated["metadata"]["resourceVersion"] == "2" and updated["metadata"]["generation"] == 1
    assert updated["metadata"]["uid"] == created["metadata"]["uid"]
    code, listed = await call(session, "GET", DRS)
    assert code == 200 and listed["items"] == [updated] and listed["metadata"]["resourceVersion"] == "2"


async def test_errors_are_real_status_objects(api: tuple[FakeKubeAPI, aiohttp.ClientSession]) -> None:
    fake, session = api
    code, body = await call(session, "GET", f"{DRS}/reviews")
    assert code == 404 and is_status(body, 404, "NotFound")
    assert body["details"] == {"name": "reviews", "group": "networking.istio.io", "kind": "destinationrules"}
    _, created = await call(session, "POST", DRS, RULE)
    code, body = await call(session, "POST", DRS, RULE)
    assert code == 409 and is_status(body, 409, "AlreadyExists")
    stale = {**created, "metadata": {**created["metadata"], "resourceVersion": "0"}}
    code, body = await call(session, "PUT", f"{DRS}/reviews", stale)
    assert code == 409 and is_status(body, 409, "Conflict") and "the object has been modified" in body["message"]
    code, body = await call(session, "POST", DRS, {**RULE, "metadata": {"name": "x", "resourceVersion": "3"}})
    assert code == 500 and "resourceVersion should not be set" in body["message"]
    code, body = await call(session, "PUT", f"{DRS}/absent", {**RULE, "metadata": {"name": "absent"}})
    assert code == 404 and is_status(body, 404, "NotFound")  # custom resources are never created by PUT
    fake.forbidden.add(("delete", "destinationrules"))
    code, body = await call(session, "DELETE", f"{DRS}/reviews")
    assert code == 403 and is_status(body, 403, "Forbidden") and "cannot delete resource" in body["message"]
    async with aiohttp.ClientSession(base_url=fake.url) as anonymous:
        code, body = await call(anonymous, "GET", DRS)
    assert code == 401 and is_status(body, 401, "Unauthorized")


async def test_dry_run_stores_nothing_and_consumes_no_version(api: tuple[FakeKubeAPI, aiohttp.ClientSession]) -> None:
    fake, session = api
    code, body = await call(session, "POST", f"{DRS}?dryRun=All", RULE)
    assert code == 201 and "resourceVersion" not in body["metadata"] and not fake.objects and fake.version == 0
    code, body = await call(session, "POST", f"{DRS}?dryRun=Some", RULE)
    assert code == 400 and is_status(body, 400, "BadRequest")
    await call(session, "POST", DRS, RULE)
    code, _ = await call(session, "DELETE", f"{DRS}/reviews?dryRun=All")
    assert code == 200 and fake.objects and fake.version == 1
    precondition = {"kind": "DeleteOptions", "apiVersion": "v1", "preconditions": {"resourceVersion": "9"}}
    code, body = await call(session, "DELETE", f"{DRS}/reviews", precondition)
    assert code == 409 and "Precondition failed: ResourceVersion in precondition: 9" in body["message"]
