"""Dangol (단골): a self-hosted Social CRM listening platform.

`dangol.core` is the ground floor (types, errors, settings, registry, redaction, the risk formula,
permissions); the rest of this package is the wiring (pipeline, jobs, cli, demo). Stage packages
(listener, nlp, responder, reports) and storage depend on the core, never on the wiring.
"""

__version__ = "0.1.0"
