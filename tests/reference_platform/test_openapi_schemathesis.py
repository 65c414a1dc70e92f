"""The platform keeps the promises of its own OpenAPI schema (faults off).

Schemathesis generates requests (valid and invalid) for every documented operation of a real
platform process and asserts that none is answered with a server error and that every answer
is documented: status code, content type and body schema.

Each audience is authenticated with its own credential: applicant operations with a seeded
applicant's Bearer token, ``/api/agent/...`` with an agent's token, ``/_admin/...`` with the
admin token. Path parameters are sometimes replaced by the ids of real objects (a draft and a
submitted dossier, their documents, an agent request, a card), each looked at by its owner, so
that the handlers behind a successful lookup are exercised too, not only their 404s.

Nothing is excluded; three operations need care instead, each reset after the call so that
the operations tested after them still see faults off, today's date and a live session:

* ``PUT /_admin/faults`` may turn faults on (an outage, an injected 500): they are turned off again.
* ``PUT /_admin/clock`` may move the platform's clock: it is given back to the real date.
* ``POST /api/auth/logout`` ends the session it is called with: it gets a session of its own.

``POST /api/me/dossiers`` is called by a newly seeded applicant each time (one dossier in progress
per applicant), and half of the uploads carry a real PDF of a known kind, so that successful
answers (201 and their bodies) are checked too, not only refusals.

``POST /_admin/seed`` takes NDJSON, which Schemathesis sends as the generated string.

Beside the operations one by one, a stateful run chains them through the links Schemathesis infers
from the schema (a dossier created, read, uploaded to, submitted, cancelled, worked by an agent).
"""

from __future__ import annotations

import json
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, settings
from hypothesis import strategies as st
from hypothesis.errors import FlakyStrategyDefinition
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from reference_platform.app import create_app
from reference_platform.domain.procedures import DOCUMENT_KINDS
from reference_platform.settings import Settings
from tests.support import ADMIN_TOKEN, Api, PlatformProcess, agent_seed, applicant_seed, pdf_bytes, wait_until

SMALL_PDF = pdf_bytes(2_000)
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]


@schemathesis.serializer("application/x-ndjson")
def _ndjson(_context: schemathesis.SerializationContext, value: Any) -> bytes:
    """The seed body is documented as a string of JSON lines; anything else is sent as one line."""
    text = value if isinstance(value, str) else json.dumps(value)
    return text.encode()


@dataclass(frozen=True)
class World:
    """Real objects on the platform and the credentials of each audience."""

    url: str
    applicant: dict[str, Any]
    applicant_auth: dict[str, str]
    agent_auth: dict[str, str]
    ids: dict[str, list[str]]
    owners: dict[str, dict[str, str]]

    def headers_for(self, case: schemathesis.Case) -> dict[str, str]:
        path = case.operation.path
        if path.startswith("/_admin"):
            return {"Authorization": f"Bearer {ADMIN_TOKEN}"}
        if path.startswith("/api/agent"):
            return self.agent_auth
        if path == "/api/auth/logout":
            with httpx.Client(base_url=self.url, timeout=10) as http:
                return Api(http).login(self.applicant)
        if (case.method.upper(), path) == ("POST", "/api/me/dossiers"):
            # A newcomer each time: the seeded applicants already have their one dossier in progress.
            newcomer = applicant_seed()
            with httpx.Client(base_url=self.url, timeout=10) as http:
                Api(http).seed(newcomer)
                return Api(http).login(newcomer)
        # A real dossier is looked at by its owner (an applicant has one dossier in progress at a time).
        return self.owners.get(str((case.path_parameters or {}).get("dossier_id")), self.applicant_auth)

    def restore_after(self, case: schemathesis.Case) -> None:
        """Faults off and the real date again, whatever the call just changed."""
        reset = {("PUT", "/_admin/faults"): {"faults": []}, ("PUT", "/_admin/clock"): {"today": None}}
        body = reset.get((case.method.upper(), case.operation.path))
        if body is not None:
            with httpx.Client(base_url=self.url, timeout=10) as http:
                answer = Api(http).admin("PUT", case.operation.path, json=body)
                assert answer.status_code == 200, answer.text


@pytest.fixture(scope="module")
def world(platform: PlatformProcess) -> Iterator[World]:
    with httpx.Client(base_url=platform.url, timeout=10) as http:
        api = Api(http)
        api.set_faults()
        applicant, agent, card_holder = applicant_seed(), agent_seed(), applicant_seed(card_state="available")
        api.seed(applicant, agent, card_holder)
        auth, agent_auth = api.login(applicant), api.agent_login(agent)

        submitted = api.submitted_renewal(auth)
        wait_until(lambda: http.get(f"/api/agent/dossiers/{submitted['id']}", headers=agent_auth).status_code == 200)
        assert http.post(f"/api/agent/dossiers/{submitted['id']}/review", headers=agent_auth).status_code == 200
        asked = http.post(
            f"/api/agent/dossiers/{submitted['id']}/requests",
            headers=agent_auth,
            json={"message": "Merci de fournir un justificatif de domicile récent."},
        )
        assert asked.status_code == 201, asked.text
        request_id = asked.json()["id"]
        wait_until(lambda: any(r["id"] == request_id for r in http.get("/api/me/requests", headers=auth).json()))

        drafter = applicant_seed()
        api.seed(drafter)
        drafter_auth = api.login(drafter)
        details = {"address": "3 avenue Jean Jaurès", "postcode": "75019", "city": "Paris"}
        draft = http.post(
            "/api/me/dossiers", headers=drafter_auth, json={"procedure": "address_change", "details": details}
        )
        assert draft.status_code == 201, draft.text
        draft_document = api.upload(drafter_auth, draft.json()["id"], "proof_of_address")
        assert draft_document.status_code == 201, draft_document.text

        card_id = http.get("/api/me", headers=api.login(card_holder)).json()["card"]["id"]
        world = World(
            url=platform.url,
            applicant=applicant,
            applicant_auth=auth,
            agent_auth=agent_auth,
            ids={
                "dossier_id": [submitted["id"], draft.json()["id"]],
                "document_id": [d["id"] for d in submitted["documents"]] + [draft_document.json()["id"]],
                "request_id": [request_id],
                "card_id": [card_id],
            },
            owners={submitted["id"]: auth, draft.json()["id"]: drafter_auth},
        )
        REAL_IDS.update(world.ids)
        try:
            yield world
        finally:
            REAL_IDS.clear()
            api.set_faults()


def _published_schema() -> dict[str, Any]:
    """The OpenAPI document of ``create_app``, built in a throwaway folder when the module is collected,
    so that each operation becomes a test of its own (and xdist can share them out)."""
    with tempfile.TemporaryDirectory(prefix="anef-openapi-") as folder:
        app = create_app(Settings(data_dir=Path(folder) / "data"))
        try:
            return app.openapi()
        finally:
            app.state.context.stores.dispose()


PUBLISHED = _published_schema()
schema = schemathesis.openapi.from_dict(PUBLISHED)
# Ids of real objects on this worker's platform, filled by the ``world`` fixture.
REAL_IDS: dict[str, list[str]] = {}


@schema.hook
def flatmap_path_parameters(_context: schemathesis.HookContext, parameters: dict[str, Any] | None) -> Any:
    """Half of the time, the generated ids are replaced by the ids of real objects."""
    names = [name for name in parameters or {} if REAL_IDS.get(name)]
    if not names:
        return st.just(parameters)
    real = st.fixed_dictionaries({name: st.sampled_from(REAL_IDS[name]) for name in names})
    return st.one_of(st.just(parameters), real.map(lambda ids: {**parameters, **ids}))


@schema.hook
def flatmap_body(context: schemathesis.HookContext, body: Any) -> Any:
    """Half of the uploads send a real PDF of a known kind, so that acknowledgements are checked too."""
    if context.operation is None or context.operation.path != "/api/me/dossiers/{dossier_id}/documents":
        return st.just(body)
    real = st.builds(lambda kind: {"kind": kind, "file": SMALL_PDF}, st.sampled_from(sorted(DOCUMENT_KINDS)))
    return st.one_of(st.just(body), real)


def test_the_platform_serves_the_schema_under_test(world: World) -> None:
    served = httpx.get(f"{world.url}/openapi.json", timeout=10)
    assert served.status_code == 200
    assert served.json() == PUBLISHED


@schema.parametrize()
@settings(
    max_examples=20,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much, HealthCheck.function_scoped_fixture],
)
def test_every_answer_is_documented_and_none_is_a_server_error(case: schemathesis.Case, world: World) -> None:
    try:
        case.call_and_validate(base_url=world.url, headers=world.headers_for(case), checks=CHECKS, timeout=10)
    finally:
        world.restore_after(case)


def test_sequences_of_calls_keep_the_schemas_promises(world: World) -> None:
    """Stateful: Schemathesis chains operations through the links it infers from the schema (a
    dossier created, then read, uploaded to, submitted, cancelled…), each sequence acted by one fresh
    applicant so that what it creates is its own. No server error, every answer documented."""

    class Sequences(schema.as_state_machine()):  # type: ignore[misc]
        def setup(self) -> None:
            newcomer = applicant_seed()
            with httpx.Client(base_url=world.url, timeout=10) as http:
                Api(http).seed(newcomer)
                self.auth = Api(http).login(newcomer)

        def get_call_kwargs(self, case: schemathesis.Case) -> dict[str, Any]:
            path = case.operation.path
            own = path.startswith("/api/") and not path.startswith(("/api/agent", "/api/auth/logout"))
            headers = self.auth if own else world.headers_for(case)
            return {"base_url": world.url, "headers": headers, "timeout": 10}

        def after_call(self, response: Any, case: schemathesis.Case) -> None:
            world.restore_after(case)

        def validate_response(self, response: Any, case: schemathesis.Case, **kwargs: Any) -> None:
            case.validate_response(response, checks=CHECKS, transport_kwargs=kwargs)

    bounded = settings(
        max_examples=12,
        stateful_step_count=6,
        deadline=None,
        database=None,
        phases=[Phase.generate],  # a real server's state does not replay: no shrinking
        suppress_health_check=list(HealthCheck),
    )
    for _ in range(5):
        try:
            Sequences.run(settings=bounded)
            return
        except FlakyStrategyDefinition:
            # The server's state changed what a sequence drew (a bundle empty this time): Hypothesis
            # cannot replay it. Schemathesis's own runner starts a fresh session then; so do we.
            continue
    pytest.fail("every session ended on a sequence the server's state made unreplayable")
