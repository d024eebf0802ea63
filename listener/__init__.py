"""Listener: collectors that turn platform API pages into `PostIn` records.

Collectors hold no database handle and never import nlp or storage; the pipeline stores what
they return together with their cursor.
"""
