"""The ground floor: what every other package may import and what imports nothing above it.

Shared types (`types`), the error tree (`errors`), settings (`settings`), the plug-in registry
(`registry`), secret redaction (`redact`), the risk formula (`risk`) and roles with their
permissions (`permissions`). Nothing here touches the database, a model or the network.
"""
