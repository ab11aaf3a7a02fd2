"""Applications built on the library: the classroom app (``make classroom`` serves apps/classroom.py)."""
