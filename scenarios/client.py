"""The typed client of the platform's API, for applicants and prefecture agents.

Each method sends one request and returns the fields the harness acts on, or raises
``StepFailed``: ``PlatformError`` for an answer with an unexpected status (its ``code`` is the
platform's error code, so journeys can tell a business refusal from a crash), ``error`` or
``timeout`` for a transport failure. The journeys turn those into step outcomes.
"""

from __future__ import annotations

import functools
from collections.abc import Collection, Mapping
from datetime import date
from typing import Any, TypeVar

import msgspec
import urllib3

from scenarios.events import Outcome
from scenarios.transport import Reply, Transport, TransportFailure


class StepFailed(Exception):
    """A step cannot go on; ``outcome`` says how it ended."""

    def __init__(
        self,
        outcome: Outcome,
        message: str,
        *,
        status: int | None = None,
        evidence: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.outcome = outcome
        self.message = message
        self.status = status
        self.evidence = dict(evidence or {})


class PlatformError(StepFailed):
    """The platform answered with a status the step did not expect."""

    def __init__(self, status: int, code: str, message: str, name: str) -> None:
        super().__init__(Outcome.ERROR, f"{name}: {status} {code}: {message}"[:500], status=status)
        self.code = code
        self.platform_message = message


# The platform's answers, reduced to the fields the harness reads (extra fields are ignored so
# that an addition on the platform's side does not stop a campaign). msgspec decodes and checks
# them straight from the bytes, in a fraction of what pydantic took per answer (the load generator
# reads three on every login journey).
class _Answer(msgspec.Struct, kw_only=True):
    pass


class Session(_Answer):
    token: str
    applicant_id: str | None = None
    agent_id: str | None = None


class Card(_Answer):
    id: str
    state: str
    valid_until: date | None = None
    applicant_id: str | None = None


class Profile(_Answer):
    id: str
    foreign_number: str
    email: str
    card: Card | None = None


class ProcedureOffer(_Answer):
    id: str
    label: str
    available: bool
    reason: str | None = None


class Document(_Answer):
    id: str
    kind: str
    sha256: str
    size: int
    received_at: str | None = None


class AgentRequest(_Answer):
    id: str
    dossier_id: str
    message: str
    answer: str | None = None


class Dossier(_Answer):
    id: str
    procedure: str
    state: str
    receipt_number: str | None = None
    documents: list[Document] = msgspec.field(default_factory=list)
    missing_documents: list[str] = msgspec.field(default_factory=list)
    requests: list[AgentRequest] = msgspec.field(default_factory=list)
    card: Card | None = None


class AgentDossier(Dossier, kw_only=True):
    """A dossier as the prefecture's queue shows it: with whose it is."""

    applicant_id: str
    foreign_number: str


class Receipt(_Answer):
    receipt_number: str
    dossier_id: str
    procedure: str


Model = TypeVar("Model", bound=_Answer)


class _Base:
    def __init__(self, transport: Transport) -> None:
        self.transport = transport
        self.token: str | None = None

    def _send(
        self,
        method: str,
        path: str,
        name: str,
        expect: Collection[int] = (200,),
        *,
        json: Any = None,
        content: bytes | None = None,
        headers: Mapping[str, str] | None = None,
        params: Mapping[str, str | int] | None = None,
    ) -> Reply:
        sent = dict(headers or {})
        if self.token is not None:
            sent["Authorization"] = f"Bearer {self.token}"
        try:
            reply = self.transport.send(
                method, path, name=name, expect=expect, json=json, content=content, headers=sent, params=params
            )
        except TransportFailure as exc:
            raise StepFailed(Outcome.TIMEOUT if exc.timeout else Outcome.ERROR, str(exc)) from None
        if reply.status not in expect:
            code, message = _error_of(reply)
            raise PlatformError(reply.status, code, message, f"{method} {name}")
        return reply

    @staticmethod
    def _parse(reply: Reply, model: type[Model], name: str) -> Model:
        # Straight from the bytes, parsed and checked in one pass, without the intermediate dicts
        # of json.loads.
        try:
            answer: Model = _decoder(model).decode(reply.body)
        except msgspec.DecodeError as exc:
            raise StepFailed(
                Outcome.ERROR, f"{name}: answer is not a valid {model.__name__}: {str(exc)[:200]}", status=reply.status
            ) from None
        return answer

    @staticmethod
    def _parse_list(reply: Reply, model: type[Model], name: str) -> list[Model]:
        try:
            answers: list[Model] = _list_decoder(model).decode(reply.body)
        except msgspec.DecodeError as exc:
            raise StepFailed(
                Outcome.ERROR,
                f"{name}: answer is not a list of {model.__name__}: {str(exc)[:200]}",
                status=reply.status,
            ) from None
        return answers


@functools.cache
def _decoder(model: type[Model]) -> msgspec.json.Decoder[Model]:
    return msgspec.json.Decoder(model)


@functools.cache
def _list_decoder(model: type[Model]) -> msgspec.json.Decoder[list[Model]]:
    return msgspec.json.Decoder(list[model])  # type: ignore[valid-type]


def _error_of(reply: Reply) -> tuple[str, str]:
    """The platform's error code and message, or the start of whatever came back."""
    try:
        error = reply.json()["error"]
        return str(error["code"]), str(error["message"])
    except (ValueError, KeyError, TypeError):
        return f"http_{reply.status}", reply.text[:200]


class ApplicantClient(_Base):
    """What an applicant's browser or app does, through the JSON API."""

    applicant_id: str | None = None  # the platform's id, known once logged in (for scoring)

    def login(self, identifier: str, password: str) -> Session:
        name = "/api/auth/login"
        reply = self._send("POST", name, name, json={"identifier": identifier, "password": password})
        session = self._parse(reply, Session, name)
        self.token = session.token
        self.applicant_id = session.applicant_id
        return session

    def request_reset(self, email: str) -> None:
        name = "/api/auth/password-reset"
        self._send("POST", name, name, (202,), json={"email": email})

    def confirm_reset(self, token: str, password: str) -> None:
        name = "/api/auth/password-reset/confirm"
        self._send("POST", name, name, json={"token": token, "password": password})

    def profile(self) -> Profile:
        return self._parse(self._send("GET", "/api/me", "/api/me"), Profile, "/api/me")

    def procedures(self) -> list[ProcedureOffer]:
        name = "/api/me/procedures"
        return self._parse_list(self._send("GET", name, name), ProcedureOffer, name)

    def dossiers(self) -> list[Dossier]:
        name = "/api/me/dossiers"
        return self._parse_list(self._send("GET", name, name), Dossier, name)

    def dossier(self, dossier_id: str) -> Dossier:
        name = "/api/me/dossiers/{id}"
        return self._parse(self._send("GET", f"/api/me/dossiers/{dossier_id}", name), Dossier, name)

    def create_dossier(self, procedure: str, details: Mapping[str, str] | None = None) -> Dossier:
        name = "/api/me/dossiers"
        body = {"procedure": procedure, "details": dict(details or {})}
        return self._parse(self._send("POST", name, name, (201,), json=body), Dossier, name)

    def upload(self, dossier_id: str, kind: str, filename: str, content: bytes, content_type: str) -> Document:
        name = "/api/me/dossiers/{id}/documents"
        body, multipart_type = urllib3.encode_multipart_formdata(
            {"kind": kind, "file": (filename, content, content_type)}
        )
        reply = self._send(
            "POST",
            f"/api/me/dossiers/{dossier_id}/documents",
            name,
            (201,),
            content=body,
            headers={"Content-Type": multipart_type},
        )
        return self._parse(reply, Document, name)

    def submit(self, dossier_id: str) -> Dossier:
        name = "/api/me/dossiers/{id}/submit"
        return self._parse(self._send("POST", f"/api/me/dossiers/{dossier_id}/submit", name), Dossier, name)

    def receipt(self, dossier_id: str) -> Receipt:
        name = "/api/me/dossiers/{id}/receipt"
        return self._parse(self._send("GET", f"/api/me/dossiers/{dossier_id}/receipt", name), Receipt, name)

    def requests(self) -> list[AgentRequest]:
        name = "/api/me/requests"
        return self._parse_list(self._send("GET", name, name), AgentRequest, name)

    def answer(self, request_id: str, answer: str) -> AgentRequest:
        name = "/api/me/requests/{id}/answer"
        reply = self._send("POST", f"/api/me/requests/{request_id}/answer", name, json={"answer": answer})
        return self._parse(reply, AgentRequest, name)


class AgentClient(_Base):
    """What a prefecture agent's back-office screen does."""

    def login(self, login: str, password: str) -> Session:
        name = "/api/agent/login"
        reply = self._send("POST", name, name, json={"login": login, "password": password})
        session = self._parse(reply, Session, name)
        self.token = session.token
        return session

    def dossier(self, dossier_id: str, *, missing_ok: bool = False) -> AgentDossier | None:
        """The prefecture's view of a dossier; None when it does not know it (and ``missing_ok``)."""
        name = "/api/agent/dossiers/{id}"
        reply = self._send("GET", f"/api/agent/dossiers/{dossier_id}", name, (200, 404) if missing_ok else (200,))
        return None if reply.status == 404 else self._parse(reply, AgentDossier, name)

    def queue(self, limit: int) -> list[AgentDossier]:
        """The prefecture's dossiers waiting for an agent, oldest first."""
        name = "/api/agent/queue"
        return self._parse_list(self._send("GET", name, name, params={"limit": limit}), AgentDossier, name)

    def review(self, dossier_id: str) -> AgentDossier:
        name = "/api/agent/dossiers/{id}/review"
        return self._parse(self._send("POST", f"/api/agent/dossiers/{dossier_id}/review", name), AgentDossier, name)

    def request_complements(self, dossier_id: str, message: str) -> AgentRequest:
        name = "/api/agent/dossiers/{id}/requests"
        reply = self._send(
            "POST", f"/api/agent/dossiers/{dossier_id}/requests", name, (201,), json={"message": message}
        )
        return self._parse(reply, AgentRequest, name)

    def decide(self, dossier_id: str, decision: str) -> AgentDossier:
        name = "/api/agent/dossiers/{id}/decision"
        reply = self._send("POST", f"/api/agent/dossiers/{dossier_id}/decision", name, json={"decision": decision})
        return self._parse(reply, AgentDossier, name)

    def produce_card(self, dossier_id: str) -> Card:
        name = "/api/agent/dossiers/{id}/card/produce"
        return self._parse(self._send("POST", f"/api/agent/dossiers/{dossier_id}/card/produce", name), Card, name)

    def make_available(self, dossier_id: str) -> Card:
        name = "/api/agent/dossiers/{id}/card/available"
        return self._parse(self._send("POST", f"/api/agent/dossiers/{dossier_id}/card/available", name), Card, name)

    def cards(self, state: str, *, applicant_id: str | None = None, limit: int = 50) -> list[Card]:
        name = "/api/agent/cards"
        params: dict[str, str | int] = {"state": state, "limit": limit}
        if applicant_id is not None:
            params["applicant"] = applicant_id
        reply = self._send("GET", name, name, params=params)
        return self._parse_list(reply, Card, name)

    def hand_over(self, card_id: str) -> Card:
        name = "/api/agent/cards/{id}/handover"
        return self._parse(self._send("POST", f"/api/agent/cards/{card_id}/handover", name), Card, name)
