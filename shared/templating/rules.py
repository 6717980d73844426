"""What rendering needs to know of each channel's template fields, as plain values.

`shared.channels` declares them, but importing it brings SQLAlchemy, pydantic and the
validators (~270 ms and ~15 MB of PSS in each render process, BENCHMARKS.md). So a render
process is given this table by its parent when it starts (`use`), and never imports them;
in any other process the table is read from `shared.channels` on first use.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Bound:
    """The most a rendered field may hold: `bytes` of UTF-8 or `characters`."""

    most: int
    unit: str


@dataclass(frozen=True)
class FieldRule:
    """How one template field renders: its `shared.channels.TemplateField`, reduced."""

    name: str
    templated: bool  # False: a literal value (a header), never rendered
    escaped: bool  # HTML: autoescaped
    header: bool  # one line: every control character becomes a space
    limit: Bound
    made_from: str | None  # the HTML field it is made from when the template has none


Rules = dict[str, dict[str, FieldRule]]  # channel -> field name -> its rule
_rules: Rules | None = None
_made: dict[str, tuple[FieldRule, ...]] = {}


def from_channels() -> Rules:
    """The table, from the channels' declarations (in a process that has them anyway)."""
    from shared.channels import Channel

    return {
        str(channel): {
            field.name: FieldRule(
                field.name,
                field.templated,
                field.escaped,
                field.header,
                Bound(field.limit.most, field.limit.unit),
                field.made_from,
            )
            for field in channel.fields
        }
        for channel in Channel
    }


def use(rules: Rules) -> None:
    """Render with this table from now on (a render process, given it by its parent)."""
    global _rules
    _rules = rules
    _made.clear()
    _made.update(
        {
            channel: tuple(rule for rule in fields.values() if rule.made_from)
            for channel, fields in rules.items()
        }
    )


def fields(channel: str) -> dict[str, FieldRule]:
    """The channel's fields by name."""
    if _rules is None:
        use(from_channels())
    return _rules[channel]


def made(channel: str) -> tuple[FieldRule, ...]:
    """The channel's fields made from another when the template has none (e-mail text)."""
    if _rules is None:
        use(from_channels())
    return _made[channel]
