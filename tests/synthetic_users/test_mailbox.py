"""The mailbox: real SMTP in, Mailpit-shaped HTTP out, bounded memory, bounces, the CLI.

Every test runs its own mailbox on ports the OS picks (port 0), so tests are parallel-safe.
"""

from __future__ import annotations

import queue
import re
import signal
import smtplib
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from email.message import EmailMessage
from typing import Any

import httpx
import pytest

from synthetic_users.mailbox import MailboxServer, MailboxSettings, MessageStore
from synthetic_users.mailbox.message import read_message
from synthetic_users.mailbox.search import parse_query
from tests.support import wait_until

SUMMARY_KEYS = {
    "ID",
    "MessageID",
    "Read",
    "From",
    "To",
    "Cc",
    "Bcc",
    "ReplyTo",
    "Subject",
    "Created",
    "Username",
    "Tags",
    "Size",
    "Attachments",
    "Snippet",
}
LIST_KEYS = {"total", "unread", "count", "messages_count", "messages_unread", "start", "tags", "messages"}
MESSAGE_KEYS = {
    "ID",
    "MessageID",
    "From",
    "To",
    "Cc",
    "Bcc",
    "ReplyTo",
    "ReturnPath",
    "Subject",
    "ListUnsubscribe",
    "Date",
    "Tags",
    "Username",
    "Text",
    "HTML",
    "Size",
    "Inline",
    "Attachments",
}


def address(prefix: str = "usager") -> str:
    return f"{prefix}.{uuid.uuid4().hex[:12]}@example.org"


def email(to: str, subject: str = "Réinitialisation de votre mot de passe", body: str = "Bonjour") -> EmailMessage:
    message = EmailMessage()
    message["From"] = "ANEF <ne-pas-repondre@anef.test>"
    message["To"] = to
    message["Subject"] = subject
    message.set_content(body)
    return message


def send(port: int, *messages: EmailMessage) -> None:
    with smtplib.SMTP("127.0.0.1", port, timeout=10) as smtp:
        for message in messages:
            smtp.send_message(message)


@pytest.fixture
def mailbox() -> Iterator[MailboxServer]:
    with MailboxServer() as server:
        yield server


@pytest.fixture
def api(mailbox: MailboxServer) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=mailbox.api_url, timeout=10) as client:
        yield client


def search(api: httpx.Client, query: str, **params: Any) -> dict[str, Any]:
    response = api.get("/api/v1/search", params={"query": query, **params})
    assert response.status_code == 200, response.text
    return dict(response.json())


# --- delivery --------------------------------------------------------------------------------


def test_a_message_is_found_by_recipient_within_100_ms(mailbox: MailboxServer, api: httpx.Client) -> None:
    to = address()
    api.get("/api/v1/messages")  # a probe keeps its connection open; do not time the handshake
    with smtplib.SMTP("127.0.0.1", mailbox.smtp_port, timeout=10) as smtp:
        smtp.send_message(email(to))
        sent = time.perf_counter()
        deadline = sent + 5
        while not search(api, f"to:{to}")["messages"]:
            assert time.perf_counter() < deadline, "never found"
        elapsed = time.perf_counter() - sent
    assert elapsed < 0.1, f"found after {elapsed * 1000:.0f} ms"


@pytest.mark.slow
def test_1000_concurrent_messages_are_all_kept_and_findable(mailbox: MailboxServer, api: httpx.Client) -> None:
    recipients = [address(f"u{i}") for i in range(1000)]
    batches = [recipients[i::8] for i in range(8)]  # 8 SMTP connections at once
    reads = 0
    stop_reading = threading.Event()

    def read_meanwhile() -> None:
        nonlocal reads
        # Reads race the deliveries; the short pause only keeps this thread from hogging the GIL.
        while not stop_reading.wait(0.002):
            assert len(mailbox.store.page(limit=None).messages) <= 1000
            assert mailbox.store.search(parse_query(f"to:{recipients[0]}")).matched <= 1
            reads += 1

    reader = threading.Thread(target=read_meanwhile)
    reader.start()
    try:
        with ThreadPoolExecutor(max_workers=len(batches)) as pool:
            for done in [pool.submit(send, mailbox.smtp_port, *(email(to) for to in batch)) for batch in batches]:
                done.result()
    finally:
        stop_reading.set()
        reader.join()

    assert reads > 0
    listing = api.get("/api/v1/messages", params={"limit": 0}).json()
    assert listing["total"] == listing["count"] == 1000
    assert {m["To"][0]["Address"] for m in listing["messages"]} == set(recipients)
    for to in recipients:
        assert search(api, f"to:{to}")["messages_count"] == 1, to
        assert len(mailbox.store.messages_for(to)) == 1


def test_retention_evicts_the_oldest_and_never_exceeds_the_limit() -> None:
    recipients = [address(f"r{i}") for i in range(120)]
    with MailboxServer(MailboxSettings(retention=50)) as box:
        highest = 0
        with smtplib.SMTP("127.0.0.1", box.smtp_port, timeout=10) as smtp:
            for to in recipients:
                smtp.send_message(email(to))
                highest = max(highest, len(box.store))
        stats = box.store.stats()
        kept = box.store.page(limit=None).messages

    assert highest == 50
    assert stats.total == 50
    assert stats.evicted == 70
    assert [m.to[0].address for m in kept] == recipients[:-51:-1]  # the newest 50, newest first
    assert all(box.store.messages_for(to) == [] for to in recipients[:70])  # index entries go too
    assert stats.bytes <= 50 * max(m.footprint for m in kept)


def test_retention_by_bytes_bounds_memory_for_large_messages() -> None:
    store = MessageStore(max_messages=10_000, max_bytes=200_000)
    for i in range(100):
        raw = email(address(), body=f"{i} " + "x" * 10_000).as_bytes()
        store.add(read_message(raw, envelope_from="anef@anef.test", recipients=[f"r{i}@example.org"]))
        assert store.stats().bytes <= 200_000
    assert 0 < len(store) < 20
    assert store.latest() is not None
    assert store.messages_for("r99@example.org")


def test_a_bounce_domain_is_refused_with_550_and_nothing_is_stored(mailbox: MailboxServer) -> None:
    with pytest.raises(smtplib.SMTPRecipientsRefused) as refused:
        send(mailbox.smtp_port, email("amina.benali@rebond.example.net"))
    assert refused.value.recipients["amina.benali@rebond.example.net"][0] == 550
    assert len(mailbox.store) == 0
    assert mailbox.store.stats().refused == 1


def test_a_bounce_among_recipients_refuses_only_that_one(mailbox: MailboxServer) -> None:
    good = address()
    message = email(f"{good}, x@mail.rebond.example.net")  # subdomains bounce too
    with smtplib.SMTP("127.0.0.1", mailbox.smtp_port, timeout=10) as smtp:
        refused = smtp.send_message(message)
    assert set(refused) == {"x@mail.rebond.example.net"}
    assert [m.recipients for m in mailbox.store.page().messages] == [(good,)]


def test_wait_for_returns_when_the_message_arrives_or_the_deadline_passes(mailbox: MailboxServer) -> None:
    to = address()
    sender = threading.Thread(target=send, args=(mailbox.smtp_port, email(to), email(to)))
    sender.start()
    arrived = mailbox.store.wait_for(to.upper(), timeout=10, count=2)
    sender.join()
    assert len(arrived) == 2
    started = time.monotonic()
    assert mailbox.store.wait_for(address(), timeout=0.05) == []
    assert time.monotonic() - started < 5


# --- the Mailpit API -------------------------------------------------------------------------


def test_responses_have_mailpit_field_names_and_the_text_body(mailbox: MailboxServer, api: httpx.Client) -> None:
    to = address()
    message = email(f"Amina Benali <{to}>", body="Votre lien : https://anef.test/reinitialiser?jeton=abc")
    message.add_attachment(b"%PDF-1.4 test", maintype="application", subtype="pdf", filename="recepisse.pdf")
    send(mailbox.smtp_port, message)

    listing = api.get("/api/v1/messages").json()
    assert set(listing) == LIST_KEYS
    assert (listing["total"], listing["unread"], listing["count"], listing["start"]) == (1, 1, 1, 0)
    summary = listing["messages"][0]
    assert set(summary) == SUMMARY_KEYS
    assert summary["From"] == {"Name": "ANEF", "Address": "ne-pas-repondre@anef.test"}
    assert summary["To"] == [{"Name": "Amina Benali", "Address": to}]
    assert (summary["Cc"], summary["Bcc"], summary["ReplyTo"], summary["Tags"]) == ([], [], [], [])
    assert (summary["Read"], summary["Attachments"]) == (False, 1)
    assert summary["Snippet"].startswith("Votre lien : https://anef.test/")
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{1,3})?Z", summary["Created"])

    found = search(api, f"to:{to.upper()}")
    assert set(found) == LIST_KEYS
    assert [m["ID"] for m in found["messages"]] == [summary["ID"]]

    detail = api.get(f"/api/v1/message/{summary['ID']}")
    assert detail.status_code == 200
    body = detail.json()
    assert set(body) == MESSAGE_KEYS
    assert body["Text"] == "Votre lien : https://anef.test/reinitialiser?jeton=abc\n"
    assert body["ReturnPath"] == "ne-pas-repondre@anef.test"
    assert [a["FileName"] for a in body["Attachments"]] == ["recepisse.pdf"]
    assert set(body["Attachments"][0]["Checksums"]) == {"MD5", "SHA1", "SHA256"}
    assert api.get("/api/v1/messages").json()["unread"] == 0  # opening a message marks it read, as Mailpit does
    assert api.get("/api/v1/message/latest").json()["ID"] == summary["ID"]
    assert b"Votre lien" in api.get(f"/api/v1/message/{summary['ID']}/raw").content


def test_html_only_and_multipart_messages_have_text_and_snippet() -> None:
    html_only = email(address())
    html_only.set_content("<p>Votre <b>récépissé</b> est disponible</p>", subtype="html")
    both = email(address(), body="Texte brut")
    both.add_alternative("<p>Version HTML</p>", subtype="html")

    stored_html = read_message(html_only.as_bytes(), envelope_from="a@anef.test", recipients=[str(html_only["To"])])
    stored_both = read_message(both.as_bytes(), envelope_from="a@anef.test", recipients=[str(both["To"])])

    assert (stored_html.body().text, stored_html.snippet) == ("Votre récépissé est disponible",) * 2
    assert stored_both.body().text == "Texte brut\n"
    assert stored_both.body().html == "<p>Version HTML</p>\n"
    assert stored_both.snippet == "Version HTML"  # Mailpit prefers the HTML for the snippet


def test_unknown_message_is_404(api: httpx.Client) -> None:
    response = api.get("/api/v1/message/doesNotExist123")
    assert (response.status_code, response.text) == (404, "404 page not found")
    assert api.get("/api/v1/message/latest").status_code == 404


def test_delete_by_ids_then_all(mailbox: MailboxServer, api: httpx.Client) -> None:
    recipients = [address() for _ in range(3)]
    send(mailbox.smtp_port, *(email(to) for to in recipients))
    ids = [m["ID"] for m in api.get("/api/v1/messages").json()["messages"]]

    response = api.request("DELETE", "/api/v1/messages", json={"IDs": ids[:2]})
    assert (response.status_code, response.text) == (200, "ok")
    assert [m["ID"] for m in api.get("/api/v1/messages").json()["messages"]] == ids[2:]

    assert api.request("DELETE", "/api/v1/messages").status_code == 200
    assert api.get("/api/v1/messages").json()["total"] == 0
    assert mailbox.store.messages_for(recipients[2]) == []
    assert api.request("DELETE", "/api/v1/messages", content=b"{not json").status_code == 400


def test_listing_is_newest_first_with_start_and_limit(mailbox: MailboxServer, api: httpx.Client) -> None:
    send(mailbox.smtp_port, *(email(address(), subject=f"message {i}") for i in range(5)))
    page = api.get("/api/v1/messages", params={"start": 1, "limit": 2}).json()
    assert [m["Subject"] for m in page["messages"]] == ["message 3", "message 2"]
    assert (page["total"], page["count"], page["start"]) == (5, 2, 1)
    lenient = api.get("/api/v1/messages", params={"start": "x", "limit": "-3"}).json()  # as Mailpit: defaults
    assert (lenient["start"], lenient["count"]) == (0, 5)


def test_search_filters_and_words(mailbox: MailboxServer, api: httpx.Client) -> None:
    amina, karim = address("amina"), address("karim")
    send(
        mailbox.smtp_port,
        email(amina, subject="Demande de compléments", body="Merci de fournir un justificatif"),
        email(karim, subject="Récépissé de dépôt", body="Votre dossier est déposé"),
    )

    def subjects(query: str) -> list[str]:
        return [m["Subject"] for m in search(api, query)["messages"]]

    assert subjects(f"to:{amina}") == ["Demande de compléments"]
    assert subjects("from:ne-pas-repondre@anef.test") == ["Récépissé de dépôt", "Demande de compléments"]
    assert subjects("subject:RÉCÉPISSÉ") == ["Récépissé de dépôt"]
    assert subjects("JUSTIFICATIF") == ["Demande de compléments"]
    assert subjects('"dossier est"') == ["Récépissé de dépôt"]
    assert subjects(f"-to:{amina} from:anef") == ["Récépissé de dépôt"]
    assert search(api, "to:nobody@example.org")["messages_count"] == 0
    assert search(api, "from:anef", limit=1)["messages_count"] == 2
    assert api.get("/api/v1/search").status_code == 400
    refused = api.get("/api/v1/search", params={"query": "after:2024-01-01"})
    assert refused.status_code == 400
    assert "after:" in refused.text


# --- the CLI ---------------------------------------------------------------------------------


def test_cli_refuses_a_non_loopback_host_in_one_line() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "anef_harness", "mailbox", "serve", "--host", "10.0.0.1"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("anef-harness: --host: 10.0.0.1 is not a loopback address")
    assert "Traceback" not in result.stderr


def test_cli_serve_receives_a_message() -> None:
    command = [sys.executable, "-m", "anef_harness", "mailbox", "serve", "--smtp-port", "0", "--http-port", "0"]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    lines: queue.Queue[str] = queue.Queue()
    threading.Thread(target=lambda: [lines.put(line) for line in process.stdout or ()], daemon=True).start()
    try:
        ready = re.search(r"SMTP on 127\.0\.0\.1:(\d+), API on (http://\S+)", lines.get(timeout=30))
        assert ready is not None
        to = address()
        send(int(ready.group(1)), email(to))
        with httpx.Client(base_url=ready.group(2), timeout=10) as client:
            found = wait_until(lambda: search(client, f"to:{to}")["messages"], timeout=5)
        assert found[0]["To"][0]["Address"] == to
    finally:
        process.send_signal(signal.SIGINT)
        process.wait(timeout=30)
    assert process.returncode == 0, process.stderr.read() if process.stderr else ""


def test_the_mailbox_answers_only_to_loopback_names(api: httpx.Client) -> None:
    """It holds reset links: a page of evil.example rebound to 127.0.0.1 must not read it."""
    rebound = api.get("/api/v1/messages", headers={"Host": "evil.example"})
    assert rebound.status_code == 400
    assert api.get("/api/v1/messages", headers={"Host": "localhost"}).status_code == 200
    assert api.get("/api/v1/messages").status_code == 200
