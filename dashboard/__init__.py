"""The Streamlit dashboard: `streamlit run dashboard/app.py -- --config FILE` (or `dangol dashboard`).

Pages are plain functions in `dashboard.views`; every change goes through `context.act`, which
reloads the logged-in staff row and checks `dangol.core.permissions.require` on the server before
calling storage or responder functions. Untrusted text (posts, names, bios) is shown inert.
"""
