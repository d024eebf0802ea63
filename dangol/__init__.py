"""Dangol (단골): a self-hosted Social CRM listening platform.

This package is the kernel (settings, registry, errors, shared types) and the wiring
(pipeline, jobs, cli, demo). Stage packages (listener, nlp, responder, reports) depend on the
kernel, never on the wiring.
"""

__version__ = "0.1.0"
