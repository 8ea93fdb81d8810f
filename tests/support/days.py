"""How the day a test customer names reads back, whatever day the suite runs on.

The journeys book "lunedì alle 10" (always within opening hours). The recap and the
board say "lunedì 7/12 alle 10:00", except when the message is sent on a Sunday
(Europe/Rome): then Monday is tomorrow and they say "domani alle 10:00".
"""

from __future__ import annotations

import re

MONDAY = re.compile(r"\b(lunedì \d{1,2}/\d{1,2}|domani) alle 10:00")
""""lunedì alle 10" as ``describe`` renders it on any day of the week."""
