"""Validation: of every value that reaches an output file, and of the rendered output itself.

Nothing is ever escaped into a config language. A value either matches a strict grammar here
and is written as it is, or it is refused with a message that names it.
"""
