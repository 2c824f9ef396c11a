"""docker-compose.yml and the Dockerfile, read with care: no engine runs here, so their properties are checked."""

from __future__ import annotations

import ipaddress
import re
import shlex
from pathlib import Path
from typing import Any

import pytest
import yaml

from .conftest import ROOT


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    data = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    assert isinstance(data, dict)
    return data


@pytest.fixture(scope="module")
def dockerfile() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) pairs with line continuations joined."""
    text = re.sub(r"\\\n", " ", (ROOT / "Dockerfile").read_text())
    steps = []
    for raw in text.splitlines():
        line = raw.strip()
        if line and not line.startswith("#"):
            instruction, _, rest = line.partition(" ")
            steps.append((instruction.upper(), rest.strip()))
    return steps


def test_two_services_share_a_named_index_volume(compose: dict[str, Any]) -> None:
    services = compose["services"]
    assert set(services) == {"api", "ingest", "proxy"}
    assert "index" in compose["volumes"]
    for name in ("api", "ingest"):
        volumes = services[name]["volumes"]
        assert "index:/data/index" in volumes, name
        assert "./corpus:/corpus:ro" in volumes, f"{name} mounts the corpus read-only"
    assert not any("index" in volume for volume in services["proxy"]["volumes"]), "the proxy needs no index"


def test_ingest_is_one_shot_and_api_waits_for_it(compose: dict[str, Any]) -> None:
    ingest = compose["services"]["ingest"]
    assert ingest["restart"] == "no"
    assert ingest["command"][:2] == ["pqa", "ingest"] and "/data/index" in ingest["command"]
    api = compose["services"]["api"]
    assert api["depends_on"]["ingest"]["condition"] == "service_completed_successfully"
    assert api["command"][:2] == ["pqa", "serve"] and "0.0.0.0" in api["command"]
    # published on loopback only, through the proxy (replicas cannot share a host port)
    assert "127.0.0.1:8000:8000" in compose["services"]["proxy"]["ports"]
    assert "ports" not in api and "8000" in api["expose"]


def test_api_replicas_sit_behind_a_pinned_proxy_that_waits_for_them(compose: dict[str, Any]) -> None:
    api, proxy = compose["services"]["api"], compose["services"]["proxy"]
    assert api["deploy"]["replicas"] >= 2
    image, _, tag = proxy["image"].partition(":")
    assert image == "caddy" and tag and tag != "latest", "pin the proxy's image"
    assert proxy["depends_on"]["api"]["condition"] == "service_healthy"
    assert proxy["restart"] == "unless-stopped" and any("/healthz" in part for part in proxy["healthcheck"]["test"])
    (caddyfile,) = [v for v in proxy["volumes"] if v.endswith(":/etc/caddy/Caddyfile:ro")]
    assert (ROOT / caddyfile.split(":")[0]).is_file()


def test_the_replicas_trust_only_the_proxy_for_client_addresses(compose: dict[str, Any]) -> None:
    proxy_address = compose["services"]["proxy"]["networks"]["default"]["ipv4_address"]
    (subnet,) = [c["subnet"] for c in compose["networks"]["default"]["ipam"]["config"]]
    assert ipaddress.ip_address(proxy_address) in ipaddress.ip_network(subnet)
    assert compose["services"]["api"]["environment"]["PQA_TRUSTED_PROXIES"] == proxy_address


def test_the_replicas_load_the_reranker_that_the_image_converted_for_the_questions_that_ask(
    compose: dict[str, Any], dockerfile: list[tuple[str, str]], monkeypatch: pytest.MonkeyPatch
) -> None:
    from service.settings import Settings

    mode = compose["services"]["api"]["environment"]["PQA_RERANK"]
    monkeypatch.setenv("PQA_RERANK", mode)
    assert Settings().rerank == "ask"  # a mode the service reads: re-scored when a request says rerank=true
    assert any(i == "RUN" and "load_reranker('openvino'" in a for i, a in dockerfile), "convert it at build time"


def test_each_replica_answers_in_its_own_process(compose: dict[str, Any], monkeypatch: pytest.MonkeyPatch) -> None:
    """Replicas already answer side by side; search processes inside each as well would share the same cores."""
    from service.cores import planned
    from service.settings import Settings

    monkeypatch.setenv("PQA_SEARCH_PROCESSES", compose["services"]["api"]["environment"]["PQA_SEARCH_PROCESSES"])
    assert planned(Settings().search_processes, available=16) == 0


def test_the_proxy_balances_over_every_replica_and_pins_admin_jobs_to_one() -> None:
    """The Caddyfile, read: Docker's DNS name of the replicas re-read, round robin, admin requests by token."""
    text = (ROOT / "deploy" / "Caddyfile").read_text()
    blocks = re.findall(r"reverse_proxy\s*(@\w+)?\s*\{(.*?)\n\t\}", text, re.S)
    by_matcher = dict(blocks)
    assert set(by_matcher) == {"@admin", ""}
    for body in by_matcher.values():
        assert re.search(r"dynamic a api 8000 \{\s*refresh \d+s", body), "follow the replicas Docker's DNS names"
    assert "lb_policy round_robin" in by_matcher[""] and "lb_retries" in by_matcher[""]
    assert "lb_policy header Authorization" in by_matcher["@admin"]
    assert re.search(r"@admin path /api/reindex /api/reindex/\*", text)
    assert "trusted_proxies" not in text, "the proxy must not believe a client's X-Forwarded-For"
    assert re.search(r"^:8000 \{", text, re.M) and "auto_https off" in text and "admin off" in text


def test_api_healthcheck_asks_readyz(compose: dict[str, Any]) -> None:
    check = compose["services"]["api"]["healthcheck"]
    assert check["test"][0] == "CMD"
    assert any("/readyz" in part for part in check["test"])
    assert check["start_period"] and check["retries"] >= 3


def test_dockerfile_runs_as_a_non_root_user(dockerfile: list[tuple[str, str]]) -> None:
    users = [args for instruction, args in dockerfile if instruction == "USER"]
    assert users, "the image must switch to a non-root user"
    assert users[-1] not in ("root", "0", "0:0")
    useradd = next(args for instruction, args in dockerfile if instruction == "RUN" and "useradd" in args)
    assert users[-1] in useradd
    assert f"chown {users[-1]}" in useradd, "the index volume must be writable by that user"


def test_dockerfile_pins_the_cpu_torch_before_the_project(dockerfile: list[tuple[str, str]]) -> None:
    runs = [args for instruction, args in dockerfile if instruction == "RUN"]
    torch_step = next(i for i, args in enumerate(runs) if "torch==2.13.0" in args)
    project_step = next(i for i, args in enumerate(runs) if "pip install ." in args)
    assert torch_step < project_step
    assert "whl/cpu" in runs[torch_step]
    pyproject = (ROOT / "pyproject.toml").read_text()
    assert '"torch==2.13.0"' in pyproject


def test_dockerfile_copies_what_exists_and_serves_on_8000(dockerfile: list[tuple[str, str]]) -> None:
    for instruction, args in dockerfile:
        if instruction == "COPY":
            *sources, _ = shlex.split(args)
            for source in sources:
                assert (ROOT / source).exists(), f"COPY {source}: not in the repository"
    assert ("EXPOSE", "8000") in dockerfile
    (cmd,) = [args for instruction, args in dockerfile if instruction == "CMD"]
    assert '"pqa", "serve"' in cmd and '"0.0.0.0"' in cmd
    healthcheck = next(args for instruction, args in dockerfile if instruction == "HEALTHCHECK")
    assert "/readyz" in healthcheck
    env = " ".join(args for instruction, args in dockerfile if instruction == "ENV")
    assert "HF_HUB_OFFLINE=1" in env, "no model download at run time"
    # the faster runtime's conversion is cached where the non-root user can write, and made at build time
    cache = re.search(r"PQA_MODEL_CACHE=(\S+)", env)
    assert cache is not None
    runs_as_user = dockerfile[[i for i, (instruction, _) in enumerate(dockerfile) if instruction == "USER"][-1] :]
    assert any(i == "RUN" and "runtime='openvino'" in a and cache.group(1) in a for i, a in runs_as_user)
    # and the AVX2 hosts' ONNX Runtime model, so that no host builds it at start
    assert any(i == "RUN" and "runtime='onnxruntime-int8'" in a and cache.group(1) in a for i, a in runs_as_user)
    assert any(i == "RUN" and f"chown pqa:pqa /data/index {cache.group(1)}" in a for i, a in dockerfile)


def test_dockerignore_keeps_local_state_out(dockerfile: list[tuple[str, str]]) -> None:
    ignored = (ROOT / ".dockerignore").read_text().split()
    assert {".venv", "var", ".git"} <= set(ignored)
    assert Path(ROOT / "corpus").is_dir()
