"""Translated labels for the election vocabulary."""

from flask_babel import lazy_gettext as _l

MATTER_LABELS = {
    "hire": _l("Hire a property company"),
    "renew": _l("Renew the current property company"),
    "dismiss": _l("Dismiss the current property company"),
}
RULE_LABELS = {
    "civil-code-278": _l("Civil Code Art. 278 (two thirds take part; more than half approve)"),
    "civil-code-278-special": _l(
        "Civil Code Art. 278, items 6–8 (two thirds take part; three quarters approve)"
    ),
    "simple-majority": _l("Consultative poll by headcount (not binding)"),
}
PHASE_LABELS = {
    "draft": _l("Draft"),
    "announced": _l("Announced (notice period)"),
    "open": _l("Voting open"),
    "ended": _l("Voting ended, count pending"),
    "closed": _l("Counted, awaiting certification"),
    "certified": _l("Result certified"),
    "signed": _l("Contract signed"),
}
CHANNEL_LABELS = {
    "online": _l("Online"),
    "paper": _l("Paper ballot"),
    "proxy": _l("Proxy"),
}
YES_NO_LABELS = {"yes": _l("Yes, approve"), "no": _l("No, do not approve")}
OUTCOME_LABELS = {
    "decided": _l("Decided"),
    "no_quorum": _l("Not enough owners took part"),
    "no_majority": _l("No option was approved"),
}
SERVICE_LEVELS = {
    "一级": _l("Level 1 (highest)"),
    "二级": _l("Level 2"),
    "三级": _l("Level 3"),
}


def option_label(option) -> str:
    """What a voter reads for an option: the company's name, or Yes / No."""
    if option.key in YES_NO_LABELS:
        return str(YES_NO_LABELS[option.key])
    return option.label
