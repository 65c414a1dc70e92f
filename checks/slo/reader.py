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
from checks.slo.fields import API_VERSION, DURATION, HARNESS_SOURCE, duration_seconds, seconds_as_promql
from checks.slo.objective import (
    DEFAULT_TIME_WINDOW,
    SHORT_WINDOW_ANNOTATION,
    SHORT_WINDOW_DIVISOR,
    BurnRateAlert,
    ExternalSlo,
    Objective,
    SloFile,
)
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
    """The objectives of an SLO file, validated, for a command that evaluates them all (the gate,
    the rules, the dashboards); ``SloError`` (one line) on any mistake, and on an SLO over another
    tool's metrics, which such a command cannot use."""
    loaded = load_slo_file(path)
    if loaded.external:
        first = loaded.external[0]
        raise SloError(first.where, first.problem)
    return loaded.objectives


def load_slo_file(path: Path) -> SloFile:
    """Everything an SLO file holds, validated: ``SloError`` (one line) on any mistake; SLOs over
    other tools' metrics are valid OpenSLO, listed in ``SloFile.external``, not refused."""
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
        objectives: list[Objective] = []
        external: list[ExternalSlo] = []
        for parsed in slos.values():
            found = self._objectives(parsed)
            if isinstance(found, ExternalSlo):
                external.append(found)
            else:
                objectives.extend(found)
        kinds = types.MappingProxyType({kind: len(self.by_kind[kind]) for kind in KINDS})
        return SloFile(objectives, types.MappingProxyType(services), tuple(external), kinds)

    # -- errors --

    def _fail_file(self, problem: str, line: int | None = None) -> NoReturn:
        where = f"{self.path}:{line}" if line is not None else str(self.path)
        raise SloError(where, problem.replace("\n", " "))

    def _fail(self, item: _Item, loc: Loc, problem: str, *, line: int | None = None) -> NoReturn:
        """One line: the file and line, the object, the field path (under ``spec``) and the problem."""
        error = self._error(item, loc, problem, line=line)
        raise error

    def _error(self, item: _Item, loc: Loc, problem: str, *, line: int | None = None) -> SloError:
        clean = describe.clean(loc)
        shown = clean[1:] if len(clean) > 1 and clean[0] == "spec" else clean
        where = f"{item.label}: {'.'.join(str(part) for part in shown)}: " if shown else f"{item.label}: "
        return SloError(f"{self.path}:{line or _line(item, clean)}", (where + problem).replace("\n", " "))

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

    def _objectives(self, parsed: _Parsed) -> list[Objective] | ExternalSlo:
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
        ratio = self._ratio(item, indicator, origin, prefix, spec.indicator_ref)
        if isinstance(ratio, ExternalSlo):
            return replace(ratio, name=slo.metadata.name)
        good, total = ratio
        alerts = tuple(self._alerts(parsed))
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
    ) -> tuple[Selector, Selector] | ExternalSlo:
        """(good, total) of an SLI, an ``ExternalSlo`` when it reads another tool's metrics, or the
        reason the harness cannot count it (at the SLO's field ``origin``; ``prefix`` is where the
        SLI's fields are when it is inline)."""
        source = f"SLI {ref!r}: " if ref is not None else ""
        at = origin if ref is not None else prefix
        if sli.ratio_metric is None:
            self._fail(
                item,
                at,
                f"{source}thresholdMetric SLIs are not supported: the harness evaluates ratioMetric SLIs "
                "(good or bad events / total)",
            )
        ratio = sli.ratio_metric
        if ratio.raw is not None:
            self._fail(
                item,
                at,
                f"{source}precomputed ratios (ratioMetric.raw) are not supported: the harness counts events; "
                "give good or bad, and total",
            )
        selectors: dict[str, Selector] = {}
        external: dict[str, str] = {}
        for part in ("good", "bad", "total"):
            metric: openslo.MetricSpec | None = getattr(ratio, part)
            if metric is None:
                continue
            found = metric.metric_source
            if isinstance(found, openslo.HarnessSource):
                selectors[part] = from_spec(found.spec)
            else:
                external[part] = self._source_type(found)
        if external:
            part, kind = next(iter(external.items()))
            inside: Loc = ("ratioMetric", part, "metricSource", "type")
            field = "" if ref is None else ".".join(map(str, inside)) + " "
            if selectors:  # half the ratio counted by the harness, half by another tool: no one can
                why = f"good, bad and total must read the same events; this SLI mixes {HARNESS_SOURCE!r} with {kind!r}"
            else:
                why = (
                    "the SLO reads another tool's metrics; the harness evaluates, and writes Prometheus rules "
                    f"for, SLIs over its own step events only (metricSource type {HARNESS_SOURCE!r}): the file is "
                    "valid OpenSLO ('anef-harness slo check' accepts it) but this command cannot use this SLO"
                )
            error = self._error(
                item, origin if ref is not None else (*prefix, *inside), f"{source}{field}{kind!r}: {why}"
            )
            if selectors:
                raise error
            return ExternalSlo("", tuple(dict.fromkeys(external.values())), error.source, error.problem)
        total = selectors["total"]
        if "bad" in selectors:
            return replace(total, negated=selectors["bad"]), total
        good = selectors["good"]
        outside = not_within(good, total)
        if outside:
            self._fail(item, at, f"{source}good must count only events that total counts, but {outside}")
        return good, total

    def _source_type(self, found: openslo.ExternalSource) -> str:
        """The type of another tool's metric source, from its DataSource when it only names one."""
        if found.type is not None:
            return found.type
        data_source = self.by_kind["DataSource"].get(found.metric_source_ref or "")
        if data_source is not None:
            assert isinstance(data_source.model.spec, openslo.DataSourceSpec)
            return data_source.model.spec.type
        return f"DataSource {found.metric_source_ref}"

    def _conditions(self, parsed: _Parsed) -> Iterator[tuple[_Item, Loc, openslo.Metadata, openslo.AlertConditionSpec]]:
        """Each burn-rate condition of an SLO, with the object and field path where it is written."""
        slo = parsed.model.spec
        assert isinstance(slo, openslo.SloSpec)
        for number, entry in enumerate(slo.alert_policies):
            loc: Loc
            if isinstance(entry, openslo.PolicyRef):
                found = self.by_kind["AlertPolicy"][entry.alert_policy_ref]
                policy, item, loc = found.model.spec, found.item, ("spec",)
            else:
                policy, item, loc = entry.spec, parsed.item, ("spec", "alertPolicies", number, "spec")
            assert isinstance(policy, openslo.AlertPolicySpec)
            for index, condition in enumerate(policy.conditions):
                if isinstance(condition, openslo.ConditionRef):
                    model = self.by_kind["AlertCondition"][condition.condition_ref]
                    assert isinstance(model.model.spec, openslo.AlertConditionSpec)
                    yield model.item, (), model.model.metadata, model.model.spec
                else:
                    yield item, (*loc, "conditions", index), condition.metadata, condition.spec

    def _alerts(self, parsed: _Parsed) -> Iterator[BurnRateAlert]:
        for item, loc, metadata, alert in self._conditions(parsed):
            burn = alert.condition
            yield BurnRateAlert(
                name=metadata.name,
                severity=alert.severity,
                threshold=burn.threshold,
                lookback_window=burn.lookback_window,
                short_window=self._short_window(item, loc, metadata, burn.lookback_window),
                alert_after=burn.alert_after,
                op=burn.op,
            )

    def _short_window(self, item: _Item, loc: Loc, metadata: openslo.Metadata, lookback: str) -> str:
        """The annotation ``anef-harness/short-window`` when given, else 1/12 of the lookback window."""
        given = metadata.annotations.get(SHORT_WINDOW_ANNOTATION)
        if given is None:
            return seconds_as_promql(duration_seconds(lookback) / SHORT_WINDOW_DIVISOR)
        where: Loc = (*loc, "metadata", "annotations", SHORT_WINDOW_ANNOTATION)
        if not DURATION.fullmatch(given) or duration_seconds(given) == 0:
            self._fail(item, where, f"expected a duration such as 5m or 30m, got {given!r}")
        if duration_seconds(given) >= duration_seconds(lookback):
            self._fail(item, where, f"the short window must be shorter than lookbackWindow {lookback}, got {given!r}")
        return given


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
