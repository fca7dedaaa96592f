"""The Kubernetes API applier: Istio objects (the kinds of resources.KINDS) read and written through the API server
with plain aiohttp, authenticated as the pod's service account or as a kubeconfig user; `list` also reads the
read-only kinds (PeerAuthentication): a paged collection GET, bounded in pages.

Writes: create is a POST to the collection; update is a PUT of the whole object carrying the resourceVersion it
was based on, so the API server itself enforces optimistic concurrency (409 on a stale version). PUT rather than
a JSON merge patch because the pipeline already merged the change into the live object, validated and diffed
the result: the PUT stores exactly the object the user previewed, and since any concurrent change is refused
(409), no other writer's change is overwritten. A merge patch cannot delete list items (subsets, routes) without
resending the whole list, and would need a patch computed from the diff — more code, same outcome. Delete (the
revert of a creation) carries resourceVersion and uid preconditions. Every write sends `fieldManager=observe`;
a dry run adds `dryRun=All` (admission and validation run, nothing is stored).

Errors: 409 (and 404 on update/delete: the object went away) → Conflict carrying the fresh object read right
after; 404 on get → None; 400/422 → InvalidEdit with the server's causes (field + message); 401 and 403 →
SourceUnavailable ("kubernetes", 503) naming the verb and resource and saying observe's credentials were
refused, with verb, resource, namespace, name and the API server's status in the error: they are about
observe's service account (its token, its RBAC), not about the caller, who was authorized already — a 401/403
would tell a client its own credentials are wrong; timeouts, connection failures, an unreadable token file, 429
and 5xx → SourceUnavailable ("kubernetes") too. Responses over 4 MiB are refused (etcd caps an object at 1.5 MiB).
An update whose base has no resourceVersion is refused (InvalidEdit) before anything is sent: without it the
PUT would be unconditional and could overwrite another writer's change.

Credentials (`load_config`): an explicit kubeconfig file; else the in-cluster service account (token, ca.crt,
KUBERNETES_SERVICE_HOST/PORT); else the first file of $KUBECONFIG, else ~/.kube/config. From a kubeconfig, the
current context's cluster (server, certificate-authority[-data], insecure-skip-tls-verify) and user (token,
tokenFile, client-certificate[-data] + client-key[-data]); exec and auth-provider plugins are refused by name.
A token file is re-read every minute, as client-go does: bound service-account tokens rotate.
"""

from __future__ import annotations

import base64
import binascii
import json
import ssl
import tempfile
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
import yaml

from observe.actions.files import conflict
from observe.actions.resources import Obj, ObjectRef, ResourceKind, resource_version, without_server_fields
from observe.errors import BadQuery, InvalidEdit, NotFound, ObserveError, SourceUnavailable

SERVICE_ACCOUNT_DIR = Path("/var/run/secrets/kubernetes.io/serviceaccount")
FIELD_MANAGER = "observe"
MAX_BODY_BYTES = 4 * 1024 * 1024
TOKEN_REREAD_S = 60.0
LIST_PAGE = 250
MAX_LIST_PAGES = 4  # a read of at most 1,000 objects: PeerAuthentications number a few per namespace


@dataclass(frozen=True)
class KubeConfig:
    """Where the API server is and how to authenticate; PEM texts, not paths, so nothing is re-read but tokens.
    The secrets (token, client key) stay out of repr: a config may end up in a log line or a traceback."""

    server: str
    ca_pem: str | None = None
    insecure: bool = False
    token: str | None = field(default=None, repr=False)
    token_file: str | None = None
    client_cert_pem: str | None = None
    client_key_pem: str | None = field(default=None, repr=False)
    origin: str = ""  # "in-cluster" or the kubeconfig path, for messages

    def ssl_context(self) -> ssl.SSLContext | None:
        if not self.server.startswith("https://"):
            return None
        try:
            context = ssl.create_default_context(cadata=self.ca_pem) if self.ca_pem else ssl.create_default_context()
            if self.client_cert_pem and self.client_key_pem:
                # load_cert_chain only reads files: hand it private temporary ones, gone once loaded.
                with tempfile.TemporaryDirectory(prefix="observe-kube-") as tmp:
                    cert, key = Path(tmp, "client.crt"), Path(tmp, "client.key")
                    cert.write_text(self.client_cert_pem)
                    key.touch(mode=0o600)
                    key.write_text(self.client_key_pem)
                    context.load_cert_chain(cert, key)
        except ssl.SSLError as exc:
            raise BadQuery(f"{self.origin}: unusable CA or client certificate: {exc}", field="kubeconfig") from None
        if self.insecure:
            context.check_hostname = False
            context.verify_mode = ssl.CERT_NONE
        return context


def load_config(kubeconfig: str, environ: Mapping[str, str], *,
                service_account_dir: Path = SERVICE_ACCOUNT_DIR) -> KubeConfig:  # fmt: skip
    """The explicit kubeconfig; else in-cluster when running in a pod; else $KUBECONFIG or ~/.kube/config."""
    if kubeconfig:
        return from_kubeconfig(Path(kubeconfig).expanduser())
    host, port = environ.get("KUBERNETES_SERVICE_HOST"), environ.get("KUBERNETES_SERVICE_PORT")
    if host and port and (service_account_dir / "token").is_file():
        return in_cluster(host, port, service_account_dir)
    first = next((p for p in environ.get("KUBECONFIG", "").split(":") if p), "")
    return from_kubeconfig(Path(first) if first else Path(environ.get("HOME", "~"), ".kube", "config").expanduser())


def in_cluster(host: str, port: str, service_account_dir: Path = SERVICE_ACCOUNT_DIR) -> KubeConfig:
    host = f"[{host}]" if ":" in host else host  # an IPv6 service address
    ca = service_account_dir / "ca.crt"
    return KubeConfig(server=f"https://{host}:{port}", ca_pem=_read(ca, "in-cluster") if ca.is_file() else None,
                      token_file=str(service_account_dir / "token"), origin="in-cluster")  # fmt: skip


def from_kubeconfig(path: Path) -> KubeConfig:
    """The current context of a kubeconfig file; relative file references resolve against its directory."""
    origin = str(path)
    try:
        doc = yaml.safe_load(_read(path, origin))
    except yaml.YAMLError as exc:
        raise BadQuery(f"{origin} is not valid YAML: {exc}", field="kubeconfig") from None
    if not isinstance(doc, dict):
        raise BadQuery(f"{origin} is not a kubeconfig (not a mapping)", field="kubeconfig")
    current = doc.get("current-context")
    if not current:
        raise BadQuery(f"{origin}: no current-context", field="kubeconfig")
    context = _named(doc, "contexts", "context", str(current), origin)
    cluster = _named(doc, "clusters", "cluster", str(context.get("cluster")), origin)
    user = _named(doc, "users", "user", str(context.get("user")), origin) if context.get("user") else {}
    for plugin in ("exec", "auth-provider"):
        if user.get(plugin):
            raise BadQuery(f"{origin}: user {context.get('user')!r} authenticates with {plugin} plugins, which "
                           "observe does not run: use a token or a client certificate", field="kubeconfig")  # fmt: skip
    server = str(cluster.get("server") or "").rstrip("/")
    if not server.startswith(("https://", "http://")):
        raise BadQuery(f"{origin}: cluster {context.get('cluster')!r} has no http(s) server", field="kubeconfig")

    def pem(data_key: str, file_key: str, holder: dict[str, Any]) -> str | None:
        if holder.get(data_key):
            try:
                return base64.b64decode(str(holder[data_key]), validate=True).decode()
            except (binascii.Error, UnicodeDecodeError):
                raise BadQuery(f"{origin}: {data_key} is not base64 PEM", field="kubeconfig") from None
        if holder.get(file_key):
            return _read(path.parent / str(holder[file_key]), origin)
        return None

    token_file = user.get("tokenFile")
    return KubeConfig(
        server=server,
        ca_pem=pem("certificate-authority-data", "certificate-authority", cluster),
        insecure=bool(cluster.get("insecure-skip-tls-verify")),
        token=str(user["token"]) if user.get("token") else None,
        token_file=str(path.parent / str(token_file)) if token_file else None,
        client_cert_pem=pem("client-certificate-data", "client-certificate", user),
        client_key_pem=pem("client-key-data", "client-key", user),
        origin=origin,
    )


def _named(doc: dict[str, Any], section: str, key: str, name: str, origin: str) -> dict[str, Any]:
    for item in doc.get(section) or []:
        if isinstance(item, dict) and item.get("name") == name and isinstance(item.get(key), dict):
            found: dict[str, Any] = item[key]
            return found
    raise BadQuery(f"{origin}: no {key} named {name!r} in {section}", field="kubeconfig")


def _read(path: Path, origin: str) -> str:
    try:
        return path.read_text()
    except OSError as exc:
        where = "" if origin == str(path) else f"{origin}: "
        raise BadQuery(f"{where}cannot read {path}: {exc.strerror}", field="kubeconfig") from None


class BearerToken:
    """A fixed token, or a token file re-read every `reread_s` (kubelet rotates bound tokens before expiry)."""

    def __init__(self, config: KubeConfig, *, reread_s: float = TOKEN_REREAD_S,
                 clock: Callable[[], float] = time.monotonic) -> None:  # fmt: skip
        self.config = config
        self.reread_s = reread_s
        self.clock = clock
        self._cached: tuple[float, str] | None = None

    def value(self) -> str | None:
        if self.config.token_file is None:
            return self.config.token
        now = self.clock()
        if self._cached is None or now - self._cached[0] >= self.reread_s:
            path = Path(self.config.token_file)
            try:
                self._cached = (now, path.read_text().strip())
            except OSError as exc:  # a server-side failure (the projected volume), not a bad request
                raise SourceUnavailable("kubernetes", f"{self.config.origin}: cannot read the token file {path}: "
                                        f"{exc.strerror}") from None  # fmt: skip
        return self._cached[1]


class KubeApplier:
    """The Applier port over the Kubernetes API (see the module docstring for the write and error rules)."""

    name = "kube"

    def __init__(self, config: KubeConfig, *, timeout_s: float = 10.0, max_body_bytes: int = MAX_BODY_BYTES,
                 token_clock: Callable[[], float] = time.monotonic) -> None:  # fmt: skip
        self.config = config
        self.timeout_s = timeout_s
        self.max_body_bytes = max_body_bytes
        self.token = BearerToken(config, clock=token_clock)
        self._ssl = config.ssl_context()
        self._session: aiohttp.ClientSession | None = None

    async def get(self, ref: ObjectRef) -> Obj | None:
        status, body = await self._call("GET", self._url(ref.kind, ref.namespace, ref.name), "get", ref)
        if status == 404:
            return None
        if status != 200:
            raise self._error(status, body, "get", ref)
        return body

    async def apply(self, desired: Obj, base: Obj | None, *, dry_run: bool = False) -> Obj:
        ref = ObjectRef.of(desired)
        expected = resource_version(base)
        # The server owns uid, generation, timestamps and managedFields; the precondition is base's version.
        body = without_server_fields(desired, keep_version=False)
        params = {"fieldManager": FIELD_MANAGER} | ({"dryRun": "All"} if dry_run else {})
        if base is None:
            verb, method, url = "create", "POST", self._url(ref.kind, ref.namespace)
        else:
            verb, method, url = "update", "PUT", self._url(ref.kind, ref.namespace, ref.name)
            if expected is None:  # the PUT would be unconditional: it could overwrite a concurrent change
                raise InvalidEdit(f"cannot update {ref}: the object it is based on has no resourceVersion",
                                  field="metadata.resourceVersion")  # fmt: skip
            body["metadata"]["resourceVersion"] = expected
        status, stored = await self._call(method, url, verb, ref, body=body, params=params)
        if status == 409 or (status == 404 and base is not None):
            raise conflict(ref, await self.get(ref), expected)
        if status not in (200, 201):
            raise self._error(status, stored, verb, ref)
        return stored

    async def delete(self, ref: ObjectRef, base: Obj, *, dry_run: bool = False) -> None:
        expected = resource_version(base)
        uid = (base.get("metadata") or {}).get("uid")
        preconditions = {"resourceVersion": expected} | ({"uid": uid} if uid else {})
        options = {"apiVersion": "v1", "kind": "DeleteOptions", "preconditions": preconditions}
        status, body = await self._call("DELETE", self._url(ref.kind, ref.namespace, ref.name), "delete", ref,
                                        body=options, params={"dryRun": "All"} if dry_run else {})  # fmt: skip
        if status in (404, 409):
            raise conflict(ref, await self.get(ref), expected)
        if status not in (200, 202):
            raise self._error(status, body, "delete", ref)

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    def _url(self, kind: ResourceKind, namespace: str | None, name: str | None = None) -> str:
        scope = f"/namespaces/{namespace}" if namespace is not None else ""  # None: the cluster-wide collection
        collection = f"{self.config.server}/apis/{kind.group}/{kind.version}{scope}/{kind.plural}"
        return collection if name is None else f"{collection}/{name}"

    async def _call(self, method: str, url: str, verb: str, ref: ObjectRef | str, *, body: Obj | None = None,
                    params: Mapping[str, str] | None = None) -> tuple[int, Obj]:  # fmt: skip
        """(status, JSON object body); a body that is not a JSON object becomes `{"message": <its text>}`.
        `ref` names the target in messages (a string for a collection)."""
        if self._session is None:  # created on first use: a session belongs to the running event loop
            self._session = aiohttp.ClientSession(connector=aiohttp.TCPConnector(ssl=self._ssl or False),
                                                  timeout=aiohttp.ClientTimeout(total=self.timeout_s))  # fmt: skip
        headers = {"Accept": "application/json"}
        if token := self.token.value():
            headers["Authorization"] = f"Bearer {token}"
        what = f"{verb} {ref}"
        try:
            async with self._session.request(method, url, json=body, params=params, headers=headers,
                                             allow_redirects=False) as response:  # fmt: skip
                raw = bytearray()
                async for chunk in response.content.iter_chunked(64 * 1024):
                    raw += chunk
                    if len(raw) > self.max_body_bytes:
                        raise SourceUnavailable("kubernetes", f"{what}: answer over {self.max_body_bytes} bytes")
                status = response.status
        except TimeoutError:
            raise SourceUnavailable("kubernetes", f"{what}: timeout after {self.timeout_s:g}s") from None
        except aiohttp.ClientError as exc:
            raise SourceUnavailable("kubernetes", f"{what}: cannot reach {self.config.server}: {exc}") from None
        return status, _json_object(bytes(raw))

    def _error(self, status: int, body: Obj, verb: str, ref: ObjectRef) -> ObserveError:
        resource = f"{ref.kind.plural}.{ref.kind.group}"
        said = str(body.get("message") or f"HTTP {status}")
        if status in (401, 403):  # observe's service account, not the caller: an upstream failure (503)
            return self._refused(status, said, verb, resource, ref.namespace, ref.name)
        if status in (400, 422):
            details = body.get("details")
            found = details.get("causes") if isinstance(details, dict) else None
            causes = [{"field": str(c.get("field", "")), "message": str(c.get("message", ""))}
                      for c in found if isinstance(c, dict)] if isinstance(found, list) else []  # fmt: skip
            field = next((c["field"] for c in causes if c["field"]), None)
            return InvalidEdit(f"the Kubernetes API refused to {verb} {ref}: {said}", field=field,
                               extra={"causes": causes})  # fmt: skip
        if status == 404:  # on create: no such namespace, or the Istio CRDs are not installed
            return NotFound(f"cannot {verb} {ref}: {said}", field="namespace")
        return SourceUnavailable("kubernetes", f"{verb} {ref}: HTTP {status}: {said[:300]}")

    def _refused(self, status: int, said: str, verb: str, resource: str, namespace: str | None,
                 name: str) -> SourceUnavailable:  # fmt: skip
        where = f"in namespace {namespace}" if namespace else "cluster-wide"
        why = ("the token was not accepted" if status == 401 else
               f"observe may not {verb} {resource} {where} (Kubernetes RBAC or admission)")  # fmt: skip
        target = f"{namespace}/{name}" if name else where
        error = SourceUnavailable("kubernetes", f"the Kubernetes API ({self.config.origin}) refused observe's "
                                  f"credentials to {verb} {resource} {target}: {why}: {said}")  # fmt: skip
        error.extra.update({"verb": verb, "resource": resource, "namespace": namespace or "", "name": name,
                            "upstream_status": status})  # fmt: skip
        return error

    # Last: a method named `list` shadows the builtin for annotations in the rest of the class body.
    async def list(self, kind: ResourceKind, namespace: str | None = None) -> list[Obj]:
        """GET the collection (cluster-wide when `namespace` is None), LIST_PAGE items a page and at most
        MAX_LIST_PAGES pages: past them the answer would be partial, which is refused rather than returned."""
        what = f"{kind.plural}.{kind.group} " + (f"in namespace {namespace}" if namespace else "cluster-wide")
        items: list[Obj] = []
        params = {"limit": str(LIST_PAGE)}
        for _ in range(MAX_LIST_PAGES):
            status, body = await self._call("GET", self._url(kind, namespace), "list", what, params=params)
            said = str(body.get("message") or f"HTTP {status}")
            if status in (401, 403):
                raise self._refused(status, said, "list", f"{kind.plural}.{kind.group}", namespace, "")
            if status == 404:  # the group/version is not served
                raise SourceUnavailable("kubernetes", f"list {what}: {said} (are the Istio CRDs installed?)")
            if status != 200:
                raise SourceUnavailable("kubernetes", f"list {what}: HTTP {status}: {said[:300]}")
            items += [item for item in body.get("items") or [] if isinstance(item, dict)]
            token = (body.get("metadata") or {}).get("continue")
            if not token:
                return items
            params = {"limit": str(LIST_PAGE), "continue": str(token)}
        raise SourceUnavailable("kubernetes", f"list {what}: more than {LIST_PAGE * MAX_LIST_PAGES} objects")


def _json_object(raw: bytes) -> Obj:
    try:
        parsed = json.loads(raw)
    except ValueError:  # a proxy's or a load balancer's text/html error page
        return {"message": raw[:300].decode(errors="replace").strip()}
    return parsed if isinstance(parsed, dict) else {"message": str(parsed)[:300]}
