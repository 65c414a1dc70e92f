"""Reading an SLO file: YAML → OpenSLO objects (each validated on its own) → references between
them → the objectives the harness evaluates.

Every mistake is one ``SloError`` line: ``FILE:LINE: KIND NAME: field.path: what was expected``,
where the field path starts under ``spec`` (``indicator.spec.ratioMetric.good…``).
"""

from __future__ import annotations

import types
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, NoReturn

import yaml
from pydantic import BaseModel, ValidationError

from checks.slo import openslo
from checks.slo.fields import API_VERSION, HARNESS_SOURCE
from checks.slo.objective import DEFAULT_TIME_WINDOW, BurnRateAlert, Objective, SloFile
from checks.slo.openslo import KINDS, MODELS
from checks.slo.selector import Selector, from_spec, not_within
from core import describe, yamlfile
from core.errors import ConfigError
from core.registry import suggest
from core.yamlfile import DuplicateKeyError, SafeDatesLoader, StrictLoader

Loc = tuple[str | int, ...]


class SloError(ConfigError):
    """An SLO file that cannot be used: a ``ConfigError`` (so the CLI prints one line and exits 2)
    and so a ``HarnessError``."""


def default_slo_path() -> Path:
    """The SLO file shipped with the harness (``slos/anef.yaml`` of the repository)."""
    return Path(__file__).resolve().parents[2] / "slos" / "anef.yaml"


def load_slos(path: Path) -> list[Objective]:
    """The objectives of an SLO file, validated; ``SloError`` (one line) on any mistake."""
    return load_slo_file(path).objectives


def load_slo_file(path: Path) -> SloFile:
    """The objectives and services of an SLO file, validated; ``SloError`` (one line) on any mistake."""
    return _Reader(path).read()


@dataclass(frozen=True)
class _Item:
    """One object of the file: its position (from 1), raw data and YAML node (for line numbers)."""

    number: int
    data: Any
    node: yaml.Node

    @property
    def label(self) -> str:
        """``KIND NAME`` as far as the raw data says (``object #3`` when it does not)."""
        data = self.data if isinstance(self.data, Mapping) else {}
        kind = data.get("kind") if data.get("kind") in KINDS else "object"
        metadata = data.get("metadata")
        name = metadata.get("name") if isinstance(metadata, Mapping) else None
        return f"{kind} {name}" if isinstance(name, str) and name else f"{kind} #{self.number}"


@dataclass(frozen=True)
class _Parsed:
    item: _Item
    model: openslo.OpenSloObject


class _Reader:
    """Reads one file: YAML → objects (each validated on its own) → references → objectives."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.by_kind: dict[str, dict[str, _Parsed]] = {kind: {} for kind in KINDS}

    def read(self) -> SloFile:
        for item in self._items():
            self._add(item)
        slos = self.by_kind["SLO"]
        if not slos:
            self._fail_file("no SLO object in the file; expected at least one object with kind: SLO")
        self._check_references()
        services = {name: p.model.metadata.display_name or name for name, p in self.by_kind["Service"].items()}
        objectives = [objective for parsed in slos.values() for objective in self._objectives(parsed)]
        return SloFile(objectives, types.MappingProxyType(services))

    # -- errors --

    def _fail_file(self, problem: str, line: int | None = None) -> NoReturn:
        where = f"{self.path}:{line}" if line is not None else str(self.path)
        raise SloError(where, problem.replace("\n", " "))

    def _fail(self, item: _Item, loc: Loc, problem: str, *, line: int | None = None) -> NoReturn:
        """One line: the file and line, the object, the field path (under ``spec``) and the problem."""
        clean = describe.clean(loc)
        shown = clean[1:] if len(clean) > 1 and clean[0] == "spec" else clean
        where = f"{item.label}: {'.'.join(str(part) for part in shown)}: " if shown else f"{item.label}: "
        self._fail_file(where + problem, line or _line(item, clean))

    def _fail_validation(self, item: _Item, model: type[BaseModel], exc: ValidationError) -> NoReturn:
        errors = exc.errors()
        # An unknown key is most often the misspelling of a missing one: name it, with "did you mean".
        error = next((e for e in errors if e["type"] == "extra_forbidden"), errors[0])
        self._fail(item, tuple(error["loc"]), describe.explain(error, model, quote=True))

    # -- pass 1: each object on its own --

    def _items(self) -> Iterator[_Item]:
        if not self.path.exists():
            self._fail_file("SLO file not found")
        try:
            text = yamlfile.read_text(self.path)
        except ConfigError as exc:
            raise SloError(exc.source, exc.problem) from None
        duplicate: DuplicateKeyError | None = None
        try:
            documents = list(yaml.load_all(text, Loader=StrictLoader))
        except DuplicateKeyError as exc:
            duplicate, documents = exc, list(yaml.load_all(text, Loader=SafeDatesLoader))  # to name its object
        except yaml.YAMLError as exc:
            raise SloError(*yamlfile.syntax_problem(str(self.path), exc, text)) from None
        nodes = yamlfile.compose_all(text)
        number = 0
        for index, (data, node) in enumerate(zip(documents, nodes, strict=True)):
            if data is None:
                continue  # an empty document (a stray ---)
            pairs = zip(data, node.value, strict=True) if isinstance(data, list) else [(data, node)]
            for position, (entry, entry_node) in enumerate(pairs):
                number += 1
                item = _Item(number, entry, entry_node)
                if duplicate is not None and duplicate.document == index:
                    loc = duplicate.path[1:] if isinstance(data, list) else duplicate.path
                    if not isinstance(data, list) or duplicate.path[0] == position:
                        self._fail(item, loc, duplicate.explanation, line=duplicate.line)
                yield item
        if number == 0:
            self._fail_file("the file is empty; expected OpenSLO v1 objects (apiVersion: openslo/v1, kind: SLO, …)")

    def _add(self, item: _Item) -> None:
        data = item.data
        if not isinstance(data, Mapping):
            self._fail(
                item,
                (),
                f"expected an OpenSLO object (apiVersion, kind, metadata, spec), got a YAML {_yaml_word(data)}",
            )
        if data.get("apiVersion") != API_VERSION:
            found = f"got {data['apiVersion']!r}" if "apiVersion" in data else "it is missing"
            self._fail(item, ("apiVersion",), f"expected {API_VERSION!r} (OpenSLO v1), {found}")
        kind = data.get("kind")
        if "kind" not in data:
            self._fail(item, ("kind",), f"Field required; expected one of {', '.join(KINDS)}")
        if not isinstance(kind, str) or kind not in KINDS:
            self._fail(item, ("kind",), f"unknown kind {kind!r}{suggest(str(kind), KINDS, listed=len(KINDS))}")
        model = MODELS[kind]
        try:
            parsed = _Parsed(item, model.model_validate(data))
        except ValidationError as exc:
            self._fail_validation(item, model, exc)
        name = parsed.model.metadata.name
        earlier = self.by_kind[kind].get(name)
        if earlier is not None:
            line = _line(earlier.item, ("metadata", "name"))
            self._fail(item, ("metadata", "name"), f"duplicate name: {kind} {name!r} is already defined at line {line}")
        self.by_kind[kind][name] = parsed

    # -- pass 2: references between objects --

    def _check_references(self) -> None:
        for parsed in self.by_kind["SLO"].values():
            spec = parsed.model.spec
            assert isinstance(spec, openslo.SloSpec)
            if spec.indicator_ref is not None:
                self._resolve(parsed.item, ("spec", "indicatorRef"), "SLI", spec.indicator_ref)
            for number, policy in enumerate(spec.alert_policies):
                loc: Loc = ("spec", "alertPolicies", number)
                if isinstance(policy, openslo.PolicyRef):
                    self._resolve(parsed.item, (*loc, "alertPolicyRef"), "AlertPolicy", policy.alert_policy_ref)
                else:
                    self._check_policy(parsed.item, (*loc, "spec"), policy.spec)
            services = self.by_kind["Service"]
            if services and spec.service not in services:
                self._fail(parsed.item, ("spec", "service"), _missing("Service", spec.service, services))
        for parsed in self.by_kind["AlertPolicy"].values():
            assert isinstance(parsed.model.spec, openslo.AlertPolicySpec)
            self._check_policy(parsed.item, ("spec",), parsed.model.spec)

    def _check_policy(self, item: _Item, loc: Loc, spec: openslo.AlertPolicySpec) -> None:
        for number, condition in enumerate(spec.conditions):
            if isinstance(condition, openslo.ConditionRef):
                where: Loc = (*loc, "conditions", number, "conditionRef")
                self._resolve(item, where, "AlertCondition", condition.condition_ref)
        for number, target in enumerate(spec.notification_targets):
            if isinstance(target, openslo.TargetRef):
                where = (*loc, "notificationTargets", number, "targetRef")
                self._resolve(item, where, "AlertNotificationTarget", target.target_ref)

    def _resolve(self, item: _Item, loc: Loc, kind: str, name: str) -> openslo.OpenSloObject:
        found = self.by_kind[kind].get(name)
        if found is None:
            self._fail(item, loc, _missing(kind, name, self.by_kind[kind]))
        return found.model

    # -- pass 3: objectives --

    def _objectives(self, parsed: _Parsed) -> list[Objective]:
        item, slo = parsed.item, parsed.model
        assert isinstance(slo.spec, openslo.SloSpec)
        spec = slo.spec
        origin: Loc
        prefix: Loc
        if spec.indicator is not None:
            indicator, origin, prefix = spec.indicator.spec, ("spec", "indicator"), ("spec", "indicator", "spec")
        else:
            assert spec.indicator_ref is not None
            referenced = self._resolve(item, ("spec", "indicatorRef"), "SLI", spec.indicator_ref)
            assert isinstance(referenced.spec, openslo.SliSpec)
            indicator, origin, prefix = referenced.spec, ("spec", "indicatorRef"), ("spec", "indicatorRef")
        good, total = self._ratio(item, indicator, origin, prefix, spec.indicator_ref)
        alerts = tuple(self._alerts(spec))
        window = spec.time_window[0].duration if spec.time_window else DEFAULT_TIME_WINDOW
        labels = types.MappingProxyType({key: ",".join(value) for key, value in slo.metadata.labels.items()})
        several = len(spec.objectives) > 1
        return [
            Objective(
                name=f"{slo.metadata.name}/{number}" if several else slo.metadata.name,
                display_name=objective.display_name or slo.metadata.display_name or slo.metadata.name,
                description=spec.description,
                service=spec.service,
                target=objective.ratio,
                good=good,
                total=total,
                time_window=window,
                burn_rate_alerts=alerts,
                labels=labels,
            )
            for number, objective in enumerate(spec.objectives)
        ]

    def _ratio(
        self, item: _Item, sli: openslo.SliSpec, origin: Loc, prefix: Loc, ref: str | None
    ) -> tuple[Selector, Selector]:
        """(good, total) of an SLI, or the reason the harness cannot count it (at the SLO's field
        ``origin``; ``prefix`` is where the SLI's fields are when it is inline)."""
        source = f"SLI {ref!r}: " if ref is not None else ""
        at = origin if ref is not None else prefix
        if sli.ratio_metric is None:
            self._fail(item, at, f"{source}the harness evaluates ratioMetric SLIs only (good or bad events / total)")
        ratio = sli.ratio_metric
        selectors: dict[str, Selector] = {}
        for part in ("good", "bad", "total"):
            metric: openslo.MetricSpec | None = getattr(ratio, part)
            if metric is None:
                continue
            found = metric.metric_source
            if not isinstance(found, openslo.HarnessSource):
                inside: Loc = ("ratioMetric", part, "metricSource", "type")
                self._fail(
                    item,
                    origin if ref is not None else (*prefix, *inside),
                    f"{source}{'.'.join(map(str, inside)) + ' ' if ref is not None else ''}{found.type!r}: "
                    f"the harness can evaluate only metricSource type {HARNESS_SOURCE!r} (its step events); "
                    "other types are kept for the live rules",
                )
            selectors[part] = from_spec(found.spec)
        total = selectors["total"]
        if "bad" in selectors:
            return replace(total, negated=selectors["bad"]), total
        good = selectors["good"]
        outside = not_within(good, total)
        if outside:
            self._fail(item, at, f"{source}good must count only events that total counts, but {outside}")
        return good, total

    def _alerts(self, spec: openslo.SloSpec) -> Iterator[BurnRateAlert]:
        for entry in spec.alert_policies:
            if isinstance(entry, openslo.PolicyRef):
                policy = self.by_kind["AlertPolicy"][entry.alert_policy_ref].model.spec
            else:
                policy = entry.spec
            assert isinstance(policy, openslo.AlertPolicySpec)
            for condition in policy.conditions:
                if isinstance(condition, openslo.ConditionRef):
                    model = self.by_kind["AlertCondition"][condition.condition_ref].model
                    name = model.metadata.name
                    assert isinstance(model.spec, openslo.AlertConditionSpec)
                    alert = model.spec
                else:
                    name, alert = condition.metadata.name, condition.spec
                burn = alert.condition
                yield BurnRateAlert(
                    name, alert.severity, burn.threshold, burn.lookback_window, burn.alert_after, burn.op
                )


def _missing(kind: str, name: str, defined: Mapping[str, Any]) -> str:
    if not defined:
        return f"no {kind} named {name!r}: the file defines no {kind}"
    return f"no {kind} named {name!r} in the file{suggest(name, sorted(defined), listed=len(defined))}"


def _yaml_word(value: Any) -> str:
    """What YAML read instead of an object: "list", "string", "number"…"""
    return describe.yaml_type(value).removeprefix("a ") if value is not None else "value"


def _line(item: _Item, loc: Loc) -> int:
    """The line of the field at ``loc`` in the object (the object's own line when not found)."""
    return yamlfile.line_of(item.node, loc) or item.node.start_mark.line + 1
