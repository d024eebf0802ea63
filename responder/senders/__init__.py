"""Reply senders, one per platform; see base.py for the interface and registry."""
