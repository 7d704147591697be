"""The deployment files, checked as far as this machine can (it runs no Docker engine):
the compose file parses and wires the services as docs/deploy.md says, and the image runs
the same commands the README documents."""

from __future__ import annotations

import ipaddress
import re
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parent.parent


def compose() -> dict[str, Any]:
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text())  # type: ignore[no-any-return]


def test_compose_names_the_services_of_a_real_deployment() -> None:
    services = compose()["services"]
    assert {"postgres", "redis", "migrate", "app1", "app2", "proxy"} <= set(services)
    for name in ("postgres", "redis", "app1", "app2"):
        assert "healthcheck" in services[name], f"{name} has no health check"
    assert services["postgres"]["volumes"][0].startswith("postgres-data:")
    assert "postgres-data" in compose()["volumes"]


def test_apps_share_postgres_and_redis_and_start_after_migrating() -> None:
    services = compose()["services"]
    for name in ("app1", "app2"):
        app = services[name]
        env = app["environment"]
        assert (
            env["SAMSKAPA_DATABASE_URL"].startswith("postgresql://")
            and "@postgres:5432/" in env["SAMSKAPA_DATABASE_URL"]
        )
        assert env["SAMSKAPA_REDIS_URL"].startswith("redis://redis:6379")
        assert app["depends_on"]["migrate"]["condition"] == "service_completed_successfully"
    assert services["migrate"]["command"] == ["samskapa", "migrate"]
    assert services["migrate"]["depends_on"]["postgres"]["condition"] == "service_healthy"


def test_one_published_port_through_a_proxy_to_both_apps() -> None:
    services = compose()["services"]
    published = [name for name, service in services.items() if service.get("ports")]
    assert published == ["proxy"]
    caddyfile = (ROOT / "deploy" / "Caddyfile").read_text()
    assert re.search(r"reverse_proxy\s+app1:8000\s+app2:8000", caddyfile)
    assert "health_uri /healthz" in caddyfile


def test_the_image_runs_the_documented_commands() -> None:
    dockerfile = (ROOT / "Dockerfile").read_text()
    readme = (ROOT / "README.md").read_text()
    deploy = (ROOT / "docs" / "deploy.md").read_text()
    assert 'CMD ["samskapa", "serve", "--host", "0.0.0.0", "--port", "8000", "--no-migrate"]' in dockerfile
    assert "samskapa serve" in deploy and "samskapa migrate" in deploy
    assert "docker compose up" in deploy
    assert "./dev serve" in readme
    assert "pip install" in dockerfile and "-e ." in dockerfile


def test_the_apps_trust_forwarding_headers_from_the_proxys_network_only() -> None:
    """Without it, everyone behind the proxy shares the proxy's per-address limits (issue
    17); with more than the proxy's network, anyone could claim any address."""
    subnet = compose()["networks"]["default"]["ipam"]["config"][0]["subnet"]
    for name in ("app1", "app2"):
        assert compose()["services"][name]["environment"]["SAMSKAPA_TRUSTED_PROXIES"] == subnet
    assert subnet.startswith("${SAMSKAPA_SUBNET:-") and "SAMSKAPA_SUBNET" in (ROOT / "docs" / "deploy.md").read_text()
    default = subnet.removeprefix("${SAMSKAPA_SUBNET:-").removesuffix("}")
    assert ipaddress.ip_network(default).is_private
    assert all("networks" not in service for service in compose()["services"].values()), "all on the one network"
