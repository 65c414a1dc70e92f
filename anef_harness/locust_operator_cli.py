"""``anef-harness locust-operator …``: the command line the Locust operator gives a pod, run as ``run`` or ``worker``.

A ``LocustTest`` resource (deploy/kubernetes/locusttest.yaml) makes the Locust operator start this
image's entry point with the resource's command followed by Locust's own flags: ``--master
--master-port=5557 --expect-workers=N --autostart --autoquit 60 --enable-rebalancing --only-summary``
on the master, ``--worker --master-port=5557 --master-host=NAME-master`` on each worker (operator
2.4, ``internal/resources/command.go``). This command turns those flags into the harness's own:
``anef-harness run CAMPAIGN … --master-port=5557 --expect-workers=N`` or ``anef-harness worker
--master NAME-master:5557 …``, and becomes that command (``exec``), so the campaign runs as it
would from a shell. The conductor starts the load and ends the run itself: ``--autostart``,
``--autoquit``, ``--enable-rebalancing`` and ``--only-summary`` have nothing left to do.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence

import typer

from anef_harness.exits import fail_usage

# The operator's flags that take a value ("--flag=value" or "--flag value"), and those that do not.
WITH_VALUE = ("--master-port", "--master-host", "--expect-workers", "--autoquit")
SWITCHES = ("--master", "--worker", "--autostart", "--enable-rebalancing", "--only-summary", "--otel")
# Flags `run` takes as the operator writes them.
KEPT_ON_MASTER = ("--master-port", "--expect-workers")


def translate(arguments: Sequence[str]) -> list[str]:
    """The harness command for the operator's command line, or a ``ValueError`` saying why there is none."""
    found: dict[str, str | None] = {}
    rest: list[str] = []  # the resource's own arguments, in their order, with run's flags kept in place
    items = iter(arguments)
    for argument in items:
        flag, equals, value = argument.partition("=")
        if flag in SWITCHES and not equals:
            found[flag] = None
        elif flag in WITH_VALUE:
            if not equals:
                value = next(items, "")
                if not value or value.startswith("--"):
                    raise ValueError(f"{flag}: expected a value")
            found[flag] = value
            if flag in KEPT_ON_MASTER:
                rest.append(f"{flag}={value}")
        else:
            rest.append(argument)
    if "--otel" in found:
        raise ValueError(
            "--otel: the harness exports Prometheus metrics, not OpenTelemetry; "
            "turn observability.openTelemetry off in the LocustTest"
        )
    if ("--master" in found) == ("--worker" in found):
        raise ValueError(
            "expected the Locust operator's --master or --worker flag (one of them); "
            "outside the operator, run `anef-harness run` or `anef-harness worker` directly"
        )
    if "--master" in found:
        if not any(argument == "--master-bind" or argument.startswith("--master-bind=") for argument in rest):
            raise ValueError(
                "the master listens on loopback unless told otherwise, and the operator's workers reach it "
                "through its Service: add --master-bind 0.0.0.0 --allow-remote to master.command"
            )
        return ["run", *rest]
    host, port = found.get("--master-host"), found.get("--master-port")
    if not host or not port:
        raise ValueError("--worker: expected --master-host and --master-port, as the operator gives them")
    at = f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
    return ["worker", *[argument for argument in rest if not argument.startswith("--master-port=")], "--master", at]


def locust_operator(ctx: typer.Context) -> None:
    """The command a LocustTest gives the image: Locust's --master or --worker flags become `run` or `worker`.

    master.command: `locust-operator CAMPAIGN --master-bind 0.0.0.0 --allow-remote`, then any of run's options;
    worker.command: `locust-operator`, then any of worker's options (docs/kubernetes.md)."""
    try:
        command = translate(ctx.args)
    except ValueError as exc:
        fail_usage(f"locust-operator: {exc}")
    sys.stdout.flush()
    os.execv(sys.executable, [sys.executable, "-m", "anef_harness", *command])  # noqa: S606 - our own command


def register(app: typer.Typer) -> None:
    app.command("locust-operator", context_settings={"allow_extra_args": True, "ignore_unknown_options": True})(
        locust_operator
    )
