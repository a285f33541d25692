"""Provenance (PEP 740): verify the attestations of locked artifacts, and publisher continuity.

``locate`` finds the locked artifacts (file name and sha256); ``sources``
fetches their provenance (a local directory, the user cache, PyPI's
Integrity API with ``--online``); ``verify`` checks each attestation offline
against the Sigstore trusted root bastion ships (``trust_root``);
``trust_file`` reads and writes the reviewed publisher pins; ``continuity``
turns results and expectations into findings; ``slsa`` states which SLSA
Build level the evidence supports; ``publishing`` asks the workflow layer how
the project publishes itself. ``run`` ties them together for the control and
the ``bastion provenance`` commands.
"""
