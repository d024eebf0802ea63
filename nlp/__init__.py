"""NLP: encoder, language id, sentiment, complaint topics, risk, near-duplicates, customer linking.

Models are offline by default. nlp never imports storage: the pipeline hands it plain records
(`nlp.base`) and stores what comes back.
"""
