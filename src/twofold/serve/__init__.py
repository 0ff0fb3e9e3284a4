"""``twofold serve``: a local web page for learners (Starlette on uvicorn, KaTeX shipped inside the package).

Pages: ``/`` the claim index; ``/claim/{id}`` a claim with its statement,
hypotheses, numeric evidence (on demand), its reference derivation revealed one
step at a time, and a multi-line input checked line by line.  API:
``POST /api/check`` (``{"claim": ID, "steps": [...]}`` → the document of
``twofold check --json``), ``GET /api/claims``, ``GET /api/claim/{id}/hints``,
``GET /api/claim/{id}/evidence``.

Safety: the server binds 127.0.0.1 by default; request bodies are limited to
:data:`MAX_BODY` bytes; learner text is only ever inserted as text (never as
HTML) and a Content-Security-Policy forbids inline scripts; step checks run in
the time- and memory-limited sandbox through a bounded :class:`~twofold.sandbox.Pool`,
and a check still running after a quarter of a second drops to the lowest CPU
priority, so one hostile request cannot starve the others.
"""

from twofold.serve.app import MAX_BODY, create_app

__all__ = ["MAX_BODY", "create_app"]
