"""FakeKubeAPI: a small, honest fake of the Kubernetes API server's namespaced custom-resource endpoints (HTTP,
optionally HTTPS, on 127.0.0.1, a free port), for tests of the Kubernetes applier.

What it keeps of the real server: objects per (group, version, plural, namespace, name) under
`/apis/{group}/{version}/namespaces/{ns}/{plural}[/{name}]`; GET (item and list — namespaced or cluster-wide at
`/apis/{group}/{version}/{plural}`, a `<Kind>List` paged by `limit` and an opaque `continue` token), POST (create),
PUT (update), DELETE (with DeleteOptions preconditions); a monotonic resourceVersion (a string, one counter for
everything), uid, creationTimestamp, generation (bumped when spec changes); 409 Conflict on a stale resourceVersion, 409
AlreadyExists on creating an existing object, 404 NotFound (PUT does not create: custom resources forbid
create-on-update), 422 on an update without resourceVersion (custom resources allow no unconditional update),
401 without the bearer token, 403 for a (verb, plural) pair listed in `forbidden`, 500 on
a create carrying a resourceVersion (etcd storage refuses it), `?dryRun=All` (everything checked, nothing
stored, no version consumed), 400 for any other dryRun value; errors as real `Status` objects.
What it does not do: watch, PATCH, managedFields, label selectors, finalizers, CRD schemas. Schema checks are
the test's: `validators` return (field, message) causes, answered as 422 Invalid the way the API server words
them.
"""

from __future__ import annotations

import asyncio
import contextlib
import copy
import ssl
import threading
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from typing import Any

from aiohttp import web

Obj = dict[str, Any]
Key = tuple[str, str, str, str, str]  # group, version, plural, namespace, name
Cause = tuple[str, str]  # field, message
BASE = "/apis/{group}/{version}/namespaces/{namespace}/{plural}"
CLUSTER = "/apis/{group}/{version}/{plural}"
KIND_OF = {"destinationrules": "DestinationRule", "virtualservices": "VirtualService",
           "peerauthentications": "PeerAuthentication"}  # fmt: skip


def status(code: int, reason: str, message: str, details: Obj | None = None) -> web.Response:
    body = {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure", "message": message,
            "reason": reason, "details": details or {}, "code": code}  # fmt: skip
    return web.json_response(body, status=code)


class FakeKubeAPI:
    def __init__(self, *, token: str = "fake-token", user: str = "system:serviceaccount:observe:observe",
                 ssl_context: ssl.SSLContext | None = None) -> None:  # fmt: skip
        self.token = token
        self.user = user
        self.ssl_context = ssl_context
        self.objects: dict[Key, Obj] = {}
        self.forbidden: set[tuple[str, str]] = set()  # (verb, plural), e.g. ("update", "destinationrules")
        self.validators: list[Callable[[Obj], list[Cause]]] = []
        self.requests: list[tuple[str, str]] = []  # (method, path?query) of every request, in order
        self.version = 0  # the last resourceVersion handed out
        self._runner: web.AppRunner | None = None
        self.url = ""

    async def __aenter__(self) -> FakeKubeAPI:
        app = web.Application(middlewares=[self._authn])
        app.router.add_get(BASE, self._list)
        app.router.add_get(CLUSTER, self._list)
        app.router.add_post(BASE, self._create)
        app.router.add_get(BASE + "/{name}", self._get)
        app.router.add_put(BASE + "/{name}", self._update)
        app.router.add_delete(BASE + "/{name}", self._delete)
        self._runner = web.AppRunner(app)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0, ssl_context=self.ssl_context)
        await site.start()
        host, port = self._runner.addresses[0][:2]
        self.url = f"{'https' if self.ssl_context else 'http'}://{host}:{port}"
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    # -- direct access for tests (another writer, as kubectl would be) ----------------------------------------

    def put(self, obj: Obj) -> Obj:
        """Store `obj` as if another client created or updated it: fresh resourceVersion, server fields set."""
        group, version = obj["apiVersion"].split("/")
        meta = obj["metadata"]
        key = (group, version, _plural(obj["kind"]), meta["namespace"], meta["name"])
        stored = self._stamp(copy.deepcopy(obj), self.objects.get(key))
        self.objects[key] = stored
        return copy.deepcopy(stored)

    def stored(self, kind: str, namespace: str, name: str) -> Obj | None:
        for (_, _, plural, ns, n), obj in self.objects.items():
            if (plural, ns, n) == (_plural(kind), namespace, name):
                return copy.deepcopy(obj)
        return None

    # -- the API --------------------------------------------------------------------------------------------

    @web.middleware
    async def _authn(self, request: web.Request, handler: Any) -> web.StreamResponse:
        self.requests.append((request.method, request.path_qs))
        if request.headers.get("Authorization") != f"Bearer {self.token}":
            return status(401, "Unauthorized", "Unauthorized")
        m = request.match_info
        verb = {"GET": "get" if "name" in m else "list", "POST": "create", "PUT": "update",
                "DELETE": "delete"}.get(request.method, "")  # fmt: skip
        if (verb, m.get("plural")) in self.forbidden:
            target = f"{m['plural']}.{m['group']}" + (f' "{m["name"]}"' if "name" in m else "")
            scope = f'in the namespace "{m["namespace"]}"' if "namespace" in m else "at the cluster scope"
            return status(403, "Forbidden", f'{target} is forbidden: User "{self.user}" cannot {verb} resource '
                          f'"{m["plural"]}" in API group "{m["group"]}" {scope}',
                          {"name": m.get("name", ""), "group": m["group"], "kind": m["plural"]})  # fmt: skip
        dry_run = request.query.getall("dryRun", [])
        if any(value != "All" for value in dry_run):
            return status(400, "BadRequest", f"Invalid dryRun value: {dry_run}; only All is supported")
        response: web.StreamResponse = await handler(request)
        return response

    @staticmethod
    def _key(request: web.Request, name: str | None = None) -> Key:
        m = request.match_info
        return m["group"], m["version"], m["plural"], m["namespace"], name or m["name"]

    @staticmethod
    def _details(key: Key) -> Obj:
        return {"name": key[4], "group": key[0], "kind": key[2]}

    def _not_found(self, key: Key) -> web.Response:
        return status(404, "NotFound", f'{key[2]}.{key[0]} "{key[4]}" not found', self._details(key))

    def _conflict(self, key: Key, why: str) -> web.Response:
        return status(409, "Conflict", f'Operation cannot be fulfilled on {key[2]}.{key[0]} "{key[4]}": {why}',
                      self._details(key))  # fmt: skip

    async def _list(self, request: web.Request) -> web.Response:
        """Namespaced or cluster-wide (no namespace in the path), ordered by namespace and name; `limit` pages it
        and `continue` is the next item's offset, opaque to clients (the real server's token is too)."""
        g, v, p = (request.match_info[k] for k in ("group", "version", "plural"))
        ns = request.match_info.get("namespace")
        items = [o for (kg, kv, kp, kns, _), o in sorted(self.objects.items())
                 if (kg, kv, kp) == (g, v, p) and ns in (None, kns)]  # fmt: skip
        try:
            start = int(request.query.get("continue") or 0)
            limit = int(request.query.get("limit") or 0) or len(items)
        except ValueError:
            return status(400, "BadRequest", "invalid limit or continue parameter")
        page = items[start : start + limit]
        meta = {"resourceVersion": str(self.version)} | ({"continue": str(start + limit)}
                                                          if start + limit < len(items) else {})  # fmt: skip
        return web.json_response({"apiVersion": f"{g}/{v}", "kind": f"{KIND_OF.get(p, '')}List", "items": page,
                                  "metadata": meta})  # fmt: skip

    async def _get(self, request: web.Request) -> web.Response:
        key = self._key(request)
        return web.json_response(self.objects[key]) if key in self.objects else self._not_found(key)

    async def _body(self, request: web.Request, key: Key) -> Obj | web.Response:
        try:
            obj = await request.json()
        except ValueError:
            return status(400, "BadRequest", "the body of the request was in an unknown format")
        if not isinstance(obj, dict) or not isinstance(obj.get("metadata"), dict):
            return status(400, "BadRequest", "the body of the request was in an unknown format")
        if obj.get("apiVersion") != f"{key[0]}/{key[1]}" or _plural(str(obj.get("kind"))) != key[2]:
            return status(400, "BadRequest", f"the API version in the data ({obj.get('apiVersion')}) does not match "
                          f"the expected API version ({key[0]}/{key[1]})")  # fmt: skip
        meta = obj["metadata"]
        if meta.setdefault("namespace", key[3]) != key[3]:
            return status(400, "BadRequest", "the namespace of the provided object does not match the namespace "
                          "sent on the request")  # fmt: skip
        causes = [cause for check in self.validators for cause in check(obj)]
        if causes:
            name = meta.get("name", "")
            message = "; ".join(f"{f}: {m}" for f, m in causes)
            return status(422, "Invalid", f'{obj["kind"]}.{key[0]} "{name}" is invalid: {message}',
                          {"name": name, "group": key[0], "kind": obj["kind"],
                           "causes": [{"reason": "FieldValueInvalid", "message": m, "field": f} for f, m in causes]})
        return obj

    async def _create(self, request: web.Request) -> web.Response:
        obj = await self._body(request, self._key(request, "-"))
        if isinstance(obj, web.Response):
            return obj
        key = self._key(request, str(obj["metadata"].get("name", "")))
        if obj["metadata"].get("resourceVersion"):  # etcd3 store: an internal error, not a 400
            return status(500, "InternalError", "Internal error occurred: resourceVersion should not be set on "
                          "objects to be created")  # fmt: skip
        if key in self.objects:
            return status(409, "AlreadyExists", f'{key[2]}.{key[0]} "{key[4]}" already exists', self._details(key))
        if "dryRun" in request.query:  # a dry-run create gets a uid and timestamp but no resourceVersion
            return web.json_response(self._stamp(obj, None, version=""), status=201)
        self.objects[key] = self._stamp(obj, None)
        return web.json_response(self.objects[key], status=201)

    async def _update(self, request: web.Request) -> web.Response:
        key = self._key(request)
        obj = await self._body(request, key)
        if isinstance(obj, web.Response):
            return obj
        if obj["metadata"].get("name") != key[4]:
            return status(400, "BadRequest", f"the name of the object ({obj['metadata'].get('name')}) does not match "
                          f"the name on the URL ({key[4]})")  # fmt: skip
        current = self.objects.get(key)
        if current is None:
            return self._not_found(key)
        sent = obj["metadata"].get("resourceVersion")
        if not sent:
            return status(422, "Invalid", f'{obj["kind"]}.{key[0]} "{key[4]}" is invalid: metadata.resourceVersion: '
                          "Invalid value: 0x0: must be specified for an update",
                          {"name": key[4], "group": key[0], "kind": obj["kind"],
                           "causes": [{"reason": "FieldValueInvalid", "field": "metadata.resourceVersion",
                                       "message": "Invalid value: 0x0: must be specified for an update"}]})  # fmt: skip
        if sent != current["metadata"]["resourceVersion"]:
            return self._conflict(key, "the object has been modified; please apply your changes to the latest "
                                  "version and try again")  # fmt: skip
        if "dryRun" in request.query:
            return web.json_response(self._stamp(obj, current, version=current["metadata"]["resourceVersion"]))
        self.objects[key] = self._stamp(obj, current)
        return web.json_response(self.objects[key])

    async def _delete(self, request: web.Request) -> web.Response:
        key = self._key(request)
        current = self.objects.get(key)
        if current is None:
            return self._not_found(key)
        options = await request.json() if request.can_read_body else {}
        for field, value in ((options or {}).get("preconditions") or {}).items():
            have = current["metadata"].get(field)
            if value is not None and value != have:
                name = {"resourceVersion": "ResourceVersion", "uid": "UID"}.get(field, field)
                return self._conflict(key, f"Precondition failed: {name} in precondition: {value}, {name} in "
                                      f"object meta: {have}")  # fmt: skip
        if "dryRun" in request.query:
            return web.json_response(current)
        del self.objects[key]
        self.version += 1  # a deletion is a revision too; the answer carries it (etcd3 store)
        current["metadata"]["resourceVersion"] = str(self.version)
        return web.json_response(current)

    def _stamp(self, obj: Obj, current: Obj | None, *, version: str | None = None) -> Obj:
        """The server-owned metadata of `obj` stored over `current` (None: a creation)."""
        meta = obj["metadata"]
        if current is None:
            meta["uid"] = str(uuid.uuid4())
            meta["creationTimestamp"] = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
            meta["generation"] = 1
        else:
            old = current["metadata"]
            meta.update(uid=old["uid"], creationTimestamp=old["creationTimestamp"], generation=old["generation"])
            if obj.get("spec") != current.get("spec"):
                meta["generation"] += 1
        meta.pop("resourceVersion", None)
        if version is None:
            self.version += 1
            meta["resourceVersion"] = str(self.version)
        elif version:
            meta["resourceVersion"] = version
        return obj


@contextlib.contextmanager
def serve_in_thread(fake: FakeKubeAPI) -> Iterator[FakeKubeAPI]:
    """Run `fake` on its own event loop in a thread, for synchronous callers (the CLI runs asyncio.run)."""
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, name="fake-kube", daemon=True)
    thread.start()
    try:
        asyncio.run_coroutine_threadsafe(fake.__aenter__(), loop).result(timeout=10)
        yield fake
    finally:
        asyncio.run_coroutine_threadsafe(fake.__aexit__(), loop).result(timeout=10)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(timeout=10)
        loop.close()


def _plural(kind: str) -> str:
    return kind.lower() + "s"  # DestinationRule, VirtualService, PeerAuthentication: the kinds observe reads
