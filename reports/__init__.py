"""Reports: the weekly sentiment report, complaint-topic feeds and spike alerts.

Everything here reads through `storage` (aggregates in SQL from `storage.read_models`) and writes files or
sends notifications; nothing here imports Streamlit.
"""
