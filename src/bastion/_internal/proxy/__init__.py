"""The quarantine proxy: a package index that holds new releases back and verifies every byte.

- ``model``: the index page and file as read from upstream, and a decision;
- ``parse``: upstream PEP 691 JSON and PEP 503 HTML pages, bounded and checked;
- ``policy``: which file is served and why (age, cutoff, denylist, malicious
  versions, look-alike names, exemptions, security early release);
- ``intel``: the advisory and names layers, asked per project;
- ``render``: the pages the proxy answers (PEP 691 JSON, PEP 503 HTML);
- ``cache``: content-addressed files and cached pages, written by atomic rename;
- ``upstream``: the streaming, bounded HTTP client of the upstream index;
- ``state``: exemptions and blocks in SQLite or PostgreSQL (SQLAlchemy Core);
- ``app``: the ASGI application (starlette), audit log, health and metrics.
"""
