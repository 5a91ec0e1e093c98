"""Exercise 1: induction heads and few-shot learning (checks used by its tests)."""
