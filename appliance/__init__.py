"""aidizen appliance: a per-tenant M365 admin Aid with a grammar-constrained local model.

Read docs/ARCHITECTURE.md for the rooms, the direction of imports and the main flows.
"""

import sys

__version__ = "0.1.0"

# jsonschema imports `rfc3987_syntax` whenever it is installed, and that module builds an Earley parser
# for RFC 3987 at import: about 2.8 s of CPU in every process that loads the engine (18 s of wall time on
# the loaded 2-core development machine). Only the dev extras bring it in (cyclonedx-bom -> jsonschema
# [format-nongpl]); the production image has no such package, and the appliance never checks "iri"
# formats (it passes no format checker). Blocking it here gives every appliance process the jsonschema
# production has. `make sbom` runs cyclonedx-py in its own process, which this does not reach.
sys.modules.setdefault("rfc3987_syntax", None)  # type: ignore[arg-type]
