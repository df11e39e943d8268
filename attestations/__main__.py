"""``python -m attestations verify ...``: the offline verifier."""

from attestations.cli import main

raise SystemExit(main())
