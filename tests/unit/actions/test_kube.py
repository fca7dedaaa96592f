"""The Kubernetes API applier against FakeKubeAPI (tests/fakes/kube.py): create, get, update through the edit
pipeline, conflicts, RBAC, dry run, server-side validation, credentials (token rotation, kubeconfig, in-cluster,
TLS with a CA from the kubeconfig), the CLI's --kube and the API server's `kube` setting."""

import base64
import copy
import json
import socket
import ssl
import subprocess
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import aiohttp
import pytest
import yaml
from aiohttp.test_utils import TestClient

from observe.actions.audit import Actor, AuditLog, Result
from observe.actions.destination_rules import PolicyChange
from observe.actions.kube import KubeApplier, KubeConfig, from_kubeconfig, load_config
from observe.actions.resources import DESTINATION_RULE, ObjectRef
from observe.api.app import create_app
from observe.errors import BadQuery, Conflict, InvalidEdit, NotFound, SourceUnavailable
from observe.services.edits import EditService
from observe.settings import Settings, kube_environ, load_settings
from tests.fakes.kube import FakeKubeAPI, serve_in_thread
from tests.fakes.metrics import FakeMetricsSource

ALICE = Actor("alice", "token")
REF = ObjectRef(DESTINATION_RULE, "bookinfo", "reviews")
LIVE: dict[str, Any] = {
    "apiVersion": "networking.istio.io/v1", "kind": "DestinationRule",
    "metadata": {"name": "reviews", "namespace": "bookinfo", "labels": {"team": "books"}},
    "spec": {"host": "reviews", "trafficPolicy": {"loadBalancer": {"simple": "ROUND_ROBIN"}},
             "subsets": [{"name": "v1", "labels": {"version": "v1"}}, {"name": "v2", "labels": {"version": "v2"}}]},
}  # fmt: skip
POOL = {"connectionPool": {"tcp": {"maxConnections": 1}, "http": {"http1MaxPendingRequests": 1}}}


@pytest.fixture
async def fake() -> AsyncIterator[FakeKubeAPI]:
    async with FakeKubeAPI() as api:
        yield api


@pytest.fixture
def service(applier: KubeApplier, tmp_path: Path) -> EditService:
    return EditService(applier, AuditLog(tmp_path / "audit.sqlite3"), clock=lambda: 1000.0)


def writes(fake: FakeKubeAPI) -> list[tuple[str, str]]:
    return [r for r in fake.requests if r[0] != "GET"]


# -- the applier through the edit pipeline ---------------------------------------------------------------------


async def test_edit_creates_a_missing_rule_with_field_manager_and_a_dry_run_first(
    fake: FakeKubeAPI, applier: KubeApplier, service: EditService
) -> None:
    result = await service.edit_destination_rule("bookinfo", "reviews", PolicyChange(values=POOL), ALICE)
    stored = fake.stored("DestinationRule", "bookinfo", "reviews")
    assert stored is not None and result.object == stored
    assert stored["metadata"]["resourceVersion"] == "1" and stored["metadata"]["generation"] == 1
    assert stored["metadata"]["uid"] and stored["spec"]["trafficPolicy"] == POOL
    assert await applier.get(REF) == stored
    collection = "/apis/networking.istio.io/v1/namespaces/bookinfo/destinationrules"
    assert writes(fake) == [("POST", f"{collection}?fieldManager=observe&dryRun=All"),
                            ("POST", f"{collection}?fieldManager=observe")]  # fmt: skip


async def test_edit_merges_keeping_subsets_and_unrelated_fields(fake: FakeKubeAPI, service: EditService) -> None:
    before = fake.put(LIVE)
    result = await service.edit_destination_rule("bookinfo", "reviews", PolicyChange(values=POOL), ALICE,
                                                 reason="load test")  # fmt: skip
    stored = fake.stored("DestinationRule", "bookinfo", "reviews")
    assert stored is not None and result.applied and result.object == stored
    assert stored["spec"]["subsets"] == LIVE["spec"]["subsets"]
    assert stored["spec"]["trafficPolicy"] == {"loadBalancer": {"simple": "ROUND_ROBIN"}, **POOL}
    assert stored["metadata"]["labels"] == {"team": "books"} and stored["metadata"]["uid"] == before["metadata"]["uid"]
    assert (stored["metadata"]["resourceVersion"], stored["metadata"]["generation"]) == ("2", 2)
    assert "+    connectionPool:" in result.diff and "uid" not in result.diff
    assert [m for m, _ in writes(fake)] == ["PUT", "PUT"]
    entry = (await service.history())[0]
    assert entry.result is Result.APPLIED and entry.before == before and entry.after == stored


async def test_a_stale_resource_version_conflicts_with_the_fresh_object(fake: FakeKubeAPI,
                                                                        applier: KubeApplier) -> None:  # fmt: skip
    base = fake.put(LIVE)
    theirs = copy.deepcopy(base)
    theirs["spec"]["trafficPolicy"] = {"tls": {"mode": "ISTIO_MUTUAL"}}
    fresh = fake.put(theirs)
    mine = copy.deepcopy(base)
    mine["spec"]["trafficPolicy"] = POOL
    for dry_run in (True, False):
        with pytest.raises(Conflict) as info:
            await applier.apply(mine, base, dry_run=dry_run)
        assert info.value.extra["object"] == fresh and info.value.field == "metadata.resourceVersion"
        assert "resourceVersion 1 → 2" in info.value.message
    assert fake.stored("DestinationRule", "bookinfo", "reviews") == fresh


async def test_creating_an_existing_object_or_updating_a_deleted_one_conflicts(
    fake: FakeKubeAPI, applier: KubeApplier
) -> None:
    existing = fake.put(LIVE)
    with pytest.raises(Conflict) as created:
        await applier.apply(copy.deepcopy(LIVE), None)
    assert created.value.extra["object"] == existing
    fake.objects.clear()
    with pytest.raises(Conflict) as updated:
        await applier.apply(copy.deepcopy(existing), existing)
    assert updated.value.extra["object"] is None and "deleted" in updated.value.message


async def test_dry_run_checks_but_writes_nothing(fake: FakeKubeAPI, service: EditService) -> None:
    before = fake.put(LIVE)
    result = await service.edit_destination_rule("bookinfo", "reviews", PolicyChange(preset="balanced"), ALICE,
                                                 dry_run=True)  # fmt: skip
    assert result.dry_run and not result.applied and result.audit_id is None
    assert result.object is not None and result.object["spec"]["trafficPolicy"]["connectionPool"]
    assert fake.stored("DestinationRule", "bookinfo", "reviews") == before and fake.version == 1
    assert [path.endswith("dryRun=All") for _, path in writes(fake)] == [True]
    assert await service.history() == []


async def test_missing_object_reads_as_none_and_the_service_says_not_found(applier: KubeApplier,
                                                                           service: EditService) -> None:  # fmt: skip
    assert await applier.get(REF) is None
    with pytest.raises(NotFound):
        await service.get_destination_rule("bookinfo", "reviews")


async def test_rbac_refusal_is_an_upstream_failure_naming_verb_and_resource(
    fake: FakeKubeAPI, service: EditService
) -> None:
    """observe's service account was refused, not the caller: 503, never a 403 the caller would take as theirs."""
    before = fake.put(LIVE)
    fake.forbidden.add(("update", "destinationrules"))
    with pytest.raises(SourceUnavailable) as info:
        await service.edit_destination_rule("bookinfo", "reviews", PolicyChange(values=POOL), ALICE)
    assert info.value.status == 503 and info.value.source == "kubernetes"
    assert "refused observe's credentials to update destinationrules.networking.istio.io" in info.value.message
    assert 'cannot update resource "destinationrules"' in info.value.message  # the API server's own words
    assert (info.value.extra["verb"], info.value.extra["upstream_status"]) == ("update", 403)
    assert fake.stored("DestinationRule", "bookinfo", "reviews") == before
    fake.forbidden = {("get", "destinationrules")}
    with pytest.raises(SourceUnavailable, match="may not get"):
        await service.get_destination_rule("bookinfo", "reviews")


async def test_server_side_validation_gives_invalid_edit_with_the_causes(fake: FakeKubeAPI,
                                                                         service: EditService) -> None:  # fmt: skip
    path = "spec.trafficPolicy.connectionPool.tcp.maxConnections"
    fake.validators.append(lambda obj: [(path, "Invalid value: 1: must be at least 2 (a test's admission rule)")])
    with pytest.raises(InvalidEdit) as info:
        await service.edit_destination_rule("bookinfo", "reviews", PolicyChange(values=POOL), ALICE)
    assert info.value.field == path and info.value.status == 422
    assert info.value.extra["causes"] == [{"field": path, "message": "Invalid value: 1: must be at least 2 "
                                           "(a test's admission rule)"}]  # fmt: skip
    assert 'DestinationRule.networking.istio.io "reviews" is invalid' in info.value.message and not fake.objects


async def test_revert_deletes_a_created_object_with_preconditions_and_restores_an_updated_one(
    fake: FakeKubeAPI, service: EditService
) -> None:
    created = await service.edit_destination_rule("bookinfo", "reviews", PolicyChange(values=POOL), ALICE)
    assert created.audit_id is not None
    await service.revert(created.audit_id, ALICE)
    assert not fake.objects and writes(fake)[-1][0] == "DELETE"
    before = fake.put(LIVE)
    edited = await service.edit_destination_rule("bookinfo", "reviews", PolicyChange(preset="aggressive"), ALICE)
    assert edited.audit_id is not None
    await service.revert(edited.audit_id, ALICE)
    stored = fake.stored("DestinationRule", "bookinfo", "reviews")
    assert stored is not None and stored["spec"] == before["spec"] and stored["metadata"]["resourceVersion"] == "5"


async def test_delete_with_a_stale_base_conflicts(fake: FakeKubeAPI, applier: KubeApplier) -> None:
    base = fake.put(LIVE)
    fresh = fake.put(base)
    with pytest.raises(Conflict) as info:
        await applier.delete(REF, base)
    assert info.value.extra["object"] == fresh and fake.objects


# -- transport and credentials --------------------------------------------------------------------------------


async def test_a_wrong_token_is_an_upstream_failure(fake: FakeKubeAPI) -> None:
    kube = KubeApplier(KubeConfig(server=fake.url, token="not-the-token", origin="test"))
    try:
        with pytest.raises(SourceUnavailable) as info:
            await kube.get(REF)
    finally:
        await kube.close()
    assert "refused observe's credentials to get destinationrules.networking.istio.io" in info.value.message
    assert info.value.status == 503 and info.value.extra["upstream_status"] == 401


async def test_the_token_file_is_re_read_after_a_minute(fake: FakeKubeAPI, tmp_path: Path) -> None:
    token = tmp_path / "token"
    token.write_text(fake.token + "\n")
    now = [0.0]
    kube = KubeApplier(KubeConfig(server=fake.url, token_file=str(token), origin="test"), token_clock=lambda: now[0])
    try:
        assert await kube.get(REF) is None
        token.write_text("rotated-token")  # the kubelet rotates the projected token ...
        fake.token = "rotated-token"  # ... and the API server stops accepting the old one
        now[0] = 30.0
        with pytest.raises(SourceUnavailable, match="token was not accepted"):
            await kube.get(REF)  # still the cached token
        now[0] = 61.0
        assert await kube.get(REF) is None
    finally:
        await kube.close()


async def test_unreachable_server_and_oversize_answers_are_source_errors(fake: FakeKubeAPI) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        closed = f"http://127.0.0.1:{sock.getsockname()[1]}"  # bound, never listening: connection refused
        kube = KubeApplier(KubeConfig(server=closed, token="t", origin="test"))
        try:
            with pytest.raises(SourceUnavailable, match="get DestinationRule/bookinfo/reviews: cannot reach"):
                await kube.get(REF)
        finally:
            await kube.close()
    fake.put(LIVE)
    small = KubeApplier(KubeConfig(server=fake.url, token=fake.token, origin="test"), max_body_bytes=100)
    try:
        with pytest.raises(SourceUnavailable, match="answer over 100 bytes") as info:
            await small.get(REF)
        assert info.value.source == "kubernetes"
    finally:
        await small.close()


async def test_an_unreadable_token_file_is_an_upstream_failure(tmp_path: Path) -> None:
    kube = KubeApplier(KubeConfig(server="http://127.0.0.1:9", token_file=str(tmp_path / "gone"), origin="test"))
    try:
        with pytest.raises(SourceUnavailable, match="cannot read the token file") as info:
            await kube.get(REF)
    finally:
        await kube.close()
    assert info.value.status == 503


def test_the_config_repr_shows_no_secret() -> None:
    config = KubeConfig(server="https://k", token="s3cret-token", client_key_pem="-----BEGIN PRIVATE KEY-----x")
    assert "s3cret-token" not in repr(config) and "PRIVATE KEY" not in repr(config) and "https://k" in repr(config)


async def test_an_update_without_a_base_version_is_refused_before_sending(fake: FakeKubeAPI,
                                                                         applier: KubeApplier) -> None:  # fmt: skip
    stored = fake.put(LIVE)
    base = copy.deepcopy(stored)
    del base["metadata"]["resourceVersion"]
    with pytest.raises(InvalidEdit, match="no resourceVersion") as info:
        await applier.apply(stored, base)
    assert info.value.field == "metadata.resourceVersion" and not writes(fake)


async def test_the_fake_refuses_an_unconditional_update_as_the_api_server_does(fake: FakeKubeAPI) -> None:
    stored = fake.put(LIVE)
    body = copy.deepcopy(stored)
    del body["metadata"]["resourceVersion"]
    url = f"{fake.url}/apis/networking.istio.io/v1/namespaces/bookinfo/destinationrules/reviews"
    async with (aiohttp.ClientSession(headers={"Authorization": f"Bearer {fake.token}"}) as session,
                session.put(url, json=body) as response):  # fmt: skip
        answer = await response.json()
    assert response.status == 422 and answer["details"]["causes"][0]["field"] == "metadata.resourceVersion"


async def test_error_details_that_are_not_objects_do_not_crash(applier: KubeApplier) -> None:
    for details in ("text", ["a"], {"causes": "x"}, {"causes": [1, {"field": "spec.x", "message": "bad"}]}):
        error = applier._error(422, {"message": "no", "details": details}, "update", REF)
        assert isinstance(error, InvalidEdit) and error.status == 422
    assert error.extra["causes"] == [{"field": "spec.x", "message": "bad"}] and error.field == "spec.x"


@pytest.fixture(scope="module")
def tls(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A self-signed certificate for 127.0.0.1 and its key, made by Debian's openssl."""
    where = tmp_path_factory.mktemp("tls")
    cert, key = where / "server.crt", where / "server.key"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
                    "-nodes", "-keyout", str(key), "-out", str(cert), "-days", "2", "-subj", "/CN=fake-kube",
                    "-addext", "subjectAltName=IP:127.0.0.1"], check=True, capture_output=True)  # fmt: skip
    return cert, key


def kubeconfig(server: str, cluster: dict[str, Any], user: dict[str, Any]) -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "Config", "current-context": "mesh",
            "clusters": [{"name": "other", "cluster": {"server": "https://elsewhere.invalid"}},
                         {"name": "mesh", "cluster": {"server": server, **cluster}}],
            "users": [{"name": "someone", "user": {"token": "nope"}}, {"name": "observe", "user": user}],
            "contexts": [{"name": "other", "context": {"cluster": "other", "user": "someone"}},
                         {"name": "mesh", "context": {"cluster": "mesh", "user": "observe"}}]}  # fmt: skip


async def test_kubeconfig_with_ca_data_reaches_an_https_api_server(tls: tuple[Path, Path], tmp_path: Path) -> None:
    cert, key = tls
    server_ssl = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server_ssl.load_cert_chain(cert, key)
    async with FakeKubeAPI(ssl_context=server_ssl) as api:
        ca_data = base64.b64encode(cert.read_bytes()).decode()
        path = tmp_path / "config"
        path.write_text(yaml.safe_dump(kubeconfig(api.url, {"certificate-authority-data": ca_data},
                                                  {"token": api.token})))  # fmt: skip
        config = load_config(str(path), {})
        assert config.server == api.url.rstrip("/") and config.server.startswith("https://")
        assert config.token == api.token and config.ca_pem == cert.read_text()
        kube = KubeApplier(config)
        try:
            stored = await kube.apply(copy.deepcopy(LIVE), None)
            assert await kube.get(REF) == stored
        finally:
            await kube.close()
        untrusting = KubeApplier(KubeConfig(server=api.url, token=api.token, origin="test"))
        try:
            with pytest.raises(SourceUnavailable, match="cannot reach"):  # the system CAs do not know it
                await untrusting.get(REF)
        finally:
            await untrusting.close()


def test_kubeconfig_files_resolve_relative_to_it_and_load_the_client_certificate(tls: tuple[Path, Path],
                                                                                  tmp_path: Path) -> None:  # fmt: skip
    cert, key = tls
    (tmp_path / "pki").mkdir()
    for name, source in (("ca.crt", cert), ("client.crt", cert), ("client.key", key)):
        (tmp_path / "pki" / name).write_bytes(source.read_bytes())
    (tmp_path / "pki" / "token").write_text("from-a-file")
    path = tmp_path / "config"
    path.write_text(yaml.safe_dump(kubeconfig("https://127.0.0.1:6443/", {"certificate-authority": "pki/ca.crt"},
                                              {"client-certificate": "pki/client.crt", "client-key": "pki/client.key",
                                               "tokenFile": "pki/token"})))  # fmt: skip
    config = from_kubeconfig(path)
    assert config.server == "https://127.0.0.1:6443" and config.ca_pem == cert.read_text()
    assert config.client_cert_pem == cert.read_text() and config.client_key_pem == key.read_text()
    assert config.token_file == str(tmp_path / "pki" / "token") and config.token is None
    assert isinstance(config.ssl_context(), ssl.SSLContext)  # the CA and the client key pair load


@pytest.mark.parametrize(("change", "says"), [
    (lambda d: d.pop("current-context"), "no current-context"),
    (lambda d: d.update({"current-context": "gone"}), "no context named 'gone'"),
    (lambda d: d["users"][1]["user"].update({"exec": {"command": "aws"}}), "exec plugins"),
    (lambda d: d["clusters"][1]["cluster"].update({"certificate-authority-data": "%%%"}), "not base64"),
    (lambda d: d["clusters"][1]["cluster"].update({"server": "ftp://x"}), r"no http\(s\) server"),
])  # fmt: skip
def test_kubeconfig_problems_are_named(change: Callable[[dict[str, Any]], Any], says: str, tmp_path: Path) -> None:
    doc = kubeconfig("https://127.0.0.1:6443", {}, {"token": "t"})
    change(doc)
    path = tmp_path / "config"
    path.write_text(yaml.safe_dump(doc))
    with pytest.raises(BadQuery, match=says) as info:
        from_kubeconfig(path)
    assert info.value.field == "kubeconfig" and str(path) in info.value.message


def test_in_cluster_first_then_kubeconfig_variable_then_home(tmp_path: Path) -> None:
    account = tmp_path / "serviceaccount"
    account.mkdir()
    (account / "token").write_text("sa-token")
    (account / "ca.crt").write_text("CA PEM")
    pod = {"KUBERNETES_SERVICE_HOST": "fd00::1", "KUBERNETES_SERVICE_PORT": "443", "HOME": str(tmp_path)}
    config = load_config("", pod, service_account_dir=account)
    assert (config.server, config.ca_pem, config.token_file) == ("https://[fd00::1]:443", "CA PEM",
                                                                 str(account / "token"))  # fmt: skip
    first, home = tmp_path / "first", tmp_path / ".kube" / "config"
    home.parent.mkdir()
    first.write_text(yaml.safe_dump(kubeconfig("http://127.0.0.1:1", {}, {"token": "first"})))
    home.write_text(yaml.safe_dump(kubeconfig("http://127.0.0.1:2", {}, {"token": "home"})))
    laptop = {"KUBECONFIG": f"{first}:{home}", "HOME": str(tmp_path)}
    assert load_config("", laptop, service_account_dir=tmp_path / "none").token == "first"
    assert load_config("", {"HOME": str(tmp_path)}, service_account_dir=tmp_path / "none").token == "home"
    assert load_config(str(home), pod, service_account_dir=account).token == "home"  # explicit wins


# -- wiring: settings, the CLI, the API server -----------------------------------------------------------------


def test_kube_settings_and_environment() -> None:
    settings = load_settings({}, environ={"OBSERVE_KUBE": "true", "OBSERVE_KUBECONFIG": "/etc/kube.yaml"})
    assert settings.kube and settings.kubeconfig == "/etc/kube.yaml"
    assert kube_environ({"KUBECONFIG": "a", "HOME": "/h", "PATH": "/bin", "KUBERNETES_SERVICE_HOST": "10.0.0.1"}) == {
        "KUBECONFIG": "a", "HOME": "/h", "KUBERNETES_SERVICE_HOST": "10.0.0.1"}  # fmt: skip


def test_cli_edit_with_kube_dry_run_then_apply(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from tests.unit.actions.test_cli_edit import run

    with serve_in_thread(FakeKubeAPI()) as api:
        path = tmp_path / "config"
        path.write_text(yaml.safe_dump(kubeconfig(api.url, {}, {"token": api.token})))
        where = ["--kube", "--kubeconfig", str(path), "--audit-db", str(tmp_path / "a.db")]
        argv = ["edit", "circuit-breaker", "bookinfo/reviews", "--set", "connectionPool.tcp.maxConnections=1"]
        assert run([*argv, "--dry-run", "-o", "yaml", *where]) == 0
        assert yaml.safe_load(capsys.readouterr().out)["spec"]["trafficPolicy"] == {
            "connectionPool": {"tcp": {"maxConnections": 1}}} and not api.objects  # fmt: skip
        assert run([*argv, "--reason", "cli", *where]) == 0
        assert "+        maxConnections: 1" in capsys.readouterr().out
        assert api.stored("DestinationRule", "bookinfo", "reviews") is not None
        assert run(["revert", "1", *where]) == 0 and not api.objects


ClientFactory = Callable[[Any], Awaitable[TestClient]]  # type: ignore[type-arg]


async def test_the_api_server_edits_through_kube_when_set(fake: FakeKubeAPI, tmp_path: Path,
                                                          aiohttp_client: ClientFactory) -> None:  # fmt: skip
    path = tmp_path / "config"
    path.write_text(yaml.safe_dump(kubeconfig(fake.url, {}, {"token": fake.token})))
    settings = Settings(kube=True, kubeconfig=str(path), audit_db=str(tmp_path / "a.db"), allow_writes=True,
                        write_token="w")  # fmt: skip
    client = await aiohttp_client(create_app(settings, metrics_source=FakeMetricsSource()))
    url = "/api/v1/destination-rules/bookinfo/reviews"
    assert (await client.get(url)).status == 404
    fake.put(LIVE)
    assert (await (await client.get(url)).json())["object"]["metadata"]["resourceVersion"] == "1"
    response = await client.post(url, data=json.dumps({"spec": POOL}), headers={
        "Authorization": "Bearer w", "X-Requested-By": "observe", "Content-Type": "application/json"})  # fmt: skip
    assert response.status == 200, await response.text()
    stored = fake.stored("DestinationRule", "bookinfo", "reviews")
    assert stored is not None and stored["spec"]["trafficPolicy"]["connectionPool"] == POOL["connectionPool"]
    fake.forbidden.add(("update", "destinationrules"))
    refused = await client.post(url, data=json.dumps({"preset": "balanced"}), headers={
        "Authorization": "Bearer w", "X-Requested-By": "observe", "Content-Type": "application/json"})  # fmt: skip
    body = await refused.json()
    assert refused.status == 503 and body["error"]["verb"] == "update", body
