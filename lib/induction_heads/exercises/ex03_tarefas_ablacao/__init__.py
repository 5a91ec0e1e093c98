"""Exercise 3: task performance after ablating induction heads (checks used by its tests)."""
