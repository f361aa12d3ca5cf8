"""Table, column, choice, relationship and key definitions, their storage, and the in-memory registry."""
