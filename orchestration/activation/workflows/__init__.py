"""Workflows: the seed's 4 triggers x 6 actions, decided by one query, acted through the outbox.

    events, cursor = events_since(connection, "score_changed", cursor)   # a sensor tick
    plan(connection, "score_changed", events)                            # decide: runs + first actions
    outbox.drain()                                                       # act: execute_action per row

See README.md in this folder for the definition format, the event shapes and the guarantees.
"""

from .actions import ACTIONS as ACTION_HANDLERS, WorkflowActionError, default_event_type, execute_action
from .definition import (ACTION_PARAMS, ACTIONS, OPERATORS, TRIGGER_FIELDS, TRIGGERS, WorkflowDefinitionError,
                         validate)
from .events import events_since, latest_cursor
from .planner import action_key, explain, plan
from .yaml_sync import DEFINITIONS_DIR, WorkflowFileError, load_file, sync_yaml, to_yaml

__all__ = ["ACTIONS", "ACTION_HANDLERS", "ACTION_PARAMS", "DEFINITIONS_DIR", "OPERATORS", "TRIGGERS", "TRIGGER_FIELDS",
           "WorkflowActionError", "WorkflowDefinitionError", "WorkflowFileError", "action_key", "default_event_type",
           "events_since", "explain",
           "execute_action", "latest_cursor", "load_file", "plan", "sync_yaml", "to_yaml", "validate"]
