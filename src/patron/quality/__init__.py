"""Data quality: validation, normalisation and standardisation of incoming values, and the quality report."""
