"""Where someone reaching the public form can get help now: the one list every public page shows
(the footer) and the confirmation repeats, so a number is changed in one place only."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Helpline:
    name: str
    number: str  # as people read it, in groups

    @property
    def dial(self) -> str:
        """For a tel: link, which phones dial as written."""
        return self.number.replace(" ", "")


EMERGENCY = (
    "If you are in danger now, call 999. If you cannot speak, call 999 and press 55 when asked."
)

# National, free and confidential.
HELPLINES = (
    Helpline("National Domestic Abuse Helpline", "0808 2000 247"),
    Helpline("Men's Advice Line", "0808 8010 327"),
    Helpline("Galop (LGBT+ people)", "0800 999 5428"),
)
