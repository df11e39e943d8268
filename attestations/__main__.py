"""``python -m attestations verify ...``: the offline verifier."""

import logging

from attestations.cli import main

# pypdf logs its own complaints about a damaged PDF; the verifier already names the problem once.
logging.getLogger("pypdf").setLevel(logging.CRITICAL)
raise SystemExit(main())
