"""Planning: pure functions from (what exists, what is wanted) to decisions.

Nothing here does I/O. :mod:`.routes` decides the routes and resolves conflicts, :mod:`.zones`
decides which names each DNS zone publishes, :mod:`.serials` decides SOA serials against the
zone files already committed, and :mod:`.files` turns current and desired file trees into the
create/update/delete plan that the commit stage applies.
"""
