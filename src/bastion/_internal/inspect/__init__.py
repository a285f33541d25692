"""Artifact inspection: what a wheel or sdist would do when installed or imported.

Archives are read in memory with limits (``archive``); every member is scanned
whatever its path or extension (``scan``): Python code with ``ast``
(``python_rules``), every byte for miner and webhook indicators
(``indicators``), ``.pth`` lines, native binaries. Capabilities (spawning,
connecting, decoding) are information; a finding needs a threat indicator
reaching them. ``record`` checks a wheel's RECORD, ``pairing`` a wheel against
its sdist, ``source`` an artifact against a git tree. Nothing is executed or
imported.
"""
