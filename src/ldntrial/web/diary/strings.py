"""The words of her diary page, in every language the site speaks (Django i18n).

The page is one shell the phone keeps for offline use, so it carries the
strings of every language and shows hers (chosen by the study team at
enrolment). ``{name}`` marks a value the page fills in.
"""

from __future__ import annotations

from django.utils import translation
from django.utils.translation import gettext_lazy as _

__all__ = ["LANGUAGES", "page_strings"]

LANGUAGES = ("en", "es")

STRINGS = {
    "title": _("Your daily diary"),
    "day_of": _("Day {day} of {total}"),
    "open_until": _("The diary for {date} is open until {time}."),
    "next_opens": _("The next diary opens on {date} at {time}."),
    "ended": _("Your diary has ended. Thank you for taking part."),
    "move_each": _("Move each slider to how you are today, then send."),
    "not_set": _("not set"),
    "side_effects": _("Side effects today (tick any you had)"),
    "send": _("Send"),
    "sent": _("Sent. Thank you."),
    "waiting": _("Waiting to send: it will go as soon as there is a connection."),
    "send_now": _("Send now"),
    "refused": _("Not accepted: {reason}"),
    "done_today": _("You have filled in today's diary. Thank you."),
    "change": _("Change today's answers"),
    "calendar": _("Your calendar"),
    "visit": _("Visit {n}"),
    "open_link": _("Open the personal link your study team gave you."),
    "link_refused": _(
        "This link has been used or has expired. Ask your study team for a new one."
    ),
    "link_paused": _(
        "Too many links that could not be used came from this network. Please try again "
        "in an hour, or ask your study team."
    ),
    "signed_out": _("This phone no longer opens your diary. Ask your study team for a new link."),
    "offline": _("No connection: your answers are kept on this phone."),
    "waiting_count": _("Entries waiting to be sent: {n}"),
    "report": _("Your report"),
    "forget": _("Remove the diary from this phone"),
    "forget_unsent": _("Entries not yet sent would be lost. Remove anyway?"),
    "missing": _("Move this slider first"),
    "pin_set": _("Ask for a PIN when the diary opens"),
    "pin_new": _("Choose a PIN of 4 to 8 digits"),
    "pin_enter": _("Your PIN"),
    "pin_open": _("Open"),
    "pin_wrong": _("That is not your PIN."),
    "pin_saved": _("From now on the diary asks for your PIN."),
    "vivid_dreams": _("Vivid dreams"),
    "headache": _("Headache"),
    "insomnia": _("Trouble sleeping"),
    "nausea": _("Nausea"),
    "other": _("Something else"),
}


def page_strings() -> dict[str, dict[str, str]]:
    """{language: {key: text}} for every language of the page."""
    result = {}
    for language in LANGUAGES:
        with translation.override(language):
            result[language] = {key: str(text) for key, text in STRINGS.items()}
    return result
