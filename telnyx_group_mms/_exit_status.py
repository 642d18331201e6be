"""The exit statuses of the command line, also given by :attr:`BulkSummary.exit_code`.

"Outcome unknown" has a status of its own, apart from a plain failure, so that a
script which retries on 1 never resends a message that may already have gone out.
"""

from __future__ import annotations

from typing import Final

__all__ = ["FAILURE", "INTERRUPTED", "OK", "OUTCOME_UNKNOWN", "USAGE"]

#: Everything was sent (or, for a dry run, would be sendable).
OK: Final = 0
#: Refused or failed, certainly not sent (by this package's checks or by Telnyx); for
#: ``bulk``, some rows failed, were bad, or were left pending by a stopped batch.
FAILURE: Final = 1
#: The command line or a setting is wrong (click's own status for usage errors).
USAGE: Final = 2
#: A message may or may not have been sent (a 500, 502 or 504, a timeout or a dropped
#: connection after the request was written): check before sending it again. Takes
#: precedence over :data:`FAILURE`.
OUTCOME_UNKNOWN: Final = 3
#: Interrupted (Ctrl-C), as shells report a process ended by SIGINT.
INTERRUPTED: Final = 130
