"""Reports: the weekly sentiment report, complaint-topic feeds and spike alerts.

Everything here reads through `storage.report_queries` (aggregates in SQL) and writes files or
sends notifications; nothing here imports Streamlit.
"""
