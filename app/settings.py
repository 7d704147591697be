"""Configuration, read once from the environment (prefix SAMSKAPA_) and validated.

Owns every tunable of the server; nothing else reads os.environ. Units are in the names.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from app.addresses import Network, parse_networks


class Settings(BaseSettings):
    # An error names the setting, never the value given: it may be a token, or a database
    # URL with its password, and start-up errors end up in logs.
    model_config = SettingsConfigDict(env_prefix="SAMSKAPA_", env_file=None, extra="ignore", hide_input_in_errors=True)

    data_dir: Path = Path("data")
    database_url: str = ""
    redis_url: str | None = None
    public_url: str = "http://127.0.0.1:8000"
    # Reverse proxies whose X-Forwarded-For is believed, as addresses or networks separated
    # by commas ("172.30.0.0/24"). None by default: then every peer is the client itself.
    trusted_proxies: Annotated[tuple[Network, ...], NoDecode] = ()

    room_ttl_days: float = Field(default=30, gt=0)
    expiry_sweep_seconds: float = Field(default=3600, gt=0)
    # Spectrum messages per room and second; ARCHITECTURE.md asks for at most ten.
    spectrum_hz: float = Field(default=10, gt=0, le=50)
    # Scores are written in batches; a crash loses at most this window (must stay <= 1 s).
    score_flush_seconds: float = Field(default=0.25, gt=0, le=1)
    # Events kept in memory per room for replay to a reconnecting client. At least 10 (the
    # server does not start with fewer; docs/protocol.md, "Limits"): with fewer, a client that
    # missed only a few events (a phone's short drop during a burst of notes) would get a
    # whole snapshot instead.
    replay_events: int = Field(default=2000, ge=10)
    # Abuse limits: a frame above max_frame_bytes or a sustained command rate above the
    # bucket closes the socket (documented close codes in docs/protocol.md).
    max_frame_bytes: int = Field(default=65536, ge=1024)
    command_rate_per_second: float = Field(default=30, gt=0)
    command_burst: int = Field(default=60, ge=1)
    # Bytes waiting for one client (beyond its largest frame) before it is dropped as too
    # slow to follow the room; it resyncs on reconnect. 2 MiB is about two minutes of a
    # busy room's spectrum and notes.
    send_buffer_bytes: int = Field(default=2 * 1024 * 1024, ge=16 * 1024)
    # Join-code lookups per client address per minute.
    join_lookups_per_minute: int = Field(default=20, ge=1)
    # New participant identities (hellos without a token) per client address per minute:
    # a whole class behind one school NAT fits; a script filling a room does not.
    new_participants_per_minute: int = Field(default=120, ge=1)
    # Connections one client address may hold open at once, room sockets and HTTP requests
    # together (app/connection_caps.py): a conference of hundreds behind one venue NAT fits;
    # one script holding thousands of sockets, as issue 17 measured, does not.
    max_connections_per_address: int = Field(default=1000, ge=1)
    # Seconds a connection may take to send a request's headers (app/http_protocol.py).
    header_timeout_seconds: float = Field(default=10, gt=0)
    # Rooms created or imported per client address per hour: a training day of teachers
    # behind one school NAT fits; filling the million join codes does not.
    rooms_created_per_hour: int = Field(default=60, ge=1)
    max_participants_per_room: int = Field(default=5000, ge=1)
    max_notes_per_room: int = Field(default=5000, ge=1)
    # Keep an idle room in memory briefly after its last client leaves (brief disconnects).
    room_idle_unload_seconds: float = Field(default=60, ge=0)
    # GET /metrics (Prometheus text format, app/metrics.py) answers only a request with
    # "Authorization: Bearer <this>"; unset (the default), there is no /metrics at all (404).
    # At least 16 visible ASCII characters: `openssl rand -hex 32` makes one.
    metrics_token: SecretStr | None = None
    # "json": one JSON object per log line (app/logs.py), for a log collector; "text": lines
    # for a person reading a terminal.
    log_format: Literal["text", "json"] = "text"

    @field_validator("trusted_proxies", mode="before")
    @classmethod
    def _networks(cls, value: Any) -> Any:
        return parse_networks(value) if isinstance(value, str) else value

    @field_validator("metrics_token")
    @classmethod
    def _metrics_token(cls, value: SecretStr | None) -> SecretStr | None:
        text = "" if value is None else value.get_secret_value()
        if not text:
            return None  # SAMSKAPA_METRICS_TOKEN= (empty) leaves /metrics off, as unset does
        if len(text) < 16 or not all("!" <= char <= "~" for char in text):
            raise ValueError("the metrics token must be at least 16 visible ASCII characters, no spaces")
        return value

    @field_validator("public_url")
    @classmethod
    def _strip_slash(cls, value: str) -> str:
        return value.rstrip("/")

    @property
    def effective_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.data_dir / 'samskapa.db').resolve()}"


@lru_cache
def get_settings() -> Settings:
    return Settings()
