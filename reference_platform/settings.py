"""Start-up settings of the platform, built once by the CLI or a test and passed explicitly."""

from __future__ import annotations

import secrets
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from core.net import loopback_unless_allowed
from reference_platform.errors import ConfigError


class PasswordCost(BaseModel):
    """Argon2id cost parameters (see argon2-cffi's PasswordHasher)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    time_cost: int = Field(2, ge=1)
    memory_cost_kib: int = Field(19_456, ge=8)
    parallelism: int = Field(1, ge=1)


# OWASP's minimum for argon2id (19 MiB, t=2). Synthetic accounts, created only by the admin
# seeding API for load tests, may use the cheapest setting so that a login under load
# measures the platform, not the hash; they never hold a real person's password.
REAL_ACCOUNT_COST = PasswordCost()
SYNTHETIC_ACCOUNT_COST = PasswordCost(time_cost=1, memory_cost_kib=8, parallelism=1)


class Settings(BaseModel):
    """Everything the platform needs to start; nothing is read from the environment implicitly."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    # Listening beyond loopback needs explicit consent (the platform is a test target with an
    # admin API, not a public service).
    allow_remote: bool = False
    host: str = "127.0.0.1"
    port: int = Field(8000, ge=0, le=65535)
    data_dir: Path = Path("var/platform")
    database_url: str | None = None
    faults_file: Path | None = None
    # At least 16 characters: an empty or trivial token must not open the admin API.
    admin_token: str = Field(default_factory=lambda: secrets.token_urlsafe(24), min_length=16)
    smtp_host: str = "127.0.0.1"
    smtp_port: int = Field(1025, ge=1, le=65535)
    mail_from: str = "ne-pas-repondre@anef.invalid"
    public_url: str | None = None
    secret_key: str = Field(default_factory=lambda: secrets.token_urlsafe(32))
    password_cost: PasswordCost = REAL_ACCOUNT_COST
    synthetic_password_cost: PasswordCost = SYNTHETIC_ACCOUNT_COST
    upload_max_bytes: int = Field(10 * 1024 * 1024, ge=1)
    # What one applicant's documents may take on disk, and how many one dossier may hold.
    applicant_storage_max_bytes: int = Field(200 * 1024 * 1024, ge=1)
    dossier_max_documents: int = Field(40, ge=1)
    # Every other body (JSON, forms) and the streamed bulk seed: enforced before any route code.
    body_max_bytes: int = Field(1024 * 1024, ge=1024)
    seed_max_bytes: int = Field(256 * 1024 * 1024, ge=1024)
    # Host names the platform answers to besides loopback, its address and its public URL's host.
    allowed_hosts: tuple[str, ...] = ()
    session_ttl_seconds: int = Field(8 * 3600, ge=60)
    # A session unused this long ends (applicants and agents alike), whatever its remaining lifetime.
    session_idle_seconds: int = Field(30 * 60, ge=60)
    reset_token_ttl_seconds: int = Field(30 * 60, ge=60)
    # Failed logins per window (domain.throttle): an account from one client, an account from
    # anywhere, one client on any account. The harness's load comes from one address: the
    # per-client limit is high enough for a campaign's security probes.
    login_max_failures: int = Field(5, ge=1)
    login_account_max_failures: int = Field(50, ge=1)
    login_client_max_failures: int = Field(1000, ge=1)
    login_lockout_seconds: int = Field(15 * 60, ge=1)
    # Reset requests per window: per address asked about (mail bombing), per client.
    reset_max_requests: int = Field(20, ge=1)
    reset_client_max_requests: int = Field(1000, ge=1)
    reset_window_seconds: int = Field(15 * 60, ge=1)
    sync_interval_seconds: float = Field(0.05, gt=0)
    mail_interval_seconds: float = Field(0.05, gt=0)
    # Where the mail sender runs: "process", a child of the platform's process (python -m
    # reference_platform.mail), so that building messages and talking SMTP take nothing from the
    # interpreter that serves the requests; "thread", in the platform's process (tests in-process).
    mail_sender: Literal["process", "thread"] = "process"
    # How often the sessions seen in use get their last_seen written (keeper.py).
    session_flush_seconds: float = Field(5.0, gt=0, le=60)
    fault_seed: int | None = None
    # Request handlers run in a thread pool; under the GIL more threads mean more hand-offs, not
    # more throughput, as long as the database answers from this machine (benchmarks/: 2 threads
    # served reads about 30 % faster than 8 on SQLite). None: 2 on SQLite, 8 on PostgreSQL,
    # whose round trips leave room for other threads.
    worker_threads: int | None = Field(None, ge=1, le=256)
    secure_cookies: bool = False
    log_level: Literal["critical", "error", "warning", "info", "debug"] = "warning"

    @field_validator("host")
    @classmethod
    def _loopback_unless_allowed(cls, host: str, info: ValidationInfo) -> str:
        return loopback_unless_allowed(host, bool(info.data.get("allow_remote")))

    @field_validator("database_url")
    @classmethod
    def _known_database(cls, value: str | None) -> str | None:
        if value is None:
            return None
        try:
            url = make_url(value)
        except ArgumentError as exc:
            raise ValueError(f"not a database URL ({exc})") from None
        if url.get_backend_name() not in {"sqlite", "postgresql"}:
            raise ValueError(f"expected a sqlite:// or postgresql:// URL, got {url.get_backend_name()}://")
        return value

    @property
    def base_url(self) -> str:
        """The address written into e-mailed links."""
        if self.public_url:
            return self.public_url.rstrip("/")
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"


def parse_smtp(value: str) -> tuple[str, int]:
    """Parse ``HOST:PORT`` (IPv6 as ``[::1]:PORT``) for ``--smtp``."""
    host, sep, port = value.rpartition(":")
    if not sep or not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise ConfigError("--smtp", f"expected HOST:PORT, got {value!r}")
    return host.strip("[]"), int(port)
