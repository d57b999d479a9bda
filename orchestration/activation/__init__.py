"""Activation: the side effects DevSignal performs on the outside world (workflows, Slack, webhooks, email)."""
