"""The high-harm perpetrator matrix: import incident files, resolve people across records, rank
perpetrators by recency, frequency and gravity of harm, and record tasking reviews (MATAC)."""
