"""What a workflow definition may say, checked before it is stored (from the app or a YAML file).

A definition: `name`, `description`, `trigger` (one of TRIGGERS), `filters` ({dotted.path: value},
all must equal), `conditions` ([{field, operator, value}], all must hold), `actions`
([{type, params}], run in order, the first failure stops the rest), `enabled`. The seed's shape
`trigger: {event, filters}` is accepted too.

Every problem is reported at once, each with where it is (`actions[1] (add_tag): ...`), so a person
fixes a file in one pass. Unknown params are errors, not ignored: the seed's UI sent `tagName` to an
engine reading `tag`, and every such workflow failed silently at run time.
"""

from __future__ import annotations

import difflib
import re
from decimal import Decimal, InvalidOperation
from typing import Any

TRIGGERS = ("signal_received", "contact_created", "deal_stage_changed", "score_changed")
OPERATORS = ("eq", "neq", "gt", "gte", "lt", "lte", "contains", "in")
ACTIONS = ("create_deal", "update_deal_stage", "send_webhook", "send_slack", "add_tag", "log")

# The fields each trigger's event carries (see events.py, which builds them). `eventId` is the
# event's own id; fields in FREE_FORM hold objects whose inner keys are not known in advance.
TRIGGER_FIELDS: dict[str, tuple[str, ...]] = {
    "signal_received": ("eventId", "signalId", "type", "source", "sourceEvent", "accountId", "accountDomain",
                        "actorId", "properties", "occurredAt"),
    "contact_created": ("eventId", "contactId", "name", "email", "title", "githubLogin", "accountId",
                        "accountDomain", "firstSeenAt"),
    "deal_stage_changed": ("eventId", "dealId", "oldStage", "newStage", "title", "amount", "companyId",
                           "accountId", "contactId", "owner", "changedBy", "changedAt"),
    "score_changed": ("eventId", "accountId", "accountName", "accountDomain", "oldTier", "newTier", "oldScore",
                      "newScore", "direction", "scoreDate", "scoreVersion", "reason", "signalCount", "userCount"),
}
FREE_FORM = {"properties"}

# params each action takes: name -> (kind, required). Kinds are checked by _check_param.
ACTION_PARAMS: dict[str, dict[str, tuple[str, bool]]] = {
    "create_deal": {"title": ("template", False), "amount": ("amount", False), "stage": ("stage", False),
                    "contactId": ("text", False), "companyId": ("text", False),
                    "skipIfOpenDeal": ("bool", False)},
    "update_deal_stage": {"dealId": ("id", False), "stage": ("stage", True)},
    "send_webhook": {"eventType": ("event_type", False), "payload": ("object", False)},
    "send_slack": {"message": ("template", False), "channel": ("channel", False)},
    "add_tag": {"tag": ("tag", True)},
    "log": {"message": ("template", False), "level": ("level", False)},
}
# params people reach for that mean something else here: say what to do instead
PARAM_ADVICE = {
    ("send_webhook", "url"): "send_webhook takes no url: webhooks go to the endpoints registered (and SSRF-checked) "
                             "under Settings > Webhooks that subscribe to its eventType",
    ("send_webhook", "method"): "send_webhook always POSTs signed JSON; drop 'method'",
}
LOG_LEVELS = ("debug", "info", "warning", "error")
PATH = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z0-9_-]+)*$")
EVENT_TYPE = re.compile(r"^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)+$")  # what the webhooks module accepts
TEMPLATE_FIELD = re.compile(r"\{([A-Za-z_][A-Za-z0-9_.-]*)\}")
NAME_MAX = 100


class WorkflowDefinitionError(ValueError):
    """A definition that cannot be stored; `problems` lists each one with where it is."""

    def __init__(self, name: str, problems: list[str]):
        self.name, self.problems = name, problems
        super().__init__(f"workflow {name!r} is not valid: " + "; ".join(problems))


def validate(definition: dict) -> dict:
    """The definition, normalised (stages upper-cased, defaults filled); raises WorkflowDefinitionError."""
    problems: list[str] = []
    if not isinstance(definition, dict):
        raise WorkflowDefinitionError("?", [f"a definition is a mapping, got {type(definition).__name__}"])
    definition = dict(definition)
    name = definition.get("name")
    shown = name if isinstance(name, str) and name.strip() else "?"
    known = {"name", "description", "trigger", "filters", "conditions", "actions", "enabled"}
    for key in sorted(set(definition) - known):
        problems.append(f"unknown key {key!r}{_suggest(key, known)}")
    if not isinstance(name, str) or not name.strip():
        problems.append("name is required")
    elif len(name.strip()) > NAME_MAX:
        problems.append(f"name is longer than {NAME_MAX} characters")
    description = definition.get("description")
    if description is not None and not isinstance(description, str):
        problems.append("description must be text")

    trigger, filters = definition.get("trigger"), definition.get("filters")
    if isinstance(trigger, dict):  # the seed's shape: trigger {event, filters}
        if filters is not None and trigger.get("filters") is not None:
            problems.append("filters are given twice (top level and under trigger)")
        filters = filters if filters is not None else trigger.get("filters")
        trigger = trigger.get("event")
    if trigger not in TRIGGERS:
        problems.append(f"unknown trigger {trigger!r}{_suggest(trigger, TRIGGERS)}; expected one of {', '.join(TRIGGERS)}"
                        if trigger else f"trigger is required (one of {', '.join(TRIGGERS)})")
        trigger = None

    filters = {} if filters is None else filters
    if not isinstance(filters, dict):
        problems.append("filters must be a mapping of field path to value")
        filters = {}
    for path, value in filters.items():
        problems += _check_path(f"filters[{path!r}]", path, trigger)
        if isinstance(value, (dict, list)):
            problems.append(f"filters[{path!r}]: a filter compares one value (use a condition with `in` for a list)")

    conditions = definition.get("conditions") or []
    if not isinstance(conditions, list):
        problems.append("conditions must be a list of {field, operator, value}")
        conditions = []
    for index, condition in enumerate(conditions):
        problems += _check_condition(f"conditions[{index}]", condition, trigger)

    actions = definition.get("actions")
    normal_actions: list[dict] = []
    if not isinstance(actions, list) or not actions:
        problems.append("actions: at least one action is required")
    else:
        for index, action in enumerate(actions):
            action_problems, normal = _check_action(index, action, trigger)
            problems += action_problems
            normal_actions.append(normal)

    enabled = definition.get("enabled", True)
    if not isinstance(enabled, bool):
        problems.append("enabled must be true or false")
    if problems:
        raise WorkflowDefinitionError(shown, problems)
    return {"name": name.strip(), "description": description, "trigger": trigger, "filters": filters,
            "conditions": [dict(c, value=c.get("value")) for c in conditions], "actions": normal_actions,
            "enabled": enabled}


def _suggest(word: Any, choices) -> str:
    if not isinstance(word, str):
        return ""
    close = difflib.get_close_matches(word, list(choices), n=1, cutoff=0.6)
    return f" (did you mean {close[0]!r}?)" if close else ""


def _check_path(where: str, path: Any, trigger: str | None) -> list[str]:
    if not isinstance(path, str) or not PATH.match(path):
        return [f"{where}: {path!r} is not a field path (letters, digits, _ and dots, e.g. properties.plan)"]
    if trigger is None:
        return []
    head, _, rest = path.partition(".")
    fields = TRIGGER_FIELDS[trigger]
    if head not in fields:
        return [f"{where}: {trigger} events have no field {head!r}{_suggest(head, fields)}; "
                f"fields: {', '.join(fields)}"]
    if rest and head not in FREE_FORM:
        return [f"{where}: {head!r} is a plain value in {trigger} events, it has no field {rest!r}"]
    return []


def _check_condition(where: str, condition: Any, trigger: str | None) -> list[str]:
    if not isinstance(condition, dict):
        return [f"{where}: a condition is a mapping {{field, operator, value}}"]
    problems = [f"{where}: unknown key {key!r}" for key in sorted(set(condition) - {"field", "operator", "value"})]
    if "field" not in condition:
        problems.append(f"{where}: field is required")
    else:
        problems += _check_path(where, condition["field"], trigger)
    operator, value = condition.get("operator"), condition.get("value")
    if operator not in OPERATORS:
        problems.append(f"{where}: unknown operator {operator!r}{_suggest(operator, OPERATORS)}; "
                        f"expected one of {', '.join(OPERATORS)}")
    elif operator == "in":
        if not isinstance(value, list) or not value:
            problems.append(f"{where}: `in` needs a non-empty list value")
    elif operator in ("gt", "gte", "lt", "lte", "contains"):
        if value is None or isinstance(value, (dict, list, bool)):
            problems.append(f"{where}: `{operator}` compares with a number or a text, got {value!r}")
    elif isinstance(value, (dict, list)):
        problems.append(f"{where}: `{operator}` compares with one value (use `in` for a list)")
    return problems


def _check_action(index: int, action: Any, trigger: str | None) -> tuple[list[str], dict]:
    where = f"actions[{index}]"
    if not isinstance(action, dict):
        return [f"{where}: an action is a mapping {{type, params}}"], {}
    kind = action.get("type")
    if kind not in ACTIONS:
        return [f"{where}: unknown action type {kind!r}{_suggest(kind, ACTIONS)}; expected one of {', '.join(ACTIONS)}"], {}
    where = f"{where} ({kind})"
    problems = [f"{where}: unknown key {key!r}" for key in sorted(set(action) - {"type", "params"})]
    params = action.get("params") or {}
    if not isinstance(params, dict):
        return problems + [f"{where}: params must be a mapping"], {}
    spec = ACTION_PARAMS[kind]
    normal: dict[str, Any] = {}
    for param, value in params.items():
        if (kind, param) in PARAM_ADVICE:
            problems.append(f"{where}: {PARAM_ADVICE[(kind, param)]}")
        elif param not in spec:
            problems.append(f"{where}: unknown param {param!r}{_suggest(param, spec)}; "
                            f"{kind} takes {', '.join(spec)}")
        else:
            problem, normal[param] = _check_param(spec[param][0], value, trigger)
            if problem:
                problems.append(f"{where}: {param} {problem}")
    for param, (_, required) in spec.items():
        if required and params.get(param) in (None, ""):
            problems.append(f"{where}: param {param!r} is required")
    return problems, {"type": kind, "params": normal}


def _check_param(kind: str, value: Any, trigger: str | None) -> tuple[str | None, Any]:
    """(problem or None, normalised value) for one param value of the given kind."""
    if kind == "stage":
        from apps.state.deals import STAGES, check_stage

        try:
            return None, check_stage(value if isinstance(value, str) else "")
        except ValueError:
            return f"{value!r} is an unknown deal stage; expected one of {', '.join(STAGES)}", value
    if kind == "amount":
        try:
            amount = Decimal(str(value))
        except InvalidOperation:
            return f"must be a number, got {value!r}", value
        if isinstance(value, bool) or not amount.is_finite() or amount < 0:
            return f"must be a number of 0 or more, got {value!r}", value
        return None, float(amount)
    if kind == "id":
        if isinstance(value, bool) or not (isinstance(value, int) or (isinstance(value, str) and value.isdigit())):
            return f"must be a deal id (a whole number), got {value!r}", value
        return None, int(value)
    if kind == "bool":
        return (None, value) if isinstance(value, bool) else (f"must be true or false, got {value!r}", value)
    if kind == "object":
        return (None, value) if isinstance(value, dict) else (f"must be a mapping, got {type(value).__name__}", value)
    if kind == "level":
        return (None, value) if value in LOG_LEVELS else (f"must be one of {', '.join(LOG_LEVELS)}", value)
    if not isinstance(value, str) or not value.strip():
        return f"must be a non-empty text, got {value!r}", value
    value = value.strip()
    if kind == "tag" and len(value) > 50:
        return "must be at most 50 characters", value
    if kind == "channel" and not re.match(r"^[#@]?[A-Za-z0-9_.-]+$|^[CGD][A-Z0-9]{6,}$", value):
        return f"{value!r} is not a Slack channel (#name or a channel id)", value
    if kind == "event_type" and not EVENT_TYPE.match(value):
        return f"{value!r} is not a dotted lower-case event type like 'deal.qualified'", value
    if kind == "template" and trigger is not None:
        for path in TEMPLATE_FIELD.findall(value):
            head = path.partition(".")[0]
            if head not in TRIGGER_FIELDS[trigger]:
                return (f"refers to {{{path}}}, which {trigger} events do not have{_suggest(head, TRIGGER_FIELDS[trigger])}",
                        value)
    return None, value


def render(template: str, event: dict) -> str:
    """Fill `{field}` / `{properties.plan}` from the event; a missing field renders empty."""
    def value(match: re.Match) -> str:
        found: Any = event
        for part in match.group(1).split("."):
            found = found.get(part) if isinstance(found, dict) else None
        return "" if found is None else str(found)

    return TEMPLATE_FIELD.sub(value, template)
