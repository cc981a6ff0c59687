"""Analysis of the scores, split by question (one module each)."""
